//! End-to-end tests of the reference server (see the `tests/` folder of this crate).
