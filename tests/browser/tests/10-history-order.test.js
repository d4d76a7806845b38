// History and live frames that meet in the wrong order still end in the right state:
// a page fetched before an edit cannot undo it; a hole of more than one page is filled
// completely; a live message that overtakes the resume replay is not taken early.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { chatItem, login, message, openChat, register, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

/** A promise and the function that resolves it. */
function signal() {
  let fire;
  const fired = new Promise((resolve) => { fire = resolve; });
  return { fired, fire };
}

const seqs = (page) => page.getByTestId('message').evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));

test('a history page fetched before an edit and a delete does not undo them', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await openPage(env.browser, env.server, { acceptConfirm: true });
  await register(bob, 'bob', 'Bob');
  const ids = Object.fromEntries((await alice.call('GET', '/users?q=b')).users.map((u) => [u.username, u.id]));
  const room = await alice.call('POST', '/rooms/direct', { user_id: ids.bob });
  await openChat(bob, 'Alice');
  for (const body of ['one', 'two', 'three']) {
    await bob.getByTestId('composer-input').fill(body);
    await bob.getByTestId('composer-input').press('Enter');
    await message(bob, body).locator('[data-testid="tick"][data-status="sent"]').waitFor();
  }

  // Alice opens the chat; her first history page is answered now but delivered later.
  const page = await openPage(env.browser, env.server);
  await login(page, 'alice');
  const release = signal();
  const fetched = signal();
  await page.route(`**/api/v1/rooms/${room.id}/messages?*`, async (route) => {
    const response = await route.fetch();   // the old versions
    fetched.fire();
    await release.fired;
    await route.fulfill({ response });
  }, { times: 1 });
  await chatItem(page, 'Bob').click();
  await fetched.fired;

  // Bob edits "three" and deletes "two" while Alice's page is in flight.
  const three = message(bob, 'three');
  await three.hover();
  await three.getByTestId('action-edit').click();
  await bob.getByTestId('composer-input').fill('three, edited');
  await bob.getByTestId('composer-input').press('Enter');
  const two = message(bob, 'two');
  await two.hover();
  await two.getByTestId('action-delete').click();
  const preview = chatItem(page, 'Bob').getByTestId('chat-item-preview');
  await preview.filter({ hasText: 'three, edited' }).waitFor();

  release.fire();
  await message(page, 'one').waitFor();
  assert.deepEqual(await page.getByTestId('message-body').allTextContents(), ['one', '🚫 This message was deleted', 'three, edited']);
  await message(page, 'three, edited').locator('.edited').waitFor();
  assert.equal(await preview.textContent(), 'three, edited');

  await assertClean(page, assert);
  await assertClean(bob, assert);
});

test('a hole bigger than a page is filled completely, and the resume replay is taken in order', async () => {
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const page = await openPage(env.browser, env.server);
  // Carol's frames pass through a proxy the test controls.
  const proxy = { drop: null, onSync: null, connections: 0, hold: null };
  await page.routeWebSocket(/\/api\/v1\/ws$/, async (ws) => {
    proxy.connections += 1;
    proxy.page = ws;
    if (proxy.hold) await proxy.hold;
    const server = ws.connectToServer();
    let replay = null;   // frames between our sync and `synced`, while proxy.onSync is set
    ws.onMessage((text) => {
      if (proxy.onSync && JSON.parse(text).type === 'sync') replay = [];
      server.send(text);
    });
    server.onMessage((text) => {
      const frame = JSON.parse(text);
      if (proxy.drop?.(frame)) return;
      if (replay && frame.type !== 'synced') { replay.push(text); return; }
      if (replay) {
        for (const extra of proxy.onSync(replay)) ws.send(extra);
        replay = null;
        proxy.onSync = null;
      }
      ws.send(text);
    });
  });
  await register(page, 'dave', 'Dave');
  const dave = (await carol.call('GET', '/users?q=dave')).users[0];
  const big = await carol.call('POST', '/rooms', { name: 'Big', members: [dave.id] });
  const post = (body) => carol.call('POST', `/rooms/${big.id}/messages`, { body, client_id: `m-${body}` });
  for (let i = 1; i <= 3; i += 1) await post(`m${i}`);
  await openChat(page, 'Big');
  await message(page, 'm3').waitFor();

  // 130 messages never reach the page live; the 134th does, and the client fills the hole.
  proxy.drop = (f) => f.type === 'message' && f.message.room_id === big.id && f.message.seq < 134;
  for (let i = 4; i <= 134; i += 1) await post(`m${i}`);
  await message(page, 'm134').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"]').length >= 134);
  assert.deepEqual(await seqs(page), Array.from({ length: 134 }, (_, i) => i + 1));
  proxy.drop = null;

  // Reconnect with three messages missed in the open chat. During the replay a copy of the newest
  // one overtakes the others: taken early it would look like a hole and be fetched over REST.
  const dm = await carol.call('POST', '/rooms/direct', { user_id: dave.id });
  await carol.call('POST', `/rooms/${dm.id}/messages`, { body: 'dm0', client_id: 'dm0' });
  await openChat(page, 'Carol');
  await message(page, 'dm0').waitFor();
  const held = signal();
  proxy.hold = held.fired;
  proxy.onSync = (replay) => [replay[replay.length - 1], ...replay];
  await proxy.page.close({ code: 1001, reason: 'test' });
  await page.getByTestId('connection-banner').filter({ hasText: 'Reconnecting…' }).waitFor();
  for (const n of [1, 2, 3]) await carol.call('POST', `/rooms/${dm.id}/messages`, { body: `dm${n}`, client_id: `dm${n}` });
  const gapFills = [];
  page.on('request', (req) => { if (req.url().includes(`/rooms/${dm.id}/messages?`) && req.url().includes('before=')) gapFills.push(req.url()); });
  proxy.hold = null;
  held.fire();
  await waitOnline(page);
  await message(page, 'dm3').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="connection-banner"]:not([hidden])'));
  assert.deepEqual(await page.getByTestId('message-body').allTextContents(), ['dm0', 'dm1', 'dm2', 'dm3']);
  assert.deepEqual(await seqs(page), [1, 2, 3, 4]);
  assert.deepEqual(gapFills, [], 'the overtaking copy was not taken for a hole');

  await assertClean(page, assert);
});
