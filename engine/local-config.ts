// The `local:` section of freezer-dr.yaml: where `freezer-dr serve` listens and keeps its
// executions. Loopback by default: the page and the Step Functions reads need no token.
import { z } from 'zod';
import { describeIssues, type FreezerConfig } from '../core/config.js';
import { CONFIG_INVALID, WorkflowError } from '../core/errors.js';

export const localConfigSchema = z.strictObject({
  /** Address to bind; anything but loopback exposes the page and the Step Functions reads (no token needed). */
  host: z.string().min(1).default('127.0.0.1'),
  /** One port serves the webhook, the Step Functions endpoint and the page; 0 picks a free one. */
  port: z.number().int().min(0).max(65_535).default(8420),
  /** Executions (SQLite), the simulated cloud's state and the local webhook token live here. */
  dataDir: z.string().min(1).default('.freezer-dr'),
  /** Replace every Retry interval of the workflow by this many ms (demos); null keeps the ASL's. */
  retryIntervalMs: z.number().int().min(0).nullable().default(null),
  /**
   * The active instance renews its lease on dataDir every third of this; a passive one takes
   * over once the lease is this old (at once when the holder's process is gone, same machine).
   */
  leaseSeconds: z.number().min(3).max(600).default(15),
});

export type LocalConfig = z.infer<typeof localConfigSchema>;

export function localConfig(config: FreezerConfig): LocalConfig {
  const parsed = localConfigSchema.safeParse(config.local ?? {});
  if (!parsed.success) {
    throw new WorkflowError(CONFIG_INVALID, `local: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Where the CLI finds a running `serve`: FREEZER_DR_URL, else the configured host and port. */
export function localUrl(local: LocalConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (env.FREEZER_DR_URL) return env.FREEZER_DR_URL.replace(/\/+$/, '');
  const host = local.host === '0.0.0.0' || local.host === '::' ? '127.0.0.1' : local.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${local.port}`;
}
