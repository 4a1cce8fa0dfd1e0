// HTTP answers of the intake. A refusal names the field or the reason in one line; an
// accepted request lists each alert's decision (the first 100), so whoever wires up a
// monitor sees at once what freezer-dr made of it.
import type { AlertOutcome } from './intake.js';
import type { HttpRefusal } from './request.js';

export interface IntakeResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const MAX_OUTCOMES = 100;

export const refusalResponse = (
  refusal: HttpRefusal,
  extra: Record<string, string> = {},
): IntakeResponse => ({
  status: refusal.status,
  headers: { ...JSON_HEADERS, ...extra },
  body: { error: refusal.error },
});

/** 202, or 503 when Nova or Step Functions failed for some alert (the sender retries; repeats are safe). */
export function decisionsResponse(outcomes: AlertOutcome[]): IntakeResponse {
  const failed = outcomes.some((o) => o.decision === 'error');
  return {
    status: failed ? 503 : 202,
    headers: failed ? { ...JSON_HEADERS, 'retry-after': '10' } : JSON_HEADERS,
    body: {
      alerts: outcomes.length,
      started: outcomes.filter((o) => o.decision === 'started').map((o) => o.executionName),
      outcomes: outcomes.slice(0, MAX_OUTCOMES).map((o) => ({
        host: o.host,
        source: o.source,
        signal: o.signal,
        decision: o.decision,
        reason: o.reason,
        executionName: o.executionName,
        detail: o.detail,
        channels: o.channels,
      })),
      ...(outcomes.length > MAX_OUTCOMES ? { truncated: outcomes.length - MAX_OUTCOMES } : {}),
    },
  };
}
