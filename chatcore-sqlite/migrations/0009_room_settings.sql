-- Each member's own settings for the room: muted (no notifications, unread counts kept) and
-- archived (listed apart until the member unarchives it). Kept with the membership, so a member
-- who leaves and comes back starts unmuted and unarchived.
ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
