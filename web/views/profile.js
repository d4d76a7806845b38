// My profile, opened from my name at the top of the chat list: my photo (chosen from a file; the
// server crops it square), my display name, and whether others see when I was last seen. Each
// change is saved on its own; the dialog follows my user as it changes (also from another device).

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { avatar, h, setText } from '../util/dom.js';
import { field, openDialog, showApiError } from './dialog.js';

export function openProfile(ctx) {
  const { store, chat } = ctx;

  const photoSlot = h('span', { class: 'profile-photo', 'data-testid': 'profile-avatar' });
  const fileInput = h('input', { type: 'file', accept: 'image/*', hidden: true, 'data-testid': 'profile-photo-input' });
  const changePhoto = h('button', {
    type: 'button', class: 'btn secondary', 'data-testid': 'profile-photo-change', onclick: () => fileInput.click(),
  }, t('profile.change_photo'));
  const removePhoto = h('button', {
    type: 'button', class: 'btn secondary', 'data-testid': 'profile-photo-remove',
    onclick: () => savePhoto(null),
  }, t('profile.remove_photo'));
  const photoStatus = h('p', { class: 'profile-status', role: 'status', 'data-testid': 'profile-photo-status' });

  const name = field({ label: t('profile.name'), name: 'display_name', maxlength: 40, autocomplete: 'nickname', testid: 'profile-name-input' });
  const nameError = h('p', { class: 'form-error', role: 'alert' });
  const saveName = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'profile-name-save' }, t('profile.save'));
  const nameForm = h('form', { class: 'profile-name', novalidate: true, 'data-testid': 'profile-name-form' },
    name.wrap, nameError, h('div', { class: 'profile-actions' }, saveName));
  const handle = h('p', { class: 'muted profile-handle', dir: 'auto', 'data-testid': 'profile-handle' });

  const hideHelp = h('p', { class: 'muted small', id: `hide-help-${Math.random().toString(36).slice(2, 7)}` }, t('profile.hide_last_seen_help'));
  const hide = h('input', { type: 'checkbox', 'aria-describedby': hideHelp.id, 'data-testid': 'profile-hide-last-seen' });
  const hideError = h('p', { class: 'form-error', role: 'alert' });
  const privacy = h('section', { class: 'profile-privacy' },
    h('h3', { class: 'section-title' }, t('profile.privacy')),
    h('label', { class: 'check' }, hide, t('profile.hide_last_seen')), hideHelp, hideError);

  const content = h('div', { class: 'profile' },
    h('div', { class: 'info-hero' }, photoSlot,
      h('div', { class: 'profile-actions' }, changePhoto, removePhoto), photoStatus),
    nameForm, handle, privacy);
  let unsubscribe = () => {};
  openDialog({ title: t('profile.title'), body: content, testid: 'profile-dialog', onClose: () => unsubscribe() });

  let shownPhoto;
  let shownName = null;
  function render() {
    const me = store.me;
    const photo = api.avatarUrl(me);
    if (photo !== shownPhoto || me.display_name !== shownName) {
      photoSlot.replaceChildren(avatar(me.display_name, 'large', photo));
    }
    shownPhoto = photo;
    removePhoto.hidden = !me.avatar;
    // The name field follows my name until I start changing it.
    if (document.activeElement !== name.input && name.input.value === (shownName ?? '')) {
      name.input.value = me.display_name;
      name.input.dispatchEvent(new Event('input'));
    }
    shownName = me.display_name;
    setText(handle, me.guest ? t('profile.guest') : `@${me.username}`);
    hide.checked = !!me.hide_last_seen;
  }

  /** Runs a change with its controls disabled; an error goes to `show`. */
  async function change(controls, work, show) {
    for (const c of controls) c.disabled = true;
    try {
      await work();
      return true;
    } catch (err) {
      show(err);
      return false;
    } finally {
      for (const c of controls) c.disabled = false;
    }
  }

  async function savePhoto(file) {
    setText(photoStatus, file ? t('profile.uploading') : '');
    photoStatus.classList.remove('form-error');
    const done = await change([changePhoto, removePhoto], () => chat.updateProfile({ photo: file }), (err) => {
      photoStatus.classList.add('form-error');
      setText(photoStatus, errorText(err));
    });
    if (done) setText(photoStatus, file ? t('profile.photo_saved') : t('profile.photo_removed'));
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';   // the same file may be chosen again
    if (!file) return;
    if (!file.type.startsWith('image/')) {
      photoStatus.classList.add('form-error');
      setText(photoStatus, t('profile.images_only'));
      return;
    }
    savePhoto(file);
  });

  nameForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const wanted = name.input.value.trim();
    if (!wanted) {
      name.setError(t('profile.need_name'));
      name.input.focus();
      return;
    }
    if (wanted === store.me.display_name) return;
    const done = await change([saveName], () => chat.updateProfile({ display_name: wanted }),
      (err) => showApiError(err, { display_name: name }, nameError));
    if (done) {
      name.setError('');
      nameError.textContent = '';
      name.input.value = store.me.display_name;
      shownName = store.me.display_name;
    }
  });

  hide.addEventListener('change', async () => {
    setText(hideError, '');
    const wanted = hide.checked;
    await change([hide], () => chat.updateProfile({ hide_last_seen: wanted }), (err) => {
      hide.checked = !wanted;
      setText(hideError, errorText(err));
    });
  });

  unsubscribe = store.on('me', render);
  render();
  name.input.focus();
}
