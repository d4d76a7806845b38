// Server admin: list users, disable an account.

import { api } from '../api.js';
import { h, iconButton } from '../util/dom.js';
import { formatListTime } from '../util/format.js';
import { toast } from './toast.js';
import { backToList } from '../util/route.js';

export function renderAdmin(ctx) {
  const body = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading users…');
  const el = h('section', { class: 'admin-page', 'data-testid': 'admin-page', 'aria-label': 'Server admin' },
    h('header', { class: 'pane-header' },
      iconButton('back', 'Back to chats', backToList, { 'data-testid': 'admin-back' }),
      h('h2', { class: 'conv-title' }, 'Server admin · Users')),
    h('div', { class: 'admin-body' },
      status,
      h('table', { class: 'admin-table', 'data-testid': 'admin-users' },
        h('thead', {}, h('tr', {}, ['Username', 'Display name', 'Kind', 'Created', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
        body)));

  async function load() {
    try {
      const { users } = await api.adminUsers();
      status.textContent = `${users.length} users`;
      body.replaceChildren(...users.map((u) => h('tr', { 'data-testid': 'admin-user', 'data-user-id': u.id },
        h('td', {}, u.username || '—'),
        h('td', {}, u.display_name),
        h('td', {}, u.admin ? 'admin' : (u.guest ? 'guest' : 'user')),
        h('td', {}, formatListTime(u.created_at)),
        h('td', {}, u.disabled ? 'disabled' : 'active'),
        h('td', {}, u.disabled || u.id === ctx.store.me.id ? '' : h('button', {
          type: 'button', class: 'btn small danger', 'data-testid': 'admin-disable',
          'aria-label': `Disable ${u.username || u.display_name}`,
          onclick: async () => {
            if (!confirm(`Disable ${u.username || u.display_name}? They will be signed out.`)) return;
            try { await api.disableUser(u.id); load(); } catch (err) { toast(err.message); }
          },
        }, 'Disable')))));
    } catch (err) {
      status.textContent = err.message;
    }
  }
  load();
  return el;
}
