-- Messages of a custom kind the host registered: the kind's name and its payload as JSON text
-- (kept as sent, so not JSONB), both NULL for text and media messages (and once deleted).
ALTER TABLE messages
    ADD COLUMN kind TEXT,
    ADD COLUMN payload TEXT;
