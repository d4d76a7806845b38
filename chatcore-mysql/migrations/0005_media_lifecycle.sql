-- Media gets a random public id (media ids were sequential and guessable), the key of its bytes
-- (rows from before keep their content-addressed key), what decoding taught (dimensions,
-- duration, thumbnail), and the indexes the sweep of unsent uploads and the daily quota read
-- through (messages_by_media exists since 0001).
ALTER TABLE media
    ADD COLUMN public_id BINARY(16) NULL,
    ADD COLUMN file_key VARCHAR(80) NOT NULL DEFAULT '',
    ADD COLUMN width INT NULL,
    ADD COLUMN height INT NULL,
    ADD COLUMN duration_ms BIGINT NULL,
    ADD COLUMN thumbnail_mime VARCHAR(255) NULL;
UPDATE media SET public_id = RANDOM_BYTES(16), file_key = sha256;
ALTER TABLE media
    MODIFY public_id BINARY(16) NOT NULL,
    ADD UNIQUE KEY media_by_public_id (public_id),
    ADD KEY media_by_created (created_at),
    ADD KEY media_by_uploader (uploader_id, created_at);
