// Phone layout (390×844): one pane at a time with a working back button. Also saves screenshots
// of the desktop (1280×800) and phone views in light and dark (tests/browser/artifacts/; the
// README's docs/screenshot.png with UPDATE_SCREENSHOT=1).

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser, repoRoot } from '../lib/server.js';
import { chatItem, message, openChat, register, sendText } from '../lib/ui.js';

const ARTIFACTS = join(repoRoot, 'tests/browser/artifacts');
const env = useServerAndBrowser();
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
});

async function box(locator) {
  const b = await locator.boundingBox();
  return b && { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
}

test('desktop shows two panes; a phone shows one at a time with a back button', async () => {
  // Some company for the screenshots: two bots with a group and a direct chat.
  const mia = await apiUser(env.server, 'mia', undefined, 'Mia Wallace');
  const sam = await apiUser(env.server, 'sam', undefined, 'Sam Rivera');

  const desk = await openPage(env.browser, env.server, { viewport: { width: 1280, height: 800 } });
  await register(desk, 'dana', 'Dana Scully');
  const dana = (await (await fetch(`${env.server.url}/api/v1/users?q=dana`, { headers: { Authorization: `Bearer ${mia.token}` } })).json()).users[0];

  const group = await mia.call('POST', '/rooms', { name: 'Weekend trip 🏕️', members: [dana.id, sam.user.id] });
  await mia.call('POST', `/rooms/${group.id}/messages`, { body: 'Who is bringing the tent?', client_id: 'g1' });
  await sam.call('POST', `/rooms/${group.id}/messages`, { body: 'I have one for four people. Weather looks great: https://example.com/forecast', client_id: 'g2' });
  const dm = await sam.call('POST', '/rooms/direct', { user_id: dana.id });
  await sam.call('POST', `/rooms/${dm.id}/messages`, { body: 'Did you see the photos from Friday?', client_id: 'd1' });

  await chatItem(desk, 'Weekend trip').waitFor();
  await openChat(desk, 'Weekend trip');
  await sendText(desk, 'I can drive! Leaving Saturday at 9.');
  await mia.call('POST', `/rooms/${group.id}/messages`, { body: 'Perfect 🙌 see you then', client_id: 'g3' });
  await message(desk, 'see you then').waitFor();

  // Desktop: both panes side by side.
  const list = desk.locator('.list-pane');
  const conv = desk.getByTestId('conversation');
  const lb = await box(list);
  const cb = await box(conv);
  assert.ok(lb.width >= 300 && cb.width > lb.width, `two panes: ${JSON.stringify({ lb, cb })}`);
  assert.equal(await desk.getByTestId('back-button').isVisible(), false);
  await desk.screenshot({ path: join(ARTIFACTS, 'desktop-1280x800-light.png') });
  // The README's screenshot is refreshed on request only, so test runs leave the tree clean.
  if (process.env.UPDATE_SCREENSHOT) copyFileSync(join(ARTIFACTS, 'desktop-1280x800-light.png'), join(repoRoot, 'docs/screenshot.png'));
  await desk.emulateMedia({ colorScheme: 'dark' });
  await desk.screenshot({ path: join(ARTIFACTS, 'desktop-1280x800-dark.png') });
  await desk.emulateMedia({ colorScheme: 'light' });

  // Phone: same account in a phone-sized, touch context.
  const phone = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2 });
  await phone.context().addCookies(await desk.context().cookies());
  await phone.goto(env.server.url + '/');
  await phone.getByTestId('chat-list').waitFor();
  const plist = phone.locator('.list-pane');
  assert.deepEqual(await box(plist), { x: 0, y: 0, width: 390, height: 844 });
  assert.equal(await phone.locator('.conv-pane').isVisible(), false);
  await phone.screenshot({ path: join(ARTIFACTS, 'phone-390x844-list-light.png') });

  await chatItem(phone, 'Sam Rivera').click();
  await message(phone, 'photos from Friday').waitFor();
  const pconv = await box(phone.getByTestId('conversation'));
  assert.deepEqual(pconv, { x: 0, y: 0, width: 390, height: 844 });
  assert.equal(await plist.isVisible(), false);
  // Touch targets are at least 44 px.
  for (const id of ['back-button', 'attach-button', 'mic-button']) {
    const b = await box(phone.getByTestId(id));
    assert.ok(b.width >= 44 && b.height >= 44, `${id} is ${b.width}×${b.height}`);
  }
  await phone.getByTestId('composer-input').fill('On my way');
  await phone.getByTestId('send-button').click();
  await message(phone, 'On my way').waitFor();
  await phone.screenshot({ path: join(ARTIFACTS, 'phone-390x844-light.png') });
  await phone.emulateMedia({ colorScheme: 'dark' });
  await phone.screenshot({ path: join(ARTIFACTS, 'phone-390x844-dark.png') });
  await phone.emulateMedia({ colorScheme: 'light' });

  await phone.getByTestId('back-button').click();
  await plist.waitFor();
  assert.equal(await phone.getByTestId('conversation').count(), 0);
  assert.deepEqual(await box(plist), { x: 0, y: 0, width: 390, height: 844 });

  // The phone's own back gesture (history back) also returns to the list.
  await chatItem(phone, 'Weekend trip').click();
  await phone.getByTestId('conversation').waitFor();
  await phone.goBack();
  await phone.getByTestId('conversation').waitFor({ state: 'detached' });
  assert.equal(await plist.isVisible(), true);

  await assertClean(desk, assert);
  await assertClean(phone, assert);
});
