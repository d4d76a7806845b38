-- chatcore schema for MySQL 8 and MariaDB 10.11. Times are milliseconds since the Unix epoch
-- (UTC). Text is utf8mb4 with a binary collation (byte-exact equality, emoji-safe); ids that
-- must match byte for byte, trailing spaces included, are VARBINARY (binary collations PAD
-- SPACE on MariaDB, so 'a' = 'a ' there).

CREATE TABLE users (
    id                 BIGINT NOT NULL AUTO_INCREMENT,
    username           VARCHAR(255) NULL,
    display_name       VARCHAR(255) NOT NULL,
    -- display_name lowercased by Rust (full Unicode), the key of prefix search.
    display_name_lower VARCHAR(255) NOT NULL,
    password_hash      VARCHAR(255) NULL,
    is_guest           BOOLEAN NOT NULL,
    is_server_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled           BOOLEAN NOT NULL DEFAULT FALSE,
    external_id        VARBINARY(255) NULL,
    created_at         BIGINT NOT NULL,
    last_active_at     BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_external_id (external_id),
    KEY users_guest_activity (is_guest, disabled, last_active_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sessions (
    token_hash   BINARY(32) NOT NULL,
    user_id      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (token_hash),
    KEY sessions_by_user (user_id),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE rooms (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    kind       VARCHAR(16) NOT NULL,
    name       VARCHAR(255) NULL,
    direct_key VARCHAR(255) NULL,
    -- The room's sequence counter: appends lock this row (FOR UPDATE), insert last_seq + 1,
    -- and bump it, so seqs stay gapless across connections and server nodes.
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY rooms_direct_key (direct_key),
    CONSTRAINT rooms_kind CHECK (kind IN ('direct', 'group'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- id records join order, which is the order members() promises.
CREATE TABLE members (
    id            BIGINT NOT NULL AUTO_INCREMENT,
    room_id       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    role          VARCHAR(16) NOT NULL,
    joined_at     BIGINT NOT NULL,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY members_room_user (room_id, user_id),
    KEY members_by_user (user_id),
    CONSTRAINT members_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT members_role CHECK (role IN ('admin', 'member'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE media (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    room_id     BIGINT NOT NULL,
    uploader_id BIGINT NOT NULL,
    mime        VARCHAR(255) NOT NULL,
    size        BIGINT UNSIGNED NOT NULL,
    sha256      CHAR(64) NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY media_by_room (room_id),
    CONSTRAINT media_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT media_uploader FOREIGN KEY (uploader_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE messages (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    room_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    sender_id  BIGINT NOT NULL,
    body       TEXT NOT NULL,
    media_id   BIGINT NULL,
    reply_to   BIGINT NULL,
    client_id  VARBINARY(255) NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at  BIGINT NULL,
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id),
    -- The keyset index of history pages, and the gapless-seq guarantee.
    UNIQUE KEY messages_room_seq (room_id, seq),
    -- Idempotent sends: a retried client_id finds the first message.
    UNIQUE KEY messages_client_id (room_id, sender_id, client_id),
    KEY messages_by_sender (sender_id),
    KEY messages_by_media (media_id),
    CONSTRAINT messages_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT messages_sender FOREIGN KEY (sender_id) REFERENCES users (id),
    CONSTRAINT messages_media FOREIGN KEY (media_id) REFERENCES media (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
