// The signed-in layout: connection banner, chat list, and the conversation (or admin) pane.
// The URL hash is the route: #/room/<id>, #/admin, or #/ (just the list).

import { h, icon } from '../util/dom.js';
import { renderAdmin } from './admin.js';
import { renderChatList } from './chatlist.js';
import { renderConversation } from './conversation.js';
import { backToList } from '../util/route.js';

export function renderShell(root, ctx) {
  const { store } = ctx;
  const banner = h('div', { class: 'conn-banner', role: 'status', 'aria-live': 'polite', 'data-testid': 'connection-banner', hidden: true });
  const convPane = h('main', { class: 'pane conv-pane', 'aria-label': 'Conversation' });
  const app = h('div', { class: 'app', 'data-testid': 'app' }, renderChatList(ctx), convPane);
  root.replaceChildren(banner, app);

  let view = null;        // { key, destroy? }
  const placeholder = () => h('div', { class: 'conv-empty', 'data-testid': 'conv-empty' },
    h('span', { class: 'conv-empty-icon' }, icon('chat')),
    h('h2', {}, 'Chat'),
    h('p', {}, 'Pick a chat on the left, or search for someone to start a new one.'),
    h('p', { class: 'muted small' }, icon('lock'), ' Messages are stored on your own server.'));

  function mount(key, make) {
    if (view?.key === key) return;
    view?.destroy?.();
    const made = make();
    view = { key, ...made };
    convPane.replaceChildren(made.el);
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
    if (roomId && !store.rooms.size) return;   // rooms not loaded yet: wait for them
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
  store.on('connection', (status) => {
    banner.hidden = status !== 'reconnecting';
    banner.textContent = status === 'reconnecting' ? 'Reconnecting…' : '';
    document.body.classList.toggle('offline', status === 'reconnecting');
    document.body.dataset.connection = status;   // for tests and styling
  });
  const updateTitle = () => {
    const n = store.unreadTotal();
    document.title = n ? `(${n}) Chat` : 'Chat';
  };
  store.on('rooms', updateTitle);
  updateTitle();
  route();
}
