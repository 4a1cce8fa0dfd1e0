// The packaged functions as Lambda runs them, for tests and benchmarks: `osls package`
// offline (no AWS credentials), each function's zip unpacked into its own directory,
// and beside them the AWS SDK the nodejs22.x runtime provides (the bundles leave
// @aws-sdk/* external, so nothing else of this repository is reachable from them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `osls package` for `stage` into `outDir` (~10-20 s). */
export function packageService(outDir: string, stage: string): void {
  execFileSync('npx', ['osls', 'package', '--stage', stage, '--package', outDir], {
    cwd: repo,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    },
    stdio: 'pipe',
    timeout: 240_000,
  });
}

export interface UnpackedBundle {
  /** The serverless function name, e.g. fenceHost. */
  name: string;
  /** The bundle (.mjs) inside the unpacked zip. */
  file: string;
  bytes: number;
}

/** Unpacks every function zip of `packageDir` under `into`; the bundles can then be imported. */
export function unpackBundles(packageDir: string, into: string): UnpackedBundle[] {
  const sdk = join(into, 'node_modules', '@aws-sdk');
  if (!existsSync(sdk)) {
    mkdirSync(join(into, 'node_modules'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', '@aws-sdk'), sdk, 'dir');
  }
  return readdirSync(packageDir)
    .filter((f) => f.endsWith('.zip'))
    .sort()
    .map((zip) => {
      const name = zip.replace(/\.zip$/, '');
      const dir = join(into, name);
      execFileSync('unzip', ['-q', '-o', join(packageDir, zip), '-d', dir]);
      const bundles = readdirSync(join(dir, 'functions')).filter((f) => f.endsWith('.mjs'));
      if (bundles.length !== 1) throw new Error(`${zip}: ${bundles.length} bundles in functions/`);
      const file = join(dir, 'functions', bundles[0] as string);
      return { name, file, bytes: statSync(file).size };
    });
}
