// Two people register, start a direct chat, talk both ways live, and see their ticks turn to read.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { chatItem, message, register, sendText, startDirect } from '../lib/ui.js';

const env = useServerAndBrowser();

test('two users chat live in a direct room and see read ticks', async () => {
  const alice = await openPage(env.browser, env.server);
  const bob = await openPage(env.browser, env.server);
  await register(alice, 'alice', 'Alice Liddell');
  await register(bob, 'bob', 'Bob Builder');

  // Alice finds Bob and opens the DM; the header shows Bob's display name.
  await startDirect(alice, 'bob');
  await alice.getByTestId('conv-title').filter({ hasText: 'Bob Builder' }).waitFor();

  await sendText(alice, 'Hi Bob, lunch today?');
  // The message reaches Bob live: the DM appears in his list with the preview and an unread badge.
  const item = chatItem(bob, 'Alice Liddell');
  await item.getByTestId('chat-item-preview').filter({ hasText: 'Hi Bob, lunch today?' }).waitFor();
  assert.equal(await item.getByTestId('unread-badge').textContent(), '1');
  assert.match(await bob.title(), /^\(1\) /);

  // Before Bob opens it, Alice's message is sent (✓) but not read.
  const sent = message(alice, 'Hi Bob, lunch today?');
  await sent.locator('[data-testid="tick"][data-status="sent"]').waitFor();

  await item.click();
  await message(bob, 'Hi Bob, lunch today?').waitFor();
  // Bob viewing the conversation marks it read: Alice's tick turns to ✓✓ and Bob's badge goes away.
  await sent.locator('[data-testid="tick"][data-status="read"]').waitFor();
  assert.equal(await sent.getByTestId('tick').textContent(), '✓✓');
  await bob.waitForFunction(() => !document.title.startsWith('('));
  assert.equal(await item.getByTestId('unread-badge').isVisible(), false);

  // And back: Bob answers, Alice (who has the room open) sees it live, and Bob's tick turns read.
  await sendText(bob, 'Sure! 12:30 at the usual place.');
  await message(alice, 'Sure! 12:30 at the usual place.').waitFor();
  await message(bob, 'Sure! 12:30 at the usual place.').locator('[data-testid="tick"][data-status="read"]').waitFor();

  // Own messages are on the right, the other's on the left.
  assert.equal(await message(alice, 'Hi Bob').getAttribute('data-own'), 'true');
  assert.equal(await message(alice, 'Sure!').getAttribute('data-own'), 'false');

  // Typing indicator: Bob types, Alice's header says so.
  await bob.getByTestId('composer-input').fill('typing something');
  await alice.getByTestId('conv-subtitle').filter({ hasText: 'typing…' }).waitFor();

  // Multi-line: Shift+Enter makes a newline, Enter sends one message with both lines.
  const input = alice.getByTestId('composer-input');
  await input.fill('line one');
  await input.press('Shift+Enter');
  await input.type('line two');
  await input.press('Enter');
  await message(bob, 'line two').waitFor();
  assert.equal(await message(bob, 'line two').getByTestId('message-body').textContent(), 'line one\nline two');

  await assertClean(alice, assert);
  await assertClean(bob, assert);
});
