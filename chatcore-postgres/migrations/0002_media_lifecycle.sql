-- Media gets a random public id (media ids were sequential and guessable), the key of its bytes
-- (rows from before keep their content-addressed key), what decoding taught (dimensions,
-- duration, thumbnail), and the indexes deletion, the sweep of unsent uploads and the daily
-- quota read through.
ALTER TABLE media
    ADD COLUMN public_id BYTEA CHECK (length(public_id) = 16),
    ADD COLUMN file_key TEXT NOT NULL DEFAULT '',
    ADD COLUMN width BIGINT,
    ADD COLUMN height BIGINT,
    ADD COLUMN duration_ms BIGINT,
    ADD COLUMN thumbnail_mime TEXT;
UPDATE media SET public_id = uuid_send(gen_random_uuid()), file_key = sha256;
ALTER TABLE media ALTER COLUMN public_id SET NOT NULL;
CREATE UNIQUE INDEX media_by_public_id ON media (public_id);
CREATE INDEX media_by_created ON media (created_at);
CREATE INDEX media_by_uploader ON media (uploader_id, created_at);
CREATE INDEX messages_by_media ON messages (media_id);
