// `freezer-dr executions list|show|watch`: the recoveries, read through the Step Functions
// API (@aws-sdk/client-sfn), from a running `freezer-dr serve` or from AWS (see sfn-target).
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  type ExecutionStatus,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
} from '@aws-sdk/client-sfn';
import { configPath, type FreezerConfig, loadConfigFile } from '../../core/config.js';
import { instanceNames, type NamedInstance } from '../../core/instance-names.js';
import {
  destination,
  type InstanceView,
  type RecoveryTimeline,
  recoveryTimeline,
  type StageView,
} from '../../core/recovery-timeline.js';
import { DEFAULT_MAX_INSTANCES, timelineChart } from '../../core/timeline-chart.js';
import { topLevelStates } from '../../engine/definition.js';
import { formatDuration } from '../../engine/executions-page.js';
import { CliError, describeFailure } from '../failure.js';
import { operatorRuntime } from '../operator-runtime.js';
import { failureText } from '../progress.js';
import { type SfnTarget, sfnTarget } from '../sfn-target.js';
import { table } from '../table.js';
import { barWidth, timelineText } from '../timeline-text.js';

const STATUSES: ExecutionStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
];
const TOP_LEVEL = topLevelStates();
/** Stage names in one column, however long the workflow's longest (NotifyCapacityShortfall). */
const NAME_WIDTH = Math.max(...[...TOP_LEVEL].map((name) => name.length));
const say = (line = '') => process.stdout.write(`${line}\n`);
const clock = (date: Date | null | undefined) => (date ? date.toISOString().slice(11, 19) : '');

/** `drains`: the host drain's state machine instead of the recovery's. */
function target(config = loadConfigFile(configPath()), drains = false): SfnTarget {
  return sfnTarget(config, process.env, drains ? 'drain' : 'recovery');
}

type Names = ReadonlyMap<string, string>;

/**
 * Instance names through the cloud the operator commands use (`hosts`, `plan`), each looked
 * up once; the history holds ids only. Without that cloud the ids are shown alone, and why.
 */
function cliNames(config: FreezerConfig) {
  let lookup: Promise<(instances: readonly NamedInstance[]) => Promise<Map<string, string>>> | null = null;
  const result = { note: null as string | null };
  const namesOf = async (instances: readonly NamedInstance[]): Promise<Names> => {
    if (!instances.length || result.note) return new Map();
    lookup ??= operatorRuntime(config).then(({ rt }) => instanceNames(rt.cloud));
    try {
      return await (await lookup)(instances);
    } catch (error) {
      result.note = `instance names unavailable: ${(error as Error).message}`;
      return new Map();
    }
  };
  return Object.assign(result, { namesOf });
}

async function call<T>(t: SfnTarget, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new CliError(describeFailure(error, t.where));
  }
}

const hostOf = (input: string | undefined) => {
  try {
    const host = (JSON.parse(input ?? '{}') as { host?: unknown }).host;
    return typeof host === 'string' ? host : '';
  } catch {
    return '';
  }
};

async function latestName(t: SfnTarget): Promise<string> {
  const page = await call(t, () =>
    t.client.send(new ListExecutionsCommand({ stateMachineArn: t.stateMachineArn, maxResults: 1 })),
  );
  const name = page.executions?.[0]?.name;
  if (!name) throw new CliError(`no executions yet at ${t.where}`);
  return name;
}

async function readExecution(t: SfnTarget, name: string) {
  const executionArn = t.executionArn(name);
  const described = await call(t, () => t.client.send(new DescribeExecutionCommand({ executionArn })));
  const events: HistoryEvent[] = [];
  await call(t, async () => {
    for await (const page of paginateGetExecutionHistory({ client: t.client }, { executionArn })) {
      events.push(...(page.events ?? []));
    }
  });
  return { described, timeline: recoveryTimeline(events, TOP_LEVEL) };
}

export async function listCommand(options: {
  status?: string;
  max: string;
  drains?: boolean;
}): Promise<number> {
  const t = target(undefined, options.drains === true);
  const status = options.status?.toUpperCase();
  if (status && !STATUSES.includes(status as ExecutionStatus)) {
    throw new CliError(`--status must be one of ${STATUSES.join(', ')}`);
  }
  const max = Number(options.max);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw new CliError('--max must be 1 to 1000');
  const page = await call(t, () =>
    t.client.send(
      new ListExecutionsCommand({
        stateMachineArn: t.stateMachineArn,
        maxResults: max,
        ...(status ? { statusFilter: status as ExecutionStatus } : {}),
      }),
    ),
  );
  const items = page.executions ?? [];
  if (!items.length) {
    say(`no executions${status ? ` with status ${status}` : ''} at ${t.where}`);
    return 0;
  }
  const rows = await Promise.all(
    items.map(async (item) => {
      const described = await call(t, () =>
        t.client.send(new DescribeExecutionCommand({ executionArn: item.executionArn })),
      );
      const end = item.stopDate?.getTime() ?? Date.now();
      return [
        item.name ?? '',
        hostOf(described.input),
        `${item.status}${item.redriveCount ? ` (re-driven ${item.redriveCount}×)` : ''}`,
        item.startDate?.toISOString().replace('T', ' ').slice(0, 19) ?? '',
        item.startDate ? formatDuration(end - item.startDate.getTime()) : '',
        described.error ? failureText(described.error, described.cause) : '',
      ];
    }),
  );
  say(table(['EXECUTION', 'HOST', 'STATUS', 'STARTED (UTC)', 'DURATION', 'REASON'], rows));
  if (page.nextToken) say(`(more: --max ${Math.min(1000, max * 2)})`);
  return 0;
}

const stageLine = (stage: StageView) => {
  const took = stage.exitedAt ? formatDuration(stage.exitedAt.getTime() - stage.enteredAt.getTime()) : '…';
  const mark = { running: '…', succeeded: '✓', caught: '!', failed: '✗', aborted: '■', interrupted: '↻' }[
    stage.status
  ];
  const attempts = stage.attempts > 1 ? ` (${stage.attempts} attempts)` : '';
  const detail = [stage.detail, stage.error].filter(Boolean).join(' — ');
  return `  ${clock(stage.enteredAt)}  ${mark} ${stage.name.padEnd(NAME_WIDTH)} ${took.padStart(8)}${attempts}  ${detail}`;
};

/** Where it landed, or where the plan sends it until Nova says. */
const destinationText = (i: InstanceView) => {
  const { host, planned } = destination(i);
  return host ? `${host}${planned ? ' (planned)' : ''}` : '';
};

const instanceRow = (i: InstanceView, names: Names) => [
  names.get(i.id) ?? '-',
  i.id,
  i.from ?? '',
  destinationText(i),
  `${i.state}${i.final ? ` (${i.final})` : ''}`,
  i.seconds === null ? '' : `${i.seconds} s`,
  i.reason ?? '',
];

function printHeader(described: DescribeExecutionOutput) {
  const end = described.stopDate?.getTime() ?? Date.now();
  const took = described.startDate ? formatDuration(end - described.startDate.getTime()) : '';
  say(`${described.name}  host ${hostOf(described.input)}  ${described.status}  ${took}`);
  if (described.redriveCount) say(`  re-driven ${described.redriveCount}× after a restart`);
  if (described.error) say(`  ${failureText(described.error, described.cause)}`);
}

/** What `executions show` prints below the header: stages, instances, then the timeline chart. */
export function showLines(
  described: DescribeExecutionOutput,
  timeline: RecoveryTimeline,
  options: { names?: Names; namesNote?: string | null; columns?: number; now?: number } = {},
): string[] {
  const names = options.names ?? new Map<string, string>();
  const lines = ['stages:', ...timeline.stages.map(stageLine)];
  if (timeline.instances.length) {
    lines.push(`instances (${timeline.instances.length}):`);
    if (options.namesNote) lines.push(`  (${options.namesNote})`);
    lines.push(
      table(
        ['INSTANCE', 'ID', 'FROM', 'TO', 'STATE', 'TIME', 'NOTE'],
        timeline.instances.map((i) => instanceRow(i, names)),
        '  ',
      ),
    );
  }
  const chart = timelineChart(timeline, {
    start: described.startDate ?? new Date(options.now ?? Date.now()),
    stop: described.stopDate ?? null,
    now: options.now ?? Date.now(),
    names,
    // A terminal holds fewer rows than the page.
    maxInstances: Math.floor(DEFAULT_MAX_INSTANCES / 2),
  });
  lines.push(...timelineText(chart, barWidth(options.columns)));
  return lines;
}

export async function showCommand(
  name: string | undefined,
  options: { drains?: boolean } = {},
): Promise<number> {
  const config = loadConfigFile(configPath());
  const t = target(config, options.drains === true);
  const { described, timeline } = await readExecution(t, name ?? (await latestName(t)));
  const lookup = cliNames(config);
  const names = await lookup.namesOf(timeline.instances);
  printHeader(described);
  for (const line of showLines(described, timeline, {
    names,
    namesNote: lookup.note,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  }))
    say(line);
  return described.status === 'FAILED' || described.status === 'TIMED_OUT' || described.status === 'ABORTED'
    ? 1
    : 0;
}

/** One instance as `watch` prints it: name and id, from → to (or the planned host), state. */
export function watchLine(instance: InstanceView, names: Names): string {
  const [name, id, from, to, what, time, note] = instanceRow(instance, names);
  const who = name === '-' ? id : `${name} ${id}`;
  return `      • ${who}  ${from} → ${to || '?'}  ${what}${time ? `  ${time}` : ''}${note ? `  ${note}` : ''}`;
}

/** Prints what changed since the last look, once a second, until the execution ends. */
export async function watchCommand(
  name: string | undefined,
  options: { interval: string; drains?: boolean },
): Promise<number> {
  const config = loadConfigFile(configPath());
  const t = target(config, options.drains === true);
  const lookup = cliNames(config);
  const executionName = name ?? (await latestName(t));
  const interval = Math.max(200, Number(options.interval) || 1000);
  const seenStages = new Map<string, string>();
  const seenInstances = new Map<string, string>();
  say(`watching ${executionName} at ${t.where} (Ctrl-C stops watching, not the recovery)`);
  let noted = false;
  for (;;) {
    const { described, timeline } = await readExecution(t, executionName);
    const names = await lookup.namesOf(timeline.instances);
    if (lookup.note && !noted) {
      noted = true;
      say(`  (${lookup.note})`);
    }
    timeline.stages.forEach((stage, index) => {
      const key = `${index}`;
      const line = stageLine(stage);
      if (seenStages.get(key) !== `${stage.status}${stage.attempts}`) {
        seenStages.set(key, `${stage.status}${stage.attempts}`);
        say(line);
      }
    });
    for (const instance of timeline.instances) {
      const line = watchLine(instance, names);
      if (seenInstances.get(instance.id) !== line) {
        seenInstances.set(instance.id, line);
        say(line);
      }
    }
    if (described.status !== 'RUNNING') {
      say('');
      printHeader(described);
      return described.status === 'SUCCEEDED' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
