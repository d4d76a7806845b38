-- Media gets a random public id (media ids were sequential and guessable), the key of its bytes
-- (rows from before keep their content-addressed key), what decoding taught (dimensions,
-- duration, thumbnail), and the indexes deletion, the sweep of unsent uploads and the daily
-- quota read through.
ALTER TABLE media ADD COLUMN public_id BLOB;
ALTER TABLE media ADD COLUMN file_key TEXT NOT NULL DEFAULT '';
ALTER TABLE media ADD COLUMN width INTEGER;
ALTER TABLE media ADD COLUMN height INTEGER;
ALTER TABLE media ADD COLUMN duration_ms INTEGER;
ALTER TABLE media ADD COLUMN thumbnail_mime TEXT;
UPDATE media SET public_id = randomblob(16), file_key = sha256;
CREATE UNIQUE INDEX media_by_public_id ON media (public_id);
CREATE INDEX media_by_created ON media (created_at);
CREATE INDEX media_by_uploader ON media (uploader_id, created_at);
CREATE INDEX messages_by_media ON messages (media_id);
