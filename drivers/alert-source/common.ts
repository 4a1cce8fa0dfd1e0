// Helpers every alert source shares: parsing a body with its schema (InvalidAlert, from
// core, names the field), and the one rule for turning a label or macro value into a Nova
// host name.

import { describeIssues } from '../../core/config.js';
import { InvalidAlert } from '../../core/errors.js';
import { hostName } from '../../core/host-name.js';
import type * as z from '../../core/zod.js';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseWith<S extends z.ZodMiniType>(source: string, schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new InvalidAlert(`${source}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** A label like "compute-7.example.com:9100" names the host "compute-7.example.com". */
export function toHostName(raw: string): string | null {
  const candidate = raw.trim().replace(/:\d{1,5}$/, '');
  return hostName.safeParse(candidate).success ? candidate : null;
}

/** Free text from a monitoring system, kept short enough for a log line and an execution input. */
export const clip = (text: string, max = 300): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;
