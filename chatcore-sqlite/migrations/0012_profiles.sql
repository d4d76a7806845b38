-- Profiles: a picture and the "last seen" setting. The picture's bytes live in the media store
-- under a key derived from avatar_id (22 characters of URL-safe base64, new on every change);
-- avatar_mime is their type. Both are NULL without a picture.
ALTER TABLE users ADD COLUMN avatar_id TEXT;
ALTER TABLE users ADD COLUMN avatar_mime TEXT;
ALTER TABLE users ADD COLUMN hide_last_seen INTEGER NOT NULL DEFAULT 0;
