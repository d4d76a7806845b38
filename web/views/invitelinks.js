// Invite links in group info (admins): create a link, copy it, see each link's state and uses,
// revoke it. The token is in the server's answer only once, when the link is created, so the
// full link is shown then; the list names links by their first characters.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { h, setText } from '../util/dom.js';
import { formatFull } from '../util/format.js';
import { toast } from './toast.js';

const DAY = 24 * 3600;
const LIFETIMES = [[DAY, 'invite.one_day'], [7 * DAY, 'invite.seven_days'], [30 * DAY, 'invite.thirty_days']];
const USES = [[0, 'invite.any_uses'], [1, 'invite.one_use'], [10, 'invite.ten_uses'], [100, 'invite.hundred_uses']];

/** The link people follow for `token`. */
export function inviteUrl(token) {
  return `${location.origin}/join/${token}`;
}

/** The section for group `roomId`; `show(isAdmin)` shows (and loads) it or hides it. */
export function inviteSection(roomId) {
  const select = (label, testid, options, chosen) => h('select', { 'aria-label': label, 'data-testid': testid },
    options.map(([value, key]) => h('option', { value: String(value), selected: value === chosen }, t(key))));
  const lifetime = select(t('invite.lifetime'), 'invite-lifetime', LIFETIMES, 7 * DAY);
  const uses = select(t('invite.max_uses'), 'invite-uses', USES, 0);
  const create = h('button', { type: 'submit', class: 'btn secondary', 'data-testid': 'invite-create' }, t('invite.create'));
  const form = h('form', { class: 'inline-form invite-form', onsubmit: onCreate }, lifetime, uses, create);
  const fresh = h('div', { class: 'invite-fresh', hidden: true, 'data-testid': 'invite-fresh' });
  const list = h('ul', { class: 'invite-list', 'data-testid': 'invite-list' });
  const el = h('div', { hidden: true, 'data-testid': 'invite-section' },
    h('h4', { class: 'section-title' }, t('invite.links')), form, fresh, list);

  async function onCreate(e) {
    e.preventDefault();
    create.disabled = true;
    try {
      const maxUses = Number(uses.value);
      const link = await api.createInvite(roomId, { expires_in_secs: Number(lifetime.value), ...(maxUses ? { max_uses: maxUses } : {}) });
      showFresh(inviteUrl(link.token));
      await load();
    } catch (err) {
      toast(errorText(err));
    } finally {
      create.disabled = false;
    }
  }

  function showFresh(url) {
    const field = h('input', { type: 'text', readonly: true, value: url, 'aria-label': t('invite.link'), 'data-testid': 'invite-url', dir: 'ltr' });
    const copy = h('button', {
      type: 'button', class: 'btn small', 'data-testid': 'invite-copy',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(url);
          toast(t('invite.copied'));
        } catch {
          field.select();   // no clipboard access: leave it selected for the keyboard
        }
      },
    }, t('invite.copy'));
    fresh.replaceChildren(h('p', { class: 'muted small' }, t('invite.shown_once')), h('div', { class: 'inline-form' }, field, copy));
    fresh.hidden = false;
    field.select();
  }

  async function load() {
    try {
      const { invites } = await api.invites(roomId);
      list.replaceChildren(...invites.map(item));
    } catch (err) {
      toast(errorText(err));
    }
  }

  function item(invite) {
    const state = invite.state === 'active'
      ? t('invite.until', { when: formatFull(invite.expires_at) })
      : t(`invite.state_${invite.state}`);
    const used = invite.max_uses == null
      ? t('invite.used', { n: invite.uses })
      : t('invite.used_of', { n: invite.uses, max: invite.max_uses });
    const revoke = h('button', {
      type: 'button', class: 'btn small danger', 'data-testid': 'invite-revoke',
      'aria-label': t('invite.revoke_of', { prefix: invite.token_prefix }),
      onclick: async () => {
        revoke.disabled = true;
        try {
          await api.revokeInvite(roomId, invite.id);
          fresh.hidden = true;
          await load();
        } catch (err) {
          revoke.disabled = false;
          toast(errorText(err));
        }
      },
    }, t('invite.revoke'));
    const name = h('bdi', { dir: 'ltr', class: 'invite-prefix' });
    setText(name, `${invite.token_prefix}…`);
    return h('li', { class: 'invite', 'data-testid': 'invite', 'data-state': invite.state },
      h('span', { class: 'invite-text' }, name, h('span', { class: 'muted small' }, ` · ${state} · ${used}`)),
      revoke);
  }

  let shown = false;
  return {
    el,
    show(isAdmin) {
      el.hidden = !isAdmin;
      if (isAdmin && !shown) load();
      shown = isAdmin;
    },
  };
}
