// With the simulated cloud served by `freezer-dr serve`: make a host fail there (its
// nova-compute stops reporting; the power stays on), so a recovery has a real failure to
// confirm. Used by `fire` and `recover`.
import { requestJson } from '../drivers/http-json.js';
import { CliError, describeFailure } from './failure.js';

/** Returns the server's one-line account of the failure. */
export async function failServedHost(base: string, host: string): Promise<string> {
  let response: Awaited<ReturnType<typeof requestJson<{ detail?: string; error?: string } | string>>>;
  try {
    response = await requestJson(`${base}/simulated/fail/${encodeURIComponent(host)}`, {
      method: 'POST',
      anyStatus: true,
      timeoutMs: 30_000,
    });
  } catch (error) {
    throw new CliError(describeFailure(error, base));
  }
  const body = typeof response.data === 'object' && response.data ? response.data : {};
  if (response.status < 200 || response.status >= 300)
    throw new CliError(`cannot fail ${host} in the simulated cloud: ${body.error ?? response.status}`);
  return body.detail ?? `${host} failed`;
}
