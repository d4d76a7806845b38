// The main menu (⋮): account upgrade for guests, notifications, server admin, log out.

import { api } from '../api.js';
import { h } from '../util/dom.js';
import { field, openDialog, showApiError } from './dialog.js';
import { toast } from './toast.js';
import { navigate } from '../util/route.js';

export function openMenu(ctx, anchor) {
  const { store } = ctx;
  const items = [];
  if (store.me.guest) items.push(['Create account', 'menu-upgrade', () => openUpgrade(ctx)]);
  if ('Notification' in window && Notification.permission === 'default') {
    items.push(['Turn on notifications', 'menu-notifications', async () => {
      try { await Notification.requestPermission(); } catch { /* ignored */ }
    }]);
  }
  if (store.me.admin) items.push(['Server admin', 'menu-admin', () => navigate('#/admin')]);
  items.push(['Log out', 'menu-logout', () => ctx.logout()]);

  const menu = h('div', { class: 'menu', role: 'menu', 'data-testid': 'menu' },
    items.map(([label, testid, action]) => h('button', {
      type: 'button', role: 'menuitem', class: 'menu-item', 'data-testid': testid,
      onclick: () => { close(); action(); },
    }, label)));

  const close = () => {
    menu.remove();
    document.removeEventListener('pointerdown', outside, true);
    anchor.setAttribute('aria-expanded', 'false');
  };
  const outside = (e) => { if (!menu.contains(e.target) && e.target !== anchor && !anchor.contains(e.target)) close(); };
  menu.addEventListener('keydown', (e) => {
    const buttons = [...menu.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') { close(); anchor.focus(); }
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
  });
  anchor.setAttribute('aria-expanded', 'true');
  anchor.parentElement.append(menu);
  document.addEventListener('pointerdown', outside, true);
  menu.querySelector('button')?.focus();
}

/** Turns the current guest into a password account, keeping their rooms and history. */
export function openUpgrade(ctx) {
  const { store } = ctx;
  const username = field({ label: 'Username', name: 'username', autocomplete: 'username', maxlength: 32 });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password' });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'upgrade-submit' }, 'Create account');
  const form = h('form', { novalidate: true, 'data-testid': 'upgrade-form' },
    h('p', { class: 'muted' }, 'Keep your chats: choose a username and password.'),
    username.wrap, password.wrap, general, submit);
  const { close } = openDialog({ title: 'Create account', body: form, testid: 'upgrade-dialog' });
  username.input.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const { user } = await api.upgrade(username.input.value.trim(), password.input.value);
      store.setMe({ ...store.me, ...user });
      close();
      toast('Account created. You are signed in as @' + user.username);
    } catch (err) {
      showApiError(err, { username, password }, general);
    } finally {
      submit.disabled = false;
    }
  });
}
