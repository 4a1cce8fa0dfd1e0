// Runs a power tool without a shell: fixed argv, a minimal environment (the only place a
// password may travel), stdin closed so a missing password cannot hang on a prompt, and
// a wall-clock limit that SIGKILLs the tool when its own retries run long.
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Exit status; null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface CommandRequest {
  file: string;
  args: string[];
  /** Extra variables on top of a minimal PATH-only environment. */
  env?: Record<string, string>;
  timeoutMs: number;
}

export type CommandRunner = (request: CommandRequest) => Promise<CommandResult>;

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const runCommand: CommandRunner = (request) =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = execFile(
      request.file,
      request.args,
      {
        env: { PATH: SAFE_PATH, LANG: 'C', ...request.env },
        timeout: request.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const failure = error as
          | (NodeJS.ErrnoException & { killed?: boolean; code?: number | string })
          | null;
        const code = failure ? (typeof failure.code === 'number' ? failure.code : null) : 0;
        resolve({
          code,
          stdout: String(stdout),
          // A missing binary surfaces as spawn ENOENT, with nothing on stderr.
          stderr:
            String(stderr) ||
            (failure && typeof failure.code === 'string' ? `${failure.code}: ${request.file}` : ''),
          timedOut: Boolean(failure?.killed) && code === null,
          ms: Math.round(performance.now() - started),
        });
      },
    );
    child.stdin?.end();
  });
