//! Command line: one run of one scenario against one server.

use clap::{Parser, ValueEnum};

use crate::client_ids::ClientIds;

/// Which wire protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Proto {
    /// The chat protocol of `docs/protocol.md`: guests and rooms are created over REST first,
    /// then every client connects to `/api/v1/ws` with its bearer token.
    Ours,
    /// The raw-ws baseline (`join` / `msg` / `ack`, no auth, no storage).
    Raw,
}

/// `chatbench`: creates users and rooms, connects every client, sends messages at a given
/// pace, and reports throughput, end-to-end latency, loss and server memory.
#[derive(Debug, Clone, Parser)]
#[command(name = "chatbench", version, about, long_about = None)]
pub struct Cli {
    /// Server base URL: `http://HOST:PORT` (ours; `/api/v1` is appended) or `ws://HOST:PORT`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,

    /// Another node of the same chat (`http://HOST:PORT`; repeat for more; ours only): clients
    /// connect to `--url` and these in turn, so their rooms span the nodes. Accounts and rooms
    /// are created through `--url`.
    #[arg(long = "also-url")]
    pub also_urls: Vec<String>,

    /// Protocol of the server under test.
    #[arg(long, value_enum, default_value_t = Proto::Ours)]
    pub proto: Proto,

    /// Number of rooms.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,

    /// Clients (each its own user and connection) per room; every one sends and receives.
    #[arg(long, default_value_t = 10)]
    pub clients_per_room: usize,

    /// Messages per second per client; 0 sends again as soon as an ack returns.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,

    /// Messages a client may have sent but not yet acked.
    #[arg(long, default_value_t = 1)]
    pub inflight: usize,

    /// Shape of the `client_id`s sent (ours only): random UUIDs by default, the realistic case.
    #[arg(long, value_enum, default_value_t = ClientIds::Uuid)]
    pub client_ids: ClientIds,

    /// Size of each message body in bytes (at least the embedded timestamp and ids).
    #[arg(long, default_value_t = 64)]
    pub body_bytes: usize,

    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup_secs: f64,

    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    pub duration_secs: f64,

    /// Seconds to wait after the last send for outstanding acks and deliveries.
    #[arg(long, default_value_t = 2.0)]
    pub drain_secs: f64,

    /// The server's process id, to report its resident memory per connection.
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Connect `--idle` clients that send nothing, wait, and only measure memory.
    #[arg(long)]
    pub idle: Option<usize>,

    /// Connections opened at the same time while connecting (and HTTP requests during setup).
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,

    /// A name for this run, echoed in the report (e.g. `A`).
    #[arg(long, default_value = "")]
    pub label: String,

    /// Print only the JSON line (the human table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

impl Cli {
    /// `HOST:PORT` of the server, whatever the URL's scheme.
    pub fn host_port(&self) -> String {
        host_port(&self.url)
    }

    fn ws_url_of(&self, host_port: &str) -> String {
        match self.proto {
            Proto::Ours => format!("ws://{host_port}/api/v1/ws"),
            Proto::Raw => format!("ws://{host_port}/"),
        }
    }

    /// Every node clients connect to, `--url` first: `(WebSocket URL, HOST:PORT)` each.
    pub fn nodes(&self) -> Vec<(String, String)> {
        std::iter::once(&self.url)
            .chain(&self.also_urls)
            .map(|url| {
                let host = host_port(url);
                (self.ws_url_of(&host), host)
            })
            .collect()
    }

    /// Total number of clients the scenario connects.
    pub fn clients(&self) -> usize {
        self.idle.unwrap_or(self.rooms * self.clients_per_room)
    }
}

/// `HOST:PORT` of `url`, whatever its scheme.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_derived_from_any_scheme() {
        let cli = Cli::parse_from(["chatbench", "--url", "http://127.0.0.1:8080/"]);
        assert_eq!(cli.host_port(), "127.0.0.1:8080");
        assert_eq!(cli.nodes()[0].0, "ws://127.0.0.1:8080/api/v1/ws");
        let raw = Cli::parse_from(["chatbench", "--proto", "raw", "--url", "ws://h:9001"]);
        assert_eq!(raw.nodes()[0].0, "ws://h:9001/");
        let two = Cli::parse_from([
            "chatbench",
            "--url",
            "http://a:1",
            "--also-url",
            "http://b:2",
        ]);
        let nodes = two.nodes();
        assert_eq!(
            nodes[0],
            ("ws://a:1/api/v1/ws".to_owned(), "a:1".to_owned())
        );
        assert_eq!(
            nodes[1],
            ("ws://b:2/api/v1/ws".to_owned(), "b:2".to_owned())
        );
    }
}
