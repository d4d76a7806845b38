-- Full-text search: an FTS5 index of message bodies with the trigram tokenizer, so a search
-- is a case-insensitive substring match of at least three characters (a quoted phrase: no
-- operator a user types is one). External content: the text lives once, in `messages`; the
-- index holds only trigrams. The triggers keep it in step inside the transaction that changes
-- a message (appends, edits, deletes and room deletions alike); a deleted message's body is
-- empty, so it has nothing indexed. Existing messages are indexed here ('rebuild').
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'trigram'
);

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
