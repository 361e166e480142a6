// Drives the dashboard in Debian's headless Chromium: signs in through the form, checks that every
// tile shows exactly the figure GetDashboard returns (EXPECTED_JSON, from `icrctl kpi dashboard
// --json`), opens an indicator page, and saves screenshots. Exits non-zero on any mismatch.
//
// Environment: DASHBOARD_URL, ANALYST_TOKEN, MONTH (YYYY-MM), EXPECTED_JSON, OUT_DIR,
// CHROMIUM (default /usr/bin/chromium).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
};
const base = env('DASHBOARD_URL').replace(/\/$/, '');
const token = env('ANALYST_TOKEN');
const month = env('MONTH');
const expected = JSON.parse(fs.readFileSync(env('EXPECTED_JSON'), 'utf8'));
const outDir = env('OUT_DIR');
const executablePath = env('CHROMIUM', '/usr/bin/chromium');

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icr-e2e-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  // As this machine kind needs them (toolchain.md section 29): nothing reaches out to Google.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
  locale: 'en-GB',
});
const cspViolations = [];
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      cspViolations.push(msg.text());
    }
  });

  // Signing in: the overview sends us to the form, the form back to the overview.
  await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === '/login', `unauthenticated visit lands on /login (${page.url()})`);
  await page.fill('#token', 'icr_not_a_real_token');
  await page.click('button[type=submit]');
  check(await page.locator('.error-summary').isVisible(), 'a wrong token is refused with a message');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  check(new URL(page.url()).pathname === '/', 'signing in returns to the overview');
  check(!(await page.evaluate(() => document.cookie)).includes('icr_session'),
    'the session cookie is HttpOnly (not visible to scripts)');
  const defaultMonth = await page.inputValue('#month');
  check(defaultMonth === month, `the overview defaults to the latest computed month (${defaultMonth})`);

  await page.goto(`${base}/?month=${month}&scope=all`);
  const tiles = await page.$$eval('.tile', (els) => els.map((e) => ({
    id: e.getAttribute('data-indicator'),
    value: e.getAttribute('data-value'),
    shown: e.querySelector('.value')?.textContent?.trim() ?? '',
  })));
  const byId = new Map(tiles.map((t) => [t.id, t]));
  const totals = (expected.figures ?? []).filter((f) => !f.breakdown_value);
  check(totals.length > 0, `GetDashboard returned ${totals.length} total figures for ${month}`);
  check(tiles.length === (expected.indicators ?? []).length,
    `one tile per indicator (${tiles.length} tiles, ${(expected.indicators ?? []).length} indicators)`);
  for (const f of totals) {
    const want = f.value ?? '';
    const tile = byId.get(f.indicator_id);
    check(tile !== undefined && tile.value === want,
      `tile ${f.indicator_id}: data-value ${JSON.stringify(tile?.value)} = GetDashboard ${JSON.stringify(want)}`);
    if (tile && want !== '') {
      // The value as GetDashboard gives it, with only its unit around it; money (a plain
      // amount with two decimals) shown to the penny with thousands separators ("£16,252.31").
      const money = /^-?\d+\.\d\d$/.test(want) && tile.shown.includes('£');
      const shown = money ? tile.shown.replace(/^(-?)£/, '$1').replace(/,/g, '') : tile.shown;
      check(shown.startsWith(want) && !shown.includes(`${want}.`),
        `tile ${f.indicator_id} shows ${JSON.stringify(tile.shown)}`);
    }
  }
  const withFigure = new Set(totals.map((f) => f.indicator_id));
  for (const t of tiles) {
    if (t.value !== null && !withFigure.has(t.id)) check(false, `tile ${t.id} has a value GetDashboard does not`);
  }
  for (const heading of ['Health', 'Social care']) {
    check(await page.locator('h2', { hasText: heading }).count() === 1, `group heading "${heading}"`);
  }
  check(await page.locator('svg.spark').count() > 0, 'tiles have sparklines');
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, 'dashboard.png'), fullPage: true });

  // The CSV download carries the session too, and is the long NHS England format.
  const csv = await context.request.get(`${base}/export.csv?month=${month}&scope=all`);
  const csvText = await csv.text();
  check(csv.status() === 200 && csvText.startsWith('REPORTING_PERIOD_START,'),
    `CSV download (${csv.status()}, ${csvText.split('\n').length - 1} lines)`);

  // One indicator page: the one with the most to show.
  const detailId = byId.has('FU72') ? 'FU72' : totals[0]?.indicator_id;
  await Promise.all([
    page.waitForURL(new RegExp(`/indicator/${detailId}`)),
    page.click(`.tile[data-indicator="${detailId}"] h3 a`),
  ]);
  check(await page.locator('svg.chart.xmr').isVisible(), `indicator ${detailId}: the XmR chart is drawn`);
  const points = await page.locator('svg.chart.xmr g.point').count();
  check(points >= 12, `indicator ${detailId}: ${points} months plotted`);
  const kf = await page.getAttribute('.kf[data-indicator]', 'data-value');
  const want = totals.find((f) => f.indicator_id === detailId)?.value ?? '';
  check(kf === want, `indicator ${detailId}: headline ${JSON.stringify(kf)} = GetDashboard ${JSON.stringify(want)}`);
  check(await page.locator('table[data-breakdown=ethnicity] caption').count() === 1, 'ethnicity table with a caption');
  check(await page.locator('table[data-breakdown=council] tbody tr').count() > 0, 'council table has rows');
  await page.screenshot({ path: path.join(outDir, 'indicator.png'), fullPage: true });

  // An indicator with a breakdown of its own: overdue S117 reviews by how long overdue.
  if (byId.has('S117_OVERDUE')) {
    await page.goto(`${base}/indicator/S117_OVERDUE?month=${month}&scope=all`);
    check(await page.locator('h2#by-overdue_band').isVisible(), 'S117_OVERDUE: a "By overdue band" section');
    const overdue = Number(totals.find((f) => f.indicator_id === 'S117_OVERDUE')?.value ?? 0);
    if (overdue > 0) {
      const bands = await page.locator('table[data-breakdown=overdue_band] tbody tr').count();
      check(bands > 0, `S117_OVERDUE: ${bands} overdue bands for ${overdue} overdue reviews`);
    }
    await page.screenshot({ path: path.join(outDir, 'indicator-s117-overdue.png'), fullPage: true });
  }

  check(cspViolations.length === 0, `no Content-Security-Policy violations${cspViolations.length ? ': ' + cspViolations.join('; ') : ''}`);
} catch (e) {
  failures.push(String(e?.stack ?? e));
  console.error(e);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log(`\nall checks passed; screenshots in ${outDir}`);
