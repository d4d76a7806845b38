// Sending: the bubble shows at once with upload progress; images come in by paste and by drag
// and drop; a second Enter during an upload sends nothing twice; refused sends say why and offer
// a retry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { dropImage, makePng, pasteImage } from '../lib/media.js';
import { apiUser } from '../lib/server.js';
import { message, register, startDirect } from '../lib/ui.js';

// Small limits, so that "too large" and "rate limited" are quick to reach.
// A tight send budget that refuses instead of pacing: three at once, then one a second (the
// default would hold an over-eager sender instead, and a typist never hits it).
const env = useServerAndBrowser({
  args: ['--max-upload', '200000', '--send-rate-per-sec', '1', '--send-burst', '3', '--send-max-wait-ms', '0'],
});

function signal() {
  let fire;
  const fired = new Promise((resolve) => { fire = resolve; });
  return { fired, fire };
}

const stored = async (api, roomId) => (await api.call('GET', `/rooms/${roomId}/messages?limit=100`)).messages;

test('paste, drop, progress at once, and one message for a double Enter', async () => {
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const page = await openPage(env.browser, env.server, {
    // The test refuses an upload (413) and rate-limits sends on purpose.
    allow: [{ text: /status of 413/ }, { text: /server error frame rate_limited/ }],
  });
  await register(page, 'alice', 'Alice');
  await startDirect(page, 'bob');
  const roomId = Number(await page.getByTestId('conversation').getAttribute('data-room-id'));
  const input = page.getByTestId('composer-input');
  const png = await makePng(page);

  // Paste an image; the upload is held back by the test.
  const release = signal();
  await page.route('**/api/v1/rooms/*/media', async (route) => { await release.fired; await route.continue(); }, { times: 1 });
  await pasteImage(input, png);
  await page.getByTestId('attach-preview').waitFor();
  await input.fill('pasted');
  await input.press('Enter');
  await input.press('Enter');
  // The bubble is there before the upload finished: a local preview and a progress bar.
  const pending = page.getByTestId('message').filter({ has: page.getByTestId('upload-progress') });
  await pending.waitFor();
  await pending.getByTestId('message-image').waitFor();
  assert.equal(await page.getByTestId('attach-preview').isVisible(), false, 'the composer is empty again');
  // Text sent during the upload waits for it: messages go out in the order they were sent.
  await input.fill('after the picture');
  await input.press('Enter');
  await message(page, 'after the picture').locator('[data-testid="tick"][data-status="pending"]').waitFor();
  release.fire();
  await message(page, 'after the picture').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  await message(page, 'pasted').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  assert.equal(await pending.count(), 0, 'no progress bar once sent');

  // Drag and drop an image onto the conversation.
  await dropImage(page.getByTestId('conversation'), png);
  await page.getByTestId('attach-preview').waitFor();
  await input.fill('dropped');
  await page.getByTestId('send-button').click();
  await message(page, 'dropped').locator('[data-testid="tick"][data-status="sent"]').waitFor();

  const all = await stored(bob, roomId);
  assert.deepEqual(all.map((m) => [m.body, m.media?.mime ?? null]), [
    ['pasted', 'image/png'], ['after the picture', null], ['dropped', 'image/png'],
  ]);
  assert.equal(await page.getByTestId('message').count(), 3);

  // Too large: the bubble says why; discarding removes it.
  await pasteImage(input, await makePng(page, { width: 400, height: 300, noisy: true }), 'huge.png');
  await input.press('Enter');
  const failed = page.getByTestId('message').filter({ has: page.getByTestId('message-failed') });
  await failed.getByTestId('message-failed').filter({ hasText: 'too large' }).waitFor();
  await failed.getByTestId('action-retry').waitFor();
  await failed.getByTestId('action-discard').click();
  await failed.waitFor({ state: 'detached' });

  // Rate limited: a burst of sends, some refused with the reason; Retry sends each once.
  const burst = Array.from({ length: 6 }, (_, i) => `burst ${i + 1}`);
  // Typed and sent in one go (as fast as a paste-and-Enter macro), whatever the machine's speed.
  await input.evaluate((el, texts) => {
    for (const text of texts) {
      el.value = text;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    }
  }, burst);
  await failed.first().getByTestId('message-failed').filter({ hasText: 'too many messages' }).waitFor();
  // A retry before the next unit of budget is refused again: allow plenty of rounds.
  for (let round = 0; round < 300 && await failed.count(); round += 1) {
    const row = await failed.first().elementHandle();
    await failed.first().getByTestId('action-retry').click();   // waits until it is enabled
    // Wait until this retry was answered: sent, or refused again.
    await page.waitForFunction((el) => el.dataset.status !== 'pending', row);
  }
  assert.equal(await failed.count(), 0);
  for (const text of burst) await message(page, text).locator('[data-testid="tick"][data-status="sent"]').waitFor();
  const bodies = (await stored(bob, roomId)).map((m) => m.body);
  for (const text of burst) assert.equal(bodies.filter((b) => b === text).length, 1, `${text} stored once`);

  await assertClean(page, assert);
});
