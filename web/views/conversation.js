// Right pane: header, the message log (day separators, infinite scroll upward, stick-to-bottom,
// "new messages" pill, ticks) and the composer.

import { avatar, h, icon, iconButton } from '../util/dom.js';
import { dayKey, dayLabel, otherMember, roomTitle } from '../util/format.js';
import { renderComposer } from './composer.js';
import { openGroupInfo } from './groupinfo.js';
import { renderMessage, setTick } from './message.js';
import { backToList } from '../util/route.js';

const BOTTOM_SLACK = 48;
const LOAD_MORE_AT = 300;

export function renderConversation(ctx, roomId) {
  const { store, chat } = ctx;
  const cleanups = [];
  const cache = new Map();  // key -> { sig, node }

  const titleEl = h('h2', { class: 'conv-title', 'data-testid': 'conv-title' });
  const subtitleEl = h('p', { class: 'conv-subtitle', 'data-testid': 'conv-subtitle' });
  const avatarSlot = h('span', { class: 'conv-avatar' });
  const infoBtn = h('button', { type: 'button', class: 'conv-heading', 'aria-label': 'Chat info', 'data-testid': 'conv-info', onclick: () => openGroupInfo(ctx, roomId) },
    avatarSlot, h('span', { class: 'conv-heading-text' }, titleEl, subtitleEl));
  const header = h('header', { class: 'pane-header conv-header' },
    iconButton('back', 'Back to chats', backToList, { class: 'back-btn', 'data-testid': 'back-button' }),
    infoBtn);

  const loader = h('div', { class: 'history-loader', 'aria-live': 'polite' });
  const list = h('div', { class: 'message-list' });
  const scroller = h('div', { class: 'messages', role: 'log', 'aria-label': 'Messages', tabindex: '0', 'data-testid': 'messages' }, loader, list);
  const pill = h('button', { type: 'button', class: 'new-pill', hidden: true, 'data-testid': 'new-messages-pill', onclick: () => scrollToBottom(true) },
    'New messages ', icon('down'));
  const composer = renderComposer(ctx, roomId);
  const el = h('section', { class: 'conversation', 'data-testid': 'conversation', 'data-room-id': roomId },
    header, h('div', { class: 'messages-wrap' }, scroller, pill), composer.el);

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < BOTTOM_SLACK;

  function scrollToBottom(smooth = false) {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    pill.hidden = true;
    maybeMarkRead();
  }

  function maybeMarkRead() {
    if (document.visibilityState !== 'visible' || !store.history(roomId).loaded) return;
    if (!atBottom()) return;
    chat.markRead(roomId);
  }

  function renderHeader() {
    const room = store.rooms.get(roomId);
    if (!room) return;
    const title = roomTitle(room, store.me);
    titleEl.textContent = title;
    avatarSlot.replaceChildren(avatar(title));
    const typing = store.typingNames(roomId);
    subtitleEl.classList.toggle('typing', typing.length > 0);
    if (typing.length) {
      subtitleEl.textContent = room.kind === 'direct' ? 'typing…' : `${typing.join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing…`;
    } else if (room.kind === 'direct') {
      const other = otherMember(room, store.me);
      subtitleEl.textContent = other && store.presence.get(other.id) ? 'online' : (other?.guest ? 'guest' : (other?.username ? `@${other.username}` : ''));
    } else {
      const names = room.members.map((m) => (m.id === store.me.id ? 'You' : m.display_name));
      subtitleEl.textContent = names.join(', ');
    }
  }

  function statusOf(msg) {
    if (msg.pending) return msg.failed ? 'failed' : 'pending';
    return msg.seq <= store.readByOthers(roomId) ? 'read' : 'sent';
  }

  function renderList(mode) {
    const room = store.rooms.get(roomId);
    if (!room) return;
    const wasAtBottom = atBottom();
    const anchor = mode === 'older' ? visibleAnchor() : null;
    const items = [...store.messages(roomId), ...store.pendingFor(roomId)];
    const nodes = [];
    const used = new Set();
    let prevDay = null;
    let prev = null;
    for (const msg of items) {
      const day = dayKey(msg.created_at);
      if (day !== prevDay) {
        nodes.push(h('div', { class: 'day-sep', role: 'separator', 'data-testid': 'day-separator' }, h('span', {}, dayLabel(msg.created_at))));
        prev = null;
      }
      prevDay = day;
      const own = msg.sender?.id === store.me.id;
      const showSender = !prev || prev.sender?.id !== msg.sender?.id;
      const quoted = msg.reply_to ? store.findMessage(roomId, msg.reply_to) : undefined;
      const key = msg.pending ? `c:${msg.client_id}` : `s:${msg.seq}`;
      const sig = [msg.edited_at, msg.deleted, msg.body, showSender, !!quoted, quoted?.edited_at, quoted?.deleted, !!msg.failed].join('|');
      let entry = cache.get(key);
      if (!entry || entry.sig !== sig) {
        const node = renderMessage(msg, {
          own, showSender, group: room.kind === 'group', quoted,
          onReply: (m) => composer.reply(m),
          onEdit: (m) => composer.edit(m),
          onDelete: (m) => { if (confirm('Delete this message for everyone?')) chat.remove(roomId, m.seq); },
          onRetry: (m) => chat.retry(m.client_id),
          onQuote: (seq) => revealMessage(seq),
        });
        entry = { sig, node };
        cache.set(key, entry);
      }
      if (own) setTick(entry.node, statusOf(msg));
      used.add(key);
      nodes.push(entry.node);
      prev = msg;
    }
    for (const key of cache.keys()) if (!used.has(key)) cache.delete(key);
    list.replaceChildren(...nodes);

    if (anchor) {
      // Keep the message that was at the top of the view exactly where it was.
      // (Look it up again: its node may have been re-rendered, e.g. it no longer starts a run.)
      const node = cache.get(anchor.key)?.node;
      if (node) scroller.scrollTop += node.getBoundingClientRect().top - anchor.top;
    } else if (mode === 'initial' || mode === 'own' || wasAtBottom) {
      scrollToBottom();
    } else if (mode === 'incoming') {
      pill.hidden = false;
    }
  }

  /** The first message visible in the scroller and its position, to restore after prepending. */
  function visibleAnchor() {
    const top = scroller.getBoundingClientRect().top;
    for (const node of list.children) {
      const rect = node.getBoundingClientRect();
      if (rect.bottom > top && node.dataset.seq) return { key: `s:${node.dataset.seq}`, top: rect.top };
    }
    return null;
  }

  function updateTicks() {
    for (const msg of store.messages(roomId)) {
      if (msg.sender?.id !== store.me.id) continue;
      const entry = cache.get(`s:${msg.seq}`);
      if (entry) setTick(entry.node, statusOf(msg));
    }
  }

  function revealMessage(seq) {
    const node = cache.get(`s:${seq}`)?.node;
    if (!node) return;
    node.scrollIntoView({ block: 'center', behavior: 'smooth' });
    node.classList.add('flash');
    setTimeout(() => node.classList.remove('flash'), 1200);
  }

  function loadOlder() {
    const hist = store.history(roomId);
    if (!hist.loaded || !hist.hasMore || chat.isLoading(roomId)) return Promise.resolve();
    loader.textContent = 'Loading older messages…';
    return chat.loadOlder(roomId).finally(() => { loader.textContent = ''; });
  }

  async function fillViewport() {
    // Keep loading older pages while the log does not fill the screen.
    for (let i = 0; i < 5; i += 1) {
      const hist = store.history(roomId);
      if (!hist.hasMore || scroller.scrollHeight > scroller.clientHeight + LOAD_MORE_AT) break;
      await loadOlder();
    }
  }

  scroller.addEventListener('scroll', () => {
    if (atBottom()) {
      pill.hidden = true;
      maybeMarkRead();
    }
    if (scroller.scrollTop < LOAD_MORE_AT) loadOlder();
  }, { passive: true });

  const onVisible = () => maybeMarkRead();
  document.addEventListener('visibilitychange', onVisible);
  cleanups.push(() => document.removeEventListener('visibilitychange', onVisible));

  cleanups.push(store.on('messages', ({ roomId: id, added, older, pending }) => {
    if (id !== roomId) return;
    if (older) { renderList(list.childElementCount ? 'older' : 'initial'); return; }
    const ownNew = pending || added.some((m) => m.sender?.id === store.me.id);
    renderList(ownNew ? 'own' : (added.length ? 'incoming' : 'update'));
    maybeMarkRead();
  }));
  cleanups.push(store.on('message-updated', ({ roomId: id }) => { if (id === roomId) renderList('update'); }));
  cleanups.push(store.on('read', ({ roomId: id }) => { if (id === roomId) updateTicks(); }));
  cleanups.push(store.on('room', (id) => { if (id === roomId) { renderHeader(); updateTicks(); } }));
  cleanups.push(store.on('typing', (id) => { if (id === roomId) renderHeader(); }));
  cleanups.push(store.on('presence', renderHeader));
  cleanups.push(store.on('me', renderHeader));

  renderHeader();
  const hist = store.history(roomId);
  if (hist.loaded) {
    renderList('initial');
  } else {
    loader.textContent = 'Loading…';
    chat.loadInitial(roomId).then(() => {
      loader.textContent = '';
      if (!list.childElementCount) renderList('initial');
      fillViewport();
    });
  }

  return {
    el,
    focus: () => composer.focus(),
    destroy() {
      composer.destroy();
      for (const fn of cleanups) fn();
    },
  };
}
