// The webhook handler behind a plain node http server on 127.0.0.1, converting each
// request to the API Gateway v2 event the handler takes (body base64-encoded, so the
// HMAC sees the exact bytes and invalid UTF-8 reaches the handler unchanged).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { WebhookHandler } from '../../functions/webhook.js';

/** Bodies larger than this are cut off before the handler (which answers 413 anyway). */
const READ_LIMIT = 8 * 1024 * 1024;

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= READ_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function toEvent(req: IncomingMessage, raw: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    isBase64Encoded: true,
    body: raw.toString('base64'),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: '',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export interface WebhookServer {
  url: string;
  server: Server;
  /** Requests that reached the handler, for assertions. */
  requests: number;
  close(): Promise<void>;
}

export async function serveWebhook(handler: WebhookHandler): Promise<WebhookServer> {
  let sequence = 0;
  const state = { requests: 0 };
  const server = createServer(async (req, res) => {
    try {
      const raw = await readRaw(req);
      state.requests += 1;
      const context = { awsRequestId: `local-${++sequence}` } as Context;
      const result = await handler(toEvent(req, raw), context);
      res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
      res.end(result.body ?? '');
    } catch {
      res.writeHead(500).end();
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    server,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
