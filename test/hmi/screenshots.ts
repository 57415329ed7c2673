/**
 * Screenshots of the web HMI for docs/hmi.md, against the demo plant (twin + daemon), at 1280x800 and
 * on a 10-inch panel (1024x600): `npx tsx test/hmi/screenshots.ts`. Needs /usr/bin/chromium.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';
import { openBrowser } from './browser.js';

const PAGES = ['overview', 'loops', 'alarms', 'trends', 'edge'] as const;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 600 },
] as const;
const out = join(repoRoot, 'docs', 'img');
mkdirSync(out, { recursive: true });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('wwtp-hmi-shots-');
const daemon = await startDaemon(
  { WWTP_EDGE_STORAGE__PATH: join(dir, 'demo.sqlite'), WWTP_EDGE_HTTP__PORT: '0', WWTP_EDGE_BROKER__EMBEDDED__PORT: '0', WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null' },
  ['demo', '--speed', '120'],
  60_000,
);
const base = `http://127.0.0.1:${daemon.httpPort}/`;

async function login(page: Page): Promise<void> {
  await page.goto(base);
  await page.getByLabel('User').fill('hmi');
  await page.getByLabel('Password').fill('demo-hmi');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#live', { hasText: 'live' }).waitFor();
}

try {
  // 40 s at 120x: 80 plant minutes of readings, windows, setpoints and alarms
  await sleep(40_000);
  for (const size of SIZES) {
    const browser = await openBrowser(size);
    const page = await browser.newPage();
    await login(page);
    if (size.width === 1280) {
      await page.getByRole('link', { name: 'Loops' }).click();
      await page.getByRole('button', { name: 'Advisory was_flow' }).click();
      await page.getByRole('button', { name: 'Accept was_flow' }).waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'What-if was_flow' }).click();
      await page.getByTestId('whatif-was_flow').getByRole('table').waitFor();
    }
    for (const name of PAGES) {
      await page.getByRole('link', { name: new RegExp(`^${name}`, 'i') }).click();
      await sleep(name === 'trends' || name === 'edge' ? 2500 : 1200);
      if (name === 'trends') {
        await page.getByRole('combobox', { name: 'Signal' }).selectOption('effluent.tn');
        await sleep(1500);
      }
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      if (overflow > 0) console.warn(`${name} at ${size.width}x${size.height}: ${overflow} px wider than the screen`);
      const file = join(out, `hmi-${name}-${size.width}x${size.height}.png`);
      await page.screenshot({ path: file });
      console.log(file);
    }
    await browser.close();
  }
} finally {
  daemon.child.kill('SIGTERM');
  await daemon.exited();
}
