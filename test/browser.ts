import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Deps } from '../src/deps.ts';
import { settleJobs } from '../src/jobs/job.service.ts';
import { createApp } from '../src/server.ts';

/** Debian's chromium; Playwright's own browser download does not work here and is never used. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath))
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: chromiumPath,
    // Without the background-networking flags Chromium keeps dialling Google on a closed network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The whole app (API and built UI) on a free local port. */
export async function serveApp(deps: Deps): Promise<{ url: string; close(): Promise<void> }> {
  if (!fs.existsSync('dist/web/index.html')) throw new Error('the web UI is not built: npm run build');
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function screenshotPath(name: string): string {
  fs.mkdirSync('test-results', { recursive: true });
  return `test-results/${name}.png`;
}

/** Opens `url` and signs in with the form there, as a person would. */
export async function signIn(page: Page, url: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(url);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
}

/** Stops what a browser test file started (what its setup got to), waits for its jobs, removes its folder. */
export async function stopAll(parts: {
  browser?: Browser;
  server?: { close(): Promise<void> };
  deps?: Deps;
  work?: string;
}): Promise<void> {
  await parts.browser?.close();
  await parts.server?.close();
  await settleJobs();
  await parts.deps?.close();
  if (parts.work) fs.rmSync(parts.work, { recursive: true, force: true });
}
