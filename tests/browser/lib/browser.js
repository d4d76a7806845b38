// Launches Debian's Chromium through playwright-core and opens pages that record every console
// error, uncaught exception, CSP violation and dialog, so each test can assert there were none.

import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from './server.js';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: ARGS, headless: true });
}

/**
 * Starts a fresh server (own data dir, extra flags `args`) and one browser before the file's
 * tests, and stops both after them. The returned object's `server` and `browser` are set once
 * `before` has run.
 */
export function useServerAndBrowser({ args = [] } = {}) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer({ args });
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

// Console errors the browser prints for expected, handled situations.
const ALWAYS_ALLOWED = [
  // GET /api/v1/me answers 401 before logging in: that is how the client learns it has no session.
  { text: /status of 401/, url: /\/api\/v1\/me$/ },
];

/**
 * A fresh context (own cookies and storage) and page, with problem recording.
 * @param {object} opts { viewport, allow: [{ text: RegExp, url?: RegExp }], isMobile,
 *   acceptConfirm, colorScheme ('light' | 'dark'), locale, cookiesFrom (a page whose session to share),
 *   permissions (granted ones; default microphone; every other one then reads as denied) }
 */
export async function openPage(browser, server, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport || { width: 1280, height: 800 },
    isMobile: !!opts.isMobile,
    hasTouch: !!opts.isMobile,
    deviceScaleFactor: opts.deviceScaleFactor || 1,
    // Granting any permission makes every other one read as denied; [] grants none.
    ...((opts.permissions || ['microphone']).length ? { permissions: opts.permissions || ['microphone'] } : {}),
    colorScheme: opts.colorScheme || 'light',
    locale: opts.locale || 'en-US',
  });
  if (opts.cookiesFrom) await context.addCookies(await opts.cookiesFrom.context().cookies());
  const page = await context.newPage();
  const problems = [];
  const allow = [...ALWAYS_ALLOWED, ...(opts.allow || [])];
  page.allowConsole = (rule) => allow.push(rule);
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = msg.location()?.url || '';
    if (allow.some((rule) => rule.text.test(text) && (!rule.url || rule.url.test(url)))) return;
    problems.push(`console error: ${text} (${url})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.confirms = [];
  page.on('dialog', async (dialog) => {
    if (opts.acceptConfirm && dialog.type() === 'confirm') {
      // The client asks before destructive actions (delete, leave, disable).
      page.confirms.push(dialog.message());
      await dialog.accept();
      return;
    }
    problems.push(`dialog (${dialog.type()}): ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.problems = problems;
  page.server = server;
  return page;
}

/** Asserts that a page saw no console error, uncaught exception, dialog or CSP violation. */
export async function assertClean(page, assert) {
  let csp = [];
  try { csp = await page.evaluate(() => window.__cspViolations || []); } catch { /* page closed */ }
  assert.deepEqual([...page.problems, ...csp.map((c) => `CSP violation: ${c}`)], [], 'page reported problems');
}

/** Console errors of a page that loses its server or network on purpose. */
export const OFFLINE_NOISE = [
  { text: /WebSocket connection to .* failed/ },
  { text: /ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_RESET|Failed to load resource/ },
];

/**
 * An init script (`page.addInitScript(fakeNotifications)`): desktop notifications are recorded
 * in `window.__notes` ({ title, body }) instead of shown, with permission granted, and the page
 * reads as hidden while the test sets `window.__hidden = true`.
 */
export function fakeNotifications() {
  window.__notes = [];
  window.__hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') });
  window.Notification = class {
    constructor(title, options) { window.__notes.push({ title, body: options?.body }); }
    close() {}
    static get permission() { return 'granted'; }
    static requestPermission() { return Promise.resolve('granted'); }
  };
}
