-- Sizes are read as signed 64-bit integers by the query code shared with SQLite and
-- PostgreSQL (which have no unsigned type); a negative size was never stored.
ALTER TABLE media MODIFY size BIGINT NOT NULL;
