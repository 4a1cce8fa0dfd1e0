// `freezer-dr fire <host>`: a test alert through the running server's webhook, the way a
// monitoring system would send it. With the simulated cloud the host is made to fail
// first (its nova-compute stops reporting), so the recovery has a real failure to confirm.
import { configPath, loadConfigFile } from '../../core/config.js';
import { requestJson } from '../../drivers/http-json.js';
import { localConfig, localUrl } from '../../engine/local-config.js';
import { webhookToken } from '../../engine/webhook-token.js';
import { confirmHost } from '../confirm.js';
import { CliError, describeFailure } from '../failure.js';
import { failServedHost } from '../simulated-failure.js';

interface Outcome {
  host?: string;
  decision?: string;
  reason?: string;
  executionName?: string | null;
  detail?: string;
}

export async function fireCommand(host: string, options: { fail: boolean; yes?: boolean }): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const config = loadConfigFile(configPath());
  const local = localConfig(config);
  const base = localUrl(local);
  const post = async <T>(
    path: string,
    options: { headers?: Record<string, string>; body?: unknown } = {},
  ) => {
    try {
      return await requestJson<T>(`${base}${path}`, {
        method: 'POST',
        anyStatus: true,
        timeoutMs: 30_000,
        ...options,
      });
    } catch (error) {
      throw new CliError(describeFailure(error, base));
    }
  };
  const ok = (status: number) => status >= 200 && status < 300;

  if (config.cloud.driver !== 'simulated') {
    // Against a real cloud the alert is real: if Nova agrees the host is down, it is fenced.
    await confirmHost(
      host,
      `fire an alert for ${host} at the ${config.cloud.driver} cloud: if Nova reports it down, it is powered off and evacuated`,
      options.yes === true,
    );
  } else if (options.fail) {
    say(`SIMULATED failure: ${await failServedHost(base, host)}`);
  }

  const token = await webhookToken(config, local.dataDir, process.env, { create: false });
  if (!token)
    throw new CliError('intake.auth.bearer is off: `fire` authenticates with the bearer token only');
  const alert = {
    host,
    status: 'down',
    source: 'freezer-dr-fire',
    reason: 'test alert sent by freezer-dr fire',
  };
  const response = await post<{ outcomes?: Outcome[]; error?: string } | string>('/webhook', {
    headers: { authorization: `Bearer ${token.token}` },
    body: alert,
  });
  // Parsed JSON, or the text as is when the answer is not JSON.
  const body = typeof response.data === 'object' && response.data ? response.data : {};
  const text = typeof response.data === 'string' ? response.data : '';
  say(`alert for ${host} → POST ${base}/webhook: HTTP ${response.status}`);
  if (!ok(response.status))
    throw new CliError(`the webhook refused the alert: ${body.error ?? text.slice(0, 200)}`);
  for (const outcome of body.outcomes ?? []) {
    const reason = outcome.reason && outcome.reason !== outcome.decision ? ` (${outcome.reason})` : '';
    say(`  ${outcome.host}: ${outcome.decision}${reason}${outcome.detail ? `: ${outcome.detail}` : ''}`);
    if (outcome.executionName) {
      say('');
      say(`watch it:  npm run freezer-dr -- executions watch ${outcome.executionName}`);
      say(`or open:   ${base}/executions/${encodeURIComponent(outcome.executionName)}`);
    }
  }
  return 0;
}
