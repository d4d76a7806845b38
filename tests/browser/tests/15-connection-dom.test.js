// The live channel and the page: a failed first room list offers a retry; the client never opens
// a second socket, stops (saying why) when the server refuses one connection too many, and
// pauses after being closed for sending too fast; a new
// message costs one new row and leaves everything else (focus, selection, other rows) alone;
// the menu toggles; the notification hint goes once notifications are allowed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, message, openChat, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

test('a failed room list, one socket at a time, too many connections', async () => {
  await apiUser(env.server, 'alice', undefined, 'Alice');
  const page = await openPage(env.browser, env.server, {
    allow: [{ text: /status of 503/ }],
  });
  let sockets = 0;
  page.on('websocket', () => { sockets += 1; });

  // The first GET /rooms fails: a banner offers to try again instead of a dead page.
  await page.route('**/api/v1/rooms', (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'storage', message: 'the database did not answer' } }),
  }), { times: 1 });
  await page.goto(env.server.url + '/');
  await page.getByTestId('input-username').fill('alice');
  await page.getByTestId('input-password').fill('correct-horse-battery-9');
  await page.getByTestId('enter-submit').click();
  const banner = page.getByTestId('connection-banner');
  await banner.filter({ hasText: 'Could not load your chats.' }).waitFor();
  assert.equal(sockets, 0, 'no socket before the room list');
  await banner.getByTestId('connection-retry').click();
  await waitOnline(page);
  await banner.waitFor({ state: 'hidden' });

  // Being told the network is back while connected opens nothing new.
  for (let i = 0; i < 3; i += 1) await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  assert.equal(sockets, 1);

  // Eight sockets of the same user elsewhere (the limit): opening the chat again is one too many.
  await page.goto('about:blank');
  const other = await openPage(env.browser, env.server, { cookiesFrom: page });
  await other.goto(env.server.url + '/healthz');
  await other.evaluate(async (url) => {
    window.extra = [];
    // One at a time, until eight are open (the page's old socket may still count for a moment).
    while (window.extra.length < 8) {
      const ws = new WebSocket(url);
      const said = await new Promise((resolve) => {
        ws.addEventListener('message', () => resolve(true), { once: true });
        ws.addEventListener('close', () => resolve(false), { once: true });
      });
      if (said) window.extra.push(ws);
    }
  }, env.server.url.replace('http', 'ws') + '/api/v1/ws');
  sockets = 0;
  await page.goto(env.server.url + '/');
  await banner.filter({ hasText: 'open in too many windows' }).waitFor();
  assert.equal(await page.evaluate(() => document.body.dataset.connection), 'stopped');
  // It does not retry by itself: closing the others changes nothing until the user asks.
  await other.evaluate(() => Promise.all(window.extra.map((ws) => new Promise((resolve) => {
    ws.addEventListener('close', resolve);
    ws.close();
  }))));
  assert.equal(sockets, 1, 'no reconnect after 1008');
  await banner.getByTestId('connection-retry').click();
  await waitOnline(page);
  assert.equal(sockets, 2);

  await assertClean(page, assert);
});

test('a new message or an edit touches its own row only; focus and selection stay', async () => {
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const carl = await apiUser(env.server, 'carl', undefined, 'Carl');
  const room = await bob.call('POST', '/rooms/direct', { user_id: carl.user.id });
  for (let i = 1; i <= 20; i += 1) await bob.call('POST', `/rooms/${room.id}/messages`, { body: `old ${i}`, client_id: `o${i}` });

  // No permission granted up front, so notifications are not decided yet.
  const page = await openPage(env.browser, env.server, { permissions: [] });
  await login(page, 'carl');
  await openChat(page, 'Bob');
  await message(page, 'old 20').waitFor();
  const input = page.getByTestId('composer-input');
  await input.fill('half a thought');
  await input.evaluate((el) => el.setSelectionRange(5, 6));
  // Mark every row, and record every change to the list from now on.
  await page.evaluate(() => {
    for (const row of document.querySelectorAll('[data-testid="message"]')) row.marked = true;
    window.changes = [];
    new MutationObserver((records) => window.changes.push(...records.map((r) => ({
      type: r.type, target: r.target.closest?.('[data-testid="message"]')?.dataset.seq ?? r.target.className,
      added: r.addedNodes.length, removed: r.removedNodes.length,
    })))).observe(document.querySelector('[data-testid="messages"]'), { childList: true, subtree: true, attributes: true, characterData: true });
  });

  await bob.call('POST', `/rooms/${room.id}/messages`, { body: 'new one', client_id: 'n1' });
  await message(page, 'new one').waitFor();
  // Screen readers hear it, politely.
  const announcer = page.getByTestId('announcer');
  await announcer.filter({ hasText: 'Bob: new one' }).waitFor({ state: 'attached' });
  assert.equal(await announcer.getAttribute('aria-live'), 'polite');
  const changes = await page.evaluate(() => window.changes);
  assert.deepEqual(changes.filter((c) => c.type === 'childList' && c.target === 'message-list'), [
    { type: 'childList', target: 'message-list', added: 1, removed: 0 },
  ], 'one row added to the list, nothing removed');
  assert.ok(changes.every((c) => c.target === 'message-list' || c.target === '21' || c.target === 'history-loader'),
    `nothing but the new row changed: ${JSON.stringify(changes)}`);
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('[data-testid="message"]')].filter((r) => !r.marked).length), 1);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'composer-input');
  assert.deepEqual(await input.evaluate((el) => [el.value, el.selectionStart, el.selectionEnd]), ['half a thought', 5, 6]);

  // An edit (by Bob in his own browser) patches that row in place.
  const bobPage = await openPage(env.browser, env.server);
  await login(bobPage, 'bob');
  await openChat(bobPage, 'Carl');
  const old = message(bobPage, 'old 3');
  await old.hover();
  await old.getByTestId('action-edit').click();
  await bobPage.getByTestId('composer-input').fill('old 3, edited');
  await bobPage.getByTestId('composer-input').press('Enter');
  await message(page, 'old 3, edited').waitFor();
  assert.equal(await message(page, 'old 3, edited').evaluate((row) => row.marked), true, 'the same row, patched');
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('[data-testid="message"]')].filter((r) => !r.marked).length), 1);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'composer-input');

  // Small things on the same page: the menu toggles instead of stacking.
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu').waitFor();
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu').waitFor({ state: 'detached' });
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-button').click();
  assert.equal(await page.getByTestId('menu').count(), 1);

  // The notification hint goes away once notifications are allowed (here: by the browser).
  const hint = page.getByTestId('notify-hint');
  await hint.waitFor();
  await page.context().grantPermissions(['notifications'], { origin: env.server.url });
  await hint.waitFor({ state: 'hidden' });

  await assertClean(page, assert);
  await assertClean(bobPage, assert);
});

test('closed for sending too fast (4002): no reconnect before the pause, not even when online', async () => {
  await apiUser(env.server, 'dora', undefined, 'Dora');
  const page = await openPage(env.browser, env.server);
  let pageSide = null;
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    pageSide = ws;
    ws.connectToServer();
  });
  let sockets = 0;
  page.on('websocket', () => { sockets += 1; });
  await login(page, 'dora');
  assert.equal(sockets, 1);
  await pageSide.close({ code: 4002, reason: 'rate limited' });
  await page.getByTestId('connection-banner').filter({ hasText: 'Reconnecting…' }).waitFor();
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  assert.equal(sockets, 1, 'no new socket during the pause');
  await assertClean(page, assert);
});
