// YAML for what deployed functions read (freezer-dr.yaml, clouds.yaml): js-yaml, a third
// of the `yaml` package's size in every bundle, with the YAML 1.2 core schema (no
// timestamps, no merge keys), which is how `yaml` reads these files too.
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';

/**
 * The document's value; a syntax error is one line: what and where. For a document that
 * holds secrets (clouds.yaml) only where: js-yaml's reason quotes the text it choked on, and
 * an unquoted password starting with `*`, `!` or `&` is exactly such text.
 */
export function parseYaml(text: string, options: { secret?: boolean } = {}): unknown {
  try {
    return load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const { line, column } = error.mark ?? {};
    const where = line === undefined ? '' : ` at line ${line + 1}, column ${(column ?? 0) + 1}`;
    if (options.secret) throw new Error(`invalid YAML${where} (quote values that start with * ! & or #)`);
    throw new Error(`${error.reason}${where}`);
  }
}
