// The room menu (⋮ in the conversation header): my own settings for this chat, mute and archive.
// No one else sees them; my other devices follow through the `room_settings` event.

import { t } from '../i18n.js';
import { toggleItems } from './menu.js';

/** Opens the room menu under `anchor`, or closes it when it is open there. */
export function toggleRoomMenu(ctx, roomId, anchor) {
  toggleItems(anchor, { label: t('room_menu.label'), testid: 'room-menu', items: () => roomItems(ctx, roomId) });
}

function roomItems({ store, chat }, roomId) {
  const room = store.rooms.get(roomId);
  if (!room) return [];
  return [
    room.muted
      ? [t('room_menu.unmute'), 'room-unmute', () => chat.setRoomSettings(roomId, { muted: false })]
      : [t('room_menu.mute'), 'room-mute', () => chat.setRoomSettings(roomId, { muted: true })],
    room.archived
      ? [t('room_menu.unarchive'), 'room-unarchive', () => chat.setRoomSettings(roomId, { archived: false })]
      : [t('room_menu.archive'), 'room-archive', () => chat.setRoomSettings(roomId, { archived: true })],
  ];
}
