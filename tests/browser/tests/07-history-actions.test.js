// Long history pages in upward without jumping; a message arriving while scrolled up shows the
// "new messages" pill instead of moving the view; reply, edit and delete own messages.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { chatItem, login, message, openChat, sendText } from '../lib/ui.js';

const env = useServerAndBrowser();

const TOTAL = 130;

test('infinite scroll, new-messages pill, reply, edit and delete', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const room = await bob.call('POST', '/rooms/direct', { user_id: alice.user.id });
  for (let i = 1; i <= TOTAL; i += 1) {
    await bob.call('POST', `/rooms/${room.id}/messages`, { body: `history ${i}`, client_id: `h-${i}` });
  }

  const page = await openPage(env.browser, env.server, { acceptConfirm: true });
  await login(page, 'alice');
  const item = chatItem(page, 'Bob');
  assert.equal(await item.getByTestId('unread-badge').textContent(), String(TOTAL));
  await openChat(page, 'Bob');
  await message(page, `history ${TOTAL}`).waitFor();
  const scroller = page.getByTestId('messages');
  const shown = () => page.getByTestId('message').count();
  assert.ok(await shown() < TOTAL, 'only the latest page is loaded at first');
  // Opened at the bottom and marked read.
  await item.getByTestId('unread-badge').waitFor({ state: 'hidden' });

  // Scroll to the top until the first message is there; each page keeps the view anchored.
  while (await message(page, /^history 1$/).count() === 0) {
    const before = await shown();
    const anchor = page.getByTestId('message').first();
    const anchorSeq = await anchor.getAttribute('data-seq');
    // Scroll to the top and measure in the same task, before the scroll event loads a page.
    const topBefore = await scroller.evaluate((el, seq) => {
      el.scrollTop = 0;
      return el.querySelector(`[data-testid="message"][data-seq="${seq}"]`).getBoundingClientRect().top;
    }, anchorSeq);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length > n, before);
    const topAfter = await page.locator(`[data-testid="message"][data-seq="${anchorSeq}"]`).evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(Math.abs(topAfter - topBefore) < 4, `no jump: ${topBefore} → ${topAfter}`);
  }
  const seqs = await page.getByTestId('message').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, Array.from({ length: TOTAL }, (_, i) => i + 1));
  assert.equal(await page.getByTestId('day-separator').count(), 1);

  // Scrolled up: a new message does not move the view, a pill offers to jump.
  await scroller.evaluate((el) => { el.scrollTop = 0; });
  await bob.call('POST', `/rooms/${room.id}/messages`, { body: 'new while you read old stuff', client_id: 'n-1' });
  await page.getByTestId('new-messages-pill').waitFor();
  assert.equal(await scroller.evaluate((el) => el.scrollTop), 0);
  await page.getByTestId('new-messages-pill').click();
  await page.getByTestId('new-messages-pill').waitFor({ state: 'hidden' });
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="messages"]');
    return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  });

  // Reply: the quote shows in both views.
  const target = message(page, 'new while you read old stuff');
  await target.hover();
  await target.getByTestId('action-reply').click();
  await page.getByTestId('composer-context').filter({ hasText: 'new while you read old stuff' }).waitFor();
  await sendText(page, 'answering that');
  const reply = message(page, 'answering that');
  // The bubble shows before the server has it: read the API only once it is acknowledged.
  await reply.locator('[data-testid="tick"][data-status="sent"]').waitFor();
  assert.match(await reply.getByTestId('message-quote').textContent(), /new while you read old stuff/);
  const stored = (await bob.call('GET', `/rooms/${room.id}/messages?limit=5`)).messages;
  const newSeq = stored.find((m) => m.body === 'new while you read old stuff').seq;
  assert.equal(stored.find((m) => m.body === 'answering that').reply_to, newSeq);

  // Edit an own message.
  await sendText(page, 'tpyo here');
  const own = message(page, 'tpyo here');
  await own.hover();
  await own.getByTestId('action-edit').click();
  const input = page.getByTestId('composer-input');
  assert.equal(await input.inputValue(), 'tpyo here');
  await input.fill('typo fixed');
  await input.press('Enter');
  const edited = message(page, 'typo fixed');
  // Likewise the edit: shown at once with 🕓, confirmed when the server's `edited` event comes.
  await edited.locator('.edited').filter({ hasNotText: '🕓' }).waitFor();
  const afterEdit = (await bob.call('GET', `/rooms/${room.id}/messages?limit=5`)).messages.find((m) => m.body === 'typo fixed');
  assert.ok(afterEdit?.edited_at, 'the server stored the edit');

  // Delete an own message (after a confirmation): it becomes a tombstone.
  await edited.hover();
  await edited.getByTestId('action-delete').click();
  await page.getByTestId('message-body').filter({ hasText: 'This message was deleted' }).waitFor();
  assert.equal(await message(page, 'typo fixed').count(), 0);
  assert.equal(page.confirms.length, 1);
  const tomb = (await bob.call('GET', `/rooms/${room.id}/messages?limit=5`)).messages.find((m) => m.seq === afterEdit.seq);
  assert.equal(tomb.deleted, true);
  assert.equal(tomb.body, '');

  // A chat that is not on screen keeps only its newest 100 messages; scrolling pages them in again.
  const rows = page.getByTestId('message');
  assert.ok(await rows.count() > 130);
  const cleo = await apiUser(env.server, 'cleo', undefined, 'Cleo');
  await cleo.call('POST', '/rooms/direct', { user_id: alice.user.id });
  await openChat(page, 'Cleo');
  await openChat(page, 'Bob');
  await message(page, 'answering that').waitFor();
  assert.equal(await rows.count(), 100);
  await scroller.evaluate((el) => { el.scrollTop = 0; });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"]').length > 100);

  await assertClean(page, assert);
});
