-- Idempotency keys are checked by the store's single writer against its in-memory map of the
-- window's keys (chatcore-sqlite/src/recent_keys.rs), not by a unique index: clients choose
-- their ids, and random ones (UUIDv4) put every new key on a random page of such an index, so
-- each commit rewrote one index page per message into the WAL. The keys stay in the rows, in
-- server order (by id), which is what the map is rebuilt from when the store opens.
-- SQLite cannot drop a table constraint in place: the table is rebuilt.

CREATE TABLE messages_rebuilt (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    media_id   INTEGER REFERENCES media (id),
    reply_to   INTEGER,
    client_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    -- The keyset index of history pages, and the gapless-seq guarantee.
    UNIQUE (room_id, seq)
);

INSERT INTO messages_rebuilt
    (id, room_id, seq, sender_id, body, media_id, reply_to, client_id, created_at, edited_at, deleted)
SELECT id, room_id, seq, sender_id, body, media_id, reply_to, client_id, created_at, edited_at, deleted
FROM messages;

-- Keep ids from ever being reused: carry the AUTOINCREMENT counter over.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'messages_rebuilt', seq FROM sqlite_sequence WHERE name = 'messages'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages_rebuilt');
UPDATE sqlite_sequence
SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'messages'))
WHERE name = 'messages_rebuilt'
    AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');

DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
