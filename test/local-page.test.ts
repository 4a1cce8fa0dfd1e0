// The executions page in a real browser (Debian's chromium driven by playwright-core):
// a recovery fired through the webhook shows its stages and instances; a failed one shows
// why; values are escaped. UPDATE_SCREENSHOTS=1 refreshes docs/executions-page.png.
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a person reads, not the DOM property

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS } from '../docs/chromium-screenshot.js';
import { ExecutionStore } from '../engine/execution-store.js';
import { renderExecution } from '../engine/executions-page.js';
import { stateMachineArn } from '../engine/local-engine.js';
import { executionArn, LocalExecutions } from '../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../engine/local-server.js';
import { type Harness, startHarness } from './support/harness.js';

// The picture in docs/ is refreshed on request only, so a test run leaves the tree clean.
const DOCS_SCREENSHOT = fileURLToPath(new URL('../docs/executions-page.png', import.meta.url));
const TOKEN = 'page-test-token-0123456789abcdef';

let h: Harness;
let dir: string;
let store: ExecutionStore;
let executions: LocalExecutions;
let server: LocalServer;
let client: SFNClient;
let browser: BrowserContext;
let profile: string;

async function settled(name: string) {
  for (;;) {
    const d = await client.send(new DescribeExecutionCommand({ executionArn: executionArn(name) }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function alert(host: string): Promise<string> {
  const response = await fetch(`${server.url}/webhook`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ host, status: 'down', source: 'page-test' }),
  });
  expect(response.status).toBe(202);
  const body = (await response.json()) as { started: string[] };
  expect(body.started).toHaveLength(1);
  return body.started[0] as string;
}

beforeAll(async () => {
  // Five hosts: two down stays under the intake's mass-failure threshold (half the fleet).
  const hosts = ['compute-1', 'compute-2', 'compute-3', 'compute-4', 'compute-5'];
  h = await startHarness({ sim: { evacuateMs: 400, hosts } });
  const { state } = h.sim;
  ['web-1', 'web-2', 'db-1', 'cache-1'].forEach((name) => {
    state.addServer({ host: 'compute-1', name });
  });
  state.addServer({ host: 'compute-2', name: 'batch-1' });
  state.addServer({ host: 'compute-3', name: 'batch-2' });
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-page-'));
  store = new ExecutionStore(dir);
  executions = new LocalExecutions({ store, runtime: async () => h.rt, retryIntervalMs: 10 });
  server = await startLocalServer({
    host: '127.0.0.1',
    monitors: false,
    port: 0,
    runtime: h.rt,
    executions,
    webhookEnv: { FREEZER_DR_WEBHOOK_TOKEN: TOKEN },
  });
  client = new SFNClient({
    endpoint: server.url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: server.apiToken },
  });
  profile = mkdtempSync(join(tmpdir(), 'freezer-dr-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: CHROMIUM_FLAGS,
  });
});

afterAll(async () => {
  await browser?.close();
  client?.destroy();
  await server?.close();
  await executions?.idle();
  store?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

describe('executions page in headless Chromium', () => {
  it('shows a finished recovery as stages and instances, and a failed one with its reason', async () => {
    // Both fail before the first alert: the webhook reads Nova once and may reuse that read for a few seconds.
    h.sim.state.host('compute-2').bmcFault = 'ignore-off';
    h.sim.state.killCompute('compute-2', { reportedAgoMs: 120_000 });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const failedName = await alert('compute-2');
    expect((await settled(failedName)).status).toBe('FAILED');
    const name = await alert('compute-1');
    expect((await settled(name)).status).toBe('SUCCEEDED');

    const page = await browser.newPage();
    await page.goto(`${server.url}/executions`);
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).innerText()).toMatch(/compute-1\s+SUCCEEDED/);
    expect(await rows.nth(1).innerText()).toMatch(/compute-2\s+FAILED/);
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);

    await page.getByRole('link', { name }).click();
    await page.waitForURL(`**/executions/${encodeURIComponent(name)}`);
    expect(await page.locator('h1').innerText()).toBe(name);
    const stages = await page.locator('table').nth(0).locator('tbody tr td:first-child').allInnerTexts();
    expect(stages.slice(0, 6)).toEqual([
      'ConfirmHostFailure',
      'FenceHost',
      'VerifyPowerOff',
      'MarkHostDown',
      'SelectInstances',
      'PlanTargets',
    ]);
    expect(stages).toContain('EvacuateInstances');
    expect(stages.at(-1)).toBe('RecoveryComplete');
    const instances = page.locator('table').nth(1).locator('tbody tr');
    expect(await instances.count()).toBe(4);
    for (const text of await instances.allInnerTexts()) {
      expect(text).toMatch(/(web-1|web-2|db-1|cache-1)/);
      expect(text).toMatch(/compute-1\s+compute-[345]\s+recovered/);
    }
    const shot = process.env.UPDATE_SCREENSHOTS ? DOCS_SCREENSHOT : join(dir, 'executions-page.png');
    expect((await page.screenshot({ path: shot, fullPage: true })).length).toBeGreaterThan(10_000);

    await page.goto(`${server.url}/executions/${encodeURIComponent(failedName)}`);
    const body = await page.locator('body').innerText();
    expect(body).toContain('Fence.NotVerified');
    expect(body).toMatch(/power-off of compute-2 .* not verified/);
    expect(body).toContain('No instance evacuated');
  });

  it('escapes what executions carry, and reloads only pages of running executions', async () => {
    const hostile = '<img src=x onerror="document.title=1">';
    await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'hostile-input',
        input: JSON.stringify({
          host: hostile,
          incident: '<b>x</b>',
          cause: '"quoted" & <i>',
          requestedAt: 'now',
        }),
      }),
    );
    await settled('hostile-input');
    const page = await browser.newPage();
    await page.goto(`${server.url}/executions`);
    expect(await page.locator('img, b, i').count()).toBe(0);
    expect(await page.locator('body').innerText()).toContain(hostile);
    await page.goto(`${server.url}/executions/hostile-input`);
    expect(await page.locator('img, b, i').count()).toBe(0);
    expect(await page.title()).not.toBe('1');
    expect(await page.locator('body').innerText()).toContain('"quoted" & <i>');

    const running = renderExecution(
      {
        executionArn: 'arn',
        stateMachineArn,
        name: 'r',
        status: 'RUNNING',
        startDate: new Date(),
        input: '{}',
      },
      { stages: [], instances: [], redrives: [] },
    );
    expect(running).toContain('<meta http-equiv="refresh" content="2">');
    // Step Functions takes any JSON as input; the page must too.
    await client.send(new StartExecutionCommand({ stateMachineArn, name: 'null-input', input: 'null' }));
    await settled('null-input');
    expect((await fetch(`${server.url}/executions`)).status).toBe(200);
    expect((await fetch(`${server.url}/executions/null-input`)).status).toBe(200);
    const notFound = await fetch(`${server.url}/executions/nope`);
    expect(notFound.status).toBe(404);
  });
});
