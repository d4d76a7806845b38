// Short-lived status messages in a polite live region.

import { h } from '../util/dom.js';

let region = null;

export function toast(text, ms = 4000) {
  if (!region || !region.isConnected) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite', 'data-testid': 'toasts' });
    document.body.append(region);
  }
  const item = h('div', { class: 'toast' }, String(text));
  region.append(item);
  setTimeout(() => item.remove(), ms);
}
