// Hostile text in messages, display names and room names shows as literal text: nothing from it
// becomes an element, no script runs, no dialog opens.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { message, openChat, register, sendText, startDirect } from '../lib/ui.js';

const NAME = '"><svg onload=alert(1)>';
const GROUP = '<script>alert(1)</script>';
const PAYLOAD = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '[click me](javascript:alert(1)) javascript:alert(1)',
  '"><svg onload=alert(1)>',
  'safe: https://example.com/ok',
].join('\n');

const env = useServerAndBrowser();

async function assertNoInjectedElements(page) {
  const found = await page.evaluate(() => ({
    imgX: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
    scripts: [...document.scripts].filter((s) => !s.src.endsWith('/app.js')).length,
    svgOnload: document.querySelectorAll('svg[onload]').length,
    handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
    jsLinks: [...document.querySelectorAll('a')].filter((a) => !/^https?:$/.test(new URL(a.href, location.href).protocol)).length,
  }));
  assert.deepEqual(found, { imgX: 0, scripts: 0, svgOnload: 0, handlers: 0, jsLinks: 0 });
}

test('XSS payloads in names and messages render as text', async () => {
  const mallory = await openPage(env.browser, env.server);
  const victim = await openPage(env.browser, env.server);
  await register(mallory, 'mallory', NAME);
  await register(victim, 'victim', 'Victor Victim');

  // A DM: the victim sees Mallory's name in the list and the header.
  await startDirect(mallory, 'victim');
  await sendText(mallory, PAYLOAD);
  const item = victim.getByTestId('chat-item').first();
  await item.getByTestId('chat-item-name').filter({ hasText: NAME }).waitFor();
  await item.click();
  const msg = message(victim, 'safe: https://example.com/ok');
  await msg.waitFor();
  assert.equal(await victim.getByTestId('conv-title').textContent(), NAME);
  assert.equal(await msg.getByTestId('message-body').textContent(), PAYLOAD);

  // Only the http(s) URL became a link, and a safe one.
  const links = msg.locator('a');
  assert.equal(await links.count(), 1);
  assert.equal(await links.getAttribute('href'), 'https://example.com/ok');
  assert.equal(await links.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await links.getAttribute('target'), '_blank');

  // Look-alike hosts: the link shows the host the browser would really visit.
  await mallory.getByTestId('composer-input').fill('login at https://аpple.com/account or https://apple.com@evil.example/x');
  await mallory.getByTestId('composer-input').press('Enter');
  const spoof = message(victim, 'login at');
  await spoof.waitFor();
  assert.deepEqual(await spoof.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.href])), [
    ['https://xn--pple-43d.com/account', 'https://xn--pple-43d.com/account'],
    ['https://evil.example/x', 'https://evil.example/x'],
  ]);

  // A group with a hostile name, where sender names are shown above messages.
  await mallory.getByTestId('new-group-button').click();
  const dialog = mallory.getByTestId('new-group-dialog');
  await dialog.getByTestId('group-name').fill(GROUP);
  await dialog.getByTestId('picker-search').fill('victim');
  await dialog.getByTestId('picker-item').first().click();
  await dialog.getByTestId('group-create').click();
  await mallory.getByTestId('conv-title').filter({ hasText: GROUP }).waitFor();
  await sendText(mallory, PAYLOAD);
  await openChat(victim, GROUP);
  const gmsg = message(victim, 'safe: https://example.com/ok');
  await gmsg.waitFor();
  assert.equal(await gmsg.getByTestId('message-sender').textContent(), NAME);
  assert.equal(await gmsg.getByTestId('message-body').textContent(), PAYLOAD);

  // A reply quoting the payload, then one more message: by the time it shows, any injected
  // <img onerror> would long have fired.
  await gmsg.hover();
  await gmsg.getByTestId('action-reply').click();
  await sendText(victim, 'quoted it');
  await message(mallory, 'quoted it').getByTestId('message-quote').waitFor();
  await sendText(mallory, 'last one');
  await message(victim, 'last one').waitFor();

  for (const page of [victim, mallory]) {
    await assertNoInjectedElements(page);
    await assertClean(page, assert);
  }
});
