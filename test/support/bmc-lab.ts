// REAL IPMI BMCs for tests: Debian's openipmi `ipmi_sim`, one instance per BMC on
// 127.0.0.1 with its own UDP port, driven over lanplus by ipmitool. Each BMC's
// chassis_control hook powers a fake host process (a renamed `sleep`), so power status
// reflects what really happened. Faults are injected per BMC through a file the hook
// reads. Everything lives in one temp dir, and stop() kills only the PIDs started here,
// each checked against /proc first (never pkill/killall).
//
// Facts this relies on (measured, see the team's bmc-lab notes): always `-C 3`; ipmi_sim
// leaks its UDP socket into the hook (the hook closes inherited fds); killed hosts must
// be reaped, so ipmi_sim runs under `tini -s` (a subreaper) and liveness ignores zombies.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type BmcFault =
  | { kind: 'none' }
  /** power off answers OK, the host keeps running */
  | { kind: 'ignore_off' }
  /** power off answers completion code 0xff ("Unspecified error") */
  | { kind: 'fail_off' }
  /** power off answers OK, the host dies `seconds` later */
  | { kind: 'slow_off'; seconds: number }
  /** every request stalls the single-threaded BMC for `seconds`, then is served */
  | { kind: 'hang'; seconds: number };

const HOOK = `#!/bin/bash
# chassis_control hook of one lab BMC and launcher of its fake host.
#   hook DIR get power       -> power:1 | power:0
#   hook DIR set power 0|1   -> SIGKILL the host | start it
#   hook DIR set reset 1     -> SIGKILL and start again
#   hook DIR host            -> become the fake host (exec'd sleep named "fakehost DIR")
# Faults come from DIR/fault. A non-zero exit makes ipmi_sim answer 0xff.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
dir=$1
pidfile=$dir/host.pid

# ipmi_sim leaks its UDP socket into this process; nothing started here may keep it.
close_fds() {
  local fd n
  for fd in /proc/$BASHPID/fd/*; do
    n=\${fd##*/}
    case $n in 0|1|2|255) ;; *) eval "exec $n>&-" 2>/dev/null ;; esac
  done
}
# Prints the host PID when it runs; zombies and foreign PIDs count as not running.
host_pid() {
  local pid stat state
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=\${stat##*) }
  state=\${state%% *}
  [ "$state" != Z ] || return 1
  # Before its exec the host is still "bash <hook> DIR host".
  tr '\\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -e "fakehost $dir " -e " $dir host " || return 1
  echo "$pid"
}
kill_host() {
  local pid
  pid=$(host_pid) && kill -KILL "$pid"
  return 0
}
start_host() {
  host_pid >/dev/null && return 0
  rm -f "$pidfile"
  setsid bash "$0" "$dir" host </dev/null >/dev/null 2>&1 &
  for _ in $(seq 100); do [ -s "$pidfile" ] && return 0; sleep 0.01; done
  return 1
}

if [ "$2" = host ]; then
  close_fds
  echo $$ >"$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
  exec -a "fakehost $dir" sleep 2147483647
fi

read -r fault arg <"$dir/fault" 2>/dev/null
echo "$(date +%s.%N) $2 $3 $4 fault=$fault" >>"$dir/hook.log"
[ "$fault" = hang ] && sleep "$arg"
case "$2 $3" in
  "get power")
    if host_pid >/dev/null; then echo power:1; else echo power:0; fi ;;
  "set power")
    if [ "$4" = 0 ]; then
      case $fault in
        ignore_off) ;;
        fail_off) exit 1 ;;
        slow_off) ( close_fds; sleep "$arg"; kill_host ) </dev/null >/dev/null 2>&1 & ;;
        *) kill_host ;;
      esac
    else
      start_host || exit 1
    fi ;;
  "set reset")
    if host_pid >/dev/null; then kill_host; sleep 0.05; start_host || exit 1; fi ;;
  *) exit 1 ;;
esac
exit 0
`;

const EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`;

const REQUIRED_TOOLS = ['ipmi_sim', 'ipmitool', 'tini'];

function findTool(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Fails loudly (never skips) when the lab's Debian packages are missing. */
export function requireBmcTools(tools: string[] = REQUIRED_TOOLS): void {
  const missing = tools.filter((tool) => !findTool(tool));
  if (missing.length) {
    throw new Error(
      `BMC lab needs ${missing.join(', ')} on PATH: apt-get install -y --no-install-recommends openipmi ipmitool tini libvirt-clients (CI installs them)`,
    );
  }
}

/** A UDP port free right now on 127.0.0.1 (ipmi_sim binds it a moment later). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

function udpBound(port: number): boolean {
  const wanted = `0100007F:${hex(port, 4)}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === wanted);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Alive and not a zombie (PID 1 here does not reap orphans, and kill -0 succeeds on zombies). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export class Bmc {
  private tini: ChildProcess | null = null;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly user: string,
    readonly password: string,
    private readonly hook: string,
  ) {}

  /** The file the relay inventory points at (mode 600, like on a bastion). */
  get passwordFile(): string {
    return join(this.dir, 'ipmi.pass');
  }

  writeFiles(): void {
    writeFileSync(
      join(this.dir, 'lan.conf'),
      `name "${this.name}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${this.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa1234567${hex(this.port, 8).toLowerCase()}
  endlan
  chassis_control "${this.hook} ${this.dir}"
  user 2 true "${this.user}" "${this.password}" admin 10 none md2 md5 straight
`,
    );
    writeFileSync(join(this.dir, 'sim.emu'), EMU);
    writeFileSync(this.passwordFile, `${this.password}\n`, { mode: 0o600 });
    this.setFault({ kind: 'none' });
  }

  /** Powers the host on without the BMC (lab boot); this process reaps it. */
  async bootHostProcess(): Promise<void> {
    if (this.hostPid() !== null) return;
    rmSync(join(this.dir, 'host.pid'), { force: true });
    spawn('bash', [this.hook, this.dir, 'host'], { stdio: 'ignore' });
    await waitFor(() => this.hostPid() !== null, 3000, `fake host of ${this.name}`);
  }

  async start(): Promise<void> {
    if (this.tini && this.tini.exitCode === null) return;
    const log = join(this.dir, 'ipmi_sim.log');
    writeFileSync(log, '', { flag: 'a' });
    this.tini = spawn(
      'tini',
      [
        '-s',
        '--',
        'ipmi_sim',
        '-c',
        join(this.dir, 'lan.conf'),
        '-f',
        join(this.dir, 'sim.emu'),
        '-s',
        join(this.dir, 'state'),
        '-n',
      ],
      { stdio: 'ignore', cwd: this.dir },
    );
    const tini = this.tini;
    await waitFor(
      () => {
        if (tini.exitCode !== null) throw new Error(`ipmi_sim of ${this.name} exited with ${tini.exitCode}`);
        return udpBound(this.port);
      },
      5000,
      `ipmi_sim of ${this.name} on udp 127.0.0.1:${this.port}`,
    );
  }

  /** The ipmi_sim process (tini's child), checked by name before anyone signals it. */
  simPid(): number | null {
    if (!this.tini?.pid || this.tini.exitCode !== null) return null;
    for (const pid of childPids(this.tini.pid)) {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ipmi_sim') return pid;
    }
    return null;
  }

  /** SIGKILLs the BMC (not the host): a crashed BMC, or the fast way down. */
  async kill(): Promise<void> {
    const tini = this.tini;
    if (!tini || tini.exitCode !== null || tini.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => tini.once('exit', () => resolve()));
    const sim = this.simPid();
    if (sim) process.kill(sim, 'SIGKILL');
    else if (tini.pid) process.kill(tini.pid, 'SIGKILL');
    const timer = setTimeout(
      () => tini.pid && tini.exitCode === null && process.kill(tini.pid, 'SIGKILL'),
      2000,
    );
    await exited;
    clearTimeout(timer);
    this.tini = null;
  }

  setFault(fault: BmcFault): void {
    const text =
      fault.kind === 'none' ? '' : 'seconds' in fault ? `${fault.kind} ${fault.seconds}` : fault.kind;
    writeFileSync(join(this.dir, 'fault'), `${text}\n`);
  }

  /** The fake host's PID while it runs (zombies and recycled PIDs count as gone). */
  hostPid(): number | null {
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dir, 'host.pid'), 'utf8').trim());
    } catch {
      return null;
    }
    const args = cmdline(pid);
    // Before its exec the host is still "bash <hook> DIR host".
    if (
      !pid ||
      !processAlive(pid) ||
      !(args.includes(`fakehost ${this.dir} `) || args.includes(` ${this.dir} host `))
    ) {
      return null;
    }
    return pid;
  }

  hostRunning(): boolean {
    return this.hostPid() !== null;
  }

  hookLog(): string {
    try {
      return readFileSync(join(this.dir, 'hook.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Kills the host process if it still runs (by checked PID). */
  killHost(): void {
    const pid = this.hostPid();
    if (pid) process.kill(pid, 'SIGKILL');
  }
}

export interface BmcLab {
  dir: string;
  bmcs: Bmc[];
  bmc(index: number): Bmc;
  stop(): Promise<void>;
}

/**
 * Starts `count` BMCs, each with its host powered on. Credentials are per lab (a random
 * password), so a test can prove the password never shows up where it must not.
 */
export async function startBmcLab(
  options: { count?: number; user?: string; password?: string } = {},
): Promise<BmcLab> {
  requireBmcTools();
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-bmc-lab-'));
  const hook = join(dir, 'fakehost.sh');
  writeFileSync(hook, HOOK);
  chmodSync(hook, 0o755);
  const password = options.password ?? `lab-${Math.random().toString(36).slice(2, 12)}`;
  const bmcs: Bmc[] = [];
  const lab: BmcLab = {
    dir,
    bmcs,
    bmc: (index) => {
      const bmc = bmcs[index];
      if (!bmc) throw new Error(`no BMC ${index} in the lab`);
      return bmc;
    },
    async stop() {
      // Hosts first, while tini is still there to reap the ones the BMC started.
      for (const b of bmcs) b.killHost();
      await sleep(50);
      await Promise.all(bmcs.map((b) => b.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 1; i <= (options.count ?? 3); i += 1) {
      const bmcDir = join(dir, `bmc${i}`);
      mkdirSync(join(bmcDir, 'state'), { recursive: true });
      const bmc = new Bmc(`labbmc${i}`, bmcDir, await freeUdpPort(), options.user ?? 'admin', password, hook);
      bmc.writeFiles();
      bmcs.push(bmc);
    }
    await Promise.all(
      bmcs.map(async (b) => {
        await b.bootHostProcess();
        await b.start();
      }),
    );
  } catch (error) {
    await lab.stop();
    throw error;
  }
  return lab;
}
