// libvirt domains (lab clouds whose compute nodes are VMs). Every call is ONE virsh
// process running several commands: the test:///default driver keeps state per
// connection, and for real hypervisors it also saves a connection per call. Names are
// validated by the inventory schema, so they cannot split the virsh command string.
import { ControllerError, summarizeOutput } from './controller-error.js';
import type { LibvirtEntry } from './inventory.js';
import type { PowerAction, RelayPowerState } from './protocol.js';
import type { CommandRunner } from './run-command.js';

const SCRIPT: Record<'status' | PowerAction, (domain: string) => string> = {
  status: (d) => `domstate ${d}`,
  // virsh carries on after a failed command: destroy of a domain already off fails, and the final domstate decides.
  off: (d) => `destroy ${d}; domstate ${d}`,
  on: (d) => `start ${d}; domstate ${d}`,
  cycle: (d) => `destroy ${d}; start ${d}; domstate ${d}`,
};

/** `shut off` is the only state with no guest running; crashed/paused domains may still hold their disks. */
export function mapDomainState(line: string): RelayPowerState {
  const state = line.trim().toLowerCase();
  if (state === 'shut off') return 'off';
  if (['running', 'idle', 'paused', 'in shutdown', 'blocked', 'pmsuspended', 'crashed'].includes(state))
    return 'on';
  return 'unknown';
}

export interface VirshRun {
  runner: CommandRunner;
  virshPath: string;
  home: string | undefined;
}

export async function virshPower(
  entry: LibvirtEntry,
  domain: string,
  command: 'status' | PowerAction,
  run: VirshRun,
): Promise<RelayPowerState> {
  const result = await run.runner({
    file: run.virshPath,
    args: ['-q', '-c', entry.uri, SCRIPT[command](domain)],
    // HOME lets qemu+ssh:// find the relay's SSH key; nothing else is passed on.
    env: run.home ? { HOME: run.home } : {},
    timeoutMs: entry.timeoutMs,
  });
  const lines = result.stdout.split(/\r?\n/).filter((l) => l.trim());
  const last = lines.at(-1);
  const state = last === undefined ? 'unknown' : mapDomainState(last);
  const why = summarizeOutput(result.stderr, []);
  if (result.timedOut) {
    throw command === 'status'
      ? new ControllerError('unreachable', `virsh gave no answer within ${result.ms} ms`)
      : new ControllerError(
          'may-have-run',
          `virsh gave no answer within ${result.ms} ms; the ${command} may have been applied`,
        );
  }
  if (state === 'unknown') {
    if (/failed to connect|cannot recv data|Connection refused|No route to host/i.test(result.stderr)) {
      throw new ControllerError('unreachable', `hypervisor unreachable: ${why}`);
    }
    if (/authentication (failed|unavailable)|Permission denied/i.test(result.stderr)) {
      throw new ControllerError('auth-failed', `hypervisor rejected the credentials: ${why}`);
    }
    throw new ControllerError('command-failed', `virsh could not read the domain state: ${why}`);
  }
  const wanted: RelayPowerState | null = command === 'off' ? 'off' : command === 'status' ? null : 'on';
  if (wanted && state !== wanted) {
    throw new ControllerError(
      'command-failed',
      `domain ${domain} reads ${last?.trim()} after ${command}: ${why}`,
    );
  }
  return state;
}
