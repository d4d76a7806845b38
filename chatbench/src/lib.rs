//! `chatbench`: the load generator operators use to size a deployment, and the tool behind
//! `scripts/bench.sh` and `docs/performance.md`.
//!
//! It creates its own guests and rooms over the REST API, connects every client over the
//! WebSocket, sends messages that carry their send time in the body, and reports acked
//! messages/s, deliveries/s, end-to-end and ack latency (HDR histograms), loss, duplicates,
//! reordering, connect time and server memory per connection. `--proto raw` drives the raw-ws
//! baseline with the same scenario. Run `chatbench --help` for the flags.
//!
//! The generator has to stay well below the server in CPU per delivery, at millions of
//! deliveries per second on one core. So the load connections read frames with [`wire`], a
//! minimal frame reader over one large buffer (tokio-tungstenite only does their upgrade), and
//! classify them with a few byte scans ([`stamp`]) rather than `chatcore_ws::Client`'s full
//! `ServerFrame` decode, which costs several times more (see `benches/hot_paths.rs`, group
//! `client_decode`). Counters are kept per connection and added to the shared ones once per
//! read, and one clock read per `read` timestamps every frame it brought in.

pub mod cli;
pub mod client_ids;
pub mod conn;
pub mod ours;
pub mod raw;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod stamp;
pub mod stats;
pub mod wire;
