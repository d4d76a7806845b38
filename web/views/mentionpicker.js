// Mention autocomplete in the composer: typing `@` and the start of a name lists the room's
// members who have a username (not me); ↑/↓ choose, Enter or Tab insert `@username `, Esc
// closes, a tap or click inserts too. Only the text is changed: the server resolves mentions.

import { t } from '../i18n.js';
import { h } from '../util/dom.js';

const MAX_OPTIONS = 6;
/** `@` at the start or after a character that cannot end a username, then the name typed so far. */
const TYPED = /(?:^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]{0,32})$/;

let lists = 0;

/**
 * Attaches the picker to the composer's `input`, showing its list inside `field` (positioned).
 * Call it before the composer's own key handler is added: while the list is open, it takes
 * the keys it uses. `changed()` runs after an insertion.
 */
export function attachMentionPicker({ input, field, store, roomId, changed }) {
  const id = `mention-list-${++lists}`;
  const list = h('ul', { class: 'mention-list', role: 'listbox', id, 'aria-label': t('mention.list'), 'data-testid': 'mention-list', hidden: true });
  field.append(list);
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', id);
  let options = [];   // members offered
  let active = 0;
  let typed = null;   // { start, end } of `@name` before the caret

  function members(query) {
    const room = store.rooms.get(roomId);
    const q = query.toLowerCase();
    const starts = (text) => (text || '').toLowerCase().split(/\s+/).some((word) => word.startsWith(q));
    return (room?.members || [])
      .filter((m) => m.username && m.id !== store.me.id && (m.username.startsWith(q) || starts(m.display_name)))
      .slice(0, MAX_OPTIONS);
  }

  function update() {
    const caret = input.selectionStart;
    const match = input.selectionEnd === caret ? TYPED.exec(input.value.slice(0, caret)) : null;
    options = match ? members(match[1]) : [];
    if (!options.length) { close(); return; }
    typed = { start: caret - match[1].length - 1, end: caret };
    active = Math.min(active, options.length - 1);
    render();
  }

  function render() {
    list.replaceChildren(...options.map((m, i) => h('li', {
      id: `${id}-${i}`, role: 'option', class: 'mention-option', 'aria-selected': i === active ? 'true' : 'false',
      'data-testid': 'mention-option', 'data-username': m.username,
      // Keeps the focus (and the phone's keyboard) in the composer.
      onpointerdown: (e) => e.preventDefault(),
      onclick: () => pick(m),
    }, h('span', { class: 'mention-name', dir: 'auto' }, m.display_name), h('span', { class: 'mention-username' }, `@${m.username}`))));
    list.hidden = false;
    input.setAttribute('aria-activedescendant', `${id}-${active}`);
  }

  function close() {
    options = [];
    active = 0;
    typed = null;
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute('aria-activedescendant');
  }

  function pick(member) {
    if (!typed) return;
    const text = `@${member.username} `;
    input.setRangeText(text, typed.start, typed.end, 'end');
    close();
    input.focus();
    changed();
  }

  input.addEventListener('keydown', (e) => {
    if (list.hidden || e.isComposing) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      render();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      pick(options[active]);
    } else if (e.key === 'Escape') {
      close();
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  });
  input.addEventListener('input', update);
  input.addEventListener('click', update);
  input.addEventListener('blur', close);
  return { close };
}
