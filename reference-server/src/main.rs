//! The reference chat server.

fn main() {}
