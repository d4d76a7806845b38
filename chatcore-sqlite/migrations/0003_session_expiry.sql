-- Expired sessions are swept by age and by idleness (Store::delete_expired_sessions): index both
-- times, so a sweep reads the expired rows instead of every session.
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_by_created ON sessions (created_at);
