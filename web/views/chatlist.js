// Left pane: who I am, the menu, search (rooms and people), and the chat list.

import { api } from '../api.js';
import { avatar, h, icon, iconButton } from '../util/dom.js';
import { formatListTime, previewText, roomTitle } from '../util/format.js';
import { openMenu } from './menu.js';
import { openNewGroup } from './newgroup.js';
import { toast } from './toast.js';
import { navigate } from '../util/route.js';

export function renderChatList(ctx) {
  const { store, chat } = ctx;
  const meAvatar = h('span', { class: 'me-avatar' });
  const meName = h('span', { class: 'me-name', 'data-testid': 'me-name' });
  const menuBtn = iconButton('more', 'Menu', () => openMenu(ctx, menuBtn), { 'data-testid': 'menu-button', 'aria-haspopup': 'menu' });
  const header = h('header', { class: 'pane-header list-header' },
    h('div', { class: 'me' }, meAvatar, meName),
    h('div', { class: 'header-actions' },
      iconButton('group', 'New group', () => openNewGroup(ctx), { 'data-testid': 'new-group-button' }),
      menuBtn));

  const search = h('input', {
    type: 'search', class: 'search-input', placeholder: 'Search or start a new chat',
    'aria-label': 'Search chats and people', 'data-testid': 'search', autocomplete: 'off',
  });
  const searchBar = h('div', { class: 'search-bar' }, h('span', { class: 'search-icon' }, icon('search')), search);
  const notifyHint = renderNotifyHint();
  const list = h('ul', { class: 'chat-list', 'aria-label': 'Chats', 'data-testid': 'chat-list' });
  const people = h('ul', { class: 'chat-list people', 'aria-label': 'People', 'data-testid': 'user-results' });
  const peopleSection = h('section', { class: 'people-section', hidden: true },
    h('h2', { class: 'section-title' }, 'People'), people);
  const empty = h('p', { class: 'list-empty', hidden: true });

  const el = h('aside', { class: 'pane list-pane', 'aria-label': 'Chats' },
    header, notifyHint, searchBar,
    h('div', { class: 'list-scroll' }, list, empty, peopleSection));

  function renderMe() {
    meAvatar.replaceChildren(avatar(store.me.display_name));
    meName.textContent = store.me.display_name + (store.me.guest ? ' (guest)' : '');
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const rooms = store.sortedRooms().filter((r) => !q || roomTitle(r, store.me).toLowerCase().includes(q));
    list.replaceChildren(...rooms.map((room) => renderItem(room)));
    empty.hidden = rooms.length > 0;
    empty.textContent = q ? 'No chats match.' : 'No chats yet. Search for someone to start one.';
  }

  function renderItem(room) {
    const title = roomTitle(room, store.me);
    const typing = store.typingNames(room.id);
    const last = room.last_message;
    let preview = previewText(last);
    if (last && room.kind === 'group' && !last.deleted) {
      const who = last.sender?.id === store.me.id ? 'You' : last.sender?.display_name;
      if (who) preview = `${who}: ${preview}`;
    }
    const active = store.currentRoomId === room.id;
    const btn = h('button', {
      type: 'button', class: `chat-item${active ? ' active' : ''}${room.unread ? ' has-unread' : ''}`,
      'data-testid': 'chat-item', 'data-room-id': room.id, 'aria-current': active ? 'true' : null,
      onclick: () => navigate(`#/room/${room.id}`),
    },
    avatar(title),
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-top' },
        h('span', { class: 'chat-item-name', 'data-testid': 'chat-item-name' }, title),
        h('span', { class: 'chat-item-time' }, formatListTime(last?.created_at || room.created_at))),
      h('span', { class: 'chat-item-bottom' },
        typing.length
          ? h('span', { class: 'chat-item-preview typing' }, 'typing…')
          : h('span', { class: 'chat-item-preview', 'data-testid': 'chat-item-preview' }, preview),
        room.unread ? h('span', { class: 'badge', 'data-testid': 'unread-badge', 'aria-label': `${room.unread} unread` }, String(room.unread)) : null)));
    return h('li', {}, btn);
  }

  let searchSeq = 0;
  let searchTimer = null;
  async function searchPeople() {
    const q = search.value.trim();
    const mine = ++searchSeq;
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
          h('span', { class: 'chat-item-top' }, h('span', { class: 'chat-item-name' }, u.display_name)),
          h('span', { class: 'chat-item-bottom' }, h('span', { class: 'chat-item-preview' }, handle(u))))))));
      peopleSection.hidden = others.length === 0;
    } catch (err) {
      if (mine === searchSeq) toast(err.message);
    }
  }

  async function startDirect(user) {
    try {
      const room = await chat.openDirect(user.id);
      search.value = '';
      render();
      searchPeople();
      navigate(`#/room/${room.id}`);
    } catch (err) {
      toast(err.message);
    }
  }

  search.addEventListener('input', () => {
    render();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchPeople, 200);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { search.value = ''; render(); searchPeople(); }
  });

  store.on('rooms', render);
  store.on('current', render);
  store.on('typing', render);
  store.on('me', renderMe);
  renderMe();
  render();
  return el;
}

function handle(u) {
  return u.guest ? 'guest' : `@${u.username}`;
}

function renderNotifyHint() {
  const supported = 'Notification' in window;
  const hint = h('div', { class: 'notify-hint', 'data-testid': 'notify-hint', hidden: !supported || Notification.permission !== 'default' });
  if (!supported) return hint;
  const enable = h('button', {
    type: 'button', class: 'link-btn', 'data-testid': 'enable-notifications',
    onclick: async () => {
      try { await Notification.requestPermission(); } catch { /* ignored */ }
      hint.hidden = true;
    },
  }, 'Turn on desktop notifications');
  hint.append(h('span', { class: 'notify-text' }, 'Get notified of new messages. ', enable),
    iconButton('close', 'Dismiss', () => { hint.hidden = true; }));
  return hint;
}
