import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from '../helpers/daemon.js';

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** With CI=true a missing browser fails the suite; elsewhere the browser tests are skipped. */
export const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI=true)`);

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** A headless Chromium with a fresh profile (its own --user-data-dir), at the given screen size. */
export function openBrowser(viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('wwtp-hmi-chromium-'), { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
}
