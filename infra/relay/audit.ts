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

/** Cuts a field to `max` characters, marking the cut. */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

export function auditLine(record: AuditRecord, now = new Date()): string {
  return JSON.stringify({
    ts: now.toISOString(),
    ...record,
    // Attacker-controlled (sent before any authentication); keep them bounded.
    path: clip(record.path, 200),
    // Real key ids are at most 64 characters (relay-config.ts).
    keyId: record.keyId === null ? null : clip(record.keyId, 64),
  });
}
