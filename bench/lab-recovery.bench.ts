// Benchmark on the real lab (npm run bench:lab brings it up first): N servers pinned to
// compute-1, and per round, in an order that rotates between rounds:
//   floor          ipmitool power off, force-down, N parallel evacuates (2.68, {}), poll
//                  0.5 s until each is ACTIVE elsewhere; timed from the power-off
//   floor+targets  the same, each evacuate naming a host (compute-2/compute-3 in turn) and
//                  each server locked once accepted, unlocked once ACTIVE
//   freezer-dr     as `npm start` runs it with the shipped defaults (the nova-services poll
//                  on, recovery.confirm defaults, placement spread, locks): compute-1 HANGS
//                  (nova-compute SIGSTOPped: the BMC still reads on) and at that moment ONE
//                  alert goes to a real Alertmanager (group_wait 10s, repeat_interval 4h),
//                  which delivers it once. Timed from the hang, on the lab's own records:
//                  detection = hang -> power off (the BMC's hook log), recovery = power off
//                  -> last VerifyInstance exit (Nova's last `done` evacuation shown beside).
// Then the medians, the goals (detection <= staleAfterSeconds + 5 s; recovery <= 1.2 x the
// floor's median; failure -> last verified <= 45 s; exit 1 on a miss) and where freezer-dr's
// recovery time went, from nova-api's, nova-scheduler's and nova-compute's logs. JSON under
// the lab dir.
//   npm run bench:lab -- --servers 10 --rounds 5 [--group-wait 10s] [--method spread|scheduler|reserved]
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { restoreHost } from '../core/restore-host.js';
import { parseNovaTime } from '../core/time.js';
import type { StoredEvent } from '../engine/history.js';
import { hangCompute, ipmi, LAB_DIR, labCloud } from '../test/lab/lab-env.js';
import { LabNova, until } from '../test/lab/lab-nova.js';
import { type LabStack, startLabStack, WEBHOOK_TOKEN } from '../test/lab/lab-stack.js';
import { type Alertmanager, startAlertmanager } from '../test/support/alertmanager.js';
import { goal } from './goals.js';
import { type FloorResult, lastDoneAt, runFloor } from './lab-floor.js';
import { type EvacuationTrace, traceEvacuations } from './lab-nova-trace.js';
import { bootOnHost as bootN, landing, median, s, say } from './lab-report.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'group-wait': { type: 'string', default: '10s' },
    /** recovery.placement.method of the freezer-dr runs (spread is the default; scheduler lets Nova choose). */
    method: { type: 'string', default: 'spread' },
  },
});
const N = Number(values.servers);
const ROUNDS = Number(values.rounds);
const HOST = 'compute-1';
const TARGETS = ['compute-2', 'compute-3'];
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const nova = new LabNova(labCloud());
const bootOnHost = (prefix: string) => bootN(nova, HOST, N, prefix);

// ------------------------------------------------------------------- floors ----
async function floor(options: { targets?: string[]; lock?: boolean }): Promise<FloorResult> {
  const ids = await bootOnHost('bench-floor-');
  const result = await runFloor(nova, HOST, ids, 'bench-floor-', options);
  await ipmi(HOST, 'chassis', 'power', 'on');
  await nova.healHost(HOST);
  await nova.deleteServers(ids);
  return result;
}

// --------------------------------------------------------------- freezer-dr ----
const HOOK_LOG = join(LAB_DIR, 'log', `bmc-${HOST}-hook.log`);

/** The BMC's own record of the power-off: the first "power off" its hook logged after `offset`. */
function bmcPowerOffAt(offset: number, after: number): number {
  const text = readFileSync(HOOK_LOG, 'utf8').slice(offset);
  const line = text.split('\n').find((l) => / power off /.test(l));
  if (!line) return Number.NaN;
  const [h, m, rest] = (line.split(' ')[0] as string).split(':');
  const day = new Date(after);
  day.setHours(Number(h), Number(m), Math.floor(Number(rest)), Math.round((Number(rest) % 1) * 1000));
  // The log keeps the time of day only: a power-off logged "before" the hang is the next day's.
  return day.getTime() < after - 3_600_000 ? day.getTime() + 86_400_000 : day.getTime();
}

interface FreezerRun {
  hang: number;
  reportAgeAtHang: number;
  alertDelivered: number;
  deliveries: number;
  powerOff: number;
  stages: Record<string, [number, number]>;
  confirmReads: number;
  channels: string;
  firstEvacuateExit: number;
  lastEvacuateExit: number;
  lastVerifyExit: number;
  lastDoneInNova: number;
  traces: EvacuationTrace[];
  destinations: Record<string, number>;
  outcome: string;
  tokens: number;
}

function stageTimes(events: StoredEvent[]) {
  const top = (type: string, name: string) =>
    events.filter((e) => e.type === type && 'state' in e && e.state.name === name && e.index === undefined);
  const inner = (name: string) =>
    events
      .filter(
        (e) => e.type === 'StateExited' && 'state' in e && e.state.name === name && e.index !== undefined,
      )
      .map((e) => e.timestamp);
  const stages: Record<string, [number, number]> = {};
  for (const name of [
    'ConfirmHostFailure',
    'FenceHost',
    'VerifyPowerOff',
    'MarkHostDown',
    'SelectInstances',
    'PlanTargets',
    'EvacuateInstances',
  ]) {
    const entered = top('StateEntered', name)[0]?.timestamp;
    const exited = top('StateExited', name).at(-1)?.timestamp;
    if (entered !== undefined && exited !== undefined) stages[name] = [entered, exited];
  }
  const evacuations = inner('EvacuateInstance');
  return {
    stages,
    confirmReads: top('StateEntered', 'ConfirmHostFailure').length,
    firstEvacuateExit: Math.min(...evacuations),
    lastEvacuateExit: Math.max(...evacuations),
    lastVerifyExit: Math.max(...inner('VerifyInstance')),
  };
}

async function freezerDr(stack: LabStack): Promise<FreezerRun> {
  const ids = await bootOnHost('bench-fdr-');
  const am: Alertmanager = await startAlertmanager({
    webhookUrl: stack.webhookUrl,
    token: WEBHOOK_TOKEN,
    groupWait: values['group-wait'],
    groupInterval: '5m',
    repeatInterval: '4h',
  });
  try {
    const before = await nova.service(HOST);
    const known = new Set((await stack.listExecutions()).map((e) => e.name));
    const decisionsBefore = stack.decisions(HOST).length;
    const hookOffset = statSync(HOOK_LOG).size;
    const tokensBefore = keystoneTokens(stack);
    const hang = Date.now();
    hangCompute(HOST);
    await am.postAlerts([
      {
        labels: { alertname: 'NovaComputeDown', host: HOST, severity: 'critical' },
        annotations: { summary: `${HOST} stopped answering` },
        startsAt: new Date(hang).toISOString(),
        endsAt: new Date(hang + 3_600_000).toISOString(),
      },
    ]);
    const name = await until(
      'the alert to start a recovery',
      async () => (await stack.listExecutions()).find((e) => !known.has(e.name))?.name,
      120_000,
      100,
    );
    const done = await until(
      'the recovery to end',
      async () => {
        const described = await stack.describe(name as string);
        return described.status !== 'RUNNING' ? described : null;
      },
      600_000,
      250,
    );
    const deliveries = stack.decisions(HOST).slice(decisionsBefore);
    const alertDelivered = Date.parse(JSON.parse(done.input ?? '{}').requestedAt ?? '');
    const output = JSON.parse(done.output ?? '{}') as {
      confirm?: { channels?: { channel: string; source: string }[] };
    };
    const times = stageTimes(stack.executions.events(name as string));
    const lastDoneInNova = await lastDoneAt(nova, ids);
    const destinations: Record<string, number> = {};
    for (const server of await Promise.all(ids.map((id) => nova.cloud.getServer(id)))) {
      const to = server?.host ?? 'gone';
      destinations[to] = (destinations[to] ?? 0) + 1;
    }
    const run: FreezerRun = {
      hang,
      reportAgeAtHang: (hang - (parseNovaTime(before.updatedAt) ?? Number.NaN)) / 1000,
      alertDelivered,
      deliveries: deliveries.length,
      powerOff: bmcPowerOffAt(hookOffset, hang),
      ...times,
      channels: (output.confirm?.channels ?? []).map((c) => `${c.channel}/${c.source}`).join(' + '),
      lastDoneInNova,
      traces: traceEvacuations(ids, hang - 1000),
      destinations,
      outcome: `${done.status}${done.error ? ` ${done.error}: ${(done.cause ?? '').slice(0, 300)}` : ''}`,
      tokens: keystoneTokens(stack) - tokensBefore,
    };
    await restoreHost(stack.rt, HOST, {
      leaveDisabled: false,
      timeoutSeconds: 300,
      pollMs: 1000,
      onProgress: () => undefined,
    });
    await until(`${HOST} up`, async () => (await nova.service(HOST)).state === 'up', 120_000);
    await nova.deleteServers(ids);
    return run;
  } finally {
    await am.stop();
  }
}

/** Tokens freezer-dr's one Keystone session has issued so far. */
function keystoneTokens(stack: LabStack): number {
  return (stack.rt.cloud as { session?: { tokensIssued?: number } }).session?.tokensIssued ?? 0;
}

interface Derived {
  detection: number;
  recovery: number;
  total: number;
  novaRecovery: number;
}

function printFreezerDr(b: FreezerRun): Derived {
  const rel = (t: number) => (t - b.hang) / 1000;
  const fromOff = (t: number) => (t - b.powerOff) / 1000;
  const dur = (stage: string) => {
    const span = b.stages[stage];
    return span ? (span[1] - span[0]) / 1000 : Number.NaN;
  };
  say(
    `    hang; the last report of ${HOST} was ${b.reportAgeAtHang.toFixed(1)} s old; one alert to Alertmanager`,
  );
  say(
    `    alert delivered              ${s(rel(b.alertDelivered))}   (${b.deliveries} deliver${b.deliveries === 1 ? 'y' : 'ies'}; the run starts at once)`,
  );
  say(
    `    ConfirmHostFailure           ${s(dur('ConfirmHostFailure'))}   (${b.confirmReads} reads of Nova; agreed: ${b.channels})`,
  );
  say(`    power off (BMC's record)     ${s(rel(b.powerOff))}   <- detection`);
  for (const stage of ['FenceHost', 'VerifyPowerOff', 'MarkHostDown', 'SelectInstances', 'PlanTargets']) {
    say(
      `    ${stage.padEnd(28)} ${s(dur(stage))}   (ends ${s(fromOff(b.stages[stage]?.[1] ?? Number.NaN)).trim()} after power off)`,
    );
  }
  const t = (pick: (x: EvacuationTrace) => number | null) =>
    b.traces
      .map((x) => pick(x))
      .filter((x): x is number => x !== null)
      .map(fromOff);
  const span = (xs: number[]) =>
    xs.length ? `${s(Math.min(...xs)).trim()} .. ${s(Math.max(...xs)).trim()}` : 'n/a';
  say(`    evacuate POSTs sent          ${span(t((x) => x.posted))}   (after power off; nova-api's log)`);
  say(`    evacuate POSTs answered      ${span(t((x) => x.answered))}`);
  say(`    reached nova-scheduler       ${span(t((x) => x.scheduler))}`);
  say(`    reached the nova-compute     ${span(t((x) => x.compute))}   ("Evacuating instance")`);
  say(
    `    last evacuation done (Nova)  ${s(fromOff(b.lastDoneInNova))}   (migration updated_at, whole seconds)`,
  );
  say(
    `    last VerifyInstance exit     ${s(fromOff(b.lastVerifyExit))}   <- recovery (execution ${b.outcome})`,
  );
  say(`    landed on ${landing(b.destinations)}; Keystone tokens issued during the run: ${b.tokens}`);
  return {
    detection: rel(b.powerOff),
    recovery: fromOff(b.lastVerifyExit),
    total: rel(b.lastVerifyExit),
    novaRecovery: fromOff(b.lastDoneInNova),
  };
}

function printFloor(label: string, a: FloorResult): void {
  say(
    `    ${label}: forced down ${s(a.forcedDown).trim()}, ${N} POSTs answered ${s(a.postsAnswered).trim()}, last ACTIVE ${s(a.lastActive).trim()} (${landing(a.destinations)})`,
  );
}

// --------------------------------------------------------------------- run ----
say(
  `freezer-dr lab benchmark: ${N} servers on ${HOST}, ${ROUNDS} round(s) of floor, floor+targets+locks and freezer-dr (one alert at the hang)`,
);
say("Nova 26: service_down_time 60 s, report_interval 10 s; Nova's own rebuild time varies between runs");
await nova.healLab();
// freezer-dr runs all along, as `npm start` would: its own monitor on, default confirm settings.
const stack = await startLabStack({
  monitors: [{ driver: 'nova-services' }],
  recovery: { placement: { method: values.method } },
});
const staleAfter = stack.rt.policy.confirm.staleAfterSeconds;
type Round = { floor: FloorResult; targeted: FloorResult; run: FreezerRun; derived: Derived };
const rounds: Round[] = [];
try {
  for (let round = 1; round <= ROUNDS; round += 1) {
    say(`\n--- round ${round}/${ROUNDS}`);
    const parts: Partial<Round> = {};
    const order = ['floor', 'targeted', 'freezer-dr'];
    for (let i = 0; i < round - 1; i += 1) order.push(order.shift() as string);
    for (const what of order) {
      if (what === 'floor') {
        parts.floor = await floor({});
        printFloor('(a) floor', parts.floor);
      } else if (what === 'targeted') {
        parts.targeted = await floor({ targets: TARGETS, lock: true });
        printFloor('(b) floor with targets and locks', parts.targeted);
      } else {
        say('(c) freezer-dr, from the hang:');
        parts.run = await freezerDr(stack);
        parts.derived = printFreezerDr(parts.run);
      }
    }
    rounds.push(parts as Round);
  }
} finally {
  await stack.close();
}

const floorMedian = median(rounds.map((r) => r.floor.lastActive));
const targetedMedian = median(rounds.map((r) => r.targeted.lastActive));
const detection = median(rounds.map((r) => r.derived.detection));
const recovery = median(rounds.map((r) => r.derived.recovery));
const total = median(rounds.map((r) => r.derived.total));
say(`\n=== medians over ${ROUNDS} round(s)`);
say(
  `floor (power off -> last ACTIVE)                       ${s(floorMedian)}   runs: ${rounds.map((r) => r.floor.lastActive.toFixed(1)).join(', ')}`,
);
say(
  `floor with targets and locks                           ${s(targetedMedian)}   runs: ${rounds.map((r) => r.targeted.lastActive.toFixed(1)).join(', ')}`,
);
say(
  `freezer-dr detection (hang -> power off, BMC record)   ${s(detection)}   runs: ${rounds.map((r) => r.derived.detection.toFixed(1)).join(', ')}`,
);
say(
  `freezer-dr recovery (power off -> last verified)       ${s(recovery)}   runs: ${rounds.map((r) => r.derived.recovery.toFixed(1)).join(', ')}`,
);
say(
  `  (power off -> last evacuation done in Nova           ${s(median(rounds.map((r) => r.derived.novaRecovery)))})`,
);
say(
  `freezer-dr failure -> last verified                    ${s(total)}   runs: ${rounds.map((r) => r.derived.total.toFixed(1)).join(', ')}`,
);
say(
  `alert deliveries per run: ${rounds.map((r) => r.run.deliveries).join(', ')}; Keystone tokens per run: ${rounds.map((r) => r.run.tokens).join(', ')}`,
);
const ratio = recovery / floorMedian;
say('\ngoals');
const check = (met: boolean, line: string) => say(`  ${goal(met, line) ? 'met   ' : 'MISSED'} ${line}`);
check(
  detection <= staleAfter + 5,
  `detection ${detection.toFixed(1)} s <= staleAfterSeconds ${staleAfter} + 5 s`,
);
check(
  ratio <= 1.2,
  `recovery / floor ${ratio.toFixed(2)} <= 1.2 (vs floor with targets and locks: ${(recovery / targetedMedian).toFixed(2)})`,
);
check(total <= 45, `failure -> last verified ${total.toFixed(1)} s <= 45 s`);
check(
  rounds.every((r) => r.run.deliveries === 1),
  'Alertmanager delivered exactly one alert per run',
);

const out = join(LAB_DIR, 'bench');
mkdirSync(out, { recursive: true });
const file = join(out, `lab-recovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ servers: N, staleAfterSeconds: staleAfter, rounds }, null, 2)}\n`);
say(`results: ${file}`);
