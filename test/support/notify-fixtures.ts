// Shared by the notify-* tests: a real SMTP server and an HTTP webhook sink on
// 127.0.0.1 (ephemeral ports), a small MIME reader for what they receive, and a
// recovery report touching three projects.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { RecoveryReport } from '../../core/ports.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  secure: boolean;
  user: string | null;
  raw: string;
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
}

// ---- MIME ----------------------------------------------------------------------

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
                String.fromCharCode(Number.parseInt(hex, 16)),
              ),
            'latin1',
          ).toString('utf8'),
    );
}

function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(at + 4) };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return Buffer.from(
        body
          .replace(/=\r\n/g, '')
          .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    default:
      return body;
  }
}

/** The text/plain and text/html parts of a (possibly multipart) message. */
export function readMime(raw: string): {
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
} {
  const { headers, body } = splitMessage(raw);
  const parts: Record<string, string> = {};
  const walk = (h: Map<string, string>, b: string) => {
    const type = h.get('content-type') ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (type.toLowerCase().startsWith('multipart/') && boundary) {
      for (const chunk of b.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break;
        const part = splitMessage(chunk.replace(/^\r\n/, ''));
        walk(part.headers, part.body);
      }
      return;
    }
    const kind = type.toLowerCase().startsWith('text/html') ? 'html' : 'text';
    parts[kind] = decodeBody(b, h.get('content-transfer-encoding'));
  };
  walk(headers, body);
  return {
    headers,
    subject: decodeWords(headers.get('subject') ?? ''),
    text: parts.text ?? '',
    html: parts.html ?? '',
  };
}

// ---- SMTP ----------------------------------------------------------------------

export interface SmtpSink {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** smtp-server on 127.0.0.1; plain by default (STARTTLS off), options override. */
export async function startSmtpSink(options: Partial<SMTPServerOptions> = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...options,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const mime = readMime(raw);
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: (session.user as string | undefined) ?? null,
          raw,
          ...mime,
        });
        callback();
      });
    },
  });
  // Clients that hang up mid-handshake (refused certificates) are expected here.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port on 127.0.0.1 with nothing listening (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts TCP connections and never says a word: an SMTP server that hangs. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- HTTP ----------------------------------------------------------------------

export interface HttpSink {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders; body: unknown }[];
  close(): Promise<void>;
}

/** Answers each request with the next status in `statuses` (the last one repeats). */
export async function startHttpSink(statuses: number[] = [200], reply = 'ok'): Promise<HttpSink> {
  const requests: HttpSink['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      requests.push({ path: req.url ?? '/', headers: req.headers, body });
      const status = statuses[Math.min(requests.length - 1, statuses.length - 1)] ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status < 300 ? reply : status >= 500 ? 'rollup_error' : 'invalid_payload');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- a report ------------------------------------------------------------------

export const PROJECTS = { alpha: 'p-alpha', beta: 'p-beta', gamma: 'p-gamma' } as const;

/** compute-7 failed; alpha has three instances (one not recovered), beta and gamma one each. */
export function sampleReport(overrides: Partial<RecoveryReport> = {}): RecoveryReport {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 21, 8, 0, s)).toISOString();
  return {
    kind: 'recovery',
    host: 'compute-7',
    incident: 'compute-7-20261121T080000Z',
    executionName: 'compute-7-1a30ba71',
    executionUrl: 'https://console.example.org/states/executions/compute-7-1a30ba71',
    cause: 'NovaComputeDown: nova-compute down on compute-7 (alertmanager)',
    fence: {
      method: 'ipmi',
      controller: 'ipmi-relay 10.20.0.7',
      verified: true,
      detail: `power verified off at ${t(21)}`,
    },
    timeline: [
      { stage: 'alert', at: t(0), detail: 'alertmanager: NovaComputeDown' },
      { stage: 'confirm', at: t(3), detail: 'nova-compute last reported 95 s ago' },
      { stage: 'fence', at: t(21), detail: 'power off, verified off' },
      { stage: 'mark-down', at: t(22), detail: 'forced_down, disabled' },
      { stage: 'evacuate', at: t(23), detail: '6 instances' },
      { stage: 'verify', at: t(80), detail: '5 settled, 1 failed' },
    ],
    instances: [
      inst('web-1', PROJECTS.alpha, 'recovered', 'compute-2', 42.3),
      inst('db-<script>alert(1)</script>', PROJECTS.alpha, 'recovered', 'compute-3', 55),
      {
        ...inst('café-worker', PROJECTS.alpha, 'failed', null, null),
        reason:
          'Instance.NotSettled: rebuild on compute-3 did not finish within 600 s (http://nova-internal.example:8774)',
      },
      inst('beta-secret-app', PROJECTS.beta, 'recovered', 'compute-2', 38.9),
      inst('gamma-batch', PROJECTS.gamma, 'already-recovered', 'compute-5', null),
      inst('orphan-1', null, 'gone', null, null),
    ],
    counts: { selected: 6, recovered: 4, failed: 1, skipped: 2 },
    startedAt: t(0),
    finishedAt: t(81),
    ...overrides,
  };
}

function inst(
  name: string,
  projectId: string | null,
  outcome: RecoveryReport['instances'][number]['outcome'],
  toHost: string | null,
  seconds: number | null,
): RecoveryReport['instances'][number] {
  return {
    id: `${name
      .replace(/[^a-z0-9]/gi, '')
      .slice(0, 8)
      .padEnd(8, '0')}-1111-4222-8333-${String(name.length).padStart(12, '0')}`,
    name,
    projectId,
    outcome,
    fromHost: 'compute-7',
    toHost,
    priorStatus: 'ACTIVE',
    finalStatus: outcome === 'recovered' || outcome === 'already-recovered' ? 'ACTIVE' : null,
    seconds,
    reason: null,
  };
}

// ---- Keystone data ---------------------------------------------------------------

/**
 * alpha: alice (member), bob (member through group alpha-devs), carol (disabled), dave (no
 * email), rita (reader), nova (service account with admin). beta: erin and bob, but the
 * notifier config overrides beta's addresses. gamma: frank, without email. empty: nobody.
 */
export function seedIdentity(
  identity: import('../../drivers/cloud/simulated/identity.js').SimulatedIdentity,
) {
  for (const [name, id] of Object.entries(PROJECTS)) identity.addProject({ id, name });
  identity.addProject({ id: 'p-empty', name: 'empty' });
  const user = (name: string, email: string | null, enabled = true) =>
    identity.addUser({ id: `u-${name}`, name, email, enabled });
  const alice = user('alice', 'alice@alpha.example');
  const bob = user('bob', 'bob@alpha.example');
  const carol = user('carol', 'carol@alpha.example', false);
  const dave = user('dave', null);
  const rita = user('rita', 'rita@alpha.example');
  const nova = user('nova', 'nova@cloud.example');
  const erin = user('erin', 'erin@beta.example');
  const frank = user('frank', null);
  const devs = identity.addGroup({ id: 'g-alpha-devs', name: 'alpha-devs', members: [bob.id] });
  identity.assign({ projectId: PROJECTS.alpha, role: 'member', userId: alice.id });
  identity.assign({ projectId: PROJECTS.alpha, role: 'member', groupId: devs.id });
  identity.assign({ projectId: PROJECTS.alpha, role: 'member', userId: carol.id });
  identity.assign({ projectId: PROJECTS.alpha, role: 'member', userId: dave.id });
  identity.assign({ projectId: PROJECTS.alpha, role: 'reader', userId: rita.id });
  identity.assign({ projectId: PROJECTS.alpha, role: 'admin', userId: nova.id });
  identity.assign({ projectId: PROJECTS.beta, role: 'member', userId: erin.id });
  identity.assign({ projectId: PROJECTS.beta, role: 'member', userId: bob.id });
  identity.assign({ projectId: PROJECTS.gamma, role: 'member', userId: frank.id });
}
