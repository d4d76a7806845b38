// Mute and archive: my own settings for a chat, from its ⋮ menu, followed live by my other
// device. A muted chat keeps counting unread (grey badge, bell-off mark) but makes no desktop
// notification and is left out of the title's count (which counts chats, not messages, and
// leaves archived chats out too), but shows @ when a message names me; an archived chat moves
// under "Archived" and stays there when a new message arrives, until I unarchive it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, fakeNotifications, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { chatItem, login, openChat } from '../lib/ui.js';

const env = useServerAndBrowser();

async function chooseFromRoomMenu(page, testid) {
  await page.getByTestId('room-menu-button').click();
  await page.getByTestId('room-menu').getByTestId(testid).click();
}

test('mute and archive from the chat menu, followed by my other device', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const withBob = await bob.call('POST', '/rooms/direct', { user_id: alice.user.id });
  const withCarol = await carol.call('POST', '/rooms/direct', { user_id: alice.user.id });
  await bob.call('POST', `/rooms/${withBob.id}/messages`, { body: 'hi alice', client_id: 'b-0' });
  await carol.call('POST', `/rooms/${withCarol.id}/messages`, { body: 'hello', client_id: 'c-0' });

  const page = await openPage(env.browser, env.server);
  await page.addInitScript(fakeNotifications);
  await login(page, 'alice');
  const phone = await openPage(env.browser, env.server);
  await login(phone, 'alice');
  await openChat(page, 'Carol');
  await openChat(page, 'Bob');

  // Mute: the mark shows here and, live, on the other device; Bob sees nothing of it.
  await chooseFromRoomMenu(page, 'room-mute');
  await chatItem(page, 'Bob').getByTestId('muted-icon').waitFor();
  await page.getByTestId('conv-muted').waitFor();
  await chatItem(phone, 'Bob').getByTestId('muted-icon').waitFor();
  assert.equal(await chatItem(page, 'Carol').getByTestId('muted-icon').isHidden(), true);
  assert.equal((await bob.call('GET', `/rooms/${withBob.id}`)).muted, false);

  // With the page hidden, the muted chat counts unread (grey badge) but notifies nothing; the
  // other chat notifies, and only it counts in the title.
  await page.evaluate(() => { window.__hidden = true; });
  await bob.call('POST', `/rooms/${withBob.id}/messages`, { body: 'are you there?', client_id: 'b-1' });
  const bobBadge = chatItem(page, 'Bob').getByTestId('unread-badge');
  await bobBadge.filter({ hasText: '1' }).waitFor();
  assert.match(await bobBadge.getAttribute('class'), /\bmuted\b/);
  await carol.call('POST', `/rooms/${withCarol.id}/messages`, { body: 'lunch?', client_id: 'c-1' });
  await page.waitForFunction(() => window.__notes.length > 0);
  assert.deepEqual(await page.evaluate(() => window.__notes), [{ title: 'Carol', body: 'lunch?' }]);
  assert.equal(await page.title(), '(1) Chat');
  await page.evaluate(() => { window.__hidden = false; });

  // Archive: the chat moves under "Archived" on both devices, and a new message leaves it there.
  await chooseFromRoomMenu(page, 'room-archive');
  const list = page.getByTestId('chat-list');
  for (const p of [page, phone]) {
    await p.getByTestId('archived-count').filter({ hasText: '1' }).waitFor();
    await p.getByTestId('chat-list').getByTestId('chat-item-name').filter({ hasText: 'Bob' }).waitFor({ state: 'detached' });
  }
  await bob.call('POST', `/rooms/${withBob.id}/messages`, { body: 'still archived?', client_id: 'b-2' });
  await phone.getByTestId('archived-toggle').click();
  const archivedOnPhone = phone.getByTestId('archived-list').getByTestId('chat-item');
  await archivedOnPhone.getByTestId('chat-item-preview').filter({ hasText: 'still archived?' }).waitFor();
  assert.equal(await phone.getByTestId('archived-toggle').getAttribute('aria-expanded'), 'true');
  assert.equal(await list.getByTestId('chat-item-name').filter({ hasText: 'Bob' }).count(), 0);
  assert.equal((await alice.call('GET', '/rooms')).rooms.find((r) => r.id === withBob.id).archived, true);

  // Unarchive and unmute bring it all back, everywhere.
  await chooseFromRoomMenu(page, 'room-unarchive');
  await chooseFromRoomMenu(page, 'room-unmute');
  for (const p of [page, phone]) {
    await p.getByTestId('chat-list').getByTestId('chat-item-name').filter({ hasText: 'Bob' }).waitFor();
    await chatItem(p, 'Bob').getByTestId('muted-icon').waitFor({ state: 'hidden' });
    assert.equal(await p.getByTestId('archived-toggle').isHidden(), true);
  }
  const mine = (await alice.call('GET', '/rooms')).rooms.find((r) => r.id === withBob.id);
  assert.deepEqual([mine.muted, mine.archived], [false, false]);

  await assertClean(page, assert);
  await assertClean(phone, assert);
});

test('the title counts unread chats neither muted nor archived; a mention in a muted chat shows @', async () => {
  const gina = await apiUser(env.server, 'gina', undefined, 'Gina');
  const hank = await apiUser(env.server, 'hank', undefined, 'Hank');
  const ivy = await apiUser(env.server, 'ivy', undefined, 'Ivy');
  const jack = await apiUser(env.server, 'jack', undefined, 'Jack');
  const quiet = await hank.call('POST', '/rooms', { name: 'Quiet', members: [gina.user.id] });
  const old = await ivy.call('POST', '/rooms/direct', { user_id: gina.user.id });
  const busy = await jack.call('POST', '/rooms/direct', { user_id: gina.user.id });
  await gina.call('PATCH', `/rooms/${quiet.id}/settings`, { muted: true });
  await gina.call('PATCH', `/rooms/${old.id}/settings`, { archived: true });
  let sent = 0;
  const say = (who, room, body) => who.call('POST', `/rooms/${room.id}/messages`, { body, client_id: `t-${++sent}` });
  await say(hank, quiet, 'news');
  await say(ivy, old, 'remember me?');
  await say(jack, busy, 'one');
  await say(jack, busy, 'two');

  // One chat calls for attention (with two messages); the muted and the archived ones do not.
  const page = await openPage(env.browser, env.server);
  await login(page, 'gina');
  await chatItem(page, 'Jack').getByTestId('unread-badge').filter({ hasText: '2' }).waitFor();
  await page.waitForFunction(() => document.title === '(1) Chat');
  const mark = chatItem(page, 'Quiet').getByTestId('mention-mark');
  assert.equal(await mark.isHidden(), true);

  // A message naming me in the muted chat marks its row with @, and still does not count.
  await say(hank, quiet, '@gina your view?');
  await mark.waitFor();
  assert.equal(await mark.getAttribute('aria-label'), 'You were mentioned');
  assert.equal(await page.title(), '(1) Chat');
  // Unarchived, Ivy's chat counts again.
  await gina.call('PATCH', `/rooms/${old.id}/settings`, { archived: false });
  await page.waitForFunction(() => document.title === '(2) Chat');
  // Reading the muted chat takes the mark away.
  await openChat(page, 'Quiet');
  await mark.waitFor({ state: 'hidden' });
  assert.equal(await page.title(), '(2) Chat');

  await assertClean(page, assert);
});

test('on a phone: the chat menu fits the screen, and Archived opens from the list', async () => {
  const dave = await apiUser(env.server, 'dave', undefined, 'Dave');
  const erin = await apiUser(env.server, 'erin', undefined, 'Erin');
  const room = await erin.call('POST', '/rooms/direct', { user_id: dave.user.id });
  await erin.call('POST', `/rooms/${room.id}/messages`, { body: 'see you', client_id: 'e-1' });

  const page = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, 'dave');
  await openChat(page, 'Erin');
  const button = page.getByTestId('room-menu-button');
  const target = await button.boundingBox();
  assert.ok(target.width >= 44 && target.height >= 44, `the menu button is ${target.width}×${target.height}`);
  await button.tap();
  const menu = page.getByTestId('room-menu');
  await menu.waitFor();
  const b = await menu.boundingBox();
  assert.ok(b.x >= 0 && b.x + b.width <= 390, `the menu is inside the screen: ${JSON.stringify(b)}`);
  await menu.getByTestId('room-archive').tap();
  await page.getByTestId('toasts').filter({ hasText: 'Chat archived' }).waitFor();

  await page.getByTestId('back-button').tap();
  const toggle = page.getByTestId('archived-toggle');
  await toggle.waitFor();
  assert.equal(await page.getByTestId('chat-list').getByTestId('chat-item').count(), 0);
  await toggle.tap();
  const archived = page.getByTestId('archived-list').getByTestId('chat-item');
  await archived.waitFor();
  const a = await archived.boundingBox();
  assert.ok(a.x >= 0 && a.x + a.width <= 390, `the archived chat is inside the screen: ${JSON.stringify(a)}`);
  await archived.tap();
  await page.getByTestId('conv-title').filter({ hasText: 'Erin' }).waitFor();

  await assertClean(page, assert);
});
