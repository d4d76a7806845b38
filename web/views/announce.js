// Polite announcements for screen readers (new messages, sends that failed). One visually hidden
// live region; announcements that come in a burst (a resume replaying many messages) are
// summed up in one sentence instead of read out one by one.

import { t } from '../i18n.js';
import { h } from '../util/dom.js';

const BURST_MS = 300;
const MAX_SPOKEN = 3;

let region = null;
let queued = [];
let timer = null;

export function announce(text) {
  // The region exists before its first text, so screen readers are already listening to it.
  if (!region || !region.isConnected) {
    region = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'data-testid': 'announcer' });
    document.body.append(region);
  }
  queued.push(text);
  if (!timer) timer = setTimeout(flush, BURST_MS);
}

function flush() {
  timer = null;
  const texts = queued;
  queued = [];
  region.textContent = texts.length > MAX_SPOKEN ? t('announce.many', { n: texts.length }) : texts.join('\n');
}
