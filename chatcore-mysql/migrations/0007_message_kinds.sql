-- Messages of a custom kind the host registered: the kind's name and its payload as JSON text,
-- both NULL for text and media messages (and once deleted).
ALTER TABLE messages
    ADD COLUMN kind VARCHAR(32) NULL,
    ADD COLUMN payload TEXT NULL;
