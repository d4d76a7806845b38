// The way in: log in, create an account, or continue as a guest.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, icon } from '../util/dom.js';
import { field, showApiError } from './dialog.js';
import { languagePicker } from './language.js';

/** `intro`, when given, is shown above the way in (the group an invite link leads to). */
export function renderEnter(root, onEntered, intro = null) {
  let mode = 'login';
  const general = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'enter-error' });
  const username = field({ label: t('enter.username'), name: 'username', autocomplete: 'username', maxlength: 32 });
  const password = field({ label: t('enter.password'), name: 'password', type: 'password', autocomplete: 'current-password' });
  const displayName = field({ label: t('enter.display_name'), name: 'display_name', autocomplete: 'nickname', maxlength: 40 });
  const fields = { username, password, display_name: displayName };
  const submit = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'enter-submit' });

  const tabLogin = h('button', { type: 'button', role: 'tab', class: 'tab', 'data-testid': 'tab-login', onclick: () => setMode('login') }, t('enter.log_in'));
  const tabRegister = h('button', { type: 'button', role: 'tab', class: 'tab', 'data-testid': 'tab-register', onclick: () => setMode('register') }, t('enter.create_account'));

  const form = h('form', { class: 'enter-form', novalidate: true, 'data-testid': 'enter-form', onsubmit: onSubmit },
    username.wrap, password.wrap, displayName.wrap, general, submit);

  const guestName = field({ label: t('enter.guest_name'), name: 'guest_name', autocomplete: 'nickname', maxlength: 40 });
  const guestError = h('p', { class: 'form-error', role: 'alert' });
  const guestForm = h('form', { class: 'guest-form', novalidate: true, onsubmit: onGuest },
    guestName.wrap, guestError,
    h('button', { type: 'submit', class: 'btn secondary wide', 'data-testid': 'guest-submit' }, t('enter.continue_as_guest')));

  function setMode(next) {
    mode = next;
    tabLogin.setAttribute('aria-selected', String(mode === 'login'));
    tabRegister.setAttribute('aria-selected', String(mode === 'register'));
    displayName.wrap.hidden = mode !== 'register';
    password.input.autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    submit.textContent = mode === 'login' ? t('enter.log_in') : t('enter.create_account');
    for (const f of Object.values(fields)) f.setError('');
    general.textContent = '';
  }

  async function onSubmit(e) {
    e.preventDefault();
    const u = username.input.value.trim();
    const p = password.input.value;
    username.setError(u ? '' : t('enter.need_username'));
    password.setError(p ? '' : t('enter.need_password'));
    if (!u || !p) return;
    submit.disabled = true;
    try {
      const res = mode === 'login'
        ? await api.login(u, p)
        : await api.register(u, p, displayName.input.value.trim() || undefined);
      onEntered(res.user);
    } catch (err) {
      showApiError(err, fields, general);
    } finally {
      submit.disabled = false;
    }
  }

  async function onGuest(e) {
    e.preventDefault();
    try {
      const res = await api.guest(guestName.input.value.trim() || undefined);
      onEntered(res.user);
    } catch (err) {
      showApiError(err, { display_name: guestName }, guestError);
    }
  }

  setMode('login');
  root.replaceChildren(h('main', { class: 'enter', 'data-testid': 'enter' },
    h('div', { class: 'enter-card' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-logo' }, icon('chat')), h('h1', {}, t('app.name')), languagePicker()),
      intro,
      h('p', { class: 'enter-lead' }, intro ? t('invite.enter_lead') : t('enter.lead')),
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('enter.tabs') }, tabLogin, tabRegister),
      form,
      h('div', { class: 'divider', role: 'separator' }, h('span', {}, t('enter.or'))),
      guestForm,
      h('p', { class: 'enter-note' }, icon('lock'), ' ', t('enter.guest_note')))));
  username.input.focus();
}
