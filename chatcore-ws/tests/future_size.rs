//! The sizes of a connection's futures, which its task holds for as long as the connection is
//! open, idle or not (docs/performance.md, "WebSocket connections"). A measurement, not a
//! check: sizes depend on the profile and the compiler.

use std::future::{Future, Pending};

use chatcore::{Actor, Chat};
use chatcore_ws::{Upgrade, UpgradedSocket, WsConfig, serve_connection};
use hyper::Response;

/// The size of the future `serve` returns, without making one.
fn future_size<S, F: Future>(
    _serve: impl FnOnce(S, Chat, Actor, WsConfig, Pending<()>) -> F,
) -> usize {
    std::mem::size_of::<F>()
}

/// The size of the connection future [`Upgrade::serve`] returns, without making one.
fn upgrade_future_size<F: Future>(
    _serve: impl FnOnce(Upgrade, Chat, Actor, Pending<()>) -> (Response<()>, F),
) -> usize {
    std::mem::size_of::<F>()
}

#[test]
#[ignore = "a measurement: run it on purpose, in release"]
fn connection_future_sizes() {
    println!(
        "serve_connection over an upgraded hyper connection: {} bytes",
        future_size(serve_connection::<UpgradedSocket>)
    );
    println!(
        "Upgrade::serve's connection (the upgrade, then serve_connection): {} bytes",
        upgrade_future_size(Upgrade::serve::<()>)
    );
}
