// Navigation by URL hash (#/, #/room/<id>, #/admin). Opening a view from the list pushes a history
// entry marked as ours, so "back" (the button, or the phone's back gesture) returns to the list
// instead of piling up entries.

/** Goes to a hash route, adding a history entry. */
export function navigate(hash) {
  if (location.hash === hash) return;
  const fromList = !/^#\/room\/|^#\/admin$/.test(location.hash);
  history.pushState({ fromList }, '', hash);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Back to the chat list: pops our own entry when there is one, else replaces the route. */
export function backToList() {
  if (history.state?.fromList) {
    history.back();
  } else {
    history.replaceState(null, '', '#/');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }
}
