// A search box that finds users (GET /users?q=) and reports picks. Used by "New group" and "Add member".

import { api } from '../api.js';
import { t } from '../i18n.js';
import { avatar, followTextDirection, h } from '../util/dom.js';

export function userPicker({ exclude = () => new Set(), onPick, multi = false, label = t('picker.label') }) {
  const input = h('input', { type: 'search', class: 'search-input boxed', placeholder: t('picker.placeholder'), 'aria-label': label, 'data-testid': 'picker-search', autocomplete: 'off' });
  const results = h('ul', { class: 'picker-results', 'aria-label': t('picker.results'), 'data-testid': 'picker-results' });
  followTextDirection(input);
  const chosen = new Map();
  const chips = h('div', { class: 'chips', 'aria-live': 'polite' });
  let seq = 0;
  let timer = null;

  async function search() {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { results.replaceChildren(); return; }
    let users = [];
    try { ({ users } = await api.searchUsers(q)); } catch { users = []; }
    if (mine !== seq) return;
    const skip = exclude();
    // The list is rebuilt: keep keyboard focus on the same person.
    const focused = results.contains(document.activeElement) ? document.activeElement.dataset.userId : null;
    results.replaceChildren(...users.filter((u) => !skip.has(u.id)).map((u) => {
      const picked = chosen.has(u.id);
      return h('li', {}, h('button', {
        type: 'button', class: `picker-item${picked ? ' picked' : ''}`, 'aria-pressed': multi ? String(picked) : null,
        'data-testid': 'picker-item', 'data-user-id': u.id,
        onclick: () => pick(u),
      }, avatar(u.display_name, 'small'), h('span', { class: 'picker-name', dir: 'auto' }, u.display_name),
      h('span', { class: 'muted' }, u.username ? `@${u.username}` : t('user.guest'))));
    }));
    if (focused) results.querySelector(`[data-user-id="${focused}"]`)?.focus();
  }

  function pick(u) {
    if (multi) {
      if (chosen.has(u.id)) chosen.delete(u.id); else chosen.set(u.id, u);
      renderChips();
      search();
    }
    onPick?.(u);
  }

  function renderChips() {
    chips.replaceChildren(...[...chosen.values()].map((u) => h('button', {
      type: 'button', class: 'chip', 'aria-label': t('picker.remove', { name: u.display_name }), onclick: () => pick(u),
    }, h('bdi', {}, u.display_name), ' ×')));
  }

  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  return { el: h('div', { class: 'picker' }, chips, input, results), chosen, input, refresh: search };
}
