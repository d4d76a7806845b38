-- Messages of a custom kind the host registered: the kind's name and its payload as JSON text,
-- both NULL for text and media messages (and once deleted).
ALTER TABLE messages ADD COLUMN kind TEXT;
ALTER TABLE messages ADD COLUMN payload TEXT;
