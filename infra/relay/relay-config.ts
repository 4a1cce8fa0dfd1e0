// The relay's own settings (relay.yaml): where it listens, its TLS material, the HMAC
// keys it accepts, and what it may do. The inventory lives in its own file.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseYaml } from '../../core/yaml.js';
import { FENCING_ACTIONS, isLoopback, RELAY_ACTIONS } from './protocol.js';

const keySchema = z
  .strictObject({
    /** Sent by the caller in x-relay-key-id; lets a new key be added before the old one is removed. */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    file: z.string().optional(),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    /**
     * What this key may do. The fence steps, the drill and the reconciler need only status
     * and off; grant on and cycle to the operator's restore key alone.
     */
    actions: z
      .array(z.enum(RELAY_ACTIONS))
      .min(1)
      .default([...FENCING_ACTIONS]),
  })
  .refine((k) => Boolean(k.file) !== Boolean(k.env), { message: 'set exactly one of file and env' });

export const relayConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8443),
    })
    .prefault({}),
  tls: z
    .strictObject({
      certFile: z.string(),
      keyFile: z.string(),
    })
    .optional(),
  /** Plain HTTP on a non-loopback address must be asked for: power state is not secret, but it should not be cheap to read. */
  allowPlainHttp: z.boolean().default(false),
  inventoryFile: z.string(),
  keys: z.array(keySchema).min(1),
  /** A signed request is valid this long either side of the relay's clock. */
  signatureWindowSeconds: z.number().int().min(1).max(300).default(30),
  /** What any caller may do, whatever its key allows; a fencing-only relay can drop `on` and `cycle`. */
  actions: z
    .array(z.enum(RELAY_ACTIONS))
    .min(1)
    .default([...RELAY_ACTIONS]),
  /**
   * Each host's line of calls waiting for their turn (one runs at a time). Power actions go
   * ahead of status reads; beyond these limits a call is answered 503 with the reason.
   */
  queue: z
    .strictObject({
      maxPerHost: z.number().int().min(1).max(256).default(8),
      maxWaitSeconds: z.number().min(0.1).max(120).default(10),
    })
    .prefault({}),
  /**
   * Sockets, all sources together (keep well under the unit's LimitNOFILE: ipmitool runs need
   * descriptors too), and how long a socket may take to send its request headers (TLS: to
   * finish the handshake) and its whole request; checked every second.
   */
  connections: z
    .strictObject({
      max: z.number().int().min(1).max(10_000).default(256),
      headersTimeoutSeconds: z.number().min(0.5).max(60).default(5),
      requestTimeoutSeconds: z.number().min(0.5).max(120).default(10),
    })
    .refine((c) => c.headersTimeoutSeconds <= c.requestTimeoutSeconds, {
      message: 'headersTimeoutSeconds must not exceed requestTimeoutSeconds',
    })
    .prefault({}),
  /** BMCs read at once by GET /v1/power (the fence drill). */
  drillConcurrency: z.number().int().min(1).max(64).default(8),
  ipmitoolPath: z.string().default('/usr/bin/ipmitool'),
  virshPath: z.string().default('/usr/bin/virsh'),
});
export type RelayConfig = z.infer<typeof relayConfigSchema>;

/** Parses relay.yaml; relative file paths are taken from the config file's directory. */
export function loadRelayConfig(path: string): RelayConfig {
  const result = relayConfigSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${path} is invalid: ${issues}`);
  }
  const base = dirname(resolve(path));
  const at = (file: string) => resolve(base, file);
  const config = result.data;
  return {
    ...config,
    inventoryFile: at(config.inventoryFile),
    ...(config.tls ? { tls: { certFile: at(config.tls.certFile), keyFile: at(config.tls.keyFile) } } : {}),
    keys: config.keys.map((k) => (k.file ? { ...k, file: at(k.file) } : k)),
  };
}

/** Plain HTTP only on loopback, unless the operator says otherwise in so many words. */
export function assertSafeListen(config: RelayConfig): void {
  if (!config.tls && !isLoopback(config.listen.host) && !config.allowPlainHttp) {
    throw new Error(
      `refusing plain HTTP on ${config.listen.host}: configure tls, or set allowPlainHttp: true`,
    );
  }
}
