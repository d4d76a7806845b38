// A server admin sees the user list and disables an account; the disabled account is signed out.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClean, launch, openPage } from '../lib/browser.js';
import { apiUser, startServer } from '../lib/server.js';
import { login, PASSWORD } from '../lib/ui.js';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('server admin lists users and disables one', async () => {
  await apiUser(server, 'root', PASSWORD, 'Root Admin');
  const eve = await apiUser(server, 'eve', PASSWORD, 'Eve Spammer');
  await server.cli(['admin', 'promote', 'root']);

  // A normal user has no admin entry in the menu.
  const user = await openPage(browser, server);
  await login(user, 'eve');
  await user.getByTestId('menu-button').click();
  await user.getByTestId('menu-logout').waitFor();
  assert.equal(await user.getByTestId('menu-admin').count(), 0);
  await user.keyboard.press('Escape');

  const admin = await openPage(browser, server, { acceptConfirm: true });
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
