-- Each member's own settings for the room: muted (no notifications, unread counts kept) and
-- archived (listed apart until the member unarchives it). Kept with the membership, so a member
-- who leaves and comes back starts unmuted and unarchived.
ALTER TABLE members
    ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
