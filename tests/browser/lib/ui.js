// What a user does in the web client, as reusable steps. Every wait is on a selector or a
// condition in the page, never a fixed sleep.

export const PASSWORD = 'correct-horse-battery-9';

export async function register(page, username, displayName, password = PASSWORD) {
  await page.goto(page.server.url + '/');
  await page.getByTestId('tab-register').click();
  await page.getByTestId('input-username').fill(username);
  await page.getByTestId('input-password').fill(password);
  if (displayName) await page.getByTestId('input-display_name').fill(displayName);
  await page.getByTestId('enter-submit').click();
  await page.getByTestId('app').waitFor();
  await waitOnline(page);
}

export async function login(page, username, password = PASSWORD) {
  await page.goto(page.server.url + '/');
  await page.getByTestId('input-username').fill(username);
  await page.getByTestId('input-password').fill(password);
  await page.getByTestId('enter-submit').click();
  await page.getByTestId('app').waitFor();
  await waitOnline(page);
}

export async function enterAsGuest(page, name) {
  await page.goto(page.server.url + '/');
  if (name) await page.getByTestId('input-guest_name').fill(name);
  await page.getByTestId('guest-submit').click();
  await page.getByTestId('app').waitFor();
  await waitOnline(page);
}

/** Waits until the live connection is up (the client exposes its state on <body>). */
export async function waitOnline(page) {
  await page.waitForFunction(() => document.body.dataset.connection === 'online', null, { timeout: 15000 });
}

/** Searches a user by name and opens the direct chat with them. */
export async function startDirect(page, query) {
  await page.getByTestId('search').fill(query);
  await page.getByTestId('user-result').first().click();
  await page.getByTestId('conversation').waitFor();
}

/** The chat-list item whose name holds `title` (not its preview: a group's preview names senders). */
export function chatItem(page, title) {
  return page.getByTestId('chat-item').filter({ has: page.getByTestId('chat-item-name').filter({ hasText: title }) });
}

export async function openChat(page, title) {
  await chatItem(page, title).first().click();
  await page.getByTestId('conversation').waitFor();
  await page.getByTestId('conv-title').filter({ hasText: title }).waitFor();
}

export async function sendText(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
  await message(page, text).waitFor();
}

/** The bubble whose body contains `text`. */
export function message(page, text) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-body').filter({ hasText: text }) });
}

/** Texts of all message bodies in the open conversation, in display order. */
export function bodies(page) {
  return page.getByTestId('message-body').allTextContents();
}
