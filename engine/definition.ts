// The one workflow definition, and DefinitionSubstitutions applied the way Step
// Functions applies them: every "${Name}" inside a string value is replaced.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEFINITION_PATH = fileURLToPath(
  new URL('../statemachine/host-recovery.asl.json', import.meta.url),
);

export function loadDefinition(path = DEFINITION_PATH): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Every ${Name} placeholder used in the definition. */
export function placeholders(definition: unknown): Set<string> {
  const found = new Set<string>();
  JSON.stringify(definition).replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    found.add(name);
    return '';
  });
  return found;
}

export function substitute<T>(definition: T, substitutions: Record<string, string>): T {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) => substitutions[name] ?? match);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(definition) as T;
}
