// What `npm start` prints at its default log level, besides the progress of executions:
// one readable line per webhook decision and per report of the `log` notifier (both are
// INFO log lines, below the level serve logs at).
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  runCli,
  type ServeDir,
  type ServeProcess,
  serveDir,
  startServe,
  until,
} from '../support/serve-process.js';

let server: ServeProcess | undefined;
let where: ServeDir | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  if (where) rmSync(where.dir, { recursive: true, force: true });
});

describe('npm start console', () => {
  it('prints each webhook decision and each log-notifier report as a line', async () => {
    where = serveDir();
    server = await startServe(where);

    expect((await runCli(where, server.url, ['fire', 'compute-1'])).code).toBe(0);
    await until(
      async () => server?.output() ?? '',
      (text) => text.includes('report (log notifier)'),
    );
    // The same alert again, once the host is recovered: a decision that starts nothing.
    const again = await runCli(where, server.url, ['fire', 'compute-1', '--no-fail']);
    expect(again.code).toBe(0);
    // "compute-1: skipped (forced-down): …", or "compute-1: already-handled: …" while the
    // intake's snapshot of Nova still predates the recovery: the word, without what follows.
    const [, decision] = /compute-1: ([a-z-]+)/.exec(again.stdout) ?? [];
    expect(decision).toMatch(/^(already-handled|skipped|recorded)$/);
    const output = await until(
      async () => server?.output() ?? '',
      (text) => text.includes(`compute-1 ${decision}`),
    );

    expect(output).toMatch(
      /^alert from freezer-dr-fire: compute-1 started → compute-1--\S+: Nova reports nova-compute on compute-1 down/m,
    );
    expect(output).toMatch(
      /^report \(log notifier\): recovery compute-1 \(incident \S+\): 4 of 4 recovered, 0 failed, 0 skipped; simulated BMC of compute-1: power verified off$/m,
    );
    expect(output).toMatch(/^ {2}cause: freezer-dr-fire: test alert sent by freezer-dr fire/m);
    expect(output).toMatch(new RegExp(`^alert from freezer-dr-fire: compute-1 ${decision}\\b`, 'm'));
    // Readable lines, not the JSON log records.
    expect(output).not.toContain('"message":"alert decision"');
  });
});
