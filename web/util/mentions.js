// Mentions in a message body: the server sends them as spans (UTF-8 byte offsets and a user
// id), never as markup. The body is rebuilt from text nodes, with each mention in an element
// of its own; links are found in the text between mentions only.

import { h, linkify } from './dom.js';
import { byteToIndex } from './text.js';

/** Whether the message names user `me`. */
export function mentionsUser(msg, me) {
  return !!msg?.mentions?.some((m) => m.user_id === me);
}

/**
 * The body as DOM nodes: mentions in `<span class="mention">` (with `mention-me` for mine),
 * everything else through linkify as text. Spans that do not fit the text (out of order, out
 * of range) are skipped, so a bad span can only lose its highlight.
 */
export function bodyNodes(body, mentions, me) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of mentions || []) {
    const start = byteToIndex(body, m.start);
    const end = byteToIndex(body, m.end);
    if (start < last || end <= start || end > body.length) continue;
    if (start > last) frag.append(linkify(body.slice(last, start)));
    const mine = m.user_id === me;
    frag.append(h('span', {
      class: mine ? 'mention mention-me' : 'mention', 'data-testid': 'mention', 'data-user-id': String(m.user_id), dir: 'auto',
    }, body.slice(start, end)));
    last = end;
  }
  if (last < body.length) frag.append(linkify(body.slice(last)));
  return frag;
}
