//! The shared SQL, one module per table and one function per statement. Each function takes a
//! connection (a pooled one or an open transaction) and the values it binds, and returns
//! chatcore's types; transactions and locks are the caller's (see [`crate::store`]).

pub mod in_list;
pub mod invites;
pub mod like;
pub mod media;
pub mod messages;
pub mod reactions;
pub mod rooms;
pub mod search;
pub mod sessions;
pub mod users;
