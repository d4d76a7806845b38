// Messages of a custom kind (defined by a host application that embeds chat): this client draws
// none of them, so it shows a neutral placeholder and the text next to it, never the payload,
// and keeps working. The reference server registers no kinds and refuses them; the test makes
// one appear by rewriting the history the page loads, as a host's server would send it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { message, register, sendText, startDirect } from '../lib/ui.js';

const env = useServerAndBrowser();
const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';

test('a message of an unknown kind shows a placeholder, never its payload', async () => {
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const page = await openPage(env.browser, env.server);
  await register(page, 'alice', 'Alice');
  await startDirect(page, 'bob');
  const roomId = Number(await page.getByTestId('conversation').getAttribute('data-room-id'));
  await sendText(page, 'before');
  await sendText(page, 'vote below');
  await sendText(page, 'after');

  // The reference server itself accepts no custom kind.
  await assert.rejects(
    bob.call('POST', `/rooms/${roomId}/messages`, { kind: 'poll', payload: { question: '?' } }),
    /422 .*unknown_kind/,
  );

  // As a host's server would deliver it: the middle message carries a kind and a payload.
  await page.route(`**/api/v1/rooms/${roomId}/messages?*`, async (route) => {
    const response = await route.fetch();
    const page_ = await response.json();
    for (const m of page_.messages) {
      if (m.body === 'vote below') Object.assign(m, { kind: 'acme.poll', payload: { question: HOSTILE, options: [HOSTILE] } });
    }
    await route.fulfill({ response, json: page_ });
  });
  await page.reload();
  await page.getByTestId('chat-item').first().click();
  const poll = message(page, 'vote below');
  await poll.getByTestId('message-unsupported').waitFor();
  assert.equal(await poll.getByTestId('message-unsupported').textContent(), 'Unsupported message');
  assert.equal(await poll.getByTestId('message-body').textContent(), 'vote below', 'the text next to it shows');
  await message(page, 'before').waitFor();
  await message(page, 'after').waitFor();
  const injected = await page.evaluate(() => ({
    images: document.querySelectorAll('.msg-row img').length,
    payloadText: document.body.innerText.includes('onerror'),
  }));
  assert.deepEqual(injected, { images: 0, payloadText: false }, 'the payload is not on the page');

  // The client keeps working around it.
  await sendText(page, 'still here');
  await assertClean(page, assert);
});
