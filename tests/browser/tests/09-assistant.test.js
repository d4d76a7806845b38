// The writing assistant: ✨ checks the draft, a fix is accepted from the panel or from the bar
// over an underlined word, Ctrl+Z undoes it, Esc closes, and the fixed text is what gets sent.
// The draft itself never reaches the server's storage. A server that offers no assistant shows
// no ✨.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { startServer } from '../lib/server.js';
import { message, openChat, register, startDirect } from '../lib/ui.js';

const env = useServerAndBrowser();

/** Every file the server keeps (database, WAL, media), as one string, to search for text. */
function storedBytes(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath ?? e.path, e.name)).toString('latin1'))
    .join('\n');
}

test('✨ finds a typo, the fix is accepted (and undoable), and the fixed text is sent', async () => {
  const alice = await openPage(env.browser, env.server);
  const bob = await openPage(env.browser, env.server);
  await register(alice, 'alice', 'Alice');
  await register(bob, 'bob', 'Bob');
  await startDirect(alice, 'bob');

  const input = alice.getByTestId('composer-input');
  const sparkle = alice.locator('[data-testid="assist-button"][data-offer="ready"]');
  await sparkle.waitFor();
  assert.equal(await sparkle.getAttribute('aria-label'), 'Writing help');
  await input.fill('See you tomorow at noon');

  // ✨ opens the panel: the typo is listed with its fix and underlined in the composer.
  await sparkle.click();
  const panel = alice.getByTestId('assist-panel');
  await panel.waitFor();
  assert.equal(await sparkle.getAttribute('aria-expanded'), 'true');
  const fix = panel.getByTestId('assist-fix').filter({ hasText: /^tomorrow$/ });
  await fix.waitFor();
  assert.equal(await alice.getByTestId('assist-marks').locator('mark').textContent(), 'tomorow');
  assert.match(await alice.getByTestId('assist-status').textContent(), /suggestion/);

  // Esc closes the panel and gives the composer the focus back.
  await panel.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await alice.evaluate(() => document.activeElement?.dataset.testid), 'composer-input');

  // The caret on the underlined word opens the small bar; its fix replaces the word.
  await input.press('Home');
  for (let i = 0; i < 10; i += 1) await input.press('ArrowRight');
  const bar = alice.getByTestId('assist-popover');
  await bar.waitFor();
  await bar.getByTestId('assist-fix').filter({ hasText: /^tomorrow$/ }).click();
  assert.equal(await input.inputValue(), 'See you tomorrow at noon');
  await bar.waitFor({ state: 'hidden' });

  // Ctrl+Z undoes the fix, Ctrl+Shift+Z brings it back.
  await input.press('Control+z');
  assert.equal(await input.inputValue(), 'See you tomorow at noon');
  await input.press('Control+Shift+z');
  assert.equal(await input.inputValue(), 'See you tomorrow at noon');

  // Sent: Bob sees the fixed text; the typo'd draft was never stored anywhere.
  await input.press('Enter');
  await message(alice, 'See you tomorrow at noon').locator('[data-testid="tick"][data-status="sent"]').waitFor();
  await openChat(bob, 'Alice');
  await message(bob, 'See you tomorrow at noon').waitFor();
  const stored = storedBytes(env.server.dataDir);
  assert.ok(stored.includes('See you tomorrow at noon'), 'the sent message is stored');
  assert.ok(!stored.includes('tomorow'), 'the draft was stored');

  await assertClean(alice, assert);
  await assertClean(bob, assert);
});

test('a server that offers no assistant shows no ✨', async () => {
  const bare = await startServer({ args: ['--offline-assistant', 'false'] });
  try {
    const page = await openPage(env.browser, bare);
    await register(page, 'carol', 'Carol');
    await register(await openPage(env.browser, bare), 'dave', 'Dave');
    await startDirect(page, 'dave');
    await page.getByTestId('composer-input').waitFor();
    // The button says when the offer has arrived; it stays hidden.
    await page.locator('[data-testid="assist-button"][data-offer="none"]').waitFor({ state: 'attached' });
    assert.equal(await page.getByTestId('assist-button').isVisible(), false);
    await assertClean(page, assert);
  } finally {
    await bare.close();
  }
});
