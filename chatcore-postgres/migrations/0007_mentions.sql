-- Mentions: the members a message's text names (`@username`), resolved when it was sent or last
-- edited, as JSON text: [{"start": 0, "end": 4, "user_id": 12}] (UTF-8 byte offsets into the
-- body). NULL when there are none (most messages) and once deleted. Existing messages have none:
-- they were sent before mentions were resolved.
ALTER TABLE messages ADD COLUMN mentions TEXT NULL;
