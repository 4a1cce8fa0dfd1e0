// `serverless package` (osls, offline, no AWS credentials) and assertions on what would
// be deployed: the state machine is the ASL file itself, every substitution is bound to
// a function of this service, IAM is least-privilege, bundles are small; and the
// packaged handlers themselves, each bundle its own module instance, run one recovery on
// the embedded engine against the simulated cloud and real ipmi_sim BMCs behind the relay.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../core/config.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { validateDriverSections } from '../../drivers/registry.js';
import { STATE_TABLE_KEY, STATE_TABLE_TTL } from '../../drivers/state/dynamodb.js';
import { DRAIN_DEFINITION_PATH, loadDefinition, placeholders } from '../../engine/definition.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { taskFunctions } from '../../functions/catalog.js';
import type { TaskHandler } from '../../functions/lib/task-handler.js';
import { packageService, type UnpackedBundle, unpackBundles } from '../../infra/deploy/bundles.js';
import { type BmcLab, startBmcLab } from '../support/bmc-lab.js';
import { type HttpSink, type SmtpSink, startHttpSink, startSmtpSink } from '../support/notify-fixtures.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/secrets-manager.js';

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const outDir = mkdtempSync(join(tmpdir(), 'freezer-dr-package-'));
// vitest.config.ts leaves modules under this prefix to Node: the bundles run as packaged.
const unpacked = mkdtempSync(join(tmpdir(), 'freezer-dr-bundles-'));
let resources: Record<string, Resource>;
let conditions: Record<string, unknown>;
let bundles: UnpackedBundle[];

/** Actions AWS defines without resource-level permissions: "*" is the only valid resource. */
const NO_RESOURCE_LEVEL =
  /^(xray:|logs:(Create|Get|Update|Delete|List)LogDelivery|logs:ListLogDeliveries|logs:PutResourcePolicy|logs:DescribeResourcePolicies|logs:DescribeLogGroups)/;

function statements(): { role: string; statement: Statement }[] {
  const out: { role: string; statement: Statement }[] = [];
  for (const [name, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const policy of (resource.Properties.Policies ?? []) as {
      PolicyDocument: { Statement: Statement[] };
    }[]) {
      for (const statement of policy.PolicyDocument.Statement) out.push({ role: name, statement });
    }
  }
  return out;
}

beforeAll(() => {
  packageService(outDir, 'ci');
  const template = JSON.parse(
    readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  resources = template.Resources;
  conditions = template.Conditions ?? {};
  bundles = unpackBundles(outDir, unpacked);
}, 300_000);
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(unpacked, { recursive: true, force: true });
});

describe('serverless package', () => {
  const machines = [
    {
      id: 'HostRecoveryStateMachine',
      role: 'StateMachineRole',
      file: 'host-recovery',
      definition: () => loadDefinition(),
    },
    {
      id: 'HostDrainStateMachine',
      role: 'DrainStateMachineRole',
      file: 'host-drain',
      definition: () => loadDefinition(DRAIN_DEFINITION_PATH),
    },
  ];
  const logicalIdOf = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;

  for (const m of machines) {
    it(`deploys statemachine/${m.file}.asl.json itself as a Standard state machine with logging and tracing`, () => {
      const machine = resources[m.id] as Resource;
      expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
      expect(machine.Properties.Definition).toEqual(m.definition());
      expect(machine.Properties.StateMachineType).toBe('STANDARD');
      expect((machine.Properties.LoggingConfiguration as { Level: string }).Level).toBe('ALL');
      expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [m.role, 'Arn'] });
    });

    it(`binds every placeholder of ${m.file} to a Lambda function of this service`, () => {
      const substitutions = (resources[m.id] as Resource).Properties.DefinitionSubstitutions as Record<
        string,
        { 'Fn::GetAtt': [string, string] }
      >;
      const used = placeholders(m.definition());
      expect(Object.keys(substitutions).sort()).toEqual([...used].sort());
      for (const [key, value] of Object.entries(substitutions)) {
        const [logicalId, attribute] = value['Fn::GetAtt'];
        expect(attribute).toBe('Arn');
        expect(resources[logicalId]?.Type, key).toBe('AWS::Lambda::Function');
        expect(logicalId.toLowerCase()).toBe(`${taskFunctions[key]?.name}LambdaFunction`.toLowerCase());
      }
    });

    it(`lets the ${m.file} state machine invoke only its own functions`, () => {
      const invoke = statements().filter(({ role }) => role === m.role);
      const lambda = invoke.find(({ statement }) => statement.Action === 'lambda:InvokeFunction');
      const resource = (lambda?.statement.Resource ?? []) as { 'Fn::GetAtt': [string, string] }[];
      const targets = resource.map((r) => r['Fn::GetAtt'][0]);
      const own = [...placeholders(m.definition())].map((key) =>
        logicalIdOf(taskFunctions[key]?.name ?? key),
      );
      expect(targets.sort()).toEqual(own.sort());
    });
  }

  it('never lets the drain fence, force down or evacuate', () => {
    const drain = JSON.stringify(statements().filter(({ role }) => role === 'DrainStateMachineRole'));
    for (const step of ['FenceHost', 'VerifyPowerOff', 'MarkHostDown', 'EvacuateInstance'])
      expect(drain).not.toContain(`${step}LambdaFunction`);
    // Its hand-over may start a recovery, and nothing else.
    const handOver = statements().filter(({ role }) => role === 'HandOverRole');
    expect(handOver.filter((s) => JSON.stringify(s.statement.Action).includes('states:'))).toEqual([
      {
        role: 'HandOverRole',
        statement: {
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: { Ref: 'HostRecoveryStateMachine' },
        },
      },
    ]);
  });

  it('keeps the intake`s shared state in one DynamoDB table (pay per request, TTL), reached only by the roles that use it', () => {
    const table = resources.StateTable as Resource;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: STATE_TABLE_KEY, AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: STATE_TABLE_TTL, Enabled: true },
    });
    const access = statements().filter(({ statement }) =>
      JSON.stringify(statement.Action).includes('dynamodb:'),
    );
    expect(access.map(({ role }) => role).sort()).toEqual([
      'CloudTaskRole',
      'HandOverRole',
      'MonitorRole',
      'NotifyTaskRole',
      'WebhookRole',
    ]);
    for (const { statement } of access) {
      expect(statement.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
    }
    // The table name reaches exactly the functions that load the state driver.
    const named = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .filter(([, r]) => {
        const env = (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        return JSON.stringify(env.FREEZER_DR_STATE_TABLE) === JSON.stringify({ Ref: 'StateTable' });
      })
      .map(([id]) => id)
      .sort();
    expect(named).toEqual([
      'CheckDrainHostLambdaFunction',
      'ConfirmHostFailureLambdaFunction',
      'DisableHostForDrainLambdaFunction',
      'EvacuateInstanceLambdaFunction',
      'HandOverToRecoveryLambdaFunction',
      'MarkHostDownLambdaFunction',
      'MigrateInstanceLambdaFunction',
      'MonitorLambdaFunction',
      'NotifyLambdaFunction',
      'PlanTargetsLambdaFunction',
      'SelectInstancesLambdaFunction',
      'SummarizeDrainLambdaFunction',
      'VerifyInstanceLambdaFunction',
      'VerifyMigrationLambdaFunction',
      'WebhookLambdaFunction',
    ]);
  });

  it('bundles the DynamoDB client only where the state store is used, and imports it on first use', () => {
    // Every step that talks to Nova shares the Keystone token through it; the intake keeps its gates there.
    const users = [
      'checkDrainHost',
      'confirmHostFailure',
      'disableHostForDrain',
      'evacuateInstance',
      'handOverToRecovery',
      'markHostDown',
      'migrateInstance',
      'monitor',
      'notify',
      'planTargets',
      'selectInstances',
      'summarizeDrain',
      'verifyInstance',
      'verifyMigration',
      'webhook',
    ];
    for (const { name, file } of bundles) {
      const code = readFileSync(file, 'utf8');
      expect(code.includes('@aws-sdk/client-dynamodb'), name).toBe(users.includes(name));
      // Never a static import at the top of the bundle: it would load at cold start.
      expect(code, name).not.toMatch(/from\s*["']@aws-sdk\/client-dynamodb["']/);
    }
  });

  it('throttles the webhook route at the API', () => {
    const stage = resources.HttpApiStage as Resource;
    expect(stage.Type).toBe('AWS::ApiGatewayV2::Stage');
    const limits = { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 };
    expect(stage.Properties.DefaultRouteSettings).toMatchObject(limits);
    expect((stage.Properties.RouteSettings as Record<string, unknown>)['POST /webhook']).toMatchObject(
      limits,
    );
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey)).toEqual(['POST /webhook']);
  });

  it('gives the intake no notifier secret: the webhook reads its token and Nova`s, and hands notices to notify', () => {
    const secretsOf = (role: string) =>
      statements()
        .filter((s) => s.role === role && s.statement.Action === 'secretsmanager:GetSecretValue')
        .flatMap(({ statement }) =>
          Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
        )
        .map((r) => JSON.stringify(r));
    const webhook = secretsOf('WebhookRole');
    expect(webhook).toHaveLength(2);
    expect(webhook.join()).toContain('freezer-dr/webhook-token');
    expect(webhook.join()).toContain('freezer-dr/openstack');
    for (const role of ['WebhookRole', 'MonitorRole']) {
      expect(secretsOf(role).join(), role).not.toContain('freezer-dr/smtp');
      const invoke = statements().filter(
        (s) => s.role === role && s.statement.Action === 'lambda:InvokeFunction',
      );
      expect(invoke.map((s) => s.statement.Resource)).toEqual([
        { 'Fn::GetAtt': ['NotifyLambdaFunction', 'Arn'] },
      ]);
    }
    for (const id of ['WebhookLambdaFunction', 'MonitorLambdaFunction']) {
      const env = (
        (resources[id] as Resource).Properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(env.NOTIFY_FUNCTION_NAME, id).toEqual({ Ref: 'NotifyLambdaFunction' });
    }
  });

  it('names each secret with Secrets Manager`s 6-character suffix, never a trailing "-*"', () => {
    const arns = statements()
      .filter(({ statement }) => statement.Action === 'secretsmanager:GetSecretValue')
      .flatMap(({ statement }) =>
        Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
      )
      .map((r) => (r as { 'Fn::Sub': string })['Fn::Sub']);
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(arn).toMatch(/:secret:freezer-dr\/[a-z-]+-\?{6}$/);
  });

  it('encrypts the alarm topic with a key CloudWatch alarms may use, and subscribes the alarmEmail param when set', () => {
    const topic = resources.AlarmTopic as Resource;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlarmTopicKey' });
    const key = resources.AlarmTopicKey as Resource;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const grants = (key.Properties.KeyPolicy as { Statement: { Principal: unknown; Action: unknown }[] })
      .Statement;
    expect(grants).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      }),
    );
    const subscription = resources.AlarmEmailSubscription as Resource;
    expect(subscription).toMatchObject({
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'none' },
    });
    expect(conditions.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['none', 'none'] }] });
  });

  it('lets the webhook start and list executions of the recovery and drain state machines only', () => {
    const webhook = statements().filter(({ role }) => role === 'WebhookRole');
    const states = webhook.filter(({ statement }) => JSON.stringify(statement.Action).includes('states:'));
    expect(states).toHaveLength(2);
    expect(states[0]?.statement.Action).toEqual(['states:StartExecution', 'states:ListExecutions']);
    expect(states[0]?.statement.Resource).toEqual([
      { Ref: 'HostRecoveryStateMachine' },
      { Ref: 'HostDrainStateMachine' },
    ]);
    // Reading one of its executions (is a host's start claim held by a closed one?), nothing else.
    expect(states[1]?.statement.Action).toBe('states:DescribeExecution');
    const executions = JSON.stringify(states[1]?.statement.Resource);
    expect(executions).toContain(':execution:');
    expect(executions).toContain('HostRecoveryStateMachine.Name}:*');
    const fn = resources.WebhookLambdaFunction as Resource;
    expect(JSON.stringify(fn.Properties.Role)).toContain('WebhookRole');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.STATE_MACHINE_ARN).toEqual({ Ref: 'HostRecoveryStateMachine' });
    expect(env.DRAIN_STATE_MACHINE_ARN).toEqual({ Ref: 'HostDrainStateMachine' });
  });

  it('runs the reconciler every 15 minutes with its own role: this state machine only, the secrets it needs only', () => {
    const fn = resources.ReconcileLambdaFunction as Resource;
    expect(JSON.stringify(fn.Properties.Role)).toContain('ReconcileRole');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.STATE_MACHINE_ARN).toEqual({ Ref: 'HostRecoveryStateMachine' });
    const rules = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.Targets).includes('ReconcileLambdaFunction'),
    );
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(15 minutes)']);
    const own = statements()
      .filter(({ role }) => role === 'ReconcileRole')
      .map(({ statement }) => statement);
    expect(own.filter((s) => JSON.stringify(s.Action).includes('states:'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['states:StartExecution', 'states:ListExecutions'],
        Resource: { Ref: 'HostRecoveryStateMachine' },
      },
    ]);
    const secrets = JSON.stringify(
      own.filter((s) => s.Action === 'secretsmanager:GetSecretValue').map((s) => s.Resource),
    );
    for (const name of ['freezer-dr/openstack', 'freezer-dr/relay-key', 'freezer-dr/smtp'])
      expect(secrets).toContain(name);
    expect(secrets).not.toContain('webhook-token');
    expect(own.flatMap((s) => s.Action).sort()).toEqual([
      'secretsmanager:GetSecretValue',
      'states:ListExecutions',
      'states:StartExecution',
    ]);
    const alarm = resources.ReconcileAttentionAlarm as Resource;
    expect(alarm.Properties).toMatchObject({ Namespace: 'freezer-dr', MetricName: 'ReconcileAttention' });
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('has no IAM statement with Resource "*" where an ARN is known', () => {
    for (const { role, statement } of statements()) {
      const wildcard =
        statement.Resource === '*' || (Array.isArray(statement.Resource) && statement.Resource.includes('*'));
      if (!wildcard) continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) expect(action, `${role}: ${action} on "*"`).toMatch(NO_RESOURCE_LEVEL);
    }
    for (const { role, statement } of statements()) {
      if (statement.Action === 'secretsmanager:GetSecretValue')
        expect(JSON.stringify(statement.Resource), role).toContain(':secret:freezer-dr/');
    }
  });

  it('runs every function on nodejs22.x with its own role', () => {
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(Object.keys(taskFunctions).length);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(JSON.stringify(fn.Properties.Role)).not.toContain('IamRoleLambdaExecution');
    }
  });

  it('bundles freezer-dr.aws.yaml with every function, a config check-config accepts', () => {
    const config = 'freezer-dr.aws.yaml';
    for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.FREEZER_DR_CONFIG).toBe(config);
    }
    for (const { name, file } of bundles)
      expect(existsSync(join(dirname(file), '..', config)), name).toBe(true);
    expect(() => validateDriverSections(loadConfigFile(config))).not.toThrow();
  });

  it('packages one small bundle per function (each under 500 KB)', () => {
    expect(bundles.length).toBeGreaterThanOrEqual(Object.keys(taskFunctions).length);
    for (const { name, file, bytes } of bundles) {
      expect(bytes, `${name}: ${file} is ${Math.round(bytes / 1024)} KB`).toBeLessThan(500 * 1024);
    }
  });
});

describe('the packaged handlers on the embedded engine', () => {
  let lab: BmcLab;
  let relay: RelayLab;
  let sim: SimulatedCloud;
  let secrets: FakeSecretsManager;
  let sink: HttpSink;
  let smtp: SmtpSink;
  const saved = { ...process.env };

  beforeAll(async () => {
    lab = await startBmcLab({ count: 1 });
    relay = await startRelayLab({ 'compute-1': ipmiEntry(lab.bmc(0)) });
    sim = await startSimulatedCloud({ evacuateMs: 50, hosts: ['compute-1', 'compute-2', 'compute-3'] });
    sink = await startHttpSink([200]);
    smtp = await startSmtpSink();
    // Credentials reach the bundles as they would on AWS: clouds.yaml and the relay key
    // from Secrets Manager (a local stand-in), through each bundle's own Powertools + SDK.
    const { auth, region, interface: endpoint } = sim.connection;
    secrets = await startFakeSecretsManager({
      'freezer-dr/openstack': stringify({
        clouds: { sim: { auth, region_name: region, interface: endpoint } },
      }),
      'freezer-dr/relay-key': JSON.stringify({ key: relay.key.toString('utf8') }),
    });
    const config = join(unpacked, 'freezer-dr.test.yaml');
    writeFileSync(
      config,
      stringify({
        cloud: { driver: 'openstack', clouds: { secret: 'freezer-dr/openstack' } },
        fencer: {
          driver: 'ipmi-relay',
          url: relay.url,
          keyId: relay.keyId,
          key: { secret: 'freezer-dr/relay-key' },
        },
        notifiers: [
          { driver: 'webhook', url: `${sink.url}/report` },
          {
            driver: 'email',
            from: 'freezer-dr <freezer-dr@example.org>',
            admins: ['ops@example.org'],
            smtp: { host: '127.0.0.1', port: smtp.port, security: 'none' },
            tenants: { keystone: false },
          },
        ],
        recovery: {
          fence: { verifyTimeoutSeconds: 5, pollIntervalMs: 200 },
          evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
        },
      }),
    );
    Object.assign(process.env, secrets.env, { FREEZER_DR_CONFIG: config, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await Promise.all([
      relay?.close(),
      lab?.stop(),
      sim?.close(),
      sink?.close(),
      smtp?.close(),
      secrets?.close(),
    ]);
  });

  /** Each Task's handler, imported from its own unpacked bundle. */
  async function bundledHandlers(): Promise<Record<string, TaskHandler>> {
    const handlers: Record<string, TaskHandler> = {};
    for (const [key, fn] of Object.entries(taskFunctions)) {
      const bundle = bundles.find((b) => b.name === fn.name);
      if (!bundle) throw new Error(`no packaged bundle for ${fn.name} (${key}): is it in serverless.yml?`);
      const module = (await import(pathToFileURL(bundle.file).href)) as { handler: TaskHandler };
      handlers[key] = module.handler;
    }
    return handlers;
  }

  it('recover compute-1: fenced through the relay to its BMC, every instance evacuated, the report delivered', async () => {
    const servers = [1, 2, 3].map((i) => sim.state.addServer({ host: 'compute-1', name: `web-${i}` }));
    sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const engine = new LocalEngine({
      runtime: () => Promise.reject(new Error('only the bundled handlers may run')),
      handlers: await bundledHandlers(),
      retryIntervalMs: 10,
    });

    const outcome = await engine.start(
      {
        host: 'compute-1',
        incident: 'compute-1-bundles',
        cause: 'test: compute-1 down',
        requestedAt: new Date().toISOString(),
      },
      'bundles',
    ).done;

    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'SUCCEEDED' });
    expect(lab.bmc(0).hostRunning()).toBe(false);
    for (const server of servers) {
      expect(server.host).not.toBe('compute-1');
      expect(server).toMatchObject({ vmState: 'active', taskState: null, locked: false });
    }
    expect(sim.state.hosts.get('compute-1')).toMatchObject({ forcedDown: true, status: 'disabled' });
    const report = sink.requests.find((r) => r.path === '/report')?.body as Record<string, unknown>;
    expect(report).toMatchObject({ kind: 'recovery', host: 'compute-1', counts: { recovered: 3 } });
    expect(report.fence).toMatchObject({ method: 'ipmi-relay', verified: true });
    // The bundled email path (nodemailer without its MIME table) delivers text and HTML.
    const mail = smtp.messages.find((m) => m.to.includes('ops@example.org'));
    expect(mail?.subject).toContain('compute-1');
    expect(mail?.text).toContain('web-1');
    expect(mail?.html).toContain('web-1');
    // Every bundle read its own secrets: nothing in memory is shared between them.
    const reads = secrets.calls.filter((c) => c.endsWith('freezer-dr/openstack')).length;
    expect(reads).toBeGreaterThan(1);
  }, 120_000);

  it('drain compute-2: its servers live-migrated by the bundled handlers, the host disabled with the drain reason', async () => {
    const servers = [1, 2].map((i) => sim.state.addServer({ host: 'compute-2', name: `app-${i}` }));
    const engine = new LocalEngine({
      runtime: () => Promise.reject(new Error('only the bundled handlers may run')),
      handlers: await bundledHandlers(),
      workflow: 'drain',
      retryIntervalMs: 10,
      waitMs: 20,
    });

    const outcome = await engine.start(
      {
        host: 'compute-2',
        incident: 'drain-compute-2-bundles',
        cause: 'test: compute-2 degraded',
        requestedAt: new Date().toISOString(),
      },
      'drain-bundles',
    ).done;

    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'SUCCEEDED' });
    for (const server of servers) {
      expect(server.host).not.toBe('compute-2');
      expect(sim.state.counters.liveMigrateAccepted.get(server.id)).toBe(1);
      expect(sim.state.counters.evacuateAccepted.has(server.id)).toBe(false);
    }
    expect(sim.state.hosts.get('compute-2')?.disabledReason).toMatch(
      /^freezer-dr: drain; incident=drain-compute-2-bundles/,
    );
    const report = sink.requests
      .filter((r) => r.path === '/report')
      .map((r) => r.body as Record<string, unknown>);
    expect(report.map((r) => r.kind)).toContain('drain');
  }, 120_000);
});
