-- Reactions: one row per (message, emoji, user). Read back per message in the order they were
-- made; a tombstone's rows are deleted with the delete. `id` is the key `migrate-store` copies
-- rows in order of. Emojis are VARBINARY: they compare byte for byte (a collation could make
-- different emojis equal).
CREATE TABLE reactions (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    message_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    emoji      VARBINARY(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY reactions_one_per_user (message_id, emoji, user_id),
    KEY reactions_by_user (user_id),
    CONSTRAINT reactions_message FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
    CONSTRAINT reactions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
