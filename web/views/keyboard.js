// Keyboard shortcuts of the signed-in page:
//   Ctrl/Cmd+K   search chats and people
//   Alt+↑ / ↓    previous / next chat in the list
//   Esc          close the open chat (after the composer's own Esc: reply, edit) and return
//                focus to it in the list
// Menus and dialogs handle their own Esc first.

import { backToList, navigate } from '../util/route.js';

export function installShortcuts(ctx, shell) {
  const { store } = ctx;
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      if (store.currentRoomId !== null && matchMedia('(max-width: 700px)').matches) backToList();
      shell.chatList.focusSearch();
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      step(e.key === 'ArrowUp' ? -1 : 1);
    } else if (e.key === 'Escape' && store.currentRoomId !== null && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      const id = store.currentRoomId;
      window.addEventListener('hashchange', () => shell.chatList.focusRoom(id), { once: true });
      backToList();
    }
  });

  function step(dir) {
    const rooms = store.sortedRooms();
    if (!rooms.length) return;
    const at = rooms.findIndex((r) => r.id === store.currentRoomId);
    const next = at < 0 ? (dir > 0 ? 0 : rooms.length - 1) : Math.min(rooms.length - 1, Math.max(0, at + dir));
    if (rooms[next].id !== store.currentRoomId) navigate(`#/room/${rooms[next].id}`);
  }
}
