// The server restarts mid-conversation: the client shows "Reconnecting…", resumes with `sync`,
// and every message (the other side's sent while it was away, and its own queued one) shows
// exactly once, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { bodies, message, register, sendText, startDirect, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

test('messages survive a server restart: banner, resume, no loss, no duplicates', async () => {
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob Bot');
  const alice = await openPage(env.browser, env.server, {
    allow: [
      // While the server is down the browser logs the failed reconnect attempts.
      { text: /WebSocket connection to .* failed/ },
      { text: /ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|Failed to load resource/ },
    ],
  });
  await register(alice, 'alice', 'Alice');
  await startDirect(alice, 'bob');
  const roomId = Number(await alice.getByTestId('conversation').getAttribute('data-room-id'));
  await sendText(alice, 'before restart');
  await bob.call('POST', `/rooms/${roomId}/messages`, { body: 'bob 1', client_id: 'b-1' });
  await message(alice, 'bob 1').waitFor();

  await env.server.stop();
  const banner = alice.getByTestId('connection-banner');
  await banner.filter({ hasText: 'Reconnecting…' }).waitFor();

  // Written while offline: queued, shown as pending.
  const input = alice.getByTestId('composer-input');
  await input.fill('written offline');
  await input.press('Enter');
  await message(alice, 'written offline').locator('[data-testid="tick"][data-status="pending"]').waitFor();

  // Keep Alice's browser offline while the server comes back and Bob talks, so these messages
  // can only reach her through the resume (`sync`), not as live frames.
  await alice.context().setOffline(true);
  await env.server.restart();
  for (const n of [2, 3, 4]) await bob.call('POST', `/rooms/${roomId}/messages`, { body: `bob ${n}`, client_id: `b-${n}` });
  assert.equal(await banner.isVisible(), true, 'still disconnected while Bob talks');
  await alice.context().setOffline(false);

  await waitOnline(alice);
  await banner.waitFor({ state: 'hidden' });
  await message(alice, 'bob 4').waitFor();
  await message(alice, 'written offline').locator('[data-testid="tick"][data-status="sent"], [data-testid="tick"][data-status="read"]').first().waitFor();

  const check = async () => {
    const texts = await bodies(alice);
    for (const t of ['before restart', 'bob 1', 'bob 2', 'bob 3', 'bob 4', 'written offline']) {
      assert.equal(texts.filter((x) => x === t).length, 1, `"${t}" exactly once in ${JSON.stringify(texts)}`);
    }
    const bobs = texts.filter((t) => t.startsWith('bob '));
    assert.deepEqual(bobs, ['bob 1', 'bob 2', 'bob 3', 'bob 4']);
    const seqs = await alice.getByTestId('message').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'shown in seq order');
    assert.equal(new Set(seqs).size, seqs.length, 'no seq twice');
  };
  await check();

  // The server stored the offline message once (the replay reused its client_id).
  const { messages } = await bob.call('GET', `/rooms/${roomId}/messages?limit=100`);
  assert.equal(messages.filter((m) => m.body === 'written offline').length, 1);
  assert.deepEqual(messages.map((m) => m.seq), messages.map((_, i) => i + 1));

  // After a reload (history from REST) it is the same.
  await alice.reload();
  await waitOnline(alice);
  await alice.getByTestId('chat-item').first().click();
  await message(alice, 'written offline').waitFor();
  await check();

  await assertClean(alice, assert);
});
