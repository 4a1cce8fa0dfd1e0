// The webhook as `npm start` serves it: every error body docs/intake.md documents is the one
// the local server sends (read from the doc's table, so the two cannot drift apart), an
// oversized body is refused without reading it or guessing its size, and a body that
// never arrives in full does not hold its connection.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionStore } from '../../engine/execution-store.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { type Harness, startHarness } from '../support/harness.js';

const TOKEN = 'webhook-test-token-0123456789';
const MAX_BODY = 1_048_576; // intake.maxBodyBytes's default, as documented

/** The Responses table of docs/intake.md: status → the body in its second column. */
function documentedBodies(): Map<number, string> {
  const doc = readFileSync(new URL('../../docs/intake.md', import.meta.url), 'utf8');
  const bodies = new Map<number, string>();
  for (const [, status, body] of doc.matchAll(/^\| (\d{3}) \| `(\{"error":[^`]*\})` \|/gm)) {
    bodies.set(Number(status), body as string);
  }
  return bodies;
}

let h: Harness;
let dir: string;
let store: ExecutionStore;
let server: LocalServer;

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-webhook-'));
  store = new ExecutionStore(dir);
  const executions = new LocalExecutions({ store, runtime: async () => h.rt, onStoreError: () => undefined });
  server = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    runtime: h.rt,
    executions,
    webhookEnv: { FREEZER_DR_WEBHOOK_TOKEN: TOKEN },
    bodyTimeoutMs: 300,
  });
});

afterAll(async () => {
  await server?.close();
  store?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: string, headers: Record<string, string> = {}, method = 'POST') =>
  fetch(`${server.url}/webhook`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    ...(method === 'GET' ? {} : { body }),
  }).then(async (r) => ({ status: r.status, body: await r.text(), allow: r.headers.get('allow') }));

/** Writes `request` on a raw connection and reads until the server closes it. */
function exchange(request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
  });
}

const head = (contentLength: number) =>
  `POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;

describe('local webhook responses', () => {
  it('sends exactly the error bodies docs/intake.md documents', async () => {
    const documented = documentedBodies();
    expect([...documented.keys()].sort()).toEqual([400, 401, 405, 413, 415, 422]);

    expect(await post('not json')).toMatchObject({ status: 400, body: documented.get(400) });
    expect(await post('{}', { authorization: 'Bearer wrong-token-0123456789' })).toMatchObject({
      status: 401,
      body: documented.get(401),
    });
    expect(await post('', {}, 'GET')).toEqual({ status: 405, body: documented.get(405), allow: 'POST' });
    expect(await post('x'.repeat(MAX_BODY + 1))).toMatchObject({ status: 413, body: documented.get(413) });
    expect(await post('host=compute-1', { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: documented.get(415),
    });
    const alertmanager = {
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { host: 7 } }],
    };
    expect(await post(JSON.stringify(alertmanager))).toMatchObject({
      status: 422,
      body: documented.get(422),
    });
  });

  it('names the position of a JSON error when the parser gives one, as documented', async () => {
    const doc = readFileSync(new URL('../../docs/intake.md', import.meta.url), 'utf8');
    expect(doc).toContain('`body: malformed JSON at position 12` for `{"host":"a",}`');
    expect(JSON.parse((await post('{"host":"a",}')).body)).toEqual({
      error: 'body: malformed JSON at position 12',
    });
  });

  it('refuses a body claiming 20 MB on its Content-Length without reading it or counting wrong', async () => {
    const answer = await exchange(`${head(20_000_000)}{"a":1}`);
    expect(answer).toEqual({ status: 413, body: `{"error":"body: more than ${MAX_BODY} bytes"}` });
  });

  it('answers 408 and closes a connection whose body stops short of its Content-Length', async () => {
    const answer = await exchange(`${head(100)}{"a":1}`);
    expect(answer.status).toBe(408);
    // The server still answers the next request.
    expect((await post('not json')).status).toBe(400);
  });
});
