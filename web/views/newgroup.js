// "New group": a name and some members.

import { t } from '../i18n.js';
import { h } from '../util/dom.js';
import { field, openDialog, showApiError } from './dialog.js';
import { userPicker } from './userpicker.js';
import { navigate } from '../util/route.js';

export function openNewGroup(ctx) {
  const { store, chat } = ctx;
  const name = field({ label: t('group.name'), name: 'name', maxlength: 80, testid: 'group-name' });
  const picker = userPicker({ exclude: () => new Set([store.me.id]), multi: true, label: t('group.add_members') });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'group-create' }, t('group.create'));
  const form = h('form', { novalidate: true }, name.wrap, h('p', { class: 'field-label' }, t('group.members_label')), picker.el, general, submit);
  const { close } = openDialog({ title: t('group.new'), body: form, testid: 'new-group-dialog' });
  name.input.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!name.input.value.trim()) { name.setError(t('group.need_name')); return; }
    submit.disabled = true;
    try {
      const room = await chat.createGroup(name.input.value.trim(), [...picker.chosen.keys()]);
      close();
      navigate(`#/room/${room.id}`);
    } catch (err) {
      showApiError(err, { name }, general);
    } finally {
      submit.disabled = false;
    }
  });
}
