// Chat info: members and roles; admins rename, add and remove, and manage invite links; anyone
// can leave a group.
// The dialog is built once; room updates refresh its parts, so what is being typed (the new
// name, a search for people to add) is kept.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { avatar, followTextDirection, h, setText } from '../util/dom.js';
import { otherMember, roomTitle } from '../util/format.js';
import { backToList } from '../util/route.js';
import { openDialog } from './dialog.js';
import { inviteSection } from './invitelinks.js';
import { toast } from './toast.js';
import { userPicker } from './userpicker.js';

export function openGroupInfo(ctx, roomId) {
  const { store, chat } = ctx;
  const room0 = store.rooms.get(roomId);
  if (!room0) return;
  const group = room0.kind === 'group';

  async function act(fn) {
    try {
      await fn();
      await chat.refreshRoom(roomId);
    } catch (err) {
      toast(errorText(err));
    }
  }

  const heroAvatar = h('span', {});
  const heroName = h('h3', { dir: 'auto', 'data-testid': 'info-name' });
  const nameInput = h('input', { type: 'text', maxlength: '80', 'aria-label': t('group.name'), 'data-testid': 'rename-input' });
  const updateNameDirection = followTextDirection(nameInput);
  const renameForm = h('form', {
    class: 'inline-form', hidden: true, onsubmit: (e) => {
      e.preventDefault();
      const name = nameInput.value.trim();
      if (name && name !== store.rooms.get(roomId)?.name) act(() => api.renameRoom(roomId, name));
    },
  }, nameInput, h('button', { type: 'submit', class: 'btn secondary', 'data-testid': 'rename-submit' }, t('group.rename')));
  const membersTitle = h('h4', { class: 'section-title' });
  const members = h('ul', { class: 'member-list', 'data-testid': 'member-list' });
  const picker = userPicker({
    exclude: () => new Set(store.rooms.get(roomId)?.members.map((m) => m.id) || []),
    label: t('group.add_member'),
    onPick: (u) => act(() => api.addMember(roomId, u.id)),
  });
  const addSection = h('div', { hidden: true }, h('h4', { class: 'section-title' }, t('group.add_members')), picker.el);
  const invites = group ? inviteSection(roomId) : null;
  const leave = group ? h('button', {
    type: 'button', class: 'btn danger wide', 'data-testid': 'leave-group',
    onclick: async () => {
      if (!confirm(t('group.confirm_leave'))) return;
      try {
        await chat.leave(roomId);
        close();
        backToList();
        ctx.shell?.chatList.focusSearch();   // keyboard users land somewhere useful
      } catch (err) {
        toast(errorText(err));
      }
    },
  }, t('group.leave')) : null;

  const content = h('div', { class: 'group-info' },
    h('div', { class: 'info-hero' }, heroAvatar, heroName), renameForm, membersTitle, members, addSection, invites?.el, leave);
  let unsubscribe = () => {};
  const { close } = openDialog({
    title: group ? t('group.info') : t('group.contact_info'),
    body: content, testid: 'group-info', onClose: () => unsubscribe(),
  });

  let shownTitle = null;
  let shownPhoto = null;
  function render() {
    const room = store.rooms.get(roomId);
    if (!room) { close(); return; }
    const isAdmin = group && room.role === 'admin';
    const title = roomTitle(room, store.me);
    const photo = group ? null : api.avatarUrl(otherMember(room, store.me));
    if (title !== shownTitle || photo !== shownPhoto) heroAvatar.replaceChildren(avatar(title, 'large', photo));
    shownPhoto = photo;
    if (title !== shownTitle) {
      // The name field follows the name until the admin starts changing it.
      if (document.activeElement !== nameInput && nameInput.value === (shownTitle ?? '')) { nameInput.value = room.name || ''; updateNameDirection(); }
      shownTitle = title;
      setText(heroName, title);
    }
    renameForm.hidden = !isAdmin;
    addSection.hidden = !isAdmin;
    invites?.show(isAdmin);
    setText(membersTitle, t('group.members', { n: room.members.length }));
    members.replaceChildren(...room.members.map((m) => memberItem(room, m, isAdmin)));
    if (isAdmin) picker.refresh();   // people who just joined drop out of the results
  }

  function memberItem(room, m, isAdmin) {
    const me = m.id === store.me.id;
    const controls = [];
    if (isAdmin && !me) {
      controls.push(h('button', {
        type: 'button', class: 'btn small', 'data-testid': 'member-role',
        'aria-label': m.role === 'admin' ? t('group.make_member_of', { name: m.display_name }) : t('group.make_admin_of', { name: m.display_name }),
        onclick: () => act(() => api.setRole(roomId, m.id, m.role === 'admin' ? 'member' : 'admin')),
      }, m.role === 'admin' ? t('group.make_member') : t('group.make_admin')));
      controls.push(h('button', {
        type: 'button', class: 'btn small danger', 'data-testid': 'member-remove', 'aria-label': t('group.remove_of', { name: m.display_name }),
        onclick: () => act(() => api.removeMember(roomId, m.id)),
      }, t('group.remove')));
    }
    return h('li', { class: 'member', 'data-testid': 'member', 'data-user-id': m.id },
      avatar(m.display_name, 'small', api.avatarUrl(m)),
      h('span', { class: 'member-name' },
        h('bdi', {}, m.display_name), me ? ` ${t('group.you_suffix')}` : '',
        m.guest ? h('span', { class: 'muted' }, ` · ${t('user.guest')}`) : null),
      m.role === 'admin' ? h('span', { class: 'role-badge' }, t('group.admin')) : null,
      h('span', { class: 'member-controls' }, controls));
  }

  unsubscribe = store.on('room', (id) => { if (id === roomId) render(); });
  render();
}
