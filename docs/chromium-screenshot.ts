// A full-page PNG of a local HTML file from headless Chromium, driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe): no port is opened and no
// extra package is needed. Networking features are switched off; the page is local.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

interface Reply {
  id?: number;
  method?: string;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/**
 * Headless Chromium on a machine with no network but loopback: without the
 * background-networking flags it keeps trying (and failing) to reach Google's hosts.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function screenshotHtml(
  htmlFile: string,
  options: { width?: number; scale?: number; chromium?: string } = {},
): Promise<Buffer> {
  const profile = mkdtempSync(join(tmpdir(), 'freezer-dr-chromium-'));
  const chrome = spawn(
    options.chromium ?? '/usr/bin/chromium',
    [
      ...CHROMIUM_FLAGS,
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    // fd 3: commands to Chromium, fd 4: its answers, each JSON message ended by NUL.
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const input = chrome.stdio[3] as Writable;
  const output = chrome.stdio[4] as Readable;
  let stderr = '';
  chrome.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const pending = new Map<
    number,
    { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  const waiters: { method: string; resolve: () => void }[] = [];
  let buffer = '';
  output.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
      const message = JSON.parse(buffer.slice(0, end)) as Reply;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) call?.reject(new Error(message.error.message));
        else call?.resolve(message.result ?? {});
      } else if (message.method) {
        const index = waiters.findIndex((w) => w.method === message.method);
        if (index >= 0) waiters.splice(index, 1)[0]?.resolve();
      }
    }
  });
  const exited = new Promise<never>((_, reject) =>
    chrome.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${stderr.trim()}`))),
  );
  exited.catch(() => undefined);
  let nextId = 1;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) => {
    const id = nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) =>
      pending.set(id, { resolve, reject }),
    );
    input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return Promise.race([answer, exited]);
  };
  const event = (method: string) => new Promise<void>((resolve) => waiters.push({ method, resolve }));

  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const width = options.width ?? 800;
    const scale = options.scale ?? 1;
    await send('Page.enable', {}, sessionId);
    await send(
      'Emulation.setDeviceMetricsOverride',
      { width, height: 600, deviceScaleFactor: scale, mobile: false },
      sessionId,
    );
    const loaded = event('Page.loadEventFired');
    await send('Page.navigate', { url: pathToFileURL(htmlFile).href }, sessionId);
    await Promise.race([loaded, exited]);
    const metrics = (await send('Page.getLayoutMetrics', {}, sessionId)) as {
      cssContentSize: { height: number };
    };
    const height = Math.ceil(metrics.cssContentSize.height);
    await send(
      'Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: scale, mobile: false },
      sessionId,
    );
    const { data } = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
    await send('Browser.close').catch(() => undefined);
    return Buffer.from(data, 'base64');
  } finally {
    // Chromium keeps writing its profile until it has exited: wait before deleting it.
    const gone = new Promise<void>((resolve) => {
      if (chrome.exitCode !== null || chrome.signalCode !== null) resolve();
      else chrome.once('exit', () => resolve());
    });
    const timer = setTimeout(() => chrome.kill('SIGKILL'), 5_000);
    if (chrome.exitCode === null) chrome.kill();
    await gone;
    clearTimeout(timer);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
