-- Idempotency keys are indexed as (room_id, client_id, sender_id) instead of
-- (room_id, sender_id, client_id): the same uniqueness, but clients whose ids start with the
-- time (the web client, chatcore_ws::Client and chatbench do) add every new key at the end of
-- the room's part of the index, so a batch of many senders' messages touches one index page
-- instead of one per sender.
ALTER TABLE messages
    DROP INDEX messages_client_id,
    ADD UNIQUE KEY messages_client_id (room_id, client_id, sender_id);
