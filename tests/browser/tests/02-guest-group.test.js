// A guest joins a group created by a user, chats, upgrades to an account and keeps the history.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { bodies, chatItem, enterAsGuest, login, message, openChat, register, sendText, waitOnline } from '../lib/ui.js';

// Uma finds the guest by name and adds it to her group: everyone may reach everyone here.
const env = useServerAndBrowser({ args: ['--discovery', 'everyone'] });

test('a guest is added to a group, chats, upgrades and still sees the history', async () => {
  const uma = await openPage(env.browser, env.server);
  const guest = await openPage(env.browser, env.server, {
    // The test provokes a taken username on purpose; the browser logs the 409.
    allow: [{ text: /status of 409/, url: /\/api\/v1\/auth\/upgrade$/ }],
  });
  await register(uma, 'uma', 'Uma Thurman');
  await enterAsGuest(guest, 'Gus Guest');
  assert.match(await guest.getByTestId('me-name').textContent(), /Gus Guest \(guest\)/);

  // Uma creates a group and picks the guest as a member.
  await uma.getByTestId('new-group-button').click();
  const dialog = uma.getByTestId('new-group-dialog');
  await dialog.getByTestId('group-name').fill('Book club');
  await dialog.getByTestId('picker-search').fill('Gus');
  await dialog.getByTestId('picker-item').filter({ hasText: 'Gus Guest' }).click();
  await dialog.getByTestId('group-create').click();
  await uma.getByTestId('conv-title').filter({ hasText: 'Book club' }).waitFor();

  // The group appears in the guest's list without a reload.
  await chatItem(guest, 'Book club').waitFor();
  await openChat(guest, 'Book club');
  await sendText(uma, 'Welcome Gus! This month: Dune.');
  await message(guest, 'Welcome Gus!').waitFor();
  // In a group, the sender's name is shown on their messages.
  assert.equal(await message(guest, 'Welcome Gus!').getByTestId('message-sender').textContent(), 'Uma Thurman');
  await sendText(guest, 'Thanks, happy to be here');
  await message(uma, 'happy to be here').getByTestId('message-sender').filter({ hasText: 'Gus Guest' }).waitFor();
  // Display names are not unique: a guest's messages in a group are marked as a guest's.
  await message(uma, 'happy to be here').getByTestId('message-sender-guest').waitFor();
  assert.equal(await message(guest, 'Welcome Gus!').getByTestId('message-sender-guest').count(), 0);

  // Group info shows members with roles; the admin renames the group and the guest sees it live.
  await uma.getByTestId('conv-info').click();
  const info = uma.getByTestId('group-info');
  await info.getByTestId('member').filter({ hasText: 'Gus Guest' }).waitFor();
  assert.equal(await info.getByTestId('member').count(), 2);
  assert.match(await info.getByTestId('member').filter({ hasText: 'Uma Thurman' }).textContent(), /Admin/);
  // A search for people to add, typed before the rename, survives the dialog's refresh.
  await info.getByTestId('picker-search').fill('nobody-here');
  await info.getByTestId('rename-input').fill('Book club 2026');
  await info.getByTestId('rename-submit').click();
  await guest.getByTestId('conv-title').filter({ hasText: 'Book club 2026' }).waitFor();
  await info.getByTestId('info-name').filter({ hasText: 'Book club 2026' }).waitFor();
  assert.equal(await info.getByTestId('picker-search').inputValue(), 'nobody-here');
  await uma.keyboard.press('Escape');
  await info.waitFor({ state: 'detached' });

  // The guest upgrades from the menu.
  await guest.getByTestId('menu-button').click();
  await guest.getByTestId('menu-upgrade').click();
  const form = guest.getByTestId('upgrade-form');
  // A taken username is reported inline on the field.
  await form.getByTestId('input-username').fill('uma');
  await form.getByTestId('input-password').fill('gus-secret-passphrase');
  await form.getByTestId('upgrade-submit').click();
  await form.getByTestId('error-username').filter({ hasText: /\S/ }).waitFor();
  await form.getByTestId('input-username').fill('gus');
  await form.getByTestId('upgrade-submit').click();
  await form.waitFor({ state: 'detached' });
  await guest.getByTestId('me-name').filter({ hasText: /^Gus Guest$/ }).waitFor();
  // The upgrade replaced the guest's session: the page carries on with the new one, live.
  await waitOnline(guest);
  await sendText(guest, 'Now with an account');
  await message(uma, 'Now with an account').waitFor();

  // Reload: still signed in (cookie session), history intact.
  await guest.reload();
  await waitOnline(guest);
  await openChat(guest, 'Book club 2026');
  await message(guest, 'Now with an account').waitFor();
  assert.deepEqual(await bodies(guest), ['Welcome Gus! This month: Dune.', 'Thanks, happy to be here', 'Now with an account']);

  // Log out, log back in with the new credentials: same history.
  await guest.getByTestId('menu-button').click();
  await guest.getByTestId('menu-logout').click();
  await guest.getByTestId('enter').waitFor();
  await login(guest, 'gus', 'gus-secret-passphrase');
  await openChat(guest, 'Book club 2026');
  await message(guest, 'Now with an account').waitFor();
  assert.deepEqual(await bodies(guest), ['Welcome Gus! This month: Dune.', 'Thanks, happy to be here', 'Now with an account']);

  await assertClean(uma, assert);
  await assertClean(guest, assert);
});
