// Mentions: `@` in the composer suggests the chat's members (keyboard and touch), the server
// resolves the name, and the bubble shows it highlighted from the spans; the member named sees
// it marked as theirs and is notified even in a chat they muted, also when an edit names them
// anew (once). A non-member stays plain text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, fakeNotifications, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, message, openChat } from '../lib/ui.js';

const env = useServerAndBrowser();

test('suggest, insert and highlight a mention; notify the member even when muted', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob Builder');
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  await apiUser(env.server, 'dave', undefined, 'Dave');
  const group = await alice.call('POST', '/rooms', { name: 'Trip', members: [bob.user.id, carol.user.id] });
  await bob.call('PATCH', `/rooms/${group.id}/settings`, { muted: true });

  const page = await openPage(env.browser, env.server);
  await login(page, 'alice');
  await openChat(page, 'Trip');
  const input = page.getByTestId('composer-input');
  const list = page.getByTestId('mention-list');
  const options = () => list.getByTestId('mention-option').evaluateAll((els) => els.map((e) => e.dataset.username));

  // `@` lists the members with a username but me; typing narrows (by username or a word of
  // the display name); Enter inserts instead of sending.
  await input.pressSequentially('hi @');
  await list.waitFor();
  assert.deepEqual(await options(), ['bob', 'carol']);
  await input.pressSequentially('bu');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="mention-option"]').length === 1);
  assert.deepEqual(await options(), ['bob']);
  await input.press('Backspace');
  await input.press('Backspace');
  await input.pressSequentially('c');
  await page.waitForFunction(() => document.querySelector('[data-testid="mention-option"]')?.dataset.username === 'carol');
  await input.press('Escape');
  await list.waitFor({ state: 'hidden' });
  assert.equal(await input.inputValue(), 'hi @c', 'Esc closes the list and keeps the text');
  assert.equal(await page.getByTestId('conversation').count(), 1, 'and leaves the chat open');
  await input.press('Backspace');
  await list.waitFor();
  await input.press('ArrowDown');
  await input.press('ArrowUp');
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'hi @bob ');
  assert.equal(await page.getByTestId('message').count(), 0, 'nothing was sent');
  await input.pressSequentially('and @ca');
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'hi @bob and @carol ');
  // A non-member is not offered, and stays plain text when typed.
  await input.pressSequentially('not @dave');
  assert.equal(await list.isHidden(), true);
  await input.press('Enter');

  const sent = message(page, 'hi @bob and @carol not @dave');
  await sent.waitFor();
  const spans = sent.getByTestId('mention');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="mention"]').length === 2);
  assert.deepEqual(await spans.allTextContents(), ['@bob', '@carol']);
  assert.deepEqual(await spans.evaluateAll((els) => els.map((e) => Number(e.dataset.userId))), [bob.user.id, carol.user.id]);
  assert.equal(await sent.locator('.mention-me').count(), 0, 'not mine: no own highlight');
  const stored = (await alice.call('GET', `/rooms/${group.id}/messages`)).messages.at(-1);
  assert.deepEqual(stored.mentions.map((m) => m.user_id), [bob.user.id, carol.user.id]);

  // Bob sees his own mention highlighted; with the page hidden, the muted chat notifies him
  // only of the message that names him.
  const bobPage = await openPage(env.browser, env.server);
  await bobPage.addInitScript(fakeNotifications);
  await login(bobPage, 'bob');
  await openChat(bobPage, 'Trip');
  const mine = message(bobPage, 'hi @bob').locator('.mention-me');
  await mine.waitFor();
  assert.equal(await mine.textContent(), '@bob');
  assert.match(await message(bobPage, 'hi @bob').getAttribute('class'), /\bmentions-me\b/);
  await bobPage.evaluate(() => { window.__hidden = true; });
  const quiet = await alice.call('POST', `/rooms/${group.id}/messages`, { body: 'quiet one', client_id: 'q-1' });
  const turn = await alice.call('POST', `/rooms/${group.id}/messages`, { body: '@bob your turn', client_id: 'q-2' });
  await bobPage.waitForFunction(() => window.__notes.length > 0);
  await message(bobPage, 'your turn').waitFor();
  const told = { title: 'Trip', body: 'Alice: @bob your turn' };
  assert.deepEqual(await bobPage.evaluate(() => window.__notes), [told]);
  // An edit that names him anew tells him too; an edit of one that named him already does not.
  await alice.call('PATCH', `/rooms/${group.id}/messages/${turn.seq}`, { body: '@bob your turn now' });
  await alice.call('PATCH', `/rooms/${group.id}/messages/${quiet.seq}`, { body: 'quiet one, @bob?' });
  await bobPage.waitForFunction(() => window.__notes.length > 1);
  await message(bobPage, 'quiet one, @bob?').getByTestId('mention').waitFor();
  assert.deepEqual(await bobPage.evaluate(() => window.__notes), [told, { title: 'Trip', body: 'Alice: quiet one, @bob?' }]);

  await assertClean(page, assert);
  await assertClean(bobPage, assert);
});

test('on a phone: the member list fits the screen and a tap inserts the mention', async () => {
  const erin = await apiUser(env.server, 'erin', undefined, 'Erin');
  const frank = await apiUser(env.server, 'frank', undefined, 'Frank');
  await erin.call('POST', '/rooms', { name: 'Club', members: [frank.user.id] });

  const page = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, 'erin');
  await openChat(page, 'Club');
  const input = page.getByTestId('composer-input');
  await input.tap();
  await input.pressSequentially('@');
  const option = page.getByTestId('mention-option').filter({ hasText: '@frank' });
  await option.waitFor();
  const b = await page.getByTestId('mention-list').boundingBox();
  assert.ok(b.x >= 0 && b.x + b.width <= 390 && b.y >= 0, `the list is inside the screen: ${JSON.stringify(b)}`);
  const o = await option.boundingBox();
  assert.ok(o.height >= 44, `an option is ${o.height} px tall`);
  await option.tap();
  assert.equal(await input.inputValue(), '@frank ');
  await input.pressSequentially('hello');
  await page.getByTestId('send-button').tap();
  await message(page, '@frank hello').getByTestId('mention').waitFor();

  await assertClean(page, assert);
});
