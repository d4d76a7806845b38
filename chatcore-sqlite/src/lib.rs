//! SQLite storage for chatcore.
