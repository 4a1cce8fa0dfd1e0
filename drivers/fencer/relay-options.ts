// Config of the relay fencers (freezer-dr.yaml `fencer:` section). The key is named by
// file or environment variable, never inlined, so the config can be shown and logged.
import { z } from 'zod';
import { CONFIG_INVALID, WorkflowError } from '../../core/errors.js';
import { readHmacKey } from '../../infra/relay/key-material.js';
import type { ControllerKind } from '../../infra/relay/protocol.js';
import { RelayClient } from './relay-client.js';
import { RelayFencer } from './relay-fencer.js';

export const relayFencerSchema = <D extends string>(driver: D) =>
  z
    .strictObject({
      driver: z.literal(driver),
      /** Relay base URL, e.g. https://bastion.mgmt:8443. */
      url: z.url({ protocol: /^https?$/ }),
      /** Key id the relay knows the key by (relay.yaml `keys[].id`). */
      keyId: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/)
        .default('default'),
      /** File holding the HMAC key (first line). */
      keyFile: z.string().optional(),
      /** Environment variable holding the HMAC key (e.g. injected from Secrets Manager). */
      keyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .optional(),
      /** CA bundle for a relay certificate not signed by a public CA. */
      caFile: z.string().optional(),
      /** Per call; must exceed the relay's own tool timeout (ipmitool 8 s by default). */
      timeoutMs: z.number().int().positive().default(15_000),
    })
    .refine((o) => Boolean(o.keyFile) !== Boolean(o.keyEnv), {
      message: 'set exactly one of keyFile and keyEnv',
    });

export type RelayFencerOptions = z.infer<ReturnType<typeof relayFencerSchema>>;

export async function createRelayFencer(
  driver: string,
  controllerKind: ControllerKind,
  options: RelayFencerOptions,
  env: NodeJS.ProcessEnv,
): Promise<RelayFencer> {
  let key: Buffer;
  try {
    key = readHmacKey({ file: options.keyFile, env: options.keyEnv }, env);
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `fencer (${driver}): ${(error as Error).message}`);
  }
  const client = new RelayClient({
    url: options.url,
    keyId: options.keyId,
    key,
    caFile: options.caFile,
    timeoutMs: options.timeoutMs,
  });
  const fencer = new RelayFencer(driver, controllerKind, client);
  await fencer.loadControllers(Math.min(options.timeoutMs, 2000));
  return fencer;
}
