// Menus under a ⋮ button, and the main one: account upgrade for guests, notifications,
// language, server admin, log out. The button toggles its menu: a second click closes it
// instead of opening another, and one menu is open at a time.

import { api } from '../api.js';
import { LANGUAGES, language, saveLanguage, t } from '../i18n.js';
import { h } from '../util/dom.js';
import { field, openDialog, showApiError } from './dialog.js';
import { toast } from './toast.js';
import { navigate } from '../util/route.js';

let open = null;   // { anchor, close } of the menu on screen

/** Opens the main menu under `anchor`, or closes it when it is already open there. */
export function toggleMenu(ctx, anchor) {
  toggleItems(anchor, { label: t('menu.label'), testid: 'menu', items: () => mainItems(ctx) });
}

/**
 * Opens a menu under `anchor` (inside a positioned container, like `.header-actions`), or closes
 * it when it is already open there. `items()` lists [label, testid, action, lang?].
 */
export function toggleItems(anchor, { label, testid, items }) {
  if (open) {
    const same = open.anchor === anchor;
    open.close();
    if (same) return;
  }
  open = openMenu(anchor, label, testid, items());
}

function mainItems(ctx) {
  const { store } = ctx;
  const items = [];
  if (store.me.guest) items.push([t('menu.create_account'), 'menu-upgrade', () => openUpgrade(ctx)]);
  if ('Notification' in window && Notification.permission === 'default') {
    items.push([t('menu.notifications'), 'menu-notifications', async () => {
      try { await Notification.requestPermission(); } catch { /* ignored */ }
    }]);
  }
  for (const [code, name] of Object.entries(LANGUAGES)) {
    if (code === language()) continue;
    items.push([name, `menu-lang-${code}`, () => { saveLanguage(code); location.reload(); }, code]);
  }
  if (store.me.admin) items.push([t('menu.admin'), 'menu-admin', () => navigate('#/admin')]);
  items.push([t('menu.log_out'), 'menu-logout', () => ctx.logout()]);
  return items;
}

function openMenu(anchor, label, testid, items) {
  const menu = h('div', { class: 'menu', role: 'menu', 'aria-label': label, 'data-testid': testid },
    items.map(([text, id, action, lang]) => h('button', {
      type: 'button', role: 'menuitem', class: 'menu-item', 'data-testid': id, lang,
      onclick: () => { close(); action(); },
    }, text)));

  const close = () => {
    menu.remove();
    document.removeEventListener('pointerdown', outside, true);
    anchor.setAttribute('aria-expanded', 'false');
    if (open?.anchor === anchor) open = null;
  };
  // A press on the anchor itself is left to its click handler, which toggles.
  const outside = (e) => { if (!menu.contains(e.target) && !anchor.contains(e.target)) close(); };
  menu.addEventListener('keydown', (e) => {
    const buttons = [...menu.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.stopPropagation(); close(); anchor.focus(); }
    if (e.key === 'Tab') close();
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
  });
  anchor.setAttribute('aria-expanded', 'true');
  anchor.parentElement.append(menu);
  document.addEventListener('pointerdown', outside, true);
  menu.querySelector('button')?.focus();
  return { anchor, close };
}

/** Turns the current guest into a password account, keeping their rooms and history. */
export function openUpgrade(ctx) {
  const { store, chat } = ctx;
  const username = field({ label: t('enter.username'), name: 'username', autocomplete: 'username', maxlength: 32 });
  const password = field({ label: t('enter.password'), name: 'password', type: 'password', autocomplete: 'new-password' });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'upgrade-submit' }, t('enter.create_account'));
  const form = h('form', { novalidate: true, 'data-testid': 'upgrade-form' },
    h('p', { class: 'muted' }, t('upgrade.lead')),
    username.wrap, password.wrap, general, submit);
  const { close } = openDialog({ title: t('enter.create_account'), body: form, testid: 'upgrade-dialog' });
  username.input.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      // The upgrade ends the guest's session (its socket closes with 4001) and sets a new one.
      const { user } = await chat.renewSession(api.upgrade(username.input.value.trim(), password.input.value));
      store.setMe({ ...store.me, ...user });
      close();
      toast(t('upgrade.done', { username: user.username }));
    } catch (err) {
      showApiError(err, { username, password }, general);
    } finally {
      submit.disabled = false;
    }
  });
}
