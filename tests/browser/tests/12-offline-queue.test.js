// Messages, images and edits made offline survive a reload and are sent once, in the order
// they were made.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, OFFLINE_NOISE, openPage, useServerAndBrowser } from '../lib/browser.js';
import { makePng, pasteImage } from '../lib/media.js';
import { apiUser } from '../lib/server.js';
import { message, openChat, waitOnline } from '../lib/ui.js';

const env = useServerAndBrowser();

const stored = async (api, roomId) => (await api.call('GET', `/rooms/${roomId}/messages?limit=100`)).messages;

test('a message, an image and an edit made offline survive a reload and are sent once', async () => {
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const dan = await apiUser(env.server, 'dan', undefined, 'Dan');
  const room = await dan.call('POST', '/rooms/direct', { user_id: carol.user.id });
  await carol.call('POST', `/rooms/${room.id}/messages`, { body: 'tpyo', client_id: 'typo' });

  const page = await openPage(env.browser, env.server, { allow: OFFLINE_NOISE });
  // No live channel (it never says hello) and no uploads: the client is offline for sending.
  let socket = null;
  let offline = true;
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    if (offline) socket = ws;
    else ws.connectToServer();
  });
  await page.route('**/api/v1/rooms/*/media', (route) => route.abort('internetdisconnected'));
  await page.goto(env.server.url + '/');
  await page.getByTestId('input-username').fill('carol');
  await page.getByTestId('input-password').fill('correct-horse-battery-9');
  await page.getByTestId('enter-submit').click();
  await openChat(page, 'Dan');
  await message(page, 'tpyo').waitFor();

  const input = page.getByTestId('composer-input');
  await input.fill('written offline');
  await input.press('Enter');
  await pasteImage(input, await makePng(page), 'offline.png');
  await input.fill('photo offline');
  await input.press('Enter');
  await input.press('ArrowUp');   // edits the newest own message the server has
  await page.getByTestId('composer-context').filter({ hasText: 'tpyo' }).waitFor();
  await input.fill('typo');
  await input.press('Enter');
  await message(page, 'typo').and(page.locator('[data-edit-pending]')).waitFor();
  const pendingTicks = page.locator('[data-testid="tick"][data-status="pending"]');
  assert.equal(await pendingTicks.count(), 2);

  // Reload: still offline, and everything is still there, waiting.
  await page.reload();
  await message(page, 'photo offline').waitFor();
  await message(page, 'written offline').locator('[data-testid="tick"][data-status="pending"]').waitFor();
  await message(page, 'photo offline').getByTestId('message-image').waitFor();
  await message(page, 'typo').and(page.locator('[data-edit-pending]')).waitFor();

  // Back online: each is sent once, in the order it was made.
  await page.unrouteAll({ behavior: 'wait' });
  offline = false;
  await socket.close({ code: 1001, reason: 'back online' });
  await waitOnline(page);
  await message(page, 'photo offline').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  await message(page, 'written offline').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  await message(page, 'typo').and(page.locator(':not([data-edit-pending])')).waitFor();
  const messages = await stored(dan, room.id);
  assert.deepEqual(messages.map((m) => [m.body, !!m.media]), [['typo', false], ['written offline', false], ['photo offline', true]]);
  assert.ok(messages[0].edited_at, 'the edit was applied');

  // Nothing is left to send after another reload.
  await page.reload();
  await waitOnline(page);
  await message(page, 'photo offline').waitFor();
  assert.equal(await pendingTicks.count(), 0);
  assert.equal((await stored(dan, room.id)).length, 3);

  await assertClean(page, assert);
});
