//! The web client's route; the chat API's routes are `chatcore-http`'s.

pub mod web;
