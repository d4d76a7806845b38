// A server admin sees the user list (200 at a time, with "Show more" for the rest) and disables an
// account; the disabled account is signed out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login, PASSWORD } from '../lib/ui.js';

// Enough guests from one address to fill more than one page of the user list.
const env = useServerAndBrowser({ args: ['--guests-per-hour', '300'] });
const GUESTS = 205;

async function makeGuests(server, n) {
  for (let done = 0; done < n; done += 25) {
    await Promise.all(Array.from({ length: Math.min(25, n - done) }, async (_, i) => {
      const res = await fetch(`${server.url}/api/v1/auth/guest`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ display_name: `Visitor ${done + i + 1}` }),
      });
      if (res.status !== 201) throw new Error(`guest: ${res.status} ${await res.text()}`);
    }));
  }
}

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
  await admin.getByTestId('admin-status').filter({ hasText: '2 users' }).waitFor();
  assert.equal(await admin.getByTestId('admin-more').isVisible(), false);
  await row.getByTestId('admin-disable').click();
  await row.filter({ hasText: 'disabled' }).waitFor();

  // Past the first page: 200 shown, then the rest.
  await makeGuests(env.server, GUESTS);
  await admin.getByTestId('admin-back').click();
  await admin.getByTestId('menu-button').click();
  await admin.getByTestId('menu-admin').click();
  await admin.getByTestId('admin-status').filter({ hasText: '200 users shown' }).waitFor();
  assert.equal(await admin.getByTestId('admin-user').count(), 200);
  await admin.getByTestId('admin-more').click();
  await admin.getByTestId('admin-status').filter({ hasText: `${GUESTS + 2} users` }).waitFor();
  const ids = await admin.getByTestId('admin-user').evaluateAll((rows) => rows.map((r) => Number(r.dataset.userId)));
  assert.equal(ids.length, GUESTS + 2);
  assert.equal(new Set(ids).size, ids.length, 'no user twice');
  assert.equal(await admin.getByTestId('admin-more').isVisible(), false);

  // Eve's session is over: her API token stops working and her page goes back to the sign-in.
  await assert.rejects(eve.call('GET', '/me'), /401/);
  await user.getByTestId('enter').waitFor();

  await assertClean(admin, assert);
  await assertClean(user, assert);
});
