// Chat info: members and roles; admins rename, add and remove; anyone can leave a group.

import { api } from '../api.js';
import { avatar, h } from '../util/dom.js';
import { roomTitle } from '../util/format.js';
import { openDialog } from './dialog.js';
import { toast } from './toast.js';
import { userPicker } from './userpicker.js';
import { backToList } from '../util/route.js';

export function openGroupInfo(ctx, roomId) {
  const { store, chat } = ctx;
  const content = h('div', { class: 'group-info' });
  const room0 = store.rooms.get(roomId);
  if (!room0) return;
  let unsubscribe = () => {};
  const { close } = openDialog({
    title: room0.kind === 'group' ? 'Group info' : 'Contact info',
    body: content, testid: 'group-info', onClose: () => unsubscribe(),
  });

  async function act(fn) {
    try {
      await fn();
      await chat.refreshRoom(roomId);
    } catch (err) {
      toast(err.message);
    }
  }

  function render() {
    const room = store.rooms.get(roomId);
    if (!room) { close(); return; }
    const isAdmin = room.role === 'admin';
    const title = roomTitle(room, store.me);
    const parts = [h('div', { class: 'info-hero' }, avatar(title, 'large'), h('h3', { 'data-testid': 'info-name' }, title))];

    if (room.kind === 'group' && isAdmin) {
      const nameInput = h('input', { type: 'text', value: room.name || '', maxlength: '80', 'aria-label': 'Group name', 'data-testid': 'rename-input' });
      parts.push(h('form', {
        class: 'inline-form', onsubmit: (e) => {
          e.preventDefault();
          const name = nameInput.value.trim();
          if (name && name !== room.name) act(() => api.renameRoom(roomId, name));
        },
      }, nameInput, h('button', { type: 'submit', class: 'btn secondary', 'data-testid': 'rename-submit' }, 'Rename')));
    }

    parts.push(h('h4', { class: 'section-title' }, `${room.members.length} members`));
    parts.push(h('ul', { class: 'member-list', 'data-testid': 'member-list' }, room.members.map((m) => {
      const me = m.id === store.me.id;
      const controls = [];
      if (room.kind === 'group' && isAdmin && !me) {
        controls.push(h('button', {
          type: 'button', class: 'btn small', 'data-testid': 'member-role',
          onclick: () => act(() => api.setRole(roomId, m.id, m.role === 'admin' ? 'member' : 'admin')),
        }, m.role === 'admin' ? 'Make member' : 'Make admin'));
        controls.push(h('button', {
          type: 'button', class: 'btn small danger', 'data-testid': 'member-remove', 'aria-label': `Remove ${m.display_name}`,
          onclick: () => act(() => api.removeMember(roomId, m.id)),
        }, 'Remove'));
      }
      return h('li', { class: 'member', 'data-testid': 'member', 'data-user-id': m.id },
        avatar(m.display_name, 'small'),
        h('span', { class: 'member-name' }, m.display_name, me ? ' (you)' : '', m.guest ? h('span', { class: 'muted' }, ' · guest') : null),
        m.role === 'admin' ? h('span', { class: 'role-badge' }, 'Admin') : null,
        h('span', { class: 'member-controls' }, controls));
    })));

    if (room.kind === 'group' && isAdmin) {
      const picker = userPicker({
        exclude: () => new Set(store.rooms.get(roomId)?.members.map((m) => m.id) || []),
        label: 'Add a member',
        onPick: (u) => act(() => api.addMember(roomId, u.id)),
      });
      parts.push(h('h4', { class: 'section-title' }, 'Add members'), picker.el);
    }

    if (room.kind === 'group') {
      parts.push(h('button', {
        type: 'button', class: 'btn danger wide', 'data-testid': 'leave-group',
        onclick: async () => {
          if (!confirm('Leave this group?')) return;
          try {
            await chat.leave(roomId);
            close();
            backToList();
          } catch (err) {
            toast(err.message);
          }
        },
      }, 'Leave group'));
    }
    content.replaceChildren(...parts);
  }

  unsubscribe = store.on('room', (id) => { if (id === roomId) render(); });
  render();
}
