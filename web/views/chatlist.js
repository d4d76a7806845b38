// Left pane: who I am (a button to my profile), the menu, search (rooms, people and messages),
// and the chat list. Each chat is one element keyed by room id and patched in place, so focus
// and scroll survive every update.
// Archived chats are listed apart, under "Archived" (folded until opened, or while searching);
// a new message does not bring one back (only Unarchive does), as in WhatsApp.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { avatar, followTextDirection, h, icon, iconButton, setText } from '../util/dom.js';
import { formatListTime, otherMember, previewText, roomTitle } from '../util/format.js';
import { toggleMenu } from './menu.js';
import { openNewGroup } from './newgroup.js';
import { openProfile } from './profile.js';
import { renderMessageSearch } from './messagesearch.js';
import { renderNotifyHint } from './notifyhint.js';
import { toast } from './toast.js';
import { navigate } from '../util/route.js';

export function renderChatList(ctx) {
  const { store, chat } = ctx;
  const meAvatar = h('span', { class: 'me-avatar' });
  const meName = h('span', { class: 'me-name', dir: 'auto', 'data-testid': 'me-name' });
  const menuBtn = iconButton('more', t('menu.label'), () => toggleMenu(ctx, menuBtn), { 'data-testid': 'menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
  const meButton = h('button', {
    type: 'button', class: 'me', title: t('profile.title'), 'data-testid': 'profile-button',
    'aria-haspopup': 'dialog', onclick: () => openProfile(ctx),
  }, meAvatar, meName);
  const header = h('header', { class: 'pane-header list-header' },
    meButton,
    h('div', { class: 'header-actions' },
      iconButton('group', t('group.new'), () => openNewGroup(ctx), { 'data-testid': 'new-group-button' }),
      menuBtn));

  const search = h('input', {
    type: 'search', class: 'search-input', placeholder: t('list.search_placeholder'),
    'aria-label': t('list.search_label'), 'aria-keyshortcuts': 'Control+K Meta+K', 'data-testid': 'search', autocomplete: 'off',
  });
  const updateSearchDirection = followTextDirection(search);
  const searchBar = h('div', { class: 'search-bar' }, h('span', { class: 'search-icon' }, icon('search')), search);
  const list = h('ul', { class: 'chat-list', 'aria-label': t('list.chats'), 'data-testid': 'chat-list' });
  const archivedList = h('ul', { class: 'chat-list', 'aria-label': t('list.archived'), 'data-testid': 'archived-list', id: 'archived-list' });
  const archivedCount = h('span', { class: 'archived-count', 'data-testid': 'archived-count' });
  const archivedToggle = h('button', {
    type: 'button', class: 'archived-toggle', 'aria-expanded': 'false', 'aria-controls': 'archived-list', 'data-testid': 'archived-toggle',
    onclick: () => { showArchived = !showArchived; render(); },
  }, icon('archive'), h('span', { class: 'archived-label' }, t('list.archived')), archivedCount);
  const archivedSection = h('section', { class: 'archived-section', hidden: true }, archivedToggle, archivedList);
  let showArchived = false;
  const people = h('ul', { class: 'chat-list people', 'aria-label': t('list.people'), 'data-testid': 'user-results' });
  const peopleSection = h('section', { class: 'people-section', hidden: true },
    h('h2', { class: 'section-title' }, t('list.people')), people);
  const empty = h('p', { class: 'list-empty', hidden: true });
  const messageSearch = renderMessageSearch(ctx);

  const el = h('aside', { class: 'pane list-pane', 'aria-label': t('list.chats') },
    header, renderNotifyHint(), searchBar,
    h('div', { class: 'list-scroll' }, archivedSection, list, empty, peopleSection, messageSearch.el));

  const items = new Map();   // room id -> { li, parts }

  function renderMe() {
    meAvatar.replaceChildren(avatar(store.me.display_name, '', api.avatarUrl(store.me)));
    setText(meName, store.me.guest ? t('list.me_guest', { name: store.me.display_name }) : store.me.display_name);
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const rooms = store.sortedRooms().filter((r) => !q || roomTitle(r, store.me).toLowerCase().includes(q));
    const keep = new Set(rooms.map((r) => r.id));
    for (const [id, item] of items) {
      if (!keep.has(id)) { item.li.remove(); items.delete(id); }
    }
    const archived = rooms.filter((r) => r.archived);
    const open = showArchived || !!q;
    place(list, rooms.filter((r) => !r.archived));
    place(archivedList, open ? archived : []);
    archivedSection.hidden = archived.length === 0;
    archivedList.hidden = !open;
    archivedToggle.setAttribute('aria-expanded', String(open));
    setText(archivedCount, String(archived.length));
    empty.hidden = rooms.length > 0;
    setText(empty, q ? t('list.no_match') : t('list.empty'));
  }

  /** Makes `ul` list exactly `rooms`, in order, moving only what changed place. */
  function place(ul, rooms) {
    let at = ul.firstElementChild;
    for (const room of rooms) {
      let item = items.get(room.id);
      if (!item) { item = createItem(room.id); items.set(room.id, item); }
      updateItem(item, room);
      if (item.li !== at) ul.insertBefore(item.li, at);
      else at = at.nextElementSibling;
    }
    // What is left belongs to the other list, or to none while Archived is folded.
    while (at) {
      const next = at.nextElementSibling;
      at.remove();
      at = next;
    }
  }

  function createItem(roomId) {
    const parts = {
      avatar: h('span', { class: 'chat-item-avatar' }),
      name: h('span', { class: 'chat-item-name', dir: 'auto', 'data-testid': 'chat-item-name' }),
      time: h('span', { class: 'chat-item-time' }),
      preview: h('span', { class: 'chat-item-preview', dir: 'auto', 'data-testid': 'chat-item-preview' }),
      muted: h('span', { class: 'chat-item-muted', role: 'img', 'aria-label': t('list.muted'), title: t('list.muted'), 'data-testid': 'muted-icon', hidden: true }, icon('muted')),
      mention: h('span', { class: 'chat-item-mention', role: 'img', 'aria-label': t('list.mentioned'), title: t('list.mentioned'), 'data-testid': 'mention-mark', hidden: true }, '@'),
      badge: h('span', { class: 'badge', 'data-testid': 'unread-badge' }),
    };
    const btn = h('button', {
      type: 'button', class: 'chat-item', 'data-testid': 'chat-item', 'data-room-id': roomId,
      onclick: () => navigate(`#/room/${roomId}`),
    },
    parts.avatar,
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-top' }, parts.name, parts.time),
      h('span', { class: 'chat-item-bottom' }, parts.preview, parts.muted, parts.mention, parts.badge)));
    return { li: h('li', {}, btn), btn, parts, title: null, photo: null };
  }

  function updateItem(item, room) {
    const { btn, parts } = item;
    const title = roomTitle(room, store.me);
    const photo = room.kind === 'direct' ? api.avatarUrl(otherMember(room, store.me)) : null;
    if (item.title !== title || item.photo !== photo) {
      item.title = title;
      item.photo = photo;
      parts.avatar.replaceChildren(avatar(title, '', photo));
    }
    setText(parts.name, title);
    const last = room.last_message;
    setText(parts.time, formatListTime(last?.created_at || room.created_at));
    const typing = store.typingNames(room.id).length > 0;
    let preview = previewText(last);
    if (last && room.kind === 'group' && !last.deleted) {
      const who = last.sender?.id === store.me.id ? t('list.you') : last.sender?.display_name;
      if (who) preview = t('list.preview_from', { name: who, text: preview });
    }
    setText(parts.preview, typing ? t('conv.typing') : preview);
    parts.preview.classList.toggle('typing', typing);
    parts.muted.hidden = !room.muted;
    // A muted chat stays quiet, but a message naming me still shows (as WhatsApp marks it).
    parts.mention.hidden = !(room.muted && store.mentionsMeUnread(room.id));
    parts.badge.classList.toggle('muted', !!room.muted);
    parts.badge.hidden = !room.unread;
    setText(parts.badge, room.unread ? String(room.unread) : '');
    if (room.unread) parts.badge.setAttribute('aria-label', t('list.unread', { n: room.unread }));
    const active = store.currentRoomId === room.id;
    btn.classList.toggle('active', active);
    btn.classList.toggle('has-unread', room.unread > 0);
    btn.classList.toggle('is-muted', !!room.muted);
    if (active) btn.setAttribute('aria-current', 'true'); else btn.removeAttribute('aria-current');
  }

  let searchSeq = 0;
  let searchTimer = null;
  async function searchPeople() {
    const q = search.value.trim();
    const mine = ++searchSeq;
    messageSearch.update(q);
    if (!q) {
      peopleSection.hidden = true;
      people.replaceChildren();
      return;
    }
    try {
      const { users } = await api.searchUsers(q);
      if (mine !== searchSeq) return;
      const others = users.filter((u) => u.id !== store.me.id);
      people.replaceChildren(...others.map((u) => h('li', {},
        h('button', {
          type: 'button', class: 'chat-item', 'data-testid': 'user-result', 'data-user-id': u.id,
          onclick: () => startDirect(u),
        },
        avatar(u.display_name),
        h('span', { class: 'chat-item-main' },
          h('span', { class: 'chat-item-top' }, h('span', { class: 'chat-item-name', dir: 'auto' }, u.display_name)),
          h('span', { class: 'chat-item-bottom' }, h('span', { class: 'chat-item-preview', dir: 'auto' }, handle(u))))))));
      peopleSection.hidden = others.length === 0;
    } catch (err) {
      if (mine === searchSeq) toast(errorText(err));
    }
  }

  async function startDirect(user) {
    try {
      const room = await chat.openDirect(user.id);
      search.value = '';
      updateSearchDirection();
      render();
      searchPeople();
      navigate(`#/room/${room.id}`);
    } catch (err) {
      toast(errorText(err));
    }
  }

  search.addEventListener('input', () => {
    render();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchPeople, 200);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && search.value) {
      e.stopPropagation();
      search.value = '';
      updateSearchDirection();
      render();
      searchPeople();
    }
  });

  store.on('rooms', render);
  store.on('current', render);
  store.on('typing', render);
  store.on('me', renderMe);
  renderMe();
  render();
  return { el, focusSearch: () => search.focus(), focusRoom: (id) => items.get(id)?.btn.focus() };
}

function handle(u) {
  return u.guest ? t('user.guest') : `@${u.username}`;
}
