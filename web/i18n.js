// The string table: every text the UI shows is looked up here by key, so a language is one file
// in web/strings/ (English is the source; Hebrew, written right to left, is the second).
// Entries are plain strings with {placeholders}, or plural forms ({ one, two, other, … }) picked
// by Intl.PluralRules for the `n` placeholder. Results are plain text: views insert them with
// textContent like any other text.

import en from './strings/en.js';

/** The languages the client ships, by code, with their names in their own script. */
export const LANGUAGES = { en: 'English', he: 'עברית' };
const RTL = new Set(['he', 'ar', 'fa', 'ur']);
const STORAGE_KEY = 'chat.lang';

let code = 'en';
let table = en;
let plurals = new Intl.PluralRules('en');

/** The chosen language: a saved choice, else the browser's first language we ship, else English. */
export function preferredLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && LANGUAGES[saved]) return saved;
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (LANGUAGES[base]) return base;
  }
  return 'en';
}

/** Loads a language's table and sets `lang` and `dir` on the page. Unknown codes mean English. */
export async function useLanguage(lang) {
  code = LANGUAGES[lang] ? lang : 'en';
  table = code === 'en' ? en : (await import(`./strings/${code}.js`)).default;
  plurals = new Intl.PluralRules(code);
  document.documentElement.lang = code;
  document.documentElement.dir = RTL.has(code) ? 'rtl' : 'ltr';
}

/** Remembers a language for the next page load. */
export function saveLanguage(lang) {
  localStorage.setItem(STORAGE_KEY, lang);
}

/** The current language code ("en", "he"), also the locale for dates and numbers. */
export function language() {
  return code;
}

/**
 * The text for `key`, with `{name}` placeholders filled from `vars`. A key missing from the
 * current language falls back to English; a key missing from English is a bug and is logged.
 */
export function t(key, vars = {}) {
  let entry = table[key] ?? en[key];
  if (entry === undefined) {
    console.error(`i18n: no string for "${key}"`);
    return key;
  }
  if (typeof entry === 'object') {
    const n = Number(vars.n);
    entry = entry[plurals.select(n)] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/**
 * Text for an API error: in English the server's own message (it names the rule that failed);
 * in other languages the translation of its stable `code` when there is one.
 */
export function errorText(err) {
  const key = `error.${err?.code}`;
  if (code !== 'en' && table[key]) return table[key];
  return err?.message || t(en[key] ? key : 'error.unknown');
}

/** Like t(key), but the text of `fallback` when no language has `key` (keys built from codes). */
export function tOr(key, fallback, vars = {}) {
  return t(key in table || key in en ? key : fallback, vars);
}
