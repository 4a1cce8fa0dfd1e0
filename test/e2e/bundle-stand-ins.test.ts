// The esbuild plugins that keep the Lambda bundles' cold start short
// (infra/deploy/esbuild-plugins.cjs), on a small entry built as serverless.yml builds the
// functions: the Step Functions client is loaded on first use and is then the real one;
// Node's built-ins come through require(); axios still posts JSON without its fetch
// adapter, its proxy agent or reading FormData. (test/e2e/deploy.test.ts runs the real bundles.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const plugins = require('../../infra/deploy/esbuild-plugins.cjs');
const ROOT = new URL('../..', import.meta.url).pathname;

// "freezer-dr-bundles-": vitest leaves such files to Node (vitest.config.ts), as Lambda would.
const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-bundles-stand-ins-'));
const out = join(dir, 'entry.mjs');
let loaded: {
  client: () => { constructor: { name: string } };
  post: (url: string) => Promise<unknown>;
};

beforeAll(async () => {
  writeFileSync(
    join(dir, 'entry.ts'),
    [
      "import { SFNClient } from '@aws-sdk/client-sfn';",
      "import { createServer } from 'node:http';",
      "import axios from 'axios';",
      "export const client = () => new SFNClient({ region: 'local' });",
      'export const server = createServer;',
      'export const post = async (url: string) => (await axios.post(url, { a: 1 }, { proxy: false, maxRedirects: 0 })).data;',
    ].join('\n'),
  );
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: ['@aws-sdk/*'],
    nodePaths: [join(ROOT, 'node_modules')],
    plugins,
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', '@aws-sdk'), join(dir, 'node_modules', '@aws-sdk'), 'dir');
  loaded = await import(pathToFileURL(out).href);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle stand-ins', () => {
  it('loads the Step Functions client on first use, and that is the real client', () => {
    // A process of its own, as a Lambda container: this one loaded the client while building.
    const probe = `
      import { createRequire } from 'node:module';
      const bundle = await import(process.argv[1]);
      const require = createRequire(process.argv[1]);
      const sfn = require.resolve('@aws-sdk/client-sfn');
      const before = sfn in require.cache;
      const name = bundle.client().constructor.name;
      console.log(JSON.stringify({ before, name, after: sfn in require.cache }));`;
    const seen = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', probe, out], { encoding: 'utf8' }),
    );
    expect(seen).toEqual({ before: false, name: 'SFNClient', after: true });
  });

  it("imports Node's built-ins through require(), none as an ES module", () => {
    const code = readFileSync(out, 'utf8');
    expect(code).not.toMatch(/^import .* from ["'](node:)?(http|https|http2|crypto|stream|util)["']/m);
    expect(code).toContain('require("node:http")');
  });

  it('still posts JSON with axios (http adapter, no proxy agent, no FormData read)', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: JSON.parse(body), type: req.headers['content-type'] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      expect(await loaded.post(`http://127.0.0.1:${port}/`)).toEqual({
        got: { a: 1 },
        type: 'application/json',
      });
    } finally {
      server.close();
    }
  });
});
