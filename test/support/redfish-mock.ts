// MOCK Redfish BMC, written for these tests: Debian 12 packages no Redfish emulator
// (no sushy-tools), so this small node:http server on 127.0.0.1 stands in for one. It
// tests OUR Redfish client (GET PowerState, POST ComputerSystem.Reset with Basic auth),
// not any real BMC's Redfish implementation.
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export type RedfishMockFault =
  | 'none'
  /** Reset answers 204 but nothing changes. */
  | 'ignore_off'
  /** ForceOff passes through PoweringOff for slowMs. */
  | 'slow_off'
  /** Reset answers 500. */
  | 'fail_reset'
  /** Reset is never answered. */
  | 'hang_reset'
  /** GET answers 400 with an error message that quotes the password (near character 195). */
  | 'echo_password'
  /** GET answers 200, then one byte of body every 200 ms, for as long as the client listens. */
  | 'trickle'
  /** GET answers 200, then body as fast as the client reads it, without end. */
  | 'endless';

export interface RedfishMock {
  url: string;
  power: 'On' | 'Off' | 'PoweringOff';
  fault: RedfishMockFault;
  slowMs: number;
  /** Requests seen (method, path, body), never the credentials. */
  requests: { method: string; path: string; body: string; authorized: boolean }[];
  /** Answers (trickle, endless) the client closed before they ended. */
  cut: number;
  close(): Promise<void>;
}

const SYSTEM = '/redfish/v1/Systems/1';
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;
const RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'];

const redfishError = (message: string) => ({
  error: {
    code: 'Base.1.8.GeneralError',
    message,
    '@Message.ExtendedInfo': [{ MessageId: 'Base.1.8.PropertyValueNotInList', Message: message }],
  },
});

export async function startRedfishMock(options: {
  user: string;
  password: string;
  tls?: { cert: Buffer; key: Buffer };
}): Promise<RedfishMock> {
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const authorized = req.headers.authorization === expected;
    mock.requests.push({ method: req.method ?? '', path: req.url ?? '', body, authorized });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (!authorized) return json(401, redfishError('Authentication required'));
    if ((mock.fault === 'trickle' || mock.fault === 'endless') && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = mock.fault === 'trickle' ? ' ' : ' '.repeat(64 * 1024);
      const timer = setInterval(
        () => {
          if (res.writableNeedDrain) return;
          res.write(chunk);
        },
        mock.fault === 'trickle' ? 200 : 1,
      );
      timers.add(timer as unknown as NodeJS.Timeout);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer as unknown as NodeJS.Timeout);
        if (!res.writableEnded) mock.cut += 1;
      });
      return;
    }
    if (mock.fault === 'echo_password' && req.method === 'GET') {
      const said = 'the BMC quotes the password it was given: ';
      return json(400, redfishError(`${'.'.repeat(195 - said.length)}${said}${options.password}`));
    }
    if (req.method === 'GET' && req.url === SYSTEM) {
      return json(200, {
        '@odata.id': SYSTEM,
        Id: '1',
        Name: 'MOCK system',
        PowerState: mock.power,
        Actions: {
          '#ComputerSystem.Reset': { target: RESET, 'ResetType@Redfish.AllowableValues': RESET_TYPES },
        },
      });
    }
    if (req.method === 'POST' && req.url === RESET) {
      let resetType: unknown;
      try {
        resetType = (JSON.parse(body) as { ResetType?: unknown }).ResetType;
      } catch {
        return json(400, redfishError('Malformed JSON'));
      }
      if (typeof resetType !== 'string' || !RESET_TYPES.includes(resetType)) {
        return json(400, redfishError(`ResetType ${String(resetType)} is not supported`));
      }
      if (mock.fault === 'fail_reset') return json(500, redfishError('Internal error'));
      if (mock.fault === 'hang_reset') {
        hung.add(res);
        return;
      }
      if (resetType === 'On') mock.power = 'On';
      else if (mock.fault === 'ignore_off') {
        // acknowledged, nothing happens
      } else if (mock.fault === 'slow_off') {
        mock.power = 'PoweringOff';
        const timer = setTimeout(() => {
          timers.delete(timer);
          mock.power = 'Off';
        }, mock.slowMs);
        timers.add(timer);
      } else {
        mock.power = resetType === 'ForceOff' || resetType === 'GracefulShutdown' ? 'Off' : 'On';
      }
      res.writeHead(204);
      res.end();
      return;
    }
    return json(404, redfishError(`no resource ${req.url}`));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server = options.tls
    ? createHttps({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttp(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const mock: RedfishMock = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    power: 'On',
    fault: 'none',
    slowMs: 600,
    requests: [],
    cut: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return mock;
}
