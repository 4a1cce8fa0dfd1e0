// The direction of the layers: core is the stable one. It declares the ports it calls
// (core/ports.ts) and imports nothing from the adapters (drivers/) or the edges that compose
// it (functions/, engine/, cli/); they import core. Read from the sources' import specifiers,
// static, dynamic and type-only alike.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const OUTSIDE_CORE = ['drivers', 'functions', 'engine', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier in a source text: import/export ... from, import(), require(), import type(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
  ];
  for (const pattern of patterns) for (const [, spec] of text.matchAll(pattern)) if (spec) found.push(spec);
  return found;
}

/** The top-level folder a relative specifier in `file` lands in, or null for a package. */
function landsIn(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(ROOT, resolve(dirname(file), spec)).split(/[\\/]/)[0] ?? null;
}

describe('core depends on nothing outside core', () => {
  it('finds the import specifiers it must judge', () => {
    // The reader itself: if it missed a form, the rule below would pass vacuously.
    const text = [
      "import type { Cloud } from '../drivers/types.js';",
      "import {\n  a,\n  b,\n} from '../../engine/x.js';",
      "export { c } from '../cli/y.js';",
      "const m = await import('../functions/z.js');",
      "import '../drivers/side-effect.js';",
      "type T = import('../drivers/t.js').T;",
    ].join('\n');
    expect(specifiers(text).sort()).toEqual(
      [
        '../../engine/x.js',
        '../cli/y.js',
        '../drivers/side-effect.js',
        '../drivers/t.js',
        '../drivers/types.js',
        '../functions/z.js',
      ].sort(),
    );
  });

  it(`no file under core/ imports from ${OUTSIDE_CORE.join('/, ')}/`, () => {
    const files = sources(join(ROOT, 'core'));
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      specifiers(readFileSync(file, 'utf8'))
        .filter((spec) => OUTSIDE_CORE.includes(landsIn(file, spec) ?? ''))
        .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
