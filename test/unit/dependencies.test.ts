// What ships: every production dependency is imported by code that runs in production
// (functions, core, drivers, the local engine and CLI, the relay), and that code reads
// YAML with one parser. Tests may use devDependencies of their own.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PRODUCTION_DIRS = ['functions', 'core', 'drivers', 'engine', 'cli', 'infra'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.(ts|cjs|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every package a production file imports (static, dynamic or require). */
function importedPackages(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of PRODUCTION_DIRS.flatMap(sources)) {
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"]([^'".][^'"]*)['"]/g)) {
      if (!spec || spec.startsWith('node:')) continue;
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : (spec.split('/')[0] as string);
      found.set(name, [...(found.get(name) ?? []), file]);
    }
  }
  return found;
}

describe('production dependencies', () => {
  const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const imported = importedPackages();

  /** Peers a used dependency loads itself (Powertools' getSecret loads the Secrets Manager client). */
  const peers = new Set(
    [...imported.keys()]
      .filter((name) => name in dependencies)
      .flatMap((name) => {
        const manifest = JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8'));
        return Object.keys((manifest.peerDependencies ?? {}) as Record<string, string>);
      }),
  );

  it('are each imported by production code, or a peer one of them loads (nothing unused ships)', () => {
    const unused = Object.keys(dependencies).filter((name) => !imported.has(name) && !peers.has(name));
    expect(unused).toEqual([]);
  });

  it('include one YAML parser, the one production code uses', () => {
    const parsers = ['yaml', 'js-yaml'];
    expect(parsers.filter((name) => name in dependencies)).toEqual(['js-yaml']);
    expect(imported.has('yaml'), `yaml imported by ${imported.get('yaml')?.join(', ')}`).toBe(false);
  });
});
