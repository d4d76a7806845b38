// Accessibility and right-to-left: axe-core finds no serious or critical problem on the main
// screens (light, dark, Hebrew); Hebrew and Arabic text runs right to left wherever it shows;
// the Hebrew translation mirrors the whole page.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { axeViolations } from '../lib/axe.js';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser, repoRoot } from '../lib/server.js';
import { chatItem, message, openChat, PASSWORD, register, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();
const ARTIFACTS = join(repoRoot, 'tests/browser/artifacts');

const HEBREW = 'שלום! מה שלומך היום?';
const MIXED = 'הפגישה ב-10:00 עם the design team';
const ENGLISH = 'The word שלום means peace';
const ARABIC_NAME = 'ليلى أحمد';

const direction = (locator) => locator.evaluate((el) => getComputedStyle(el).direction);

async function expectNoViolations(page, where) {
  assert.deepEqual(await axeViolations(page), [], `axe: ${where}`);
}

test('axe-clean screens, and Hebrew and Arabic read right to left', async () => {
  const layla = await apiUser(env.server, 'layla', undefined, ARABIC_NAME);
  const noam = await apiUser(env.server, 'noam', undefined, 'Noam');

  const page = await openPage(env.browser, env.server, { acceptConfirm: true });
  await page.goto(env.server.url + '/');
  await page.getByTestId('enter').waitFor();
  await expectNoViolations(page, 'sign-in page');
  await register(page, 'alice', 'Alice');

  const me = (await layla.call('GET', '/users?q=alice')).users[0];
  const group = await noam.call('POST', '/rooms', { name: 'צוות', members: [me.id, layla.user.id] });
  for (const [who, body] of [[noam, HEBREW], [layla, MIXED], [noam, ENGLISH]]) {
    await who.call('POST', `/rooms/${group.id}/messages`, { body, client_id: `m-${body.length}` });
  }
  const dm = await layla.call('POST', '/rooms/direct', { user_id: me.id });
  await layla.call('POST', `/rooms/${dm.id}/messages`, { body: 'مرحبا', client_id: 'ar' });

  // Right to left where the text is Hebrew or Arabic, left to right where it starts in English.
  await openChat(page, 'צוות');
  await message(page, ENGLISH).waitFor();
  assert.equal(await direction(message(page, HEBREW).getByTestId('message-body')), 'rtl');
  assert.equal(await direction(message(page, MIXED).getByTestId('message-body')), 'rtl');
  assert.equal(await direction(message(page, ENGLISH).getByTestId('message-body')), 'ltr');
  assert.equal(await direction(message(page, MIXED).getByTestId('message-sender')), 'rtl', 'Arabic sender name');
  assert.equal(await direction(page.getByTestId('conv-title')), 'rtl', 'Hebrew group name');
  const dmItem = chatItem(page, ARABIC_NAME);
  assert.equal(await direction(dmItem.getByTestId('chat-item-name')), 'rtl', 'Arabic name in the chat list');
  assert.equal(await direction(dmItem.getByTestId('chat-item-preview')), 'rtl', 'Arabic preview');
  const input = page.getByTestId('composer-input');
  await input.fill(HEBREW);
  assert.equal(await direction(input), 'rtl', 'the composer follows what is typed');
  await input.fill('');

  await expectNoViolations(page, 'group conversation, light');
  await page.getByTestId('conv-info').click();
  await page.getByTestId('group-info').waitFor();
  await expectNoViolations(page, 'group info dialog');
  await page.keyboard.press('Escape');
  await page.getByTestId('menu-button').click();
  await expectNoViolations(page, 'menu');
  await page.keyboard.press('Escape');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoViolations(page, 'group conversation, dark');

  // The Hebrew translation: the page turns right to left as a whole.
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-lang-he').click();
  await page.waitForFunction(() => document.documentElement.dir === 'rtl');
  await waitOnline(page);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'he');
  assert.equal(await page.getByTestId('search').getAttribute('placeholder'), 'חיפוש או התחלת שיחה חדשה');
  await openChat(page, 'צוות');
  await page.getByTestId('composer-input').fill('אני אגיע');
  await page.getByTestId('composer-input').press('Enter');
  await message(page, 'אני אגיע').waitFor();
  const list = await page.locator('.list-pane').boundingBox();
  const conv = await page.getByTestId('conversation').boundingBox();
  assert.ok(list.x > conv.x, 'the chat list is on the right');
  const own = await message(page, 'אני אגיע').locator('.bubble').boundingBox();
  const other = await message(page, HEBREW).locator('.bubble').boundingBox();
  assert.ok(own.x < other.x, 'own messages on the left, the others on the right');
  await expectNoViolations(page, 'Hebrew conversation');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'hebrew-1280x800-light.png') });

  // Back to English from the sign-in page's language picker after logging out.
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-logout').click();
  await page.getByTestId('enter').waitFor();
  await page.getByTestId('language').selectOption('en');
  await page.waitForFunction(() => document.documentElement.dir === 'ltr');
  await page.getByTestId('input-username').fill('alice');
  await page.getByTestId('input-password').fill(PASSWORD);
  await page.getByTestId('enter-submit').click();
  await waitOnline(page);
  assert.equal(await page.getByTestId('search').getAttribute('placeholder'), 'Search or start a new chat');

  await assertClean(page, assert);
});
