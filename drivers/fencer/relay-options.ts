// Config of the relay fencers (freezer-dr.yaml `fencer:` section). The HMAC key is named
// ({file}, {env} or {secret}), never inlined, so the config can be shown and logged.
import { CONFIG_INVALID, WorkflowError } from '../../core/errors.js';
import { readSecret, type SecretsManagerGet, secretRef } from '../../core/secrets.js';
import * as z from '../../core/zod.js';
import { hmacKeyFrom } from '../../infra/relay/key-material.js';
import type { ControllerKind } from '../../infra/relay/protocol.js';
import { plainHttpRefusal, RelayClient } from './relay-client.js';
import { RelayFencer } from './relay-fencer.js';

export const relayFencerSchema = <D extends string>(driver: D) =>
  z
    .strictObject({
      driver: z.literal(driver),
      /** Relay base URL, e.g. https://bastion.mgmt:8443. */
      url: z.url({ protocol: /^https?$/ }),
      /** Key id the relay knows the key by (relay.yaml `keys[].id`); fencing needs only its default grants, status and off. */
      keyId: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/)), 'default'),
      /** The HMAC key (first line): {file}, {env} or {secret} (its string, or the "key" field of its JSON). */
      key: secretRef,
      /** CA bundle for a relay certificate not signed by a public CA. */
      caFile: z.optional(z.string()),
      /** Per call, wall clock; must exceed the relay's own tool timeout (ipmitool 8 s by default). */
      timeoutMs: z._default(z.positiveInt(), 15_000),
      /** http:// to a relay off loopback: refused unless set (answers are MACed, but readable on the path). */
      allowPlainHttp: z._default(z.boolean(), false),
    })
    .check(
      z.refine((options) => plainHttpRefusal(options.url, options.allowPlainHttp) === null, {
        path: ['url'],
        message: 'plain http:// to a relay off loopback: use https://, or set allowPlainHttp: true',
      }),
    );

export type RelayFencerOptions = z.infer<ReturnType<typeof relayFencerSchema>>;

export async function createRelayFencer(
  driver: string,
  controllerKind: ControllerKind,
  options: RelayFencerOptions,
  context: { env?: NodeJS.ProcessEnv; secretsManager?: SecretsManagerGet | undefined } = {},
): Promise<RelayFencer> {
  let key: Buffer;
  try {
    const text = await readSecret(options.key, {
      what: 'relay HMAC key',
      field: 'key',
      env: context.env,
      secretsManager: context.secretsManager,
    });
    key = hmacKeyFrom(text);
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `fencer (${driver}): ${(error as Error).message}`);
  }
  let client: RelayClient;
  try {
    client = new RelayClient({
      url: options.url,
      keyId: options.keyId,
      key,
      caFile: options.caFile,
      timeoutMs: options.timeoutMs,
      allowPlainHttp: options.allowPlainHttp,
    });
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `fencer (${driver}): ${(error as Error).message}`);
  }
  const fencer = new RelayFencer(driver, controllerKind, client);
  await fencer.loadControllers(Math.min(options.timeoutMs, 2000));
  return fencer;
}
