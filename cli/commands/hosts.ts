// `freezer-dr hosts`: every nova-compute service, its state, and what would fence it.
import { configPath, loadConfigFile } from '../../core/config.js';
import { parseDisabledReason } from '../../core/disabled-reason.js';
import { parseNovaTime } from '../../core/time.js';
import { operatorRuntime } from '../operator-runtime.js';
import { table } from '../table.js';

const age = (updatedAt: string | null) => {
  const at = parseNovaTime(updatedAt);
  return at === null ? 'never' : `${Math.max(0, Math.round((Date.now() - at) / 1000))} s ago`;
};

export async function hostsCommand(): Promise<number> {
  const { rt, banner, close } = await operatorRuntime(loadConfigFile(configPath()));
  try {
    if (banner) process.stdout.write(`${banner}\n`);
    const services = (await rt.cloud.listComputeServices()).sort((a, b) => a.host.localeCompare(b.host));
    const rows = services.map((s) => {
      const ours = parseDisabledReason(s.disabledReason);
      return [
        s.host,
        s.zone ?? '',
        s.status,
        s.state,
        s.forcedDown ? 'yes' : 'no',
        age(s.updatedAt),
        ours
          ? `freezer-dr ${ours.kind === 'drain' ? 'drain ' : ''}(incident ${ours.incident})`
          : (s.disabledReason ?? ''),
        rt.fencer.describe(s.host),
      ];
    });
    process.stdout.write(
      `${table(['HOST', 'ZONE', 'STATUS', 'STATE', 'FORCED DOWN', 'LAST REPORT', 'DISABLED BY', `FENCING (${rt.fencer.kind})`], rows)}\n`,
    );
    return 0;
  } finally {
    await close();
  }
}
