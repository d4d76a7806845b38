// The "turn on notifications" hint above the chat list. It shows only while the browser has not
// been asked yet, and goes away by itself once notifications are allowed or blocked, however
// that happened (this button, the menu, or the browser's site settings).

import { t } from '../i18n.js';
import { h, iconButton } from '../util/dom.js';

export function renderNotifyHint() {
  const hint = h('div', { class: 'notify-hint', 'data-testid': 'notify-hint', hidden: true });
  if (!('Notification' in window)) return hint;
  let dismissed = false;
  const update = () => { hint.hidden = dismissed || Notification.permission !== 'default'; };
  const enable = h('button', {
    type: 'button', class: 'link-btn', 'data-testid': 'enable-notifications',
    onclick: async () => {
      try { await Notification.requestPermission(); } catch { /* ignored */ }
      update();
    },
  }, t('notify.enable'));
  hint.append(h('span', { class: 'notify-text' }, t('notify.hint'), ' ', enable),
    iconButton('close', t('action.dismiss'), () => { dismissed = true; update(); }));
  navigator.permissions?.query({ name: 'notifications' })
    .then((status) => status.addEventListener('change', update))
    .catch(() => { /* no Permissions API: the checks below still catch it */ });
  // Settings changed in another tab or window become visible when this one is looked at again.
  document.addEventListener('visibilitychange', update);
  window.addEventListener('focus', update);
  update();
  return hint;
}
