//! Whether `cargo bench` started this benchmark binary.

/// `cargo bench` passes `--bench` to a benchmark without the test harness. Anything else, such
/// as a test runner listing every target (`cargo nextest run --all-targets` starts each binary
/// with `--list`), gets no benchmark: it would run in a debug build and take many minutes.
pub fn requested() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}
