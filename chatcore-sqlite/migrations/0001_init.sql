-- chatcore schema for SQLite. Times are milliseconds since the Unix epoch (UTC);
-- booleans are 0/1. AUTOINCREMENT keeps ids from ever being reused.

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT UNIQUE,
    display_name       TEXT NOT NULL,
    -- display_name lowercased by Rust (full Unicode), the key of prefix search.
    display_name_lower TEXT NOT NULL,
    password_hash      TEXT,
    is_guest           INTEGER NOT NULL,
    is_server_admin    INTEGER NOT NULL DEFAULT 0,
    disabled           INTEGER NOT NULL DEFAULT 0,
    external_id        TEXT UNIQUE,
    created_at         INTEGER NOT NULL,
    last_active_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    name       TEXT,
    direct_key TEXT UNIQUE,
    -- The room's sequence counter: appends lock it, insert last_seq + 1, and bump it.
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- id records join order, which is the order members() promises.
CREATE TABLE members (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (room_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE media (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES users (id),
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX media_by_room ON media (room_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    media_id   INTEGER REFERENCES media (id),
    reply_to   INTEGER,
    client_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    -- The keyset index of history pages, and the gapless-seq guarantee.
    UNIQUE (room_id, seq),
    -- Idempotent sends: a retried client_id finds the first message.
    UNIQUE (room_id, sender_id, client_id)
);
