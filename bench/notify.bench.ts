// Benchmark (not a test): where a report's time goes. The Notify step of a failed fence
// and of a finished recovery, through the real email notifier, to a real SMTP server on
// 127.0.0.1 that answers each command after --smtp-ms (a relay with checks of its own),
// with the tenants' addresses from the simulated Keystone behind --api-ms per request
// (a cloud API across a network). Prints, per report: the step's time, SMTP connections,
// messages, Keystone and Nova requests; goal: the recovery report within 2 s at the
// defaults (--api-ms 50 --smtp-ms 50), one SMTP connection per report.
// Run: npx tsx bench/notify.bench.ts [--api-ms 50 --smtp-ms 50 --projects 2 --users 3 --instances 6]
import { parseArgs } from 'node:util';
import { parseConfig } from '../core/config.js';
import { type NotifyInput, notify } from '../core/notify.js';
import { startSimulatedCloud } from '../drivers/cloud/simulated/server.js';
import { createEmailNotifier, emailNotifierSchema } from '../drivers/notifier/email.js';
import { createRuntime } from '../engine/runtime.js';
import { silentLogger } from '../test/support/capture-logger.js';
import { quietLogger } from '../test/support/harness.js';
import { startSmtpSink } from '../test/support/notify-fixtures.js';
import { goal } from './goals.js';

const { values } = parseArgs({
  options: {
    'api-ms': { type: 'string', default: '50' },
    'smtp-ms': { type: 'string', default: '50' },
    projects: { type: 'string', default: '2' },
    users: { type: 'string', default: '3' },
    instances: { type: 'string', default: '6' },
  },
});
const apiMs = Number(values['api-ms']);
const smtpMs = Number(values['smtp-ms']);
const projectCount = Number(values.projects);

let connections = 0;
const later = (callback: () => void) => setTimeout(callback, smtpMs);
const smtp = await startSmtpSink({
  onConnect: (_session, callback) => {
    connections += 1;
    later(callback);
  },
  onMailFrom: (_address, _session, callback) => later(callback),
  onRcptTo: (_address, _session, callback) => later(callback),
});
const sim = await startSimulatedCloud({ hosts: ['compute-1', 'compute-2'], latencyMs: apiMs });
const { state, identity } = sim;
for (let p = 0; p < projectCount; p += 1) {
  identity.addProject({ id: `p-${p}`, name: `project-${p}` });
  for (let u = 0; u < Number(values.users); u += 1) {
    const user = identity.addUser({
      id: `u-${p}-${u}`,
      name: `user-${p}-${u}`,
      email: `u${u}@p${p}.example`,
    });
    identity.assign({ projectId: `p-${p}`, role: 'member', userId: user.id });
  }
}
const servers = Array.from({ length: Number(values.instances) }, (_, i) =>
  state.addServer({ host: 'compute-1', name: `vm-${i}`, projectId: `p-${i % projectCount}` }),
);

const email = () =>
  createEmailNotifier(
    emailNotifierSchema.parse({
      driver: 'email',
      from: 'freezer-dr@cloud.example',
      admins: ['ops@cloud.example'],
      smtp: { host: '127.0.0.1', port: smtp.port, security: 'none' },
    }),
    { logger: silentLogger as never, env: {}, simulated: sim },
  );
const config = parseConfig({ cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' } });

const base = {
  host: 'compute-1',
  incident: 'compute-1-bench',
  cause: 'NovaComputeDown: bench',
  requestedAt: new Date().toISOString(),
  executionName: 'compute-1--bench',
};
const reports: [string, NotifyInput][] = [
  [
    'NotifyFencingFailed',
    {
      ...base,
      kind: 'fencing-failed',
      error: { Error: 'Fence.NotVerified', Cause: 'power reads on' },
      fence: { method: 'ipmi', controller: 'bench', recordOnly: false, at: base.requestedAt },
    },
  ],
  [
    'NotifyRecovery',
    {
      ...base,
      kind: 'recovery',
      results: servers.map((s) => ({ id: s.id, outcome: 'recovered', to: 'compute-2', final: 'ACTIVE' })),
    },
  ],
];

console.log(
  `notify: ${projectCount} projects of ${values.users} users, ${servers.length} instances; Keystone and Nova +${apiMs} ms per request, SMTP +${smtpMs} ms per command`,
);
console.log(
  `${'step'.padEnd(20)} ${'ms'.padStart(7)} ${'mails'.padStart(6)} ${'SMTP conn'.padStart(10)} ${'Keystone'.padStart(9)} ${'Nova'.padStart(5)} ${'tokens'.padStart(7)}`,
);
let recoveryMs = 0;
let worstConnections = 0;
for (const [step, input] of reports) {
  // A fresh runtime and notifier for each step (the process keeps its Keystone token, as a warm container does).
  const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [email()] });
  const before = {
    mails: smtp.messages.length,
    connections,
    identity: identity.requests.length,
    requests: state.counters.requests,
    tokens: state.counters.tokensIssued,
  };
  const started = performance.now();
  const result = await notify(rt, input);
  const ms = performance.now() - started;
  if (result.failed) throw new Error(`${step}: ${JSON.stringify(result.results)}`);
  const keystone = identity.requests.length - before.identity;
  const tokens = state.counters.tokensIssued - before.tokens;
  // Every API request but the identity reads and the token requests went to Nova.
  const nova = state.counters.requests - before.requests - keystone - tokens;
  if (step === 'NotifyRecovery') recoveryMs = ms;
  worstConnections = Math.max(worstConnections, connections - before.connections);
  console.log(
    `${step.padEnd(20)} ${ms.toFixed(0).padStart(7)} ${String(smtp.messages.length - before.mails).padStart(6)} ${String(connections - before.connections).padStart(10)} ${String(keystone).padStart(9)} ${String(nova).padStart(5)} ${String(tokens).padStart(7)}`,
  );
}
await sim.close();
await smtp.close();
goal(worstConnections === 1, `${worstConnections} SMTP connections for one report (goal 1)`);
if (apiMs === 50 && smtpMs === 50)
  goal(recoveryMs <= 2000, `NotifyRecovery ${recoveryMs.toFixed(0)} ms > 2000 ms`);
