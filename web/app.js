// Entry point: pick the language, find out who we are (the session cookie is HttpOnly, so ask
// GET /me), then show the way in or the chat.

import { api } from './api.js';
import { Chat } from './chat.js';
import { preferredLanguage, t, useLanguage } from './i18n.js';
import { Store } from './state.js';
import { h } from './util/dom.js';
import { renderEnter } from './views/enter.js';
import { renderJoin, takeInviteToken } from './views/join.js';
import { assistantTool } from './views/assistant.js';
import { renderShell } from './views/shell.js';
import { toast } from './views/toast.js';

const root = document.getElementById('root');

async function boot() {
  await useLanguage(preferredLanguage());
  let me = null;
  try {
    me = await api.me();
  } catch (err) {
    if (err.status !== 401) {
      showFatal(err.message);
      return;
    }
  }
  const invite = takeInviteToken();
  if (invite) await renderJoin(root, invite, me, start);
  else if (me) start(me);
  else renderEnter(root, start);
  const notice = sessionStorage.getItem('chat.notice');
  if (notice) {
    sessionStorage.removeItem('chat.notice');
    toast(t(notice));
  }
}

function start(user) {
  const store = new Store();
  store.setMe(user);
  const chat = new Chat(store);
  const ctx = {
    store,
    chat,
    // Buttons added to the composer row (see views/composer.js): the writing assistant.
    composerTools: [assistantTool],
    async logout() {
      try { await api.logout(); } catch { /* the session is dropped either way */ }
      chat.stop();
      await chat.forgetLocalData();
      location.hash = '';
      location.reload();
    },
  };
  chat.onSessionEnded = () => {
    // Start over from a clean page; say why once it has loaded.
    chat.stop();
    sessionStorage.setItem('chat.notice', 'session.ended');
    location.hash = '';
    location.reload();
  };
  ctx.shell = renderShell(root, ctx);
  chat.start().catch((err) => toast(err.message));
}

function showFatal(message) {
  root.replaceChildren(h('div', { class: 'boot' },
    h('p', {}, message),
    h('button', { type: 'button', class: 'btn primary', onclick: () => location.reload() }, t('action.try_again'))));
}

boot();
