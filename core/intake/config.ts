// The `intake` section of freezer-dr.yaml: how the alert webhook authenticates callers
// and when it refuses to start a recovery. Defaults fail closed: without a configured
// secret every request is 401, and the mass-failure gates are on.
import { z } from 'zod';

const secretSource = {
  /** File holding the secret (one per line; several lines allow rotation without downtime). */
  file: z.string().min(1).optional(),
  /** AWS Secrets Manager secret id or ARN (its string, or the token/secret field of a JSON secret). */
  secret: z.string().min(1).optional(),
  /** Environment variable holding the secret, when neither a file nor a secret is named. */
  env: z.string().min(1).optional(),
};

export const intakeConfigSchema = z.strictObject({
  auth: z
    .strictObject({
      /** `Authorization: Bearer <token>`, what Alertmanager's http_config.authorization sends. null disables. */
      bearer: z
        .strictObject({ ...secretSource, env: secretSource.env.default('FREEZER_DR_WEBHOOK_TOKEN') })
        .nullable()
        .prefault({}),
      /** HMAC-SHA256 over "<timestamp>.<raw body>", hex, for senders that can sign. null disables. */
      hmac: z
        .strictObject({
          ...secretSource,
          env: secretSource.env.default('FREEZER_DR_WEBHOOK_HMAC_SECRET'),
          signatureHeader: z.string().min(1).default('x-freezer-dr-signature'),
          timestampHeader: z.string().min(1).default('x-freezer-dr-timestamp'),
          /** Signatures older or newer than this are refused (replayed or clock-skewed). */
          toleranceSeconds: z.number().int().positive().default(300),
        })
        .nullable()
        .prefault({}),
      /** How long a secret read from its file or variable is reused before it is read again. */
      reloadSeconds: z.number().int().min(0).default(60),
    })
    .prefault({}),
  /** Globs over Nova host names that freezer-dr may recover; empty means every nova-compute host. */
  fleet: z.array(z.string().min(1)).default([]),
  /** Larger bodies get 413 before anything is parsed (Alertmanager: bound it with max_alerts). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .max(6 * 1024 * 1024)
    .default(1024 * 1024),
  pause: z
    .strictObject({
      /** Stops new recoveries; alerts are still recorded and answered 202. */
      paused: z.boolean().default(false),
      /** Paused while this file exists (touch it during maintenance windows). */
      file: z.string().min(1).nullable().default(null),
      /** Paused while this variable is "1", "true" or "yes". */
      env: z.string().min(1).nullable().default('FREEZER_DR_PAUSED'),
    })
    .prefault({}),
  protection: z
    .strictObject({
      /** No automatic recovery when more than this share of fleet hosts is down (forced-down included). */
      maxDownShare: z.number().min(0).max(1).default(0.5),
      /** "Every service stale at once" is checked only with at least this many hosts. */
      allStaleMinHosts: z.number().int().min(1).default(3),
      /** At most this many recoveries start within windowSeconds; the rest are refused. */
      maxStartsPerWindow: z.number().int().min(1).default(10),
      windowSeconds: z.number().positive().default(600),
    })
    .prefault({}),
  /** A refusal (mass failure, pause, rate limit) is notified once per reason within this time. */
  notifyOnceSeconds: z.number().positive().default(3600),
  /** A request waits at most this long for that notice (notifiers retry); keep it under the sender's timeout. */
  notifyWaitMs: z.number().int().min(0).max(25_000).default(10_000),
  /** Nova services and running executions are read at most this often (single flight in between). */
  snapshotCacheMs: z.number().int().min(0).default(1000),
});

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
