// The `intake` section of freezer-dr.yaml: how the alert webhook authenticates callers
// and when it refuses to start a recovery. Defaults fail closed: without a configured
// secret every request is 401, and the mass-failure gates are on.
import type { FreezerConfig } from '../config.js';
import { oneSource, orEnv, secretRef, secretRefShape } from '../secrets.js';
import * as z from '../zod.js';

const nonEmpty = () => z.string().check(z.minLength(1));

// A webhook secret names one of `file` (one per line: rotation without downtime), `secret`
// (Secrets Manager: its string, or the token/secret field of a JSON secret) or `env`;
// a default variable when none. null disables the method.
const bearerSchema = z.strictObject(secretRefShape).check(oneSource(true));
const hmacSchema = z
  .strictObject({
    ...secretRefShape,
    signatureHeader: z._default(nonEmpty(), 'x-freezer-dr-signature'),
    timestampHeader: z._default(nonEmpty(), 'x-freezer-dr-timestamp'),
    /** A fresh value per request (16-128 of A-Z a-z 0-9 _ -), signed with the body; each is accepted once. */
    nonceHeader: z._default(nonEmpty(), 'x-freezer-dr-nonce'),
    /**
     * Refuse signatures without a nonce. Off by default so senders signing "<timestamp>.<body>"
     * keep working: their identical signature is then refused as a replay instead.
     */
    requireNonce: z._default(z.boolean(), false),
    /** Signatures older or newer than this are refused (replayed or clock-skewed). */
    toleranceSeconds: z._default(z.positiveInt(), 300),
  })
  .check(oneSource(true));

export const intakeConfigSchema = z.strictObject({
  auth: z.prefault(
    z.strictObject({
      /** `Authorization: Bearer <token>`, what Alertmanager's http_config.authorization sends. null disables. */
      bearer: z.prefault(
        z.nullable(z.pipe(bearerSchema, z.transform(orEnv('FREEZER_DR_WEBHOOK_TOKEN')))),
        {},
      ),
      /** HMAC-SHA256 over "<timestamp>.<nonce>.<raw body>", hex, for senders that can sign. null disables. */
      hmac: z.prefault(
        z.nullable(z.pipe(hmacSchema, z.transform(orEnv('FREEZER_DR_WEBHOOK_HMAC_SECRET')))),
        {},
      ),
      /** How long a secret read from its file, variable or store is reused before it is read again. */
      reloadSeconds: z._default(z.int().check(z.minimum(0)), 60),
    }),
    {},
  ),
  /**
   * Nova credentials of the deployed intake (webhook and monitor functions), which only list
   * compute services: e.g. an application credential whose access rules allow GET os-services
   * alone. null: the cloud section's. (`npm start` runs everything with the cloud section's.)
   */
  cloud: z._default(
    z.nullable(
      z.strictObject({
        /** clouds.yaml content: {file}, {env} or {secret}. */
        clouds: secretRef,
        /** The entry in it; may be omitted when it holds one cloud. */
        cloud: z.optional(nonEmpty()),
      }),
    ),
    null,
  ),
  /** Globs over Nova host names that freezer-dr may recover; empty means every nova-compute host. */
  fleet: z._default(z.array(nonEmpty()), []),
  /** Larger bodies get 413 before anything is parsed (Alertmanager: bound it with max_alerts). */
  maxBodyBytes: z._default(z.positiveInt().check(z.maximum(6 * 1024 * 1024)), 1024 * 1024),
  pause: z.prefault(
    z.strictObject({
      /** Stops new recoveries; alerts are still recorded and answered 202. */
      paused: z._default(z.boolean(), false),
      /** Paused while this file exists (touch it during maintenance windows). */
      file: z._default(z.nullable(nonEmpty()), null),
      /** Paused while this variable is "1", "true" or "yes". */
      env: z._default(z.nullable(nonEmpty()), 'FREEZER_DR_PAUSED'),
    }),
    {},
  ),
  protection: z.prefault(
    z.strictObject({
      /** No automatic recovery when more than this share of fleet hosts is down (forced-down included). */
      maxDownShare: z._default(z.number().check(z.minimum(0), z.maximum(1)), 0.5),
      /** "Every service stale at once" is checked only with at least this many hosts. */
      allStaleMinHosts: z._default(z.int().check(z.minimum(1)), 3),
      /** At most this many recoveries start within windowSeconds; the rest are refused. */
      maxStartsPerWindow: z._default(z.int().check(z.minimum(1)), 10),
      windowSeconds: z._default(z.positiveNumber(), 600),
    }),
    {},
  ),
  /** A refusal (mass failure, pause, rate limit) is notified once per reason within this time. */
  notifyOnceSeconds: z._default(z.positiveNumber(), 3600),
  /** A request waits at most this long for that notice (notifiers retry); keep it under the sender's timeout. */
  notifyWaitMs: z._default(z.int().check(z.minimum(0), z.maximum(25_000)), 10_000),
  /** Nova services and running executions are read at most this often (single flight in between). */
  snapshotCacheMs: z._default(z.int().check(z.minimum(0)), 1000),
});

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;

/** The config as the deployed intake uses it: its own Nova credentials, when it has some. */
export function withIntakeCloud(config: FreezerConfig): FreezerConfig {
  const own = config.intake.cloud;
  if (!own || config.cloud.driver !== 'openstack') return config;
  const { cloud: _entry, clouds: _clouds, ...section } = config.cloud;
  return { ...config, cloud: { ...section, clouds: own.clouds, ...(own.cloud ? { cloud: own.cloud } : {}) } };
}
