// Server admin: list users (a page of 200 at a time, "Show more" for the next), disable an account.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { h, iconButton, setText } from '../util/dom.js';
import { formatListTime } from '../util/format.js';
import { backToList } from '../util/route.js';
import { toast } from './toast.js';

const PAGE = 200;

export function renderAdmin(ctx) {
  const body = h('tbody');
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'admin-status' }, t('admin.loading'));
  const more = h('button', { type: 'button', class: 'btn secondary', hidden: true, 'data-testid': 'admin-more', onclick: () => load() }, t('admin.more'));
  const el = h('section', { class: 'admin-page', 'data-testid': 'admin-page', 'aria-label': t('admin.title') },
    h('header', { class: 'pane-header' },
      iconButton('back', t('conv.back'), backToList, { 'data-testid': 'admin-back' }),
      h('h2', { class: 'conv-title' }, t('admin.title'))),
    h('div', { class: 'admin-body' },
      status,
      h('table', { class: 'admin-table', 'data-testid': 'admin-users' },
        h('thead', {}, h('tr', {}, [t('admin.username'), t('admin.display_name'), t('admin.kind'), t('admin.created'), t('admin.status'), t('admin.actions')]
          .map((text) => h('th', { scope: 'col' }, text)))),
        body),
      more));

  const rows = new Map();   // user id -> row
  let lastId = 0;

  function row(u) {
    const disable = u.disabled || u.id === ctx.store.me.id ? '' : h('button', {
      type: 'button', class: 'btn small danger', 'data-testid': 'admin-disable',
      'aria-label': t('admin.disable_of', { name: u.username || u.display_name }),
      onclick: async () => {
        if (!confirm(t('admin.confirm_disable', { name: u.username || u.display_name }))) return;
        try {
          await api.disableUser(u.id);
          const next = row({ ...u, disabled: true });
          rows.get(u.id).replaceWith(next);
          rows.set(u.id, next);
        } catch (err) {
          toast(errorText(err));
        }
      },
    }, t('admin.disable'));
    return h('tr', { 'data-testid': 'admin-user', 'data-user-id': u.id },
      h('td', {}, u.username || '—'),
      h('td', { dir: 'auto' }, u.display_name),
      h('td', {}, u.admin ? t('admin.kind_admin') : (u.guest ? t('user.guest') : t('admin.kind_user'))),
      h('td', {}, formatListTime(u.created_at)),
      h('td', {}, u.disabled ? t('admin.disabled') : t('admin.active')),
      h('td', {}, disable));
  }

  async function load() {
    more.disabled = true;
    try {
      const { users } = await api.adminUsers(lastId);
      for (const u of users) {
        const tr = row(u);
        rows.set(u.id, tr);
        body.append(tr);
        lastId = Math.max(lastId, u.id);
      }
      more.hidden = users.length < PAGE;
      setText(status, more.hidden ? t('admin.count', { n: rows.size }) : t('admin.count_more', { n: rows.size }));
    } catch (err) {
      setText(status, errorText(err));
    } finally {
      more.disabled = false;
    }
  }
  load();
  return el;
}
