-- The search index leaves the append's transaction: appends no longer write trigrams (the
-- insert trigger cost a fifth of scenario B, a new small FTS5 segment in every group commit).
-- The store's writer indexes the messages above a high-water mark in bulk, in transactions of
-- their own, and a search first has the writer index everything committed (see
-- `chatcore-sqlite/src/search_tail.rs`).
--
-- `messages_fts_mark` holds the mark: every message with `id <= indexed_up_to` is in the index,
-- none above it. 0008 indexed every message so far, so the mark starts at the newest one.
--
-- The edit and delete triggers now touch the index only for rows at or below the mark: an
-- external-content 'delete' of a row that was never indexed would corrupt the index. A row
-- above the mark is indexed later with whatever body it has then.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;

CREATE TABLE messages_fts_mark (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    indexed_up_to INTEGER NOT NULL
);

INSERT INTO messages_fts_mark (only_row, indexed_up_to)
VALUES (1, coalesce((SELECT max(id) FROM messages), 0));

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_up_to FROM messages_fts_mark)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.id <= (SELECT indexed_up_to FROM messages_fts_mark)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
