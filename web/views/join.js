// Following an invite link (/join/<token>): show the group it leads to, then the way in
// (sign in, create an account or continue as a guest) unless already signed in, then join and
// open the room. A link that admits no one gets one page, whatever the reason (the server
// does not say either).

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { avatar, h, icon } from '../util/dom.js';
import { renderEnter } from './enter.js';
import { toast } from './toast.js';

/**
 * The token of the invite link this page was opened with, or null. The address bar drops it at
 * once, so it stays out of the history, bookmarks and later Referer headers.
 */
export function takeInviteToken() {
  const match = location.pathname.match(/^\/join\/([A-Za-z0-9_-]{1,64})\/?$/);
  if (!match) return null;
  history.replaceState(null, '', '/');
  return match[1];
}

/**
 * Shows the invite for `token` to `me` (null when signed out); `start(user)` opens the chat.
 * On a dead link, the page says so and offers the chat itself.
 */
export async function renderJoin(root, token, me, start) {
  let preview;
  try {
    preview = await api.invitePreview(token);
  } catch (err) {
    renderDead(root, err, () => (me ? start(me) : renderEnter(root, start)));
    return;
  }
  const enterRoom = async (user) => {
    try {
      const room = await api.joinInvite(token);
      history.replaceState(null, '', `#/room/${room.id}`);
    } catch (err) {
      toast(errorText(err));
    }
    start(user);
  };
  const card = inviteCard(preview);
  if (!me) {
    renderEnter(root, enterRoom, card);
    return;
  }
  const join = h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'join-submit', onclick: () => { join.disabled = true; enterRoom(me); } },
    t('invite.join'));
  root.replaceChildren(h('main', { class: 'enter', 'data-testid': 'join' },
    h('div', { class: 'enter-card' }, card, join,
      h('button', { type: 'button', class: 'btn secondary wide', onclick: () => start(me) }, t('invite.not_now')))));
  join.focus();
}

/** The group a link leads to, as the page shows it above the way in. */
function inviteCard(preview) {
  return h('section', { class: 'invite-card', 'data-testid': 'invite-card', 'aria-label': t('invite.title') },
    avatar(preview.room_name, 'large'),
    h('p', { class: 'muted' }, t('invite.invited_to')),
    h('h2', { dir: 'auto', 'data-testid': 'invite-room' }, preview.room_name),
    h('p', { class: 'muted small' }, t('group.members', { n: preview.member_count })));
}

function renderDead(root, err, goOn) {
  const text = err.code === 'not_found' ? t('invite.dead') : errorText(err);
  root.replaceChildren(h('main', { class: 'enter', 'data-testid': 'invite-dead' },
    h('div', { class: 'enter-card' },
      h('span', { class: 'conv-empty-icon' }, icon('lock')),
      h('h1', {}, t('invite.dead_title')),
      h('p', { role: 'alert' }, text),
      h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'invite-dead-continue', onclick: goOn }, t('invite.to_chat')))));
}
