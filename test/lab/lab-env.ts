// The running lab (test/lab/up.sh) seen from TypeScript: its clouds.yaml, its BMC
// inventory, ipmitool with the flags lib.sh uses, and compute.sh. Everything it touches
// is on 127.0.0.1; processes are only ever signalled through the lab's own PID files.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConnection } from '../../drivers/cloud/openstack/credentials.js';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';

const run = promisify(execFile);

export const LAB_DIR = process.env.FREEZER_DR_LAB ?? '/var/lib/freezer-dr-lab';
export const CLOUDS_YAML = join(LAB_DIR, 'clouds.yaml');
export const LAB_SCRIPTS = fileURLToPath(new URL('.', import.meta.url));
export const HOSTS = ['compute-1', 'compute-2', 'compute-3'] as const;
export type LabHost = (typeof HOSTS)[number];

/** One entry of bmc/inventory.json, as up.sh writes it. */
export interface LabBmc {
  host: string;
  address: string;
  port: number;
  user: string;
  passwordFile: string;
  cipherSuite: number;
  interface: 'lanplus' | 'lan';
}

export function labInventory(): LabBmc[] {
  return JSON.parse(readFileSync(join(LAB_DIR, 'bmc', 'inventory.json'), 'utf8')) as LabBmc[];
}

export function labBmc(host: string): LabBmc {
  const entry = labInventory().find((b) => b.host === host);
  if (!entry) throw new Error(`no BMC for ${host} in the lab inventory`);
  return entry;
}

/** The relay inventory entry (infra/relay/inventory.ts shape) for a lab BMC. */
export const relayEntry = (bmc: LabBmc, overrides: Record<string, unknown> = {}) => ({
  kind: 'ipmi',
  address: bmc.address,
  port: bmc.port,
  user: bmc.user,
  passwordFile: bmc.passwordFile,
  cipherSuite: bmc.cipherSuite,
  interface: bmc.interface,
  ...overrides,
});

/** Values of lab.env (image id, flavor id, ...). */
export function labEnv(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(join(LAB_DIR, 'lab.env'), 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1] as string] = (match[2] as string).replace(/^"|"$/g, '');
  }
  return values;
}

/** The drivers find cloud `lab` through OS_CLIENT_CONFIG_FILE, as an operator's would. */
export function useLabCloudsYaml(): void {
  process.env.OS_CLIENT_CONFIG_FILE = CLOUDS_YAML;
  delete process.env.OS_CLOUD;
}

export function labCloud(options: { pageSize?: number; timeoutMs?: number } = {}): OpenStackCloud {
  useLabCloudsYaml();
  return new OpenStackCloud(resolveConnection({ cloud: 'lab' }), { timeoutMs: 60_000, ...options });
}

/** ipmitool against a lab BMC, exactly as lib.sh's lab_ipmi calls it. */
export async function ipmi(host: string, ...args: string[]): Promise<string> {
  const bmc = labBmc(host);
  const { stdout } = await run(
    'ipmitool',
    [
      '-I',
      bmc.interface,
      '-C',
      String(bmc.cipherSuite),
      '-N',
      '1',
      '-R',
      '1',
      '-H',
      bmc.address,
      '-p',
      String(bmc.port),
      '-U',
      bmc.user,
      '-f',
      bmc.passwordFile,
      ...args,
    ],
    { timeout: 20_000 },
  );
  return stdout.trim();
}

export async function bmcPower(host: string): Promise<'on' | 'off'> {
  const out = await ipmi(host, 'chassis', 'power', 'status');
  if (out === 'Chassis Power is on') return 'on';
  if (out === 'Chassis Power is off') return 'off';
  throw new Error(`BMC of ${host} answered "${out}"`);
}

const hostNumber = (host: string) => {
  const n = /^compute-(\d+)$/.exec(host)?.[1];
  if (!n) throw new Error(`${host} is not a lab compute host`);
  return n;
};

/** test/lab/compute.sh start|kill|status for the host behind a BMC. */
export async function computeScript(action: 'start' | 'kill' | 'status', host: string): Promise<boolean> {
  try {
    await run('bash', [join(LAB_SCRIPTS, 'compute.sh'), action, hostNumber(host)], { timeout: 60_000 });
    return true;
  } catch (error) {
    if (action === 'status') return false;
    throw error;
  }
}

/** PID of the host's nova-compute from the lab's PID file, only if its cmdline names the lab. */
export function computePid(host: string): number | null {
  try {
    const pid = Number(readFileSync(join(LAB_DIR, 'run', `nova-compute-${hostNumber(host)}.pid`), 'utf8'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return pid > 1 && cmdline.includes(LAB_DIR) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A hung host: SIGSTOP to the nova-compute process group (setsid made it the leader).
 * Its BMC still reads power on, so fencing must really power it off.
 */
export function hangCompute(host: string): void {
  const pid = computePid(host);
  if (!pid) throw new Error(`nova-compute of ${host} is not running`);
  process.kill(-pid, 'SIGSTOP');
}
