// A server admin sees the user list and disables an account; the disabled account is signed out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, PASSWORD } from '../lib/ui.js';

const env = useServerAndBrowser();

test('server admin lists users and disables one', async () => {
  await apiUser(env.server, 'root', PASSWORD, 'Root Admin');
  const eve = await apiUser(env.server, 'eve', PASSWORD, 'Eve Spammer');
  await env.server.cli(['admin', 'promote', 'root']);

  // A normal user has no admin entry in the menu.
  const user = await openPage(env.browser, env.server);
  await login(user, 'eve');
  await user.getByTestId('menu-button').click();
  await user.getByTestId('menu-logout').waitFor();
  assert.equal(await user.getByTestId('menu-admin').count(), 0);
  await user.keyboard.press('Escape');

  const admin = await openPage(env.browser, env.server, { acceptConfirm: true });
  await login(admin, 'root');
  await admin.getByTestId('menu-button').click();
  await admin.getByTestId('menu-admin').click();
  const row = admin.getByTestId('admin-user').filter({ hasText: 'eve' });
  await row.waitFor();
  assert.equal(await admin.getByTestId('admin-user').count(), 2);
  await row.getByTestId('admin-disable').click();
  await row.filter({ hasText: 'disabled' }).waitFor();

  // Eve's session is over: her API token stops working and her page goes back to the sign-in.
  await assert.rejects(eve.call('GET', '/me'), /401/);
  await user.getByTestId('enter').waitFor();

  await assertClean(admin, assert);
  await assertClean(user, assert);
});
