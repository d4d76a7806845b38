-- Reactions: one row per (message, emoji, user). Read back per message in the order they were
-- made; a tombstone's rows are deleted with the delete. `id` is the key `migrate-store` copies
-- rows in order of. TEXT compares byte for byte (BINARY collation), so different emojis never
-- compare equal.
CREATE TABLE reactions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    emoji      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (message_id, emoji, user_id)
);
