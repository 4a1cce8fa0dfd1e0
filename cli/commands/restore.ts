// `freezer-dr restore <host>`: bring a repaired host back (power on, wait for nova-compute
// and the evacuation clean-up, then clear forced_down and enable), showing each step.
import { configPath, loadConfigFile } from '../../core/config.js';
import { restoreHost } from '../../core/restore-host.js';
import { operatorRuntime } from '../operator-runtime.js';

export interface RestoreCliOptions {
  leaveDisabled?: boolean;
  timeout: string;
  pollMs: string;
}

export async function restoreCommand(host: string, options: RestoreCliOptions): Promise<number> {
  const { rt, banner, close } = await operatorRuntime(loadConfigFile(configPath()));
  const started = Date.now();
  const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const mark = { done: '✓', waiting: '…', skipped: '-' } as const;
  try {
    if (banner) process.stdout.write(`${banner}\n`);
    process.stdout.write(`restoring ${host}\n`);
    const result = await restoreHost(rt, host, {
      leaveDisabled: options.leaveDisabled === true,
      timeoutSeconds: Number(options.timeout),
      pollMs: Number(options.pollMs),
      onProgress: (p) => process.stdout.write(`${t()}  ${mark[p.state]} ${p.message}\n`),
    });
    process.stdout.write(
      result.nothingToRestore
        ? `${host} needs no restore: nothing was changed\n`
        : `${host} restored: ${result.enabled ? 'enabled' : 'still disabled'}, ${result.forcedDownCleared ? 'forced_down cleared' : 'was not forced down'}\n`,
    );
    return 0;
  } finally {
    await close();
  }
}
