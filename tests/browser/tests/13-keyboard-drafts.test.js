// Keyboard only: log in, find and open a chat, send, edit the last message, close the chat, move
// between chats and leave a group, with focus where it should be at every step. Drafts (text and
// reply target) survive switching chats and a reload.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { chatItem, message, openChat, PASSWORD, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

/** The data-testid of the focused element (or its tag name). */
const focused = (page) => page.evaluate(() => document.activeElement?.dataset.testid || document.activeElement?.tagName);

/** Presses `key` until `testid` has focus (at most `max` times): moving by keyboard only. */
async function tabTo(page, testid, key = 'Tab', max = 40) {
  for (let i = 0; i < max; i += 1) {
    if (await focused(page) === testid) return;
    await page.keyboard.press(key);
  }
  assert.fail(`${testid} not reached with ${key}; focus is on ${await focused(page)}`);
}

test('keyboard only: log in, open, send, edit last, close, switch, leave', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const dm = await bob.call('POST', '/rooms/direct', { user_id: alice.user.id });
  await bob.call('POST', `/rooms/${dm.id}/messages`, { body: 'hi from bob', client_id: 'b1' });
  const team = await bob.call('POST', '/rooms', { name: 'Team', members: [alice.user.id] });

  const page = await openPage(env.browser, env.server, { acceptConfirm: true });
  await page.goto(env.server.url + '/');
  await page.getByTestId('enter').waitFor();
  assert.equal(await focused(page), 'input-username', 'the sign-in form starts in the username');
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'input-password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await waitOnline(page);

  // Ctrl+K searches; Tab reaches the matching chat; Enter opens it with the composer focused.
  await page.keyboard.press('Control+k');
  assert.equal(await focused(page), 'search');
  await page.keyboard.type('Bob');
  await tabTo(page, 'chat-item');
  assert.match(await page.evaluate(() => document.activeElement.textContent), /Bob/);
  await page.keyboard.press('Enter');
  await page.getByTestId('conv-title').filter({ hasText: 'Bob' }).waitFor();
  assert.equal(await focused(page), 'composer-input', 'the composer has focus when a chat opens');

  await page.keyboard.type('hello');
  await page.keyboard.press('Enter');
  await message(page, 'hello').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  assert.equal(await focused(page), 'composer-input', 'focus stays in the composer after sending');

  // ↑ in the empty composer edits the last own message.
  await page.keyboard.press('ArrowUp');
  await page.getByTestId('composer-context').filter({ hasText: 'Edit message' }).waitFor();
  assert.equal(await page.getByTestId('composer-input').inputValue(), 'hello');
  await page.keyboard.type(' there');
  await page.keyboard.press('Enter');
  await message(page, 'hello there').locator('.edited').waitFor();
  assert.equal(await page.getByTestId('composer-input').inputValue(), '');

  // Esc first leaves a reply, then closes the chat; focus returns to that chat in the list.
  await tabTo(page, 'action-reply', 'Shift+Tab');   // the newest message's actions
  await page.keyboard.press('Enter');
  await page.getByTestId('composer-context').filter({ hasText: 'Replying to Alice' }).waitFor();
  assert.equal(await focused(page), 'composer-input');
  await page.keyboard.press('Escape');
  await page.getByTestId('composer-context').waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('conversation').count(), 1, 'the first Esc only dropped the reply');
  await page.keyboard.press('Escape');
  await page.getByTestId('conversation').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'chat-item');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.roomId), String(dm.id));

  // The search text is still filtering: clear it with Esc, then Alt+↓/↑ move between chats.
  await page.keyboard.press('Control+k');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('search').inputValue(), '');
  await page.keyboard.press('Alt+ArrowDown');
  await page.getByTestId('conversation').waitFor();
  const first = await page.getByTestId('conversation').getAttribute('data-room-id');
  await page.keyboard.press('Alt+ArrowDown');
  await page.waitForFunction((id) => document.querySelector('[data-testid="conversation"]')?.dataset.roomId !== id, first);
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction((id) => document.querySelector('[data-testid="conversation"]')?.dataset.roomId === id, first);
  if (first !== String(team.id)) await page.keyboard.press('Alt+ArrowDown');
  await page.getByTestId('conv-title').filter({ hasText: 'Team' }).waitFor();
  assert.equal(await focused(page), 'composer-input');

  // Leave the group: reach "Chat info" and "Leave group" with the keyboard.
  await tabTo(page, 'conv-info', 'Shift+Tab');
  await page.keyboard.press('Enter');
  await page.getByTestId('group-info').waitFor();
  await tabTo(page, 'leave-group');
  await page.keyboard.press('Enter');
  await page.getByTestId('group-info').waitFor({ state: 'detached' });
  await chatItem(page, 'Team').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'search', 'focus lands in the chat search');
  assert.deepEqual(page.confirms, ['Leave this group?']);

  await assertClean(page, assert);
});

test('drafts and reply targets survive switching chats and a reload', async () => {
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const dave = await apiUser(env.server, 'dave', undefined, 'Dave');
  const erin = await apiUser(env.server, 'erin', undefined, 'Erin');
  const withDave = await dave.call('POST', '/rooms/direct', { user_id: carol.user.id });
  await dave.call('POST', `/rooms/${withDave.id}/messages`, { body: 'question from dave', client_id: 'q' });
  await erin.call('POST', '/rooms/direct', { user_id: carol.user.id });

  const page = await openPage(env.browser, env.server);
  await page.goto(env.server.url + '/');
  await page.getByTestId('input-username').fill('carol');
  await page.getByTestId('input-password').fill(PASSWORD);
  await page.getByTestId('enter-submit').click();
  await waitOnline(page);

  const input = page.getByTestId('composer-input');
  await openChat(page, 'Dave');
  const question = message(page, 'question from dave');
  await question.hover();
  await question.getByTestId('action-reply').click();
  await input.fill('an answer in progress');
  await openChat(page, 'Erin');
  assert.equal(await input.inputValue(), '', 'each chat has its own draft');
  await input.fill('for erin');

  await openChat(page, 'Dave');
  assert.equal(await input.inputValue(), 'an answer in progress');
  await page.getByTestId('composer-context').filter({ hasText: 'Replying to Dave' }).waitFor();

  await page.reload();
  await waitOnline(page);
  await openChat(page, 'Dave');
  assert.equal(await input.inputValue(), 'an answer in progress');
  await page.getByTestId('composer-context').filter({ hasText: 'question from dave' }).waitFor();
  await openChat(page, 'Erin');
  assert.equal(await input.inputValue(), 'for erin');

  // Sending clears the draft, and the reply went to the right message.
  await openChat(page, 'Dave');
  await input.press('Enter');
  await message(page, 'an answer in progress').getByTestId('message-quote').filter({ hasText: 'question from dave' }).waitFor();
  await message(page, 'an answer in progress').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  const { messages } = await dave.call('GET', `/rooms/${withDave.id}/messages`);
  assert.equal(messages.find((m) => m.body === 'an answer in progress').reply_to, 1);
  await page.reload();
  await waitOnline(page);
  await openChat(page, 'Dave');
  assert.equal(await input.inputValue(), '');
  assert.equal(await page.getByTestId('composer-context').isVisible(), false);

  await assertClean(page, assert);
});
