/// <reference lib="dom" />
// The page functions passed to page.evaluate run in the browser and use its types.
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { generatedProducts, insertProducts, type IndexingApp } from './fixtures/indexing-app.fixture';
import { bootOpenAiWebApp } from './fixtures/openai-web-app.fixture';
import { ADMIN_TOKEN, SEARCH_TOKEN, VIEWER_TOKEN } from './fixtures/web-auth.fixture';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const N = 200;
/** Debian's chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots for review, one folder per run and engine. */
const SCREENSHOTS = resolve(__dirname, '..', 'test-output', 'dashboard');

/**
 * Issue 15, part 3: `/api/ai/migration/dashboard` in a real headless Chromium (Debian's, driven by
 * puppeteer-core; nothing is downloaded), against a live app embedding through the real openai client and
 * a local OpenAI-compatible server. Sign in with the keyboard, start a backfill and watch its bar reach
 * 100 %, pause, rethrottle and resume a job, then sign in as a viewer who sees no controls; at 375 px the
 * page does not scroll sideways. Every request stays on the app's origin and the strict CSP reports no
 * violation. Screenshots go to test-output/dashboard/.
 */
describeEachEngine('Migration dashboard in a browser', ({ getUrl, engine }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const foreignRequests: string[] = [];
  const problems: string[] = [];

  const dashboard = () => `${origin}/api/ai/migration/dashboard`;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${engine}-${name}.png`), fullPage: true });
  const text = (selector: string) => page.$eval(selector, (node) => node.textContent ?? '');
  const jobCard = (id: string) => `li.job[data-job-id="${id}"]`;
  /** The newest job's id, from the database. */
  const newestJob = async () => (await ctx.app.get(DataMigrationService).getAllJobs({ limit: 1 }))[0];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; .ci/run installs Debian's chromium package (or set CHROMIUM_PATH).`);
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootOpenAiWebApp(getUrl(), server, { worker: { batchSize: 10 }, liveIndexing: false });
    await ctx.app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(ctx.app.getHttpServer().address() as AddressInfo).port}`;
    await insertProducts(ctx.dataSource, generatedProducts(N, 'dashboard item'));

    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI containers has no user namespaces for the sandbox; /dev/shm is small there.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
    });
    page.on('console', (message) => {
      // Refusals the test provokes are logged by the browser: the page's first who-am-I without a token (an
      // app may run without auth), a wrong token (401) and a search-only token reading jobs (403).
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
  }, 120_000);

  afterEach(() => {
    server.delayMs = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    await server?.close();
  });

  it('serves the page and its assets with a strict Content-Security-Policy and no-store of secrets', async () => {
    const response = await fetch(dashboard());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    // No inline script or style, and nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['dashboard.js', 'dashboard.css', 'eventsource-parser.js']) {
      const res = await fetch(`${dashboard()}/assets/${asset}`);
      expect({ asset, status: res.status, csp: res.headers.get('content-security-policy') }).toEqual({ asset, status: 200, csp });
    }
    expect((await fetch(`${dashboard()}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('signs in with the keyboard (a wrong token is refused with the server\'s message); the token stays in the tab', async () => {
    await page.goto(dashboard(), { waitUntil: 'networkidle0' });
    expect(await page.$eval('#sign-in-section', (node) => (node as HTMLElement).hidden)).toBe(false);
    // Tab from the top of the page to the token field.
    for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.id)) !== 'token'; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type('not-a-configured-token-000');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('sign-in-error')?.textContent ?? '') !== '');
    expect(await text('#sign-in-error')).toBe('The bearer token is not valid. Use a token configured in AiWebModule auth.tokens.');

    await page.$eval('#token', (node) => ((node as HTMLInputElement).value = ''));
    await page.focus('#token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#app:not([hidden])');
    expect(await text('#who')).toBe('Signed in as ops-admin (admin)');
    expect(await page.evaluate(() => [sessionStorage.getItem('ai-migration-dashboard-token'), document.cookie, location.href])).toEqual([ADMIN_TOKEN, '', dashboard()]);
    expect(await page.$$eval('#start-entity option', (options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['product']);
  });

  it('starts a backfill from the form and its bar fills live to 100 %', async () => {
    server.delayMs = 150;
    await page.type('#start-batch', '50');
    await page.click('#start-button');
    await page.waitForFunction(() => /^Started job /.test(document.getElementById('notice')?.textContent ?? ''));
    const job = await newestJob();
    expect(await text('#notice')).toBe(`Started job ${job.id} for product (${N} entities).`);
    expect(job).toMatchObject({ entityType: 'product', batchSize: 50, createdBy: 'ops-admin' });

    // Live: the bar moves while the job runs (event stream), then reaches 100 % when it completes.
    await page.waitForFunction((selector) => {
      const bar = document.querySelector(`${selector} progress`) as HTMLProgressElement | null;
      return bar !== null && bar.value > 0 && bar.value < 100;
    }, { timeout: 30_000 }, jobCard(job.id));
    await shot('running');
    await page.waitForSelector(`${jobCard(job.id)}[data-status="COMPLETED"]`, { timeout: 60_000 });
    expect(await page.$eval(`${jobCard(job.id)} progress`, (bar) => (bar as HTMLProgressElement).value)).toBe(100);
    expect(await text(`${jobCard(job.id)} .figures`)).toMatch(/100\.0%processed 200 \/ 200skipped 0failed 0/);
    await shot('completed');
    expect((await ctx.app.get(DataMigrationService).getProgress(job.id)).status).toBe(MigrationStatus.COMPLETED);
  });

  it('pauses, rethrottles and resumes a running job with its buttons', async () => {
    server.delayMs = 1_000;
    await page.click('#start-reindex');
    await page.$eval('#start-batch', (node) => ((node as HTMLInputElement).value = ''));
    const before = await text('#notice');
    await page.click('#start-button');
    // The notice of the previous start is still there until this one's answer replaces it.
    await page.waitForFunction((previous) => {
      const notice = document.getElementById('notice')?.textContent ?? '';
      return notice !== previous && /^Started job /.test(notice);
    }, {}, before);
    const job = await newestJob();
    expect(await text('#notice')).toBe(`Started job ${job.id} for product (${N} entities).`);
    const card = jobCard(job.id);
    await page.waitForSelector(`${card}[data-status="RUNNING"] button[data-action="pause"]:not([hidden])`);

    await page.click(`${card} button[data-action="pause"]`);
    await page.waitForSelector(`${card}[data-status="PAUSED"]`);
    expect(await text(`${card} .badge`)).toBe('PAUSED · OPERATOR');
    expect(await page.$eval(`${card} button[data-action="pause"]`, (b) => (b as HTMLElement).hidden)).toBe(true);
    await shot('paused');

    await page.type(`${card} input[type="number"]`, '500');
    await page.click(`${card} button[data-action="rethrottle"]`);
    await page.waitForFunction((id) => (document.getElementById('notice')?.textContent ?? '') === `Job ${id} now sends at most 500 requests per minute.`, {}, job.id);
    expect((await ctx.app.get(DataMigrationService).getJob(job.id)).rateLimit).toBe(500);

    server.delayMs = 0;
    await page.click(`${card} button[data-action="resume"]`);
    await page.waitForSelector(`${card}[data-status="COMPLETED"]`, { timeout: 60_000 });
    const audit = (await ctx.app.get(DataMigrationService).getAuditLog(job.id)).map((e) => [e.action, e.actor]);
    expect(audit).toEqual([
      ['start', 'ops-admin'],
      ['pause', 'ops-admin'],
      ['rethrottle', 'ops-admin'],
      ['resume', 'ops-admin'],
    ]);
  });

  it('a viewer sees jobs and generations but no control; signing out forgets the token', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-section:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('ai-migration-dashboard-token'))).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');

    // A search-only token is a valid token that may not read jobs: the page says so and stays on sign-in.
    await page.keyboard.type(SEARCH_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('sign-in-error')?.textContent ?? '') !== '');
    expect(await text('#sign-in-error')).toMatch(/^The token "storefront" has the role "search", which may only search/);
    expect(await page.$eval('#app', (node) => (node as HTMLElement).hidden)).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('ai-migration-dashboard-token'))).toBeNull();

    await page.$eval('#token', (node) => ((node as HTMLInputElement).value = ''));
    await page.focus('#token');
    await page.keyboard.type(VIEWER_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('li.job');
    expect(await text('#who')).toBe('Signed in as dashboard (viewer, read-only)');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    expect(await page.$eval('#start-section', (node) => getComputedStyle(node).display)).toBe('none');
    expect(await page.$$eval('li.job', (items) => items.map((item) => (item as HTMLElement).dataset.status))).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await page.$$eval('#generations tbody tr td:nth-child(3)', (cells) => cells.map((c) => c.textContent))).toEqual(['SERVING']);
    await shot('viewer');
  });

  it('fits 375 px without sideways scrolling; loaded nothing from another origin and broke no CSP rule', async () => {
    await page.setViewport({ width: 375, height: 800 });
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector('li.job');
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(375);
    await shot('mobile');
    expect(foreignRequests).toEqual([]);
    expect(problems).toEqual([]);
  });
});
