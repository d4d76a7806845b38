-- Invite links: a group admin's link that lets whoever holds it join the group. Only the
-- SHA-256 of the token is stored, with its first characters to tell links apart. A link is
-- usable while expires_at is in the future and uses < max_uses (NULL: no limit); revoking
-- deletes the row. `id` is the key `migrate-store` copies rows in order of.
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    token_prefix TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    max_uses     INTEGER,
    uses         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invites_by_room ON invites (room_id);
