-- Full-text search: a pg_trgm (trigram) GIN index of message bodies, which `ILIKE '%text%'`
-- uses, so a search is a case-insensitive substring match with its wildcards escaped (the
-- text is matched literally, no stemming, no query language). pg_trgm ships with PostgreSQL
-- (contrib) and is a trusted extension: the database owner may create it. Building the index
-- indexes the existing messages; it changes with every write, in the same transaction.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_body_trgm ON messages USING gin (body gin_trgm_ops);
