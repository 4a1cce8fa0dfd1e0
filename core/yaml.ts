// YAML for what deployed functions read (freezer-dr.yaml, clouds.yaml): js-yaml, a third
// of the `yaml` package's size in every bundle, with the YAML 1.2 core schema (no
// timestamps, no merge keys), which is how `yaml` reads these files too.
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';

/** The document's value; a syntax error is one line: what and where. */
export function parseYaml(text: string): unknown {
  try {
    return load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const { line, column } = error.mark ?? {};
    throw new Error(
      line === undefined ? error.reason : `${error.reason} at line ${line + 1}, column ${(column ?? 0) + 1}`,
    );
  }
}
