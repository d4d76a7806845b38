// Message search: the chat list's search box lists messages from my chats with the matched part
// marked (as text, never markup); choosing one opens the chat with its history loaded back to
// the message, scrolled to and marked; a hit far back opens with only the page around it, and
// reading down loads newer pages until they meet the newest messages, without a hole. On a
// phone too.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClean, openPage, useServerAndBrowser } from '../lib/browser.js';
import { apiUser } from '../lib/server.js';
import { login } from '../lib/ui.js';

// Seeding hundreds of messages over REST goes faster than one user may send by default.
const env = useServerAndBrowser({ args: ['--send-rate-per-sec', '100000', '--send-burst', '100000'] });

/** A direct chat from `from` to `to` whose third message holds `needle`, under a page and more. */
async function chatWithOldHit(from, to, needle) {
  const room = await from.call('POST', '/rooms/direct', { user_id: to.user.id });
  for (let i = 1; i <= 70; i += 1) {
    const body = i === 3 ? needle : `filler message number ${i}`;
    await from.call('POST', `/rooms/${room.id}/messages`, { body, client_id: `s-${room.id}-${i}` });
  }
  return room;
}

/** Whether the row of message `seq` is marked as found and inside the visible log. */
function revealed(page, seq) {
  return page.waitForFunction((s) => {
    const row = document.querySelector(`[data-testid="message"][data-seq="${s}"]`);
    const log = document.querySelector('[data-testid="messages"]');
    if (!row?.classList.contains('found') || !log) return false;
    const r = row.getBoundingClientRect();
    const l = log.getBoundingClientRect();
    return r.top >= l.top && r.bottom <= l.bottom;
  }, seq);
}

test('search lists my messages with the match marked and jumps to one in context', async () => {
  const alice = await apiUser(env.server, 'alice', undefined, 'Alice');
  const bob = await apiUser(env.server, 'bob', undefined, 'Bob');
  const carol = await apiUser(env.server, 'carol', undefined, 'Carol');
  const room = await chatWithOldHit(bob, alice, 'the <b>SECRET</b> plan: 50% off');
  // A chat alice is not in: its text never shows in her results.
  const other = await carol.call('POST', '/rooms/direct', { user_id: bob.user.id });
  await carol.call('POST', `/rooms/${other.id}/messages`, { body: 'carol keeps a secret too', client_id: 'c-1' });

  const page = await openPage(env.browser, env.server);
  await login(page, 'alice');
  await page.getByTestId('search').fill('secret');
  const hit = page.getByTestId('message-result');
  await hit.first().waitFor();
  assert.equal(await hit.count(), 1, 'only chats alice is in');
  assert.equal(await hit.getAttribute('data-seq'), '3');
  assert.equal(await hit.getByTestId('message-result-text').textContent(), 'Bob: the <b>SECRET</b> plan: 50% off');
  assert.deepEqual(await hit.getByTestId('match').allTextContents(), ['SECRET']);
  assert.equal(await hit.locator('b').count(), 0, 'text is data, not markup');

  // The literal text, with its % sign, finds it too.
  await page.getByTestId('search').fill('50% off');
  await page.waitForFunction(() => document.querySelector('[data-testid="message-result"] [data-testid="match"]')?.textContent === '50% off');

  await hit.click();
  await page.getByTestId('conversation').waitFor();
  await revealed(page, 3);
  // History is loaded around it, without a hole up to the newest message.
  for (const seq of [1, 2, 4, 70]) {
    assert.equal(await page.locator(`[data-testid="message"][data-seq="${seq}"]`).count(), 1, `message ${seq} is loaded`);
  }
  assert.equal(await page.locator('.msg-row.found').count(), 1);
  assert.equal(room.id, Number(await page.getByTestId('conversation').getAttribute('data-room-id')));

  await assertClean(page, assert);
});

test('on a phone: search, tap a hit, the message shows marked on screen', async () => {
  const dave = await apiUser(env.server, 'dave', undefined, 'Dave');
  const erin = await apiUser(env.server, 'erin', undefined, 'Erin');
  await chatWithOldHit(erin, dave, 'meet by the lighthouse at six');

  const page = await openPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, 'dave');
  await page.getByTestId('search').fill('LIGHTHOUSE');
  const hit = page.getByTestId('message-result');
  await hit.first().waitFor();
  const box = await hit.first().boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `the hit fits the screen: ${JSON.stringify(box)}`);
  assert.deepEqual(await hit.getByTestId('match').allTextContents(), ['lighthouse']);
  await hit.first().tap();
  await page.getByTestId('conversation').waitFor();
  await revealed(page, 3);
  const bubble = await page.locator('[data-testid="message"][data-seq="3"] .bubble').boundingBox();
  assert.ok(bubble.x >= 0 && bubble.x + bubble.width <= 390, `the message fits the screen: ${JSON.stringify(bubble)}`);

  await assertClean(page, assert);
});

/** The seqs of the messages in the log, in the order shown. */
function shownSeqs(page) {
  return page.locator('[data-testid="message"][data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
}

test('a hit 300 messages back opens with the page around it; reading down meets the newest', async () => {
  const gus = await apiUser(env.server, 'gus', undefined, 'Gus');
  const hal = await apiUser(env.server, 'hal', undefined, 'Hal');
  const room = await hal.call('POST', '/rooms/direct', { user_id: gus.user.id });
  const say = (body, i) => hal.call('POST', `/rooms/${room.id}/messages`, { body, client_id: `h-${i}` });
  const LAST = 330;
  for (let i = 1; i <= LAST; i += 1) await say(i === 10 ? 'the ancient riddle' : `line ${i}`, i);

  const page = await openPage(env.browser, env.server);
  const pages = [];
  page.on('request', (r) => { if (/\/rooms\/\d+\/messages\?/.test(r.url())) pages.push(new URL(r.url()).search); });
  await login(page, 'gus');
  await page.getByTestId('search').fill('riddle');
  await page.getByTestId('message-result').first().click();
  await page.getByTestId('conversation').waitFor();
  await revealed(page, 10);
  // The newest page (opening the chat), the page around the hit and perhaps one before it: not
  // the six pages in between.
  assert.ok(pages.length <= 4, `history requests: ${pages.join(' ')}`);
  assert.ok(pages.some((q) => q.includes('around=10')), `asked around the hit: ${pages.join(' ')}`);
  let seqs = await shownSeqs(page);
  assert.ok(seqs.includes(9) && seqs.includes(11), 'the hit shows with its neighbours');
  assert.ok(!seqs.includes(LAST), 'the newest messages wait until reading reaches them');

  // A message that comes meanwhile is not shown out of place (the list, searched no more,
  // shows it as the chat's newest).
  await page.getByTestId('search').fill('');
  await say('sent while gus reads old ones', LAST + 1);
  await page.waitForFunction(() => document.querySelector('[data-testid="chat-item-preview"]')?.textContent.includes('while gus reads'));
  assert.ok(!(await shownSeqs(page)).includes(LAST + 1));

  // Reading down loads the next pages until the newest: every seq once, in order, no hole.
  const log = page.getByTestId('messages');
  for (let i = 0; i < 20 && !(await shownSeqs(page)).includes(LAST + 1); i += 1) {
    const before = (await shownSeqs(page)).length;
    await log.evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"][data-seq]').length > n, before);
  }
  seqs = await shownSeqs(page);
  assert.equal(seqs.at(-1), LAST + 1);
  seqs.forEach((seq, i) => { if (i) assert.equal(seq, seqs[i - 1] + 1, `no hole before ${seq}`); });
  assert.ok(seqs[0] <= 10);

  // Joined to the newest: live messages show again, at the end.
  await say('and now live', LAST + 2);
  await page.locator(`[data-testid="message"][data-seq="${LAST + 2}"]`).waitFor();
  assert.equal((await shownSeqs(page)).at(-1), LAST + 2);

  await assertClean(page, assert);
});
