-- Invite links: a group admin's link that lets whoever holds it join the group. Only the
-- SHA-256 of the token is stored, with its first characters to tell links apart. A link is
-- usable while expires_at is in the future and uses < max_uses (NULL: no limit); revoking
-- deletes the row. `id` is the key `migrate-store` copies rows in order of.
CREATE TABLE invites (
    id           BIGINT NOT NULL AUTO_INCREMENT,
    room_id      BIGINT NOT NULL,
    token_hash   BINARY(32) NOT NULL,
    token_prefix VARCHAR(16) NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    max_uses     BIGINT NULL,
    uses         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY invites_by_token (token_hash),
    KEY invites_by_room (room_id),
    KEY invites_by_creator (created_by),
    CONSTRAINT invites_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT invites_creator FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
