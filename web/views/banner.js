// The connection banner above the app: says when the live channel is down and why, and offers a
// retry where one can help (the chat list failed to load; the server refused the connection).

import { t } from '../i18n.js';
import { h, setText } from '../util/dom.js';

/**
 * Store `connection` states and what the banner says: `connecting`/`online` say nothing;
 * `reconnecting` is temporary; `stopped` (with store.connectionReason) and `load-failed` wait
 * for the user's retry.
 */
export function renderBanner(ctx) {
  const { store, chat } = ctx;
  const text = h('span', { 'data-testid': 'connection-text' });
  const retry = h('button', { type: 'button', class: 'link-btn', 'data-testid': 'connection-retry', hidden: true, onclick: () => chat.retryConnection() },
    t('action.try_again'));
  const banner = h('div', { class: 'conn-banner', role: 'status', 'data-testid': 'connection-banner', hidden: true }, text, ' ', retry);

  function update() {
    const status = store.connection;
    const message = {
      reconnecting: () => t('conn.reconnecting'),
      stopped: () => t(`conn.stopped.${store.connectionReason || 'policy'}`),
      'load-failed': () => t('conn.load_failed'),
    }[status];
    banner.hidden = !message;
    setText(text, message ? message() : '');
    retry.hidden = status !== 'stopped' && status !== 'load-failed';
    document.body.classList.toggle('offline', !!message);
    document.body.dataset.connection = status;   // for tests and styling
  }
  store.on('connection', update);
  update();
  return banner;
}
