// The signed-in layout: connection banner, chat list, and the conversation (or admin) pane.
// The URL hash is the route: #/room/<id>, #/admin, or #/ (just the list).

import { t } from '../i18n.js';
import { h, icon } from '../util/dom.js';
import { renderAdmin } from './admin.js';
import { renderBanner } from './banner.js';
import { renderChatList } from './chatlist.js';
import { renderConversation } from './conversation.js';
import { installShortcuts } from './keyboard.js';
import { backToList } from '../util/route.js';

export function renderShell(root, ctx) {
  const { store } = ctx;
  const convPane = h('main', { class: 'pane conv-pane', 'aria-label': t('conv.pane') });
  const chatList = renderChatList(ctx);
  const app = h('div', { class: 'app', 'data-testid': 'app' }, chatList.el, convPane);
  root.replaceChildren(renderBanner(ctx), app);

  let view = null;        // { key, destroy? }
  const placeholder = () => h('div', { class: 'conv-empty', 'data-testid': 'conv-empty' },
    h('span', { class: 'conv-empty-icon' }, icon('chat')),
    h('h2', {}, t('app.name')),
    h('p', {}, t('conv.empty_hint')),
    h('p', { class: 'muted small' }, icon('lock'), ' ', t('conv.empty_note')));

  function mount(key, make) {
    if (view?.key === key) return;
    view?.destroy?.();
    const made = make();
    view = { key, ...made };
    convPane.replaceChildren(made.el);
    view.attached?.();
    // Ready to type at once; on touch screens that would pop up the keyboard uninvited.
    if (!matchMedia('(pointer: coarse)').matches) view.focus?.();
  }

  function route() {
    const hash = location.hash;
    const roomMatch = hash.match(/^#\/room\/(\d+)$/);
    const roomId = roomMatch ? Number(roomMatch[1]) : null;
    if (hash === '#/admin' && store.me.admin) {
      store.setCurrent(null);
      mount('admin', () => ({ el: renderAdmin(ctx) }));
      app.classList.add('has-room');
      return;
    }
    if (roomId && store.rooms.has(roomId)) {
      store.setCurrent(roomId);
      mount(`room:${roomId}`, () => renderConversation(ctx, roomId));
      app.classList.add('has-room');
      return;
    }
    if (roomId && !store.roomsLoaded) return;   // rooms not loaded yet: wait for them
    store.setCurrent(null);
    mount('empty', () => ({ el: placeholder() }));
    app.classList.remove('has-room');
  }

  window.addEventListener('hashchange', route);
  store.on('rooms', () => {
    const roomMatch = location.hash.match(/^#\/room\/(\d+)$/);
    if (roomMatch && view?.key !== `room:${roomMatch[1]}`) route();
    else if (view?.key?.startsWith('room:') && !store.rooms.has(Number(view.key.slice(5)))) route();
  });
  store.on('current', (id) => {
    if (id === null && view?.key?.startsWith('room:')) {
      if (location.hash.startsWith('#/room/')) backToList();
    }
  });
  const updateTitle = () => {
    const n = store.unreadChats();
    document.title = n ? t('app.title_unread', { n }) : t('app.name');
  };
  store.on('rooms', updateTitle);
  updateTitle();
  route();
  const shell = { chatList, currentView: () => view };
  installShortcuts(ctx, shell);
  return shell;
}
