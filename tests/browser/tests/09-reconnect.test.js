// The server is killed while two users chat and comes back. After reconnecting, both see every
// message once, in order, with correct ticks and badges; what changed while a tab was away and
// has no event to replay (a read on another tab, a user going offline) is right too.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, OFFLINE_NOISE, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { chatItem, message, openChat, register, sendText, startDirect, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

/** The conversation's messages as { body, seq }, in display order. */
const shown = (page) => page.getByTestId('message').evaluateAll((rows) => rows.map((r) => ({
  body: r.querySelector('[data-testid="message-body"]')?.textContent, seq: Number(r.dataset.seq),
})));

const tick = (page, text, status) => message(page, text).locator(`[data-testid="tick"][data-status="${status}"]`);
const badge = (page, title) => chatItem(page, title).getByTestId('unread-badge');

test('after the server is killed and restarted, both sides are exactly right', async () => {
  const opts = { allow: OFFLINE_NOISE };
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const alice = await openPage(env.browser, env.server, opts);
  await register(alice, 'alice', 'Alice');
  const bob = await openPage(env.browser, env.server, opts);
  await register(bob, 'bob', 'Bob');
  // Alice's second tab (its own network, so it can stay offline while the first comes back).
  const tab2 = await openPage(env.browser, env.server, { ...opts, cookiesFrom: alice });

  const ids = Object.fromEntries((await carol.call('GET', '/users?q=')).users.map((u) => [u.username, u.id]));
  const group = await carol.call('POST', '/rooms', { name: 'Trip', members: [ids.alice, ids.bob] });

  await startDirect(alice, 'bob');
  await sendText(alice, 'a1');
  await openChat(bob, 'Alice');
  await sendText(bob, 'b1');
  await message(alice, 'b1').waitFor();
  await tab2.goto(env.server.url + '/');
  await waitOnline(tab2);
  await openChat(tab2, 'Bob');
  await tab2.getByTestId('conv-subtitle').filter({ hasText: 'online' }).waitFor();

  // The server dies. Both write while it is down: their messages wait, marked pending.
  await env.server.kill();
  await alice.getByTestId('connection-banner').filter({ hasText: 'Reconnecting…' }).waitFor();
  await bob.getByTestId('connection-banner').filter({ hasText: 'Reconnecting…' }).waitFor();
  for (const [page, text] of [[alice, 'a2'], [bob, 'b2']]) {
    await page.getByTestId('composer-input').fill(text);
    await page.getByTestId('composer-input').press('Enter');
    await tick(page, text, 'pending').waitFor();
  }

  // Tab 2 stays offline through the restart; Carol writes in the group meanwhile.
  await tab2.context().setOffline(true);
  await env.server.restart();
  await carol.call('POST', `/rooms/${group.id}/messages`, { body: 'c1', client_id: 'c1' });
  await carol.call('POST', `/rooms/${group.id}/messages`, { body: 'c2', client_id: 'c2' });

  // Alice and Bob are back: every message once, in seq order, gapless; all ticks read, since
  // each has the conversation open.
  for (const page of [alice, bob]) {
    await waitOnline(page);
    await message(page, page === alice ? 'b2' : 'a2').waitFor();
  }
  for (const [page, own] of [[alice, ['a1', 'a2']], [bob, ['b1', 'b2']]]) {
    for (const text of own) await tick(page, text, 'read').waitFor();
    const rows = await shown(page);
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4], JSON.stringify(rows));
    assert.deepEqual(rows.map((r) => r.body).sort(), ['a1', 'a2', 'b1', 'b2']);
    assert.equal(await badge(page, page === alice ? 'Bob' : 'Alice').isVisible(), false);
  }
  const { messages } = await carol.call('GET', `/rooms/${group.id}/messages`);
  assert.equal(messages.length, 2);

  // The group's two new messages show as a badge; Alice reads them in tab 1.
  await badge(alice, 'Trip').filter({ hasText: '2' }).waitFor();
  await openChat(alice, 'Trip');
  await message(alice, 'c2').waitFor();
  await badge(alice, 'Trip').waitFor({ state: 'hidden' });
  // Bob leaves: tab 2 (offline) misses both the read and his going offline.
  await bob.context().close();

  await tab2.context().setOffline(false);
  await waitOnline(tab2);
  await message(tab2, 'b2').waitFor();
  // The read on tab 1 cleared tab 2's badge; Bob is not shown online (but last seen); the DM
  // is exact too.
  await tab2.getByTestId('conv-subtitle').filter({ hasText: /^last seen / }).waitFor();
  await chatItem(tab2, 'Trip').getByTestId('chat-item-preview').filter({ hasText: 'c2' }).waitFor();
  await badge(tab2, 'Trip').waitFor({ state: 'hidden' });
  for (const text of ['a1', 'a2']) await tick(tab2, text, 'read').waitFor();
  assert.deepEqual((await shown(tab2)).map((r) => r.seq), [1, 2, 3, 4]);
  assert.doesNotMatch(await tab2.title(), /^\(/, 'no unread count in the title');

  await assertClean(alice, assert);
  await assertClean(tab2, assert);
});
