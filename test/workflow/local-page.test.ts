// The executions page in a real browser (Debian's chromium driven by playwright-core):
// a recovery fired through the webhook shows its timeline, stages and instances; a failed
// one shows why; values are escaped; nothing breaks the content-security policy.
// UPDATE_SCREENSHOTS=1 refreshes docs/executions-page.png and docs/executions-timeline.png.
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a person reads, not the DOM property

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceView, RecoveryTimeline } from '../../core/recovery-timeline.js';
import { CHROMIUM_FLAGS } from '../../docs/chromium-screenshot.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { renderExecution } from '../../engine/executions-page.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { executionArn, LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { type Harness, startHarness } from '../support/harness.js';

// The picture in docs/ is refreshed on request only, so a test run leaves the tree clean.
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/executions-page.png', import.meta.url));
const DOCS_TIMELINE = fileURLToPath(new URL('../../docs/executions-timeline.png', import.meta.url));
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

/** A page that records what the content-security policy refused (Chromium logs each refusal). */
async function guardedPage(): Promise<{ page: Page; refused: string[] }> {
  const page = await browser.newPage();
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });
  return { page, refused };
}

const box = async (locator: Locator) => {
  const found = await locator.boundingBox();
  if (!found) throw new Error('not rendered');
  return found;
};

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

    const { page, refused } = await guardedPage();
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

    // The timeline: one row per stage in the table's order, then one per instance.
    const svg = page.locator('svg.timeline');
    expect(await svg.count()).toBe(1);
    const stageRows = svg.locator('g.row[data-kind="stage"]');
    expect(await stageRows.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-label')))).toEqual(stages);
    const instanceRows = svg.locator('g.row[data-kind="instance"]');
    expect(await instanceRows.count()).toBe(4);
    expect(
      (await instanceRows.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-label')))).sort(),
    ).toEqual(['cache-1', 'db-1', 'web-1', 'web-2']);
    expect(await svg.locator('g.row[data-kind="more"]').count()).toBe(0);
    // Drawn top to bottom in that order, every bar inside the chart.
    const all = svg.locator('g.row');
    const tops: number[] = [];
    for (let i = 0; i < (await all.count()); i++) tops.push((await box(all.nth(i))).y);
    expect(tops).toEqual([...tops].sort((a, b) => a - b));
    expect(new Set(tops).size).toBe(tops.length);
    const chart = await box(svg);
    for (const bar of await svg.locator('rect.bar').all()) {
      const b = await box(bar);
      expect(b.x).toBeGreaterThanOrEqual(chart.x);
      expect(b.x + b.width).toBeLessThanOrEqual(chart.x + chart.width);
    }
    // Each instance: evacuate request, then rebuilding, then its outcome where the rebuild ends.
    const outcomes: number[] = [];
    for (const row of await instanceRows.all()) {
      const evacuate = await box(row.locator('rect.bar.evacuate'));
      const rebuild = await box(row.locator('rect.bar.rebuild'));
      const outcome = await box(row.locator('circle.outcome.recovered'));
      expect(rebuild.x).toBeGreaterThanOrEqual(evacuate.x);
      expect(Math.abs(outcome.x + outcome.width / 2 - (rebuild.x + rebuild.width))).toBeLessThan(1.5);
      outcomes.push(outcome.x + outcome.width / 2);
    }
    // In the order their evacuation started.
    const starts = await instanceRows.evaluateAll((gs) =>
      gs.map((g) => Number(g.querySelector('rect.evacuate')?.getAttribute('data-from'))),
    );
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    // The floor's moments, in time order; the last verified is where the last outcome is.
    const moments = svg.locator('g.moment');
    expect(await moments.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-mark')))).toEqual([
      'alert',
      'power-off',
      'first-evacuate',
      'last-verified',
    ]);
    const markX: number[] = [];
    for (const moment of await moments.all()) markX.push((await box(moment.locator('line'))).x);
    expect(markX).toEqual([...markX].sort((a, b) => a - b));
    expect(Math.abs((markX.at(-1) as number) - Math.max(...outcomes))).toBeLessThan(1.5);
    expect(await page.locator('.legend').innerText()).toContain('rebuilding, until verified');
    expect(refused).toEqual([]);

    const shot = process.env.UPDATE_SCREENSHOTS ? DOCS_SCREENSHOT : join(dir, 'executions-page.png');
    expect((await page.screenshot({ path: shot, fullPage: true })).length).toBeGreaterThan(10_000);
    const timelineShot = process.env.UPDATE_SCREENSHOTS
      ? DOCS_TIMELINE
      : join(dir, 'executions-timeline.png');
    expect((await svg.screenshot({ path: timelineShot })).length).toBeGreaterThan(5_000);

    await page.goto(`${server.url}/executions/${encodeURIComponent(failedName)}`);
    const body = await page.locator('body').innerText();
    expect(body).toContain('Fence.NotVerified');
    expect(body).toMatch(/power-off of compute-2 .* not verified/);
    expect(body).toContain('No instance evacuated');
    // Its timeline stops at the failed power check: no power-off moment, no instance.
    const failedStages = page.locator('svg.timeline g.row[data-kind="stage"]');
    expect(await failedStages.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-label')))).toEqual(
      expect.arrayContaining(['FenceHost', 'VerifyPowerOff', 'NotifyFencingFailed', 'FencingFailed']),
    );
    expect(
      await page.locator('svg.timeline g.row[data-label="VerifyPowerOff"] rect.bar.failed').count(),
    ).toBe(1);
    expect(await page.locator('svg.timeline g.row[data-kind="instance"]').count()).toBe(0);
    expect(
      await page
        .locator('svg.timeline g.moment')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-mark'))),
    ).toEqual(['alert']);
    expect(refused).toEqual([]);
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
      {
        stages: [],
        instances: [],
        redrives: [],
        moments: { alertAt: null, powerOffAt: null, firstEvacuateAt: null, lastVerifiedAt: null },
      },
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

  it('keeps a running 1000-instance recovery readable: capped rows, open bars, reloading', async () => {
    const start = Date.parse('2026-03-01T10:00:00.000Z');
    const at = (ms: number) => new Date(start + ms);
    const instances: InstanceView[] = Array.from({ length: 1000 }, (_, i) => {
      // Most of the first instances are back (one, past the first 40, failed); every tenth and
      // all after 600 are still rebuilding.
      const settled = i < 600 && i % 10 !== 9;
      return {
        id: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
        from: 'compute-1',
        to: settled ? 'compute-2' : null,
        target: 'compute-2',
        state: settled ? (i === 100 ? 'failed' : 'recovered') : 'rebuilding',
        final: settled ? 'ACTIVE' : null,
        seconds: null,
        reason: null,
        startedAt: at(3_000 + i * 20),
        evacuatedAt: at(3_100 + i * 20),
        settledAt: settled ? at(20_000 + i * 30) : null,
        updatedAt: at(3_100 + i * 20),
      };
    });
    const stage = (name: string, from: number, to: number | null) => ({
      name,
      run: 0,
      status: to === null ? ('running' as const) : ('succeeded' as const),
      enteredAt: at(from),
      exitedAt: to === null ? null : at(to),
      attempts: 1,
      detail: null,
      error: null,
    });
    const timeline: RecoveryTimeline = {
      stages: [
        stage('ConfirmHostFailure', 0, 800),
        stage('FenceHost', 800, 1_500),
        stage('EvacuateInstances', 1_500, null),
      ],
      instances,
      redrives: [],
      moments: {
        alertAt: at(-400),
        powerOffAt: at(1_400),
        firstEvacuateAt: at(3_100),
        lastVerifiedAt: at(37_970),
      },
    };
    // A name that is markup stays text in the SVG too.
    const names = new Map([[instances[0]?.id ?? '', '<img src=x onerror="document.title=1">']]);
    const html = renderExecution(
      { executionArn: 'arn', stateMachineArn, name: 'big', status: 'RUNNING', startDate: at(0), input: '{}' },
      timeline,
      names,
      start + 45_000,
    );
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
    const { page, refused } = await guardedPage();
    await page.setContent(html);
    const svg = page.locator('svg.timeline');
    expect(await svg.locator('g.row[data-kind="instance"]').count()).toBe(40);
    const more = svg.locator('g.row[data-kind="more"]');
    expect(await more.getAttribute('data-label')).toBe('+960 more');
    // Still running, and drawn as failed: one of them is.
    expect(await more.locator('rect.bar.span.open.failed').count()).toBe(1);
    expect(await more.locator('title').textContent()).toMatch(/960 more instances: .*1 failed/);
    expect(await page.locator('.timeline-cap').innerText()).toMatch(/first 40 of 1000 instances/);
    // What still runs is drawn open up to now: the stage and every instance still rebuilding.
    expect(await svg.locator('g.row[data-label="EvacuateInstances"] rect.bar.open').count()).toBe(1);
    expect(await svg.locator('g.row[data-kind="instance"] rect.rebuild.open').count()).toBe(4);
    expect(await svg.locator('g.row[data-kind="instance"] circle.outcome').count()).toBe(36);
    expect(await page.locator('img').count()).toBe(0);
    expect(await svg.locator('g.row[data-kind="instance"]').first().getAttribute('data-label')).toBe(
      '<img src=x onerror="document.title=1">',
    );
    expect(await page.locator('table').nth(1).locator('tbody tr').count()).toBe(1000);
    expect(refused).toEqual([]);
  });
});
