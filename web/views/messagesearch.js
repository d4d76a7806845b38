// The "Messages" section of the chat list's search: hits from every chat I am in, newest first,
// the matched parts marked. The server marks them as UTF-8 byte offsets (never markup); the
// text is cut at those offsets and every piece inserted as text. Choosing a hit opens its chat
// with the message loaded, scrolled to and marked.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { avatar, h } from '../util/dom.js';
import { formatListTime, roomTitle } from '../util/format.js';
import { navigate } from '../util/route.js';
import { toast } from './toast.js';

/** Fewest characters the server searches for. */
const MIN_CHARS = 3;
/** Characters of text kept before the first match in a hit's preview. */
const LEAD_CHARS = 24;

export function renderMessageSearch(ctx) {
  const { store } = ctx;
  const list = h('ul', { class: 'chat-list message-hits', 'aria-label': t('search.messages'), 'data-testid': 'message-results' });
  const more = h('button', { type: 'button', class: 'more-hits', hidden: true, 'data-testid': 'more-message-results', onclick: () => load(true) },
    t('search.more'));
  const el = h('section', { class: 'message-search', hidden: true },
    h('h2', { class: 'section-title' }, t('search.messages')), list, more);

  let query = '';
  let nextBefore = null;
  let asked = 0;

  /** Searches for `q` (already trimmed); shorter than the server takes: hides the section. */
  function update(q) {
    query = q;
    asked += 1;
    nextBefore = null;
    if ([...q].length < MIN_CHARS) {
      el.hidden = true;
      list.replaceChildren();
      return;
    }
    load(false);
  }

  async function load(older) {
    const mine = asked;
    try {
      const page = await api.searchMessages(query, older ? nextBefore : null);
      if (mine !== asked) return;   // a newer search started meanwhile
      const rows = page.hits.filter((hit) => store.rooms.has(hit.message.room_id)).map(hitRow);
      if (older) list.append(...rows); else list.replaceChildren(...rows);
      nextBefore = page.next_before;
      more.hidden = nextBefore == null;
      el.hidden = list.childElementCount === 0;
    } catch (err) {
      if (mine === asked) toast(errorText(err));
    }
  }

  function hitRow({ message, matches }) {
    const room = store.rooms.get(message.room_id);
    const title = roomTitle(room, store.me);
    const who = message.sender?.id === store.me.id ? t('list.you') : message.sender?.display_name;
    return h('li', {},
      h('button', {
        type: 'button', class: 'chat-item search-hit', 'data-testid': 'message-result',
        'data-room-id': message.room_id, 'data-seq': message.seq,
        onclick: () => open(message),
      },
      avatar(title),
      h('span', { class: 'chat-item-main' },
        h('span', { class: 'chat-item-top' },
          h('span', { class: 'chat-item-name', dir: 'auto' }, title),
          h('span', { class: 'chat-item-time' }, formatListTime(message.created_at))),
        h('span', { class: 'chat-item-bottom' },
          h('span', { class: 'chat-item-preview hit-text', dir: 'auto', 'data-testid': 'message-result-text' },
            who ? `${who}: ` : '', marked(message.body, matches))))));
  }

  function open(message) {
    store.requestReveal(message.room_id, message.seq);
    navigate(`#/room/${message.room_id}`);
  }

  return { el, update };
}

/**
 * The body as text nodes and <mark> elements, cut at the matches' byte offsets; a long lead
 * before the first match is shortened so the match shows.
 */
function marked(body, matches) {
  const bytes = new TextEncoder().encode(body);
  const text = (from, to) => new TextDecoder().decode(bytes.subarray(from, to));
  const parts = [];
  let at = 0;
  for (const { start, end } of matches) {
    if (!(start >= at && end > start && end <= bytes.length)) continue;   // not ours to trust
    if (start > at) parts.push(text(at, start));
    parts.push(h('mark', { 'data-testid': 'match' }, text(start, end)));
    at = end;
  }
  if (at < bytes.length) parts.push(text(at, bytes.length));
  if (typeof parts[0] === 'string' && parts.length > 1) {
    const lead = [...parts[0]];
    if (lead.length > LEAD_CHARS) parts[0] = `…${lead.slice(-LEAD_CHARS).join('')}`;
  }
  return parts;
}
