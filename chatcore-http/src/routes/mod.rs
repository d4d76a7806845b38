//! Route handlers, one module per route group. Each handler parses the request, calls one
//! `chatcore` operation and shapes the response; chat rules live in `chatcore`.

pub mod admin;
pub mod assist;
pub mod auth;
pub mod csp;
pub mod health;
pub mod invites;
pub mod media;
pub mod messages;
pub mod profile;
pub mod reactions;
pub mod rooms;
pub mod search;
pub mod settings;
pub mod users;
pub mod ws;
