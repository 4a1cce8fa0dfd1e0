// The workflow definitions (host recovery, host drain), and DefinitionSubstitutions
// applied the way Step Functions applies them: every "${Name}" inside a string value is replaced.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const statemachine = (file: string) => fileURLToPath(new URL(`../statemachine/${file}`, import.meta.url));

/** The two workflows, by the key the engine, the local API and the CLI name them with. */
export const WORKFLOWS = {
  recovery: { stateMachineName: 'freezer-dr-host-recovery', path: statemachine('host-recovery.asl.json') },
  drain: { stateMachineName: 'freezer-dr-host-drain', path: statemachine('host-drain.asl.json') },
} as const;
export type WorkflowKey = keyof typeof WORKFLOWS;
export const WORKFLOW_KEYS = Object.keys(WORKFLOWS) as WorkflowKey[];

export const DEFINITION_PATH = WORKFLOWS.recovery.path;
export const DRAIN_DEFINITION_PATH = WORKFLOWS.drain.path;

export function loadDefinition(path: string = DEFINITION_PATH): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** The top-level state names of every workflow: progress lines and resume points name these. */
export function topLevelStates(): Set<string> {
  const names = new Set<string>();
  for (const key of WORKFLOW_KEYS) {
    for (const name of Object.keys((loadDefinition(WORKFLOWS[key].path).States ?? {}) as object))
      names.add(name);
  }
  return names;
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
