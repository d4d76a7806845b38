// The language switch: a labelled <select> of the shipped languages. Choosing one saves it and
// reloads, so every view is built once in the new language and direction.

import { LANGUAGES, language, saveLanguage, t } from '../i18n.js';
import { h } from '../util/dom.js';

export function languagePicker() {
  const select = h('select', { class: 'lang-select', 'aria-label': t('language.label'), 'data-testid': 'language' },
    Object.entries(LANGUAGES).map(([code, name]) => h('option', { value: code, lang: code, selected: code === language() }, name)));
  select.addEventListener('change', () => {
    saveLanguage(select.value);
    location.reload();
  });
  return select;
}
