-- Idempotency keys are indexed as (client_id, sender_id, room_id) instead of
-- (room_id, sender_id, client_id): the same uniqueness, but clients whose ids start with the
-- time (the web client, chatcore_ws::Client and chatbench do) add every new key at the end of
-- the index, whatever the room. A commit of many senders' messages in many rooms then changes
-- a page or two of this index instead of one per sender, and each changed page is a 4 KiB
-- write to the WAL.
-- SQLite cannot change a table constraint in place: the table is rebuilt.

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
    UNIQUE (room_id, seq),
    -- Idempotent sends: a retried client_id finds the first message.
    UNIQUE (client_id, sender_id, room_id)
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
