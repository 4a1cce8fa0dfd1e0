// One JSON line per request: who (key id, address), what (method, path, host, action),
// and how it ended. Built from an explicit field list, so headers, bodies and secrets
// can never slip in.
export interface AuditRecord {
  event: 'relay.request';
  id: string;
  remote: string | null;
  method: string;
  path: string;
  keyId: string | null;
  auth: string;
  host: string | null;
  action: string | null;
  status: number;
  /** Power state read, or the failure class / refusal reason. */
  outcome: string;
  controller: string | null;
  message: string | null;
  ms: number;
}

export type AuditSink = (line: string) => void;

export const stdoutAudit: AuditSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function auditLine(record: AuditRecord, now = new Date()): string {
  return JSON.stringify({
    ts: now.toISOString(),
    ...record,
    // Attacker-controlled; keep it bounded.
    path: record.path.slice(0, 200),
  });
}
