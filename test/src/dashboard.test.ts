/**
 * The operator dashboard in a real browser (Debian's Chromium, headless, driven by
 * playwright-core) against the whole stack as real processes: the API serving the page, a
 * scheduler, a node (ingest, rules, render with its MJPEG preview), inference with YOLOX, and
 * sie's RTSP server. Everything the test does goes through the page, as an operator would.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort } from '@sie/infra';
import { RtspServer } from '@sie/rtsp-server';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { asset } from './support/env.js';
import { countPixels, decodePng, lumaStats } from './support/png.js';
import {
  MODEL_ID,
  startNode,
  startScheduler,
  startStack,
  type Stack,
} from './support/scheduler-stack.js';
import { startServiceProcess } from './support/service-process.js';

const CHROMIUM = process.env.SIE_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium)`;

/** Rendered as text, never as markup: any execution sets window.__xss. */
const XSS = '<img src=x onerror="window.__xss=1">';
const PIPELINE_NAME = `street ${XSS}`;

let stack: Stack | undefined;
let rtsp: RtspServer | undefined;
let browser: Browser | undefined;
let dataDir: string | undefined;
let base = '';

before(async () => {
  if (skip) return;
  stack = await startStack();
  rtsp = new RtspServer({ host: '127.0.0.1', port: 0 });
  const rtspPort = await rtsp.start();
  const previewPort = await findFreePort();
  await startNode(stack, `dash-${process.pid}`, {
    SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${rtspPort}`,
    SIE_PREVIEW__PORT: String(previewPort),
  });
  await startScheduler(stack, 'dash-scheduler');
  dataDir = mkdtempSync(join(tmpdir(), 'sie-dashboard-'));
  const httpPort = await findFreePort();
  stack.processes.push(
    await startServiceProcess('api', {
      DATABASE_URL: stack.databaseUrl,
      NATS_URL: stack.natsUrl,
      SIE_HTTP__PORT: String(httpPort),
      SIE_DATA_DIR: dataDir,
      SIE_INFERENCE_URL: stack.inferenceUrl ?? '',
      SIE_DASHBOARD__PREVIEW_BASE_URL: `http://127.0.0.1:${previewPort}`,
    }),
  );
  base = `http://127.0.0.1:${httpPort}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await stack?.close();
  await rtsp?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A pipeline with a zone over most of vtest.avi's plaza and a rule on persons entering it. */
async function createPipeline(tenant: string): Promise<string> {
  const res = await fetch(`${base}/v1/pipelines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sie-tenant': tenant },
    body: JSON.stringify({
      name: PIPELINE_NAME,
      modelId: MODEL_ID,
      config: {
        scoreThreshold: 0.3,
        classes: ['person'],
        zones: [
          {
            id: 'plaza',
            polygon: [
              [0.05, 0.1],
              [0.95, 0.1],
              [0.95, 0.95],
              [0.05, 0.95],
            ],
          },
        ],
        rules: [{ id: 'enter', kind: 'zone_enter', zone: 'plaza', classes: ['person'] }],
        // Thick boxes stay visible in the scaled-down preview.
        style: { boxThickness: 5 },
      },
    }),
  });
  const body = (await res.json()) as { id?: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return String(body.id);
}

/** The state badge of a run's row. */
const stateOf = (page: Page, runId: string) => page.locator(`tr[data-run-id="${runId}"] .state`);

/**
 * The browser globals page functions use. This package compiles without the DOM library, and the
 * page's CSP forbids eval, so page functions are real functions that reach the DOM through this.
 */
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  complete?: boolean;
  naturalWidth?: number;
  dataset?: Record<string, string | undefined>;
}
interface PageGlobals {
  document: {
    querySelector(selector: string): PageElement | null;
    getElementById(id: string): PageElement | null;
  };
  localStorage: { getItem(key: string): string | null };
  __xss?: unknown;
}

async function waitForState(page: Page, runId: string, state: string, ms: number): Promise<void> {
  await page.waitForFunction(
    ([id, want]) =>
      (globalThis as unknown as PageGlobals).document.querySelector(
        `tr[data-run-id="${id}"] .state`,
      )?.textContent === want,
    [runId, state] as const,
    { timeout: ms, polling: 250 },
  );
}

const xssRan = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).__xss !== undefined);

test(
  'an operator picks the tenant, starts a run from the form, watches it live and stops it',
  { skip, timeout: 150_000 },
  async (t) => {
    assert.ok(stack && browser);
    const pipelineId = await createPipeline(stack.tenantId);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (msg: ConsoleMessage) => {
        if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) {
          problems.push(`CSP: ${msg.text()}`);
        }
      });

      // `/` redirects to the dashboard.
      const landed = await page.goto(`${base}/`);
      assert.equal(landed?.status(), 200);
      assert.equal(new URL(page.url()).pathname, '/dashboard/');
      await page.getByRole('heading', { name: 'Runs' }).waitFor();

      // The tenant selector: the stack's tenant, kept in localStorage and sent on every call.
      await page.getByLabel('Tenant', { exact: true }).fill(stack.tenantId);
      await page.getByRole('button', { name: 'Use tenant' }).click();
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as PageGlobals).localStorage.getItem('sie.tenant'),
        ),
        stack.tenantId,
      );
      const pipelineSelect = page.getByLabel('Pipeline', { exact: true });
      await page
        .locator(`#cr-pipeline option[value="${pipelineId}"]`)
        .waitFor({ state: 'attached' });
      await page.locator('#models li[data-model-id="yolox"]').waitFor();
      // The pipeline's name is user text: shown as text in the list and the select, never run.
      const listed = page.locator(`#pipelines li[data-pipeline-id="${pipelineId}"] strong`);
      assert.equal(await listed.textContent(), PIPELINE_NAME);
      assert.match(
        (await page.locator(`#cr-pipeline option[value="${pipelineId}"]`).textContent()) ?? '',
        /^street <img src=x onerror=/,
      );

      // A bad source URL: the API's message shows next to the field (and is text too).
      await pipelineSelect.selectOption(pipelineId);
      const source = page.getByLabel('Source URL', { exact: true });
      await source.fill(`ftp://cam.example/${XSS}`);
      await page.getByRole('button', { name: 'Start run' }).click();
      const sourceError = page.locator('#err-source-url');
      await sourceError.filter({ hasText: 'is not allowed' }).waitFor({ timeout: 10_000 });
      assert.match((await sourceError.textContent()) ?? '', /scheme "ftp:" is not allowed/);
      assert.equal(await source.getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('#runs-body tr').count(), 0, 'no run was created');

      // A good one: vtest.avi, looped.
      await source.fill(asset('media/vtest.avi'));
      await page.getByLabel('Loop a file source', { exact: true }).check();
      await page.getByRole('button', { name: 'Start run' }).click();
      const created = page.locator('#create-status').filter({ hasText: /^Created run_/ });
      await created.waitFor({ timeout: 10_000 });
      assert.equal(await sourceError.textContent(), '', 'the old error is cleared');
      const runId = ((await created.textContent()) ?? '').replace(/^Created (run_\w+)\.$/, '$1');
      assert.match(runId, /^run_[0-9a-f]{32}$/);

      await waitForState(page, runId, 'active', 45_000);
      const row = page.locator(`tr[data-run-id="${runId}"]`);
      assert.equal(await row.locator('td.pipeline').textContent(), PIPELINE_NAME);
      assert.match((await stateOf(page, runId).getAttribute('class')) ?? '', /state-active/);

      // The new run is selected: its preview (render's MJPEG stream in an <img>) shows frames.
      const detail = page.locator('#detail');
      await detail.waitFor();
      assert.equal(await page.locator('#detail-id').textContent(), runId);
      await page.waitForFunction(
        () => {
          const img = (globalThis as unknown as PageGlobals).document.getElementById('preview');
          return !!img?.complete && (img.naturalWidth ?? 0) > 0 && img.dataset?.live === 'true';
        },
        undefined,
        { timeout: 30_000, polling: 250 },
      );
      assert.equal(await page.locator('#preview').getAttribute('src').then(Boolean), true);
      // Boxes appear once a person is tracked; give the preview a few frames to show them.
      let shot: ReturnType<typeof decodePng> | undefined;
      let green = 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const png = await page.locator('#preview').screenshot({ type: 'png' });
        // To look at what the test saw: SIE_TEST_SCREENSHOT=/tmp/preview.png.
        if (process.env.SIE_TEST_SCREENSHOT) writeFileSync(process.env.SIE_TEST_SCREENSHOT, png);
        shot = decodePng(png);
        // The rules stage draws tracked boxes in (0, 200, 0); JPEG and scaling blur it a little.
        green = countPixels(shot, (r, g, b) => g > 140 && r < 100 && b < 100 && g - r > 80);
        if (green >= 40) break;
        await page.waitForTimeout(500);
      }
      assert.ok(shot);
      const { mean, stdDev } = lumaStats(shot);
      t.diagnostic(
        `preview ${shot.width}x${shot.height}: luma mean ${mean.toFixed(1)}, std ${stdDev.toFixed(1)}, ${green} box-green pixels`,
      );
      assert.ok(shot.width >= 400 && shot.height >= 300, `${shot.width}x${shot.height}`);
      assert.ok(stdDev > 20, `a real frame, not a blank one (luma std ${stdDev.toFixed(1)})`);
      assert.ok(
        mean > 30 && mean < 230,
        `not all dark or all white (luma mean ${mean.toFixed(1)})`,
      );
      assert.ok(green >= 40, `the render's green boxes in the preview (${green} pixels)`);

      // The sparklines fill with samples (one a second), and the table shows live figures.
      await page.waitForFunction(
        () =>
          ['#chart-fps polyline.s2', '#chart-latency polyline.s2'].every(
            (sel) =>
              (
                (globalThis as unknown as PageGlobals).document
                  .querySelector(sel)
                  ?.getAttribute('points') ?? ''
              )
                .trim()
                .split(/\s+/).length >= 3,
          ),
        undefined,
        { timeout: 20_000, polling: 250 },
      );
      const fpsText = (await row.locator('td.fps').textContent()) ?? '';
      assert.match(fpsText, /^\d+(\.\d)? \/ \d+(\.\d)?$/, fpsText);
      assert.match((await row.locator('td.latency').textContent()) ?? '', /^\d/);
      assert.match(
        (await page.locator('#chart-fps svg').getAttribute('aria-label')) ?? '',
        /Frames per second: in \d/,
      );

      // The events feed: persons walking into the plaza zone.
      const event = page.locator('#events li[data-kind="zone_enter"]').first();
      await event.waitFor({ timeout: 40_000 });
      assert.match((await event.textContent()) ?? '', /zone_enter enter/);
      assert.match((await page.locator('#events-state').textContent()) ?? '', /live/);

      if (process.env.SIE_TEST_SCREENSHOT) {
        await page.screenshot({
          path: process.env.SIE_TEST_SCREENSHOT.replace(/\.png$/, '-page.png'),
        });
      }
      // Stop from the row's button: the run goes down to inactive and the preview is let go.
      await row.getByRole('button', { name: `Stop run ${runId}` }).click();
      await waitForState(page, runId, 'inactive', 40_000);
      assert.equal(await row.getByRole('button', { name: `Stop run ${runId}` }).isDisabled(), true);
      assert.equal(await page.locator('#preview').getAttribute('src'), null);
      assert.match((await page.locator('#preview-note').textContent()) ?? '', /inactive/);

      // The tenant survives a reload (localStorage), and so does the run's row.
      await page.reload();
      assert.equal(await page.getByLabel('Tenant', { exact: true }).inputValue(), stack.tenantId);
      await waitForState(page, runId, 'inactive', 10_000);

      assert.equal(await xssRan(page), false, 'user text never ran as script');
      assert.equal(await page.locator('img[src="x"]').count(), 0, 'user text never became markup');
      assert.deepEqual(problems, []);
    } catch (err) {
      // What the page looked like when it failed, for whoever reads the report.
      const shot = join(tmpdir(), `sie-dashboard-failure-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const status = await page
        .locator('#conn')
        .textContent()
        .catch(() => '');
      t.diagnostic(`failed at ${page.url()}; status line: ${status}; screenshot: ${shot}`);
      throw err;
    } finally {
      await page.close();
    }
  },
);
