// Invite links: an admin creates one in group info and copies it; a visitor who follows it sees
// the group, enters as a guest and lands in the room; a revoked link shows one clear page. On a
// phone, the invitation and the way in fit the screen.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, message, openChat, sendText, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

// The preview of a dead link answers 404, which the browser logs.
const DEAD_LINK = { text: /status of 404/, url: /\/api\/v1\/invites\// };

/** Follows `url` in `page` as a guest named `name` and waits for the room to open. */
async function joinAsGuest(page, url, name, room) {
  await page.goto(url);
  const card = page.getByTestId('invite-card');
  await card.waitFor();
  assert.equal(await card.getByTestId('invite-room').textContent(), room);
  assert.equal(new URL(page.url()).pathname, '/', 'the token leaves the address bar');
  await page.getByTestId('input-guest_name').fill(name);
  await page.getByTestId('guest-submit').click();
  await page.getByTestId('conversation').waitFor();
  await page.getByTestId('conv-title').filter({ hasText: room }).waitFor();
  await waitOnline(page);
}

test('an admin shares a link, a guest follows it into the group, a revoked link is refused', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  await alice.call('POST', '/rooms', { name: 'Book club', members: [] });

  const admin = await openPage(env.browser, env.server);
  await login(admin, 'alice');
  await openChat(admin, 'Book club');
  await admin.getByTestId('conv-info').click();
  const info = admin.getByTestId('group-info');
  const section = info.getByTestId('invite-section');
  await section.waitFor();
  await section.getByTestId('invite-uses').selectOption('10');
  await section.getByTestId('invite-create').click();
  const url = await section.getByTestId('invite-url').inputValue();
  assert.match(url, /\/join\/[A-Za-z0-9_-]{43}$/);
  await section.getByTestId('invite').first().waitFor();
  assert.match(await section.getByTestId('invite').textContent(), /used 0 of 10/);

  // A visitor follows the link as a guest and lands in the room, ready to talk.
  const guest = await openPage(env.browser, env.server);
  await joinAsGuest(guest, url, 'Gus Guest', 'Book club');
  await sendText(guest, 'Hi all, Gus here');
  await message(admin, 'Gus here').waitFor();
  await info.getByTestId('member').filter({ hasText: 'Gus Guest' }).waitFor();

  // The admin revokes it; the next visitor gets one clear page and a way on.
  await section.getByTestId('invite-revoke').click();
  await section.getByTestId('invite').waitFor({ state: 'detached' });
  const late = await openPage(env.browser, env.server, { allow: [DEAD_LINK] });
  await late.goto(url);
  const dead = late.getByTestId('invite-dead');
  await dead.waitFor();
  assert.match(await dead.textContent(), /invalid, has expired, was used up or was revoked/);
  await late.getByTestId('invite-dead-continue').click();
  await late.getByTestId('enter').waitFor();

  for (const page of [admin, guest, late]) await assertClean(page, assert);
});

test('on a phone: the invitation fits, a guest joins and the room opens', async () => {
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const room = await carol.call('POST', '/rooms', { name: 'Running club Saturdays by the river', members: [] });
  const link = await carol.call('POST', `/rooms/${room.id}/invites`, { max_uses: 1 });

  const phone = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(`${env.server.url}/join/${link.token}`);
  const card = phone.getByTestId('invite-card');
  await card.waitFor();
  for (const el of [card, phone.getByTestId('guest-submit'), phone.getByTestId('enter-submit')]) {
    const b = await el.boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 390, `inside the screen: ${JSON.stringify(b)}`);
  }
  const button = await phone.getByTestId('guest-submit').boundingBox();
  assert.ok(button.height >= 44, `the guest button is ${button.height} px high`);
  await phone.getByTestId('guest-submit').tap();
  await phone.getByTestId('conversation').waitFor();
  await phone.getByTestId('conv-title').filter({ hasText: 'Running club' }).waitFor();
  const members = (await carol.call('GET', `/rooms/${room.id}`)).members;
  assert.equal(members.length, 2);
  assert.equal(members[1].guest, true);

  await assertClean(phone, assert);
});
