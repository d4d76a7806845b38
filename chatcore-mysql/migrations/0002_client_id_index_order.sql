-- Idempotency keys are indexed as (client_id, sender_id, room_id) instead of
-- (room_id, sender_id, client_id): the same uniqueness, but clients whose ids start with the
-- time (the web client, chatcore_ws::Client and chatbench do) add every new key at the end of
-- the index, whatever the room, so a batch of many senders' messages touches a page or two of
-- it instead of one per sender.
ALTER TABLE messages
    DROP INDEX messages_client_id,
    ADD UNIQUE KEY messages_client_id (client_id, sender_id, room_id);
