// Reactions: pick one under a message, see another member's live, toggle by clicking a count;
// a deleted message loses its reactions and offers none.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, message, openChat } from '../lib/ui.js';

const env = useServerAndBrowser();

const enc = encodeURIComponent;

test('react with the picker, see others live, toggle by the count', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const room = await bob.call('POST', '/rooms/direct', { user_id: alice.user.id });
  const sent = await bob.call('POST', `/rooms/${room.id}/messages`, { body: 'lunch at noon?', client_id: 'r-1' });
  const stored = async () => (await bob.call('GET', `/rooms/${room.id}/messages?limit=5`)).messages.find((m) => m.seq === sent.seq);

  const page = await openPage(env.browser, env.server, { acceptConfirm: true });
  await login(page, 'alice');
  await openChat(page, 'Bob');
  const row = message(page, 'lunch at noon?');
  const chip = (emoji) => row.locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);

  // The picker adds my reaction; it shows as a pressed count of one.
  await row.hover();
  await row.getByTestId('action-react').click();
  await row.locator('[data-testid="reaction-choice"][data-emoji="👍"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="reaction"][data-emoji="👍"]')?.getAttribute('aria-pressed') === 'true');
  assert.equal(await chip('👍').locator('.reaction-count').textContent(), '1');
  assert.equal(await row.getByTestId('reaction-picker').count(), 0, 'the picker closes');
  assert.deepEqual((await stored()).reactions, [{ emoji: '👍', users: [alice.user.id] }]);

  // Another member's reaction arrives live, not pressed for me, named in the title.
  await bob.call('PUT', `/rooms/${room.id}/messages/${sent.seq}/reactions/${enc('❤️')}`);
  await chip('❤️').waitFor();
  assert.equal(await chip('❤️').getAttribute('aria-pressed'), 'false');
  assert.equal(await chip('❤️').getAttribute('title'), 'Bob');

  // Clicking a count joins it; clicking my own takes it back.
  await chip('❤️').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="reaction"][data-emoji="❤️"] .reaction-count')?.textContent === '2');
  assert.equal(await chip('❤️').getAttribute('aria-pressed'), 'true');
  await chip('👍').click();
  await chip('👍').waitFor({ state: 'detached' });
  assert.deepEqual((await stored()).reactions, [{ emoji: '❤️', users: [bob.user.id, alice.user.id] }]);

  // The counts survive a reload (they come with the history).
  await page.reload();
  await openChat(page, 'Bob');
  await chip('❤️').waitFor();
  assert.equal(await chip('❤️').locator('.reaction-count').textContent(), '2');

  // A deleted message loses its reactions and offers no picker.
  await bob.call('DELETE', `/rooms/${room.id}/messages/${sent.seq}`);
  const tomb = page.locator(`[data-testid="message"][data-seq="${sent.seq}"]`);
  await tomb.getByTestId('message-body').filter({ hasText: 'This message was deleted' }).waitFor();
  assert.equal(await tomb.getByTestId('reactions').count(), 0);
  assert.equal(await tomb.getByTestId('action-react').count(), 0);

  await assertClean(page, assert);
});

test('on a phone: tap the bubble, react from a picker that fits the screen', async () => {
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const dave = await apiUser(env.server, 'dave', undefined, 'Dave');
  const room = await dave.call('POST', '/rooms/direct', { user_id: carol.user.id });
  // A long message, so the bubble is as wide as a phone allows.
  await dave.call('POST', `/rooms/${room.id}/messages`, { body: 'are we still on for the long walk along the river this saturday morning?', client_id: 'p-1' });

  const page = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, 'carol');
  await openChat(page, 'Dave');
  const row = message(page, 'long walk');
  await row.getByTestId('message-body').tap();
  const react = row.getByTestId('action-react');
  await react.waitFor();
  const target = await react.boundingBox();
  assert.ok(target.width >= 44 && target.height >= 44, `the react button is ${target.width}×${target.height}`);
  await react.tap();
  const picker = row.getByTestId('reaction-picker');
  await picker.waitFor();
  for (const el of [picker, row.locator('.bubble')]) {
    const b = await el.boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 390, `inside the screen: ${JSON.stringify(b)}`);
  }
  await row.locator('[data-testid="reaction-choice"][data-emoji="😂"]').tap();
  const chip = row.locator('[data-testid="reaction"][data-emoji="😂"]');
  await chip.waitFor();
  assert.equal(await chip.getAttribute('aria-pressed'), 'true');
  const b = await chip.boundingBox();
  assert.ok(b.x >= 0 && b.x + b.width <= 390, `the count is inside the screen: ${JSON.stringify(b)}`);

  await assertClean(page, assert);
});
