// An image shows as a thumbnail on both sides and opens full size; a voice message recorded from
// Chromium's fake microphone plays on the other side with a finite duration.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { makePng } from '../lib/media.js';
import { repoRoot } from '../lib/server.js';
import { openChat, register, sendText, startDirect } from '../lib/ui.js';

const env = useServerAndBrowser();

const imageLoaded = (locator) => locator.evaluate((img) => new Promise((resolve) => {
  const check = () => (img.complete && img.naturalWidth > 0 ? resolve(img.naturalWidth) : null);
  if (check() === null) { img.addEventListener('load', check); img.addEventListener('error', () => resolve(0)); }
}));

test('image thumbnails, full-size viewer and a voice message that plays', async () => {
  const ann = await openPage(env.browser, env.server);
  const ben = await openPage(env.browser, env.server);
  // Track object URLs (previews, played voice notes): each must be revoked when no longer shown.
  for (const page of [ann, ben]) {
    await page.addInitScript(() => {
      const live = new Set();
      window.liveObjectUrls = live;
      const create = URL.createObjectURL;
      const revoke = URL.revokeObjectURL;
      URL.createObjectURL = (object) => { const url = create(object); live.add(url); return url; };
      URL.revokeObjectURL = (url) => { live.delete(url); revoke(url); };
    });
  }
  await register(ann, 'ann', 'Ann Photo');
  await register(ben, 'ben', 'Ben Listener');
  await startDirect(ann, 'ben');
  await sendText(ann, 'Sending you a picture');
  await openChat(ben, 'Ann Photo');

  // Attach: a preview is shown before sending.
  await ann.getByTestId('file-input').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: await makePng(ann, { width: 800, height: 600 }) });
  await ann.getByTestId('attach-preview').waitFor();
  assert.ok(await imageLoaded(ann.getByTestId('attach-image')) > 0, 'preview image loads');
  await ann.getByTestId('composer-input').fill('Sunset 🌅');
  await ann.getByTestId('send-button').click();

  for (const page of [ann, ben]) {
    const thumb = page.getByTestId('message-image').last();
    await thumb.waitFor();
    assert.ok(await imageLoaded(thumb) > 0, 'the image loads');
  }
  // The bubble shows the server's 320 px thumbnail, sized from the message before it loads.
  const bubble = ben.getByTestId('message-image').last();
  assert.equal(await imageLoaded(bubble), 320, 'the receiver loads the thumbnail');
  assert.match(await bubble.getAttribute('src'), /\/api\/v1\/media\/[A-Za-z0-9_-]{22}\/thumbnail$/);
  assert.deepEqual([await bubble.getAttribute('width'), await bubble.getAttribute('height')], ['800', '600']);
  await ann.getByTestId('attach-preview').waitFor({ state: 'hidden' });
  // The chat list preview names the media kind.
  await ann.getByTestId('chat-item-preview').filter({ hasText: '📷' }).waitFor();

  // The viewer opens the full-size image and closes with Escape.
  await ben.getByTestId('open-image').last().click();
  const viewer = ben.getByTestId('viewer');
  await viewer.waitFor();
  assert.equal(await imageLoaded(viewer.getByTestId('viewer-image')), 800, 'the viewer shows the full image');
  await ben.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });

  // Voice: record from the fake microphone for about two seconds, then send.
  await ann.getByTestId('mic-button').click();
  await ann.getByTestId('recording').waitFor();
  await ann.getByTestId('recording-time').filter({ hasText: /^0:0[2-9]$/ }).waitFor();
  await ann.getByTestId('voice-send').click();
  await ann.getByTestId('recording').waitFor({ state: 'hidden' });

  const voice = ben.getByTestId('voice').last();
  await voice.waitFor();
  await ben.getByTestId('chat-item-preview').filter({ hasText: '🎤 Voice message' }).waitFor();
  // Voice notes are fetched only when played: nothing of it was downloaded yet.
  const mediaRequests = [];
  ben.on('request', (req) => { if (/\/api\/v1\/media\/[A-Za-z0-9_-]{22}$/.test(req.url())) mediaRequests.push(req.url()); });
  const handle = await voice.getByTestId('voice-audio').elementHandle();
  assert.equal(await handle.evaluate((audio) => audio.currentSrc), '', 'no audio source before play');
  // The server measured the recording from its container: its length shows before playback.
  assert.match(await voice.getByTestId('voice-time').textContent(), /^0:0[1-9]$/, 'duration before play');

  // Play: the bytes are fetched, the control switches to pause and time advances.
  await voice.getByTestId('voice-play').click();
  // WebM from MediaRecorder has no duration in its header; the client makes it finite.
  await ben.waitForFunction((audio) => Number.isFinite(audio.duration) && audio.duration > 0, handle, { timeout: 15000 });
  const duration = await handle.evaluate((audio) => audio.duration);
  assert.ok(duration > 0.5 && duration < 30, `duration ${duration}`);
  await ben.waitForFunction((audio) => audio.currentTime > 0.2, handle, { timeout: 15000 });
  await voice.locator('[aria-label="Pause voice message"]').waitFor();
  assert.equal(mediaRequests.length, 1, `fetched once, on play: ${mediaRequests}`);
  // Seekable: pause, drag the slider to the middle, and playback stands there.
  await voice.getByTestId('voice-play').click();
  await voice.locator('[aria-label="Play voice message"]').waitFor();
  await voice.locator('input[type="range"]').evaluate((range) => {
    range.value = '500';
    range.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const middle = await handle.evaluate((audio) => audio.currentTime / audio.duration);
  assert.ok(middle > 0.4 && middle < 0.6, `seeked to ${middle} of the note`);
  mkdirSync(join(repoRoot, 'tests/browser/artifacts'), { recursive: true });
  await ben.screenshot({ path: join(repoRoot, 'tests/browser/artifacts/media.png') });

  // Leaving the chat releases every object URL (the image preview once sent, the voice note).
  assert.ok(await ben.evaluate(() => window.liveObjectUrls.size) > 0, 'the played voice note is a blob');
  for (const page of [ann, ben]) {
    await page.keyboard.press('Escape');
    await page.getByTestId('conversation').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => window.liveObjectUrls.size), 0);
  }

  await assertClean(ann, assert);
  await assertClean(ben, assert);
});
