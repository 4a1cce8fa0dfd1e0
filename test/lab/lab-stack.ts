// freezer-dr wired to the lab exactly as `freezer-dr serve` wires it, on 127.0.0.1:
// cloud driver `openstack` (clouds.yaml cloud `lab`), fencer `ipmi-relay` through the
// bastion relay (infra/relay, in-process here) to the lab's ipmi_sim BMCs, the e-mail
// notifier to an SMTP server, and one HTTP server carrying the alert webhook and the
// local Step Functions endpoint. The webhook starts recoveries with @aws-sdk/client-sfn
// against that endpoint; each runs the real ASL on the embedded engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  type ExecutionListItem,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { parseConfig } from '../../core/config.js';
import { StepFunctionsExecutions } from '../../core/executions.js';
import { drainIncident } from '../../core/intake/drain-intake.js';
import type { WorkflowKey } from '../../engine/definition.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { stateMachineArnOf } from '../../engine/local-engine.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { captureLogger } from '../support/capture-logger.js';
import { type SmtpSink, startSmtpSink } from '../support/notify-fixtures.js';
import { type RelayLab, startRelayLab } from '../support/relay-lab.js';
import { HOSTS, labInventory, relayEntry, useLabCloudsYaml } from './lab-env.js';

export const WEBHOOK_TOKEN = `lab-webhook-${Math.random().toString(36).slice(2)}-0123456789`;
export const ADMINS = ['cloud-ops@lab.example', 'oncall@lab.example'];

export interface LabStackOptions {
  /** recovery: section of freezer-dr.yaml (merged over the lab defaults below). */
  recovery?: Record<string, unknown>;
  /** drain: section of freezer-dr.yaml. */
  drain?: Record<string, unknown>;
  /** Per host: replaces fields of its relay inventory entry (wrong password, dead port, ...). */
  bmcOverrides?: Record<string, Record<string, unknown>>;
  /** freezer-dr's own monitors (config `monitors`); off unless given, so a test's alert is what starts. */
  monitors?: Record<string, unknown>[];
  /** Added to the webhook's environment (which the intake also reads its pause switch from). */
  env?: NodeJS.ProcessEnv;
}

export interface LabStack {
  rt: LocalRuntime;
  relay: RelayLab;
  smtp: SmtpSink;
  server: LocalServer;
  executions: LocalExecutions;
  sfn: SFNClient;
  webhookUrl: string;
  /** Structured log lines of the webhook and the steps (alert decisions among them). */
  lines: string[];
  /** The intake's environment: set or delete FREEZER_DR_PAUSED here to pause it. */
  env: NodeJS.ProcessEnv;
  decisions(
    host?: string,
  ): { host: string; decision: string; reason: string; executionName: string | null }[];
  /** Every execution the local Step Functions endpoint knows, through ListExecutions. */
  listExecutions(workflow?: WorkflowKey): Promise<ExecutionListItem[]>;
  describe(name: string, workflow?: WorkflowKey): Promise<DescribeExecutionOutput>;
  /**
   * Starts the host drain as `freezer-dr drain <host>` does against a running serve (a
   * StartExecution on the drain state machine, operator channel); returns the execution name.
   */
  startDrain(host: string, reason: string): Promise<string>;
  /** Posts the generic alert form straight to the webhook, as a monitoring script would. */
  postAlert(host: string, source?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startLabStack(options: LabStackOptions = {}): Promise<LabStack> {
  useLabCloudsYaml();
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const dataDir = mkdtempSync(join(tmpdir(), 'freezer-dr-lab-stack-'));
  const inventory = Object.fromEntries(
    labInventory()
      .filter((bmc) => (HOSTS as readonly string[]).includes(bmc.host))
      .map((bmc) => [bmc.host, relayEntry(bmc, options.bmcOverrides?.[bmc.host])]),
  );
  const relay = await startRelayLab(inventory);
  const smtp = await startSmtpSink();
  const config = parseConfig({
    cloud: { driver: 'openstack', cloud: 'lab', timeoutMs: 60_000 },
    fencer: relay.fencerConfig('ipmi-relay'),
    notifiers: [
      {
        driver: 'email',
        from: 'freezer-dr lab <freezer-dr@lab.example>',
        admins: ADMINS,
        cloudName: 'freezer-dr lab',
        smtp: { host: '127.0.0.1', port: smtp.port, security: 'none', connectionTimeoutMs: 5_000 },
        tenants: { excludeUsers: ['admin'], keystone: { cloud: 'lab' } },
      },
    ],
    recovery: options.recovery ?? {},
    ...(options.drain ? { drain: options.drain } : {}),
    monitors: options.monitors ?? [],
    intake: { auth: { bearer: { env: 'FREEZER_DR_WEBHOOK_TOKEN' }, hmac: null } },
  });
  const { logger, lines } = captureLogger();
  const rt = await createRuntime(config, { logger });
  const store = new ExecutionStore(dataDir);
  const executions = new LocalExecutions({ store, runtime: async () => rt });
  const env: NodeJS.ProcessEnv = { FREEZER_DR_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ...options.env };
  const server = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    runtime: rt,
    executions,
    webhookEnv: env,
  });
  const sfn = new SFNClient({
    endpoint: server.url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const webhookUrl = `${server.url}/webhook`;
  // As serve wires it: a drain whose host dies hands it to the recovery in this process.
  rt.recoveries = executions.api('recovery');
  const execArn = (workflow: WorkflowKey, name: string) =>
    `${stateMachineArnOf(workflow).replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    rt,
    relay,
    smtp,
    server,
    executions,
    sfn,
    webhookUrl,
    lines,
    env,
    decisions: (host) =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.message === 'alert decision' && (!host || l.host === host)) as never,
    async listExecutions(workflow = 'recovery') {
      const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stateMachineArnOf(workflow) }));
      return out.executions ?? [];
    },
    describe: (name, workflow = 'recovery') =>
      sfn.send(new DescribeExecutionCommand({ executionArn: execArn(workflow, name) })),
    async startDrain(host, reason) {
      const at = new Date().toISOString();
      const started = await new StepFunctionsExecutions(
        new SFNClient({
          endpoint: server.url,
          region: 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: server.apiToken },
        }),
        stateMachineArnOf('drain'),
      ).start({
        host,
        incident: drainIncident(at),
        cause: reason,
        requestedAt: at,
        operator: true,
        channels: [{ channel: 'operator', source: 'freezer-dr drain', at, detail: reason }],
      });
      if (!started.started) throw new Error(`${started.executionName} exists already`);
      return started.executionName;
    },
    async postAlert(host, source = 'lab-test') {
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ host, status: 'down', source, reason: `${host} stopped answering` }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async close() {
      sfn.destroy();
      await server.close();
      await executions.idle();
      store.close();
      await relay.close();
      await smtp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
