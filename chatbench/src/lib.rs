//! `chatbench`: the load generator operators use to size a deployment, and the tool behind
//! `scripts/bench.sh` and `docs/performance.md`.
//!
//! It creates its own guests and rooms over the REST API, connects every client over the
//! WebSocket, sends messages that carry their send time in the body, and reports acked
//! messages/s, deliveries/s, end-to-end and ack latency (HDR histograms), loss, duplicates,
//! reordering, connect time and server memory per connection. `--proto raw` drives the raw-ws
//! baseline with the same scenario. Run `chatbench --help` for the flags.
//!
//! Receiving is done with tokio-tungstenite directly and a few byte scans per frame
//! ([`stamp`]) rather than with `chatcore_ws::Client`, whose full `ServerFrame` decode costs
//! several times more per delivery (see `benches/hot_paths.rs`, group `client_decode`): at
//! millions of deliveries per second the generator would otherwise be the bottleneck.

pub mod cli;
pub mod conn;
pub mod ours;
pub mod raw;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod stamp;
pub mod stats;
