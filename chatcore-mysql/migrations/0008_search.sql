-- Full-text search: a FULLTEXT index of message bodies. InnoDB indexes words of 3 to 84
-- characters (innodb_ft_min_token_size / innodb_ft_max_token_size, the defaults); a search
-- requires a word starting with each such run of letters, digits and `_` of the text, then
-- `LIKE` on the lowercased body decides, so the text is matched literally. A text with no
-- such run (e.g. "50%") is decided by `LIKE` alone, a scan of the user's rooms.
--
-- The body takes a case-insensitive collation so the index ignores case (the collation only
-- changes comparisons, not the stored bytes; nothing compares bodies for equality). The index
-- is built without stopwords: "the" or "about" must be searchable. Building it indexes the
-- existing messages; InnoDB then updates it when a changing transaction commits.
SET SESSION innodb_ft_enable_stopword = 0;

ALTER TABLE messages
    MODIFY body TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    ADD FULLTEXT INDEX messages_body_text (body);

SET SESSION innodb_ft_enable_stopword = DEFAULT;
