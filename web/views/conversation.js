// Right pane: header, the message log (infinite scroll upward, and downward from a window
// opened at an old message; stick-to-bottom, "new messages" pill, ticks) and the composer. The log is keyed DOM (messagelist.js) fed by store events.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { avatar, h, icon, iconButton, setText } from '../util/dom.js';
import { formatLastSeen, otherMember, roomTitle } from '../util/format.js';
import { backToList } from '../util/route.js';
import { renderComposer } from './composer.js';
import { openGroupInfo } from './groupinfo.js';
import { MessageList } from './messagelist.js';
import { toggleRoomMenu } from './roommenu.js';

const BOTTOM_SLACK = 48;
const LOAD_MORE_AT = 300;

export function renderConversation(ctx, roomId) {
  const { store, chat } = ctx;
  const cleanups = [];

  const titleEl = h('h2', { class: 'conv-title', dir: 'auto', 'data-testid': 'conv-title' });
  const subtitleEl = h('p', { class: 'conv-subtitle', dir: 'auto', 'data-testid': 'conv-subtitle' });
  const avatarSlot = h('span', { class: 'conv-avatar' });
  const infoBtn = h('button', { type: 'button', class: 'conv-heading', title: t('conv.info'), 'data-testid': 'conv-info', onclick: () => openGroupInfo(ctx, roomId) },
    avatarSlot, h('span', { class: 'conv-heading-text' }, titleEl, subtitleEl));
  const menuBtn = iconButton('more', t('room_menu.label'), () => toggleRoomMenu(ctx, roomId, menuBtn), { 'data-testid': 'room-menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
  const mutedMark = h('span', { class: 'conv-muted', role: 'img', 'aria-label': t('list.muted'), title: t('list.muted'), 'data-testid': 'conv-muted', hidden: true }, icon('muted'));
  const header = h('header', { class: 'pane-header conv-header' },
    iconButton('back', t('conv.back'), backToList, { class: 'back-btn', 'data-testid': 'back-button' }),
    infoBtn, mutedMark, h('div', { class: 'header-actions' }, menuBtn));

  const loader = h('div', { class: 'history-loader', role: 'status' });
  const listEl = h('div', { class: 'message-list' });
  const scroller = h('div', { class: 'messages', role: 'log', 'aria-live': 'off', 'aria-label': t('conv.messages'), tabindex: '0', 'data-testid': 'messages' }, loader, listEl);
  const pill = h('button', { type: 'button', class: 'new-pill', hidden: true, 'data-testid': 'new-messages-pill', onclick: () => toNewest() },
    t('conv.new_messages'), ' ', icon('down'));
  const dropHint = h('div', { class: 'drop-hint', hidden: true, 'data-testid': 'drop-hint' }, t('composer.drop_here'));
  const composer = renderComposer(ctx, roomId);
  const el = h('section', { class: 'conversation', 'data-testid': 'conversation', 'data-room-id': roomId },
    header, h('div', { class: 'messages-wrap' }, scroller, pill, dropHint), composer.el);

  const list = new MessageList(listEl, viewOf);
  const actions = {
    reply: (m) => composer.reply(m),
    edit: (m) => composer.edit(m),
    delete: (m) => { if (confirm(t('message.confirm_delete'))) chat.remove(roomId, m.seq); },
    react: (m, emoji, on) => chat.react(roomId, m.seq, emoji, on),
    retry: (m) => chat.retry(m.client_id),
    discard: (m) => chat.discard(m.client_id),
    quote: (seq) => revealMessage(seq),
  };

  function viewOf(msg) {
    const room = store.rooms.get(roomId);
    return {
      own: msg.sender?.id === store.me.id,
      group: room?.kind === 'group',
      senderGuest: !!room?.members?.find((m) => m.id === msg.sender?.id)?.guest,
      quoted: msg.reply_to ? store.findMessage(roomId, msg.reply_to) : undefined,
      pendingEdit: msg.pending ? undefined : store.pendingEdit(roomId, msg.seq),
      me: store.me.id,
      nameOf: (id) => (id === store.me.id ? t('list.you') : room?.members?.find((m) => m.id === id)?.display_name || t('user.unknown')),
      actions,
    };
  }

  const below = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  const atBottom = () => below() < BOTTOM_SLACK;
  const detached = () => store.history(roomId).detached;

  function scrollToBottom(smooth = false) {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    pill.hidden = true;
    maybeMarkRead();
  }

  /** The newest messages, from a window opened at an old one too. */
  async function toNewest() {
    if (detached()) await chat.jumpToLatest(roomId);
    scrollToBottom(true);
  }

  function maybeMarkRead() {
    // The end of a window opened at an old message is not the end of the chat.
    if (document.visibilityState !== 'visible' || !store.history(roomId).loaded || detached()) return;
    if (!atBottom()) return;
    chat.markRead(roomId);
  }

  let shownPhoto = null;
  function renderHeader() {
    const room = store.rooms.get(roomId);
    if (!room) return;
    const title = roomTitle(room, store.me);
    const other = room.kind === 'direct' ? otherMember(room, store.me) : null;
    mutedMark.hidden = !room.muted;
    const photo = api.avatarUrl(other);
    if (titleEl.textContent !== title || shownPhoto !== photo) avatarSlot.replaceChildren(avatar(title, '', photo));
    shownPhoto = photo;
    setText(titleEl, title);
    const typing = store.typingNames(roomId);
    subtitleEl.classList.toggle('typing', typing.length > 0);
    let subtitle;
    if (typing.length) {
      subtitle = room.kind === 'direct' ? t('conv.typing') : t('conv.typing_names', { names: typing.join(', '), n: typing.length });
    } else if (room.kind === 'direct') {
      if (other && store.presence.get(other.id)) subtitle = t('conv.online');
      else if (other?.last_seen) subtitle = formatLastSeen(other.last_seen);
      else subtitle = other?.guest ? t('user.guest') : (other?.username ? `@${other.username}` : '');
    } else {
      subtitle = room.members.map((m) => (m.id === store.me.id ? t('list.you') : m.display_name)).join(', ');
    }
    setText(subtitleEl, subtitle);
  }

  function statusOf(msg) {
    if (msg.pending) return msg.failed ? 'failed' : 'pending';
    return msg.seq <= store.readByOthers(roomId) ? 'read' : 'sent';
  }

  /** Adds or updates messages, keeping the view where the reader left it (a page read below a
   * window opened at an old message only grows the log under it). */
  function show(messages, { older = false, newer = false, own = false } = {}) {
    const initial = list.size === 0;
    const wasAtBottom = atBottom();
    const anchor = older && !initial ? list.firstVisible(scroller.getBoundingClientRect().top) : null;
    const anchorTop = anchor?.getBoundingClientRect().top;
    for (const msg of messages) {
      list.tick(list.upsert(msg), statusOf);
      if (!msg.pending) list.refreshQuotes(msg.seq);
    }
    if (anchor) {
      // Keep the message that was at the top of the view exactly where it was.
      scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    } else if (newer && !initial) {
      // Appended below what is on screen: the view stays; reading on loads the next page.
    } else if (initial || own || wasAtBottom) {
      scrollToBottom();
    } else if (!older) {
      pill.hidden = false;
    }
  }

  function rebuild() {
    list.clear();
    show([...store.messages(roomId), ...store.pendingFor(roomId)]);
  }

  function revealMessage(seq) {
    const node = list.rowOf(seq);
    if (!node) return;
    node.scrollIntoView({ block: 'center', behavior: 'smooth' });
    node.classList.add('flash');
    node.addEventListener('animationend', () => node.classList.remove('flash'), { once: true });
  }

  /** Shows a search hit: its history loaded around it, scrolled to and marked until the next. */
  async function revealHit(seq) {
    await chat.openAt(roomId, seq);
    const node = list.rowOf(seq);
    if (!node) return;
    listEl.querySelector('.msg-row.found')?.classList.remove('found');
    node.classList.add('found');
    node.scrollIntoView({ block: 'center' });
  }

  function takeReveal() {
    const seq = store.takeReveal(roomId);
    if (seq != null) revealHit(seq);
  }

  function loadOlder() {
    const hist = store.history(roomId);
    if (!hist.loaded || !hist.hasMore || chat.isLoading(roomId)) return Promise.resolve();
    setText(loader, t('conv.loading_older'));
    return chat.loadOlder(roomId).finally(() => setText(loader, ''));
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
    if (below() < LOAD_MORE_AT && detached() && !chat.isLoading(roomId)) chat.loadNewer(roomId);
  }, { passive: true });

  // Images dropped anywhere on the conversation go to the composer.
  let dragDepth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  el.addEventListener('dragenter', (e) => { if (hasFiles(e)) { dragDepth += 1; dropHint.hidden = false; } });
  el.addEventListener('dragleave', (e) => { if (hasFiles(e) && --dragDepth <= 0) { dragDepth = 0; dropHint.hidden = true; } });
  el.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  el.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    dropHint.hidden = true;
    const file = [...e.dataTransfer.files].find((f) => f.type.startsWith('image/'));
    composer.attach(file || e.dataTransfer.files[0]);
  });

  const onVisible = () => maybeMarkRead();
  document.addEventListener('visibilitychange', onVisible);
  cleanups.push(() => document.removeEventListener('visibilitychange', onVisible));

  const mine = (id) => id === roomId;
  cleanups.push(store.on('messages', ({ roomId: id, added, older, newer }) => {
    if (!mine(id)) return;
    show(added, { older, newer, own: !newer && added.some((m) => m.sender?.id === store.me.id) });
    if (!older) maybeMarkRead();
  }));
  cleanups.push(store.on('message-updated', ({ roomId: id, message }) => {
    if (!mine(id) || !list.rowOf(message.seq)) return;
    list.upsert(message);
    list.refreshQuotes(message.seq);
  }));
  cleanups.push(store.on('pending', ({ roomId: id, pending }) => {
    if (!mine(id)) return;
    const isNew = !list.entries.has(`c:${pending.client_id}`);
    show([pending], { own: isNew });
  }));
  cleanups.push(store.on('pending-removed', ({ roomId: id, clientId }) => { if (mine(id)) list.remove(`c:${clientId}`); }));
  cleanups.push(store.on('history-reset', (id) => { if (mine(id)) rebuild(); }));
  cleanups.push(store.on('read', ({ roomId: id }) => { if (mine(id)) list.updateTicks(statusOf); }));
  cleanups.push(store.on('room', (id) => { if (mine(id)) { renderHeader(); list.updateTicks(statusOf); } }));
  cleanups.push(store.on('typing', (id) => { if (mine(id)) renderHeader(); }));
  cleanups.push(store.on('reveal', ({ roomId: id }) => { if (mine(id)) takeReveal(); }));
  cleanups.push(store.on('presence', renderHeader));
  cleanups.push(store.on('me', renderHeader));

  renderHeader();
  rebuild();
  const hist = store.history(roomId);
  if (!hist.loaded || hist.stale) {
    if (!hist.loaded) setText(loader, t('conv.loading'));
    chat.loadInitial(roomId).then(() => {
      setText(loader, '');
      maybeMarkRead();
      fillViewport();
    });
  }

  return {
    el,
    /** On the page now: what is held shows from its newest message. */
    attached() {
      scrollToBottom();
      if (store.history(roomId).loaded) fillViewport();
      takeReveal();
    },
    focus: () => composer.focus(),
    composer,
    destroy() {
      composer.destroy();
      list.clear();
      for (const fn of cleanups) fn();
    },
  };
}
