// Profiles: I change my photo and name from my profile, and the people I chat with see the
// change live, with no reload (the photo cropped square by the server, names always as text).
// "Last seen" shows in a direct chat once the other side goes offline, until either side hides it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axeViolations } from '../lib/axe.js';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { makePng } from '../lib/media.js';
import { apiUser } from '../lib/server.js';
import { chatItem, login, openChat } from '../lib/ui.js';

const env = useServerAndBrowser();

/** Opens my profile from my name at the top of the chat list. */
async function openProfile(page) {
  await page.getByTestId('profile-button').click();
  await page.getByTestId('profile-dialog').waitFor();
}

/** Waits until `img` has loaded, and answers its natural size. */
async function loadedSize(img) {
  await img.waitFor();
  return img.evaluate(async (el) => {
    if (!el.complete) await new Promise((res, rej) => { el.onload = res; el.onerror = rej; });
    return { width: el.naturalWidth, height: el.naturalHeight };
  });
}

test('a new photo and name reach the other side live, and a name is only ever text', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const room = await bob.call('POST', '/rooms/direct', { user_id: alice.user.id });
  await bob.call('POST', `/rooms/${room.id}/messages`, { body: 'nice photo?', client_id: 'b-1' });

  const alicePage = await openPage(env.browser, env.server);
  await login(alicePage, 'alice');
  const bobPage = await openPage(env.browser, env.server);
  await login(bobPage, 'bob');
  await openChat(bobPage, 'Alice');
  assert.equal(await chatItem(bobPage, 'Alice').getByTestId('avatar-img').count(), 0, 'no photo yet: initials');

  // Alice picks a photo wider than tall; the server crops it square.
  await openProfile(alicePage);
  const png = await makePng(alicePage, { width: 300, height: 200 });
  const [chooser] = await Promise.all([
    alicePage.waitForEvent('filechooser'),
    alicePage.getByTestId('profile-photo-change').click(),
  ]);
  await chooser.setFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
  await alicePage.getByTestId('profile-photo-status').filter({ hasText: 'Photo updated' }).waitFor();
  const { avatar } = await alice.call('GET', '/me');
  assert.match(avatar, /^[A-Za-z0-9_-]{22}$/);
  const url = `/api/v1/users/${alice.user.id}/avatar/${avatar}`;
  const own = await loadedSize(alicePage.getByTestId('profile-avatar').getByTestId('avatar-img'));
  assert.equal(own.width, own.height, `my photo is square: ${JSON.stringify(own)}`);
  assert.ok(own.width > 0 && own.width <= 512);

  // Bob's page shows it in the chat list and the header without a reload.
  for (const img of [chatItem(bobPage, 'Alice').getByTestId('avatar-img'), bobPage.locator('.conv-avatar').getByTestId('avatar-img')]) {
    await img.waitFor();
    assert.equal(await img.getAttribute('src'), url);
    const size = await loadedSize(img);
    assert.ok(size.width > 0 && size.width === size.height, `Bob sees a square photo: ${JSON.stringify(size)}`);
    assert.equal(await img.getAttribute('alt'), 'Alice');
  }

  // A new name reaches Bob live too.
  const nameInput = alicePage.getByTestId('profile-name-input');
  await nameInput.fill('Alice Liddell');
  await alicePage.getByTestId('profile-name-save').click();
  await alicePage.getByTestId('me-name').filter({ hasText: 'Alice Liddell' }).waitFor();
  await bobPage.getByTestId('conv-title').filter({ hasText: 'Alice Liddell' }).waitFor();
  await chatItem(bobPage, 'Alice Liddell').waitFor();

  // An empty name is refused on the field before it is sent; one of invisible characters only
  // by the server, on the field too. Nothing changes.
  const nameError = alicePage.getByTestId('error-display_name');
  await nameInput.fill('   ');
  await alicePage.getByTestId('profile-name-save').click();
  await nameError.filter({ hasText: 'Enter a name' }).waitFor();
  alicePage.allowConsole({ text: /status of 400/, url: /\/api\/v1\/me$/ });
  await nameInput.fill('\u202e');
  await alicePage.getByTestId('profile-name-save').click();
  await nameError.filter({ hasText: /\S/, hasNotText: 'Enter a name' }).waitFor();
  assert.equal((await alice.call('GET', '/me')).display_name, 'Alice Liddell');

  // Markup in a name is text: shown as typed, never parsed.
  const markup = '<img src=x onerror=window.__owned=1>';
  await nameInput.fill(markup);
  await alicePage.getByTestId('profile-name-save').click();
  await bobPage.getByTestId('conv-title').filter({ hasText: markup }).waitFor();
  assert.equal(await bobPage.getByTestId('conv-title').textContent(), markup);
  assert.equal(await chatItem(bobPage, markup).getByTestId('chat-item-name').textContent(), markup);
  assert.equal(await alicePage.getByTestId('me-name').textContent(), markup);
  for (const page of [alicePage, bobPage]) {
    assert.equal(await page.evaluate(() => window.__owned), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
  }

  // Removing the photo brings the initials back, on both sides.
  await alicePage.getByTestId('profile-photo-remove').click();
  await alicePage.getByTestId('profile-avatar').getByTestId('avatar-img').waitFor({ state: 'detached' });
  await bobPage.locator('.conv-avatar').getByTestId('avatar-img').waitFor({ state: 'detached' });
  assert.equal((await alice.call('GET', '/me')).avatar, null);

  await assertClean(alicePage, assert);
  await assertClean(bobPage, assert);
});

test('last seen shows once the other side is offline, until either side hides it', async () => {
  const erin = await apiUser(env.server, 'erin', undefined, 'Erin');
  const frank = await apiUser(env.server, 'frank', undefined, 'Frank');
  const room = await frank.call('POST', '/rooms/direct', { user_id: erin.user.id });

  const erinPage = await openPage(env.browser, env.server);
  await login(erinPage, 'erin');
  await openChat(erinPage, 'Frank');
  let frankPage = await openPage(env.browser, env.server);
  await login(frankPage, 'frank');
  const subtitle = erinPage.getByTestId('conv-subtitle');
  await subtitle.filter({ hasText: 'online' }).waitFor();

  // Frank leaves: Erin's header says when he was last seen.
  await frankPage.context().close();
  await subtitle.filter({ hasText: /^last seen today at / }).waitFor();

  // Frank comes back and hides his "last seen".
  frankPage = await openPage(env.browser, env.server);
  await login(frankPage, 'frank');
  await subtitle.filter({ hasText: 'online' }).waitFor();
  await openProfile(frankPage);
  const hide = frankPage.getByTestId('profile-hide-last-seen');
  await hide.check();
  await frankPage.waitForFunction(() => document.querySelector('[data-testid="profile-hide-last-seen"]')?.disabled === false);
  assert.equal((await frank.call('GET', '/me')).hide_last_seen, true);
  await frankPage.keyboard.press('Escape');
  await openChat(frankPage, 'Erin');

  // Erin no longer sees when he was last seen: not live, not after a reload.
  await frankPage.context().close();
  await subtitle.filter({ hasText: '@frank' }).waitFor();
  await erinPage.reload();
  await openChat(erinPage, 'Frank');
  await subtitle.filter({ hasText: '@frank' }).waitFor();
  assert.doesNotMatch(await subtitle.textContent(), /last seen/);
  const seenByErin = (await erin.call('GET', `/rooms/${room.id}`)).members.find((m) => m.id === frank.user.id);
  assert.equal(seenByErin.last_seen, null);

  // And, as he hides his, Frank does not see Erin's.
  frankPage = await openPage(env.browser, env.server);
  await login(frankPage, 'frank');
  await openChat(frankPage, 'Erin');
  const franksSubtitle = frankPage.getByTestId('conv-subtitle');
  await franksSubtitle.filter({ hasText: 'online' }).waitFor();
  await assertClean(erinPage, assert);
  await erinPage.context().close();
  await franksSubtitle.filter({ hasText: '@erin' }).waitFor();
  const seenByFrank = (await frank.call('GET', `/rooms/${room.id}`)).members.find((m) => m.id === erin.user.id);
  assert.equal(seenByFrank.last_seen, null);

  await assertClean(frankPage, assert);
});

test('on a phone the profile fits the screen and works by touch; it is axe-clean', async () => {
  await apiUser(env.server, 'gina', undefined, 'Gina');
  const page = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, 'gina');
  await page.getByTestId('profile-button').tap();
  const dialog = page.getByTestId('profile-dialog');
  await dialog.waitFor();
  for (const id of ['profile-photo-change', 'profile-name-input', 'profile-name-save', 'profile-hide-last-seen']) {
    const b = await dialog.getByTestId(id).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y + b.height <= 844, `${id} is on the screen: ${JSON.stringify(b)}`);
  }
  assert.deepEqual(await axeViolations(page), [], 'axe: profile');

  await dialog.getByTestId('profile-name-input').fill('Gina G');
  await dialog.getByTestId('profile-name-save').tap();
  await page.getByTestId('me-name').filter({ hasText: 'Gina G' }).waitFor();
  await dialog.getByTestId('profile-hide-last-seen').tap();
  await page.waitForFunction(() => document.querySelector('[data-testid="profile-hide-last-seen"]')?.disabled === false);
  await dialog.getByRole('button', { name: 'Close', exact: true }).tap();
  await dialog.waitFor({ state: 'detached' });

  await assertClean(page, assert);
});
