//! The figures of a run: a human table and one JSON line.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cli::{Cli, Proto};
use crate::client_ids::ClientIds;
use crate::stats::Shared;

/// Percentiles of one latency histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile (the stalls a long run sees, e.g. checkpoints).
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |ns: u64| ns as f64 / 1e6;
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Everything a run reports. Serialized as the JSON line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The run's `--label`.
    pub label: String,
    /// `ours` or `raw`.
    pub proto: &'static str,
    /// Rooms.
    pub rooms: usize,
    /// Clients per room.
    pub clients_per_room: usize,
    /// Clients (connections) in total.
    pub clients: usize,
    /// Messages per second per client (0: ack-paced).
    pub rate: f64,
    /// In-flight window per client.
    pub inflight: usize,
    /// Body size in bytes.
    pub body_bytes: usize,
    /// Shape of the `client_id`s sent: `time`, `counter` or `uuid` (`-` for raw-ws, which has
    /// none).
    pub client_ids: &'static str,
    /// Idle run (memory only).
    pub idle: bool,
    /// Seconds spent creating accounts and rooms.
    pub setup_secs: f64,
    /// Seconds to connect every client.
    pub connect_secs: f64,
    /// Clients connected.
    pub connected: usize,
    /// Clients that failed to connect.
    pub connect_failed: usize,
    /// Time to open one connection.
    pub connect_latency: Latency,
    /// Length of the measured window.
    pub measured_secs: f64,
    /// Acked messages per second (measured window).
    pub msgs_per_sec: f64,
    /// Messages received per second by all clients together (measured window).
    pub deliveries_per_sec: f64,
    /// CPU the server used during the measured window, in % of one core.
    pub server_cpu_pct: Option<f64>,
    /// CPU chatbench used during the measured window, in % of one core.
    pub generator_cpu_pct: Option<f64>,
    /// Send → delivery, every member.
    pub e2e: Latency,
    /// Send → ack.
    pub ack: Latency,
    /// Acked messages over the whole run.
    pub acked_total: u64,
    /// Deliveries expected over the whole run (acked × room members).
    pub expected: u64,
    /// Deliveries received over the whole run.
    pub received: u64,
    /// Expected minus received after the drain (0 if more arrived).
    pub lost: u64,
    /// Deliveries a client saw twice.
    pub duplicates: u64,
    /// Deliveries that overtook or trailed another message of the same sender.
    pub out_of_order: u64,
    /// `error` frames received.
    pub errors: u64,
    /// Paced sends skipped because the in-flight window was full.
    pub skipped: u64,
    /// Connections that closed before the run ended.
    pub closed_early: u64,
    /// Server RSS before connecting (KiB).
    pub rss_before_kib: Option<u64>,
    /// Server RSS with every client connected, before sending (KiB).
    pub rss_connected_kib: Option<u64>,
    /// Server RSS at the end of the measurement (KiB).
    pub rss_end_kib: Option<u64>,
    /// (connected − before) / connections, in KiB.
    pub rss_per_conn_kib: Option<f64>,
    /// The first error frame or close reason seen.
    pub first_error: Option<String>,
}

impl Summary {
    /// An empty summary describing the run `cli` asks for.
    pub fn new(cli: &Cli) -> Self {
        Summary {
            label: cli.label.clone(),
            proto: match cli.proto {
                Proto::Ours => "ours",
                Proto::Raw => "raw",
            },
            rooms: if cli.idle.is_some() { 0 } else { cli.rooms },
            clients_per_room: cli.clients_per_room,
            clients: cli.clients(),
            rate: cli.rate,
            inflight: cli.inflight,
            body_bytes: cli.body_bytes,
            client_ids: match (cli.proto, cli.client_ids) {
                (Proto::Raw, _) => "-",
                (Proto::Ours, ClientIds::Time) => "time",
                (Proto::Ours, ClientIds::Counter) => "counter",
                (Proto::Ours, ClientIds::Uuid) => "uuid",
            },
            idle: cli.idle.is_some(),
            ..Summary::default()
        }
    }

    /// Fills in the counters and histograms once every connection task has stopped.
    pub fn collect(&mut self, s: &Shared) {
        let secs = self.measured_secs.max(1e-9);
        self.msgs_per_sec = if self.idle {
            0.0
        } else {
            s.acked.load(Relaxed) as f64 / secs
        };
        self.deliveries_per_sec = if self.idle {
            0.0
        } else {
            s.delivered.load(Relaxed) as f64 / secs
        };
        let latency = |h: &std::sync::Mutex<Histogram<u64>>| {
            h.lock().map(|h| Latency::of(&h)).unwrap_or_default()
        };
        self.e2e = latency(&s.e2e);
        self.ack = latency(&s.ack);
        self.connect_latency = latency(&s.connect);
        self.acked_total = s.acked_total.load(Relaxed);
        self.expected = s.expected_total.load(Relaxed);
        self.received = s.delivered_total.load(Relaxed);
        self.lost = self.expected.saturating_sub(self.received);
        self.duplicates = s.duplicates.load(Relaxed);
        self.out_of_order = s.out_of_order.load(Relaxed);
        self.errors = s.errors.load(Relaxed);
        self.skipped = s.skipped.load(Relaxed);
        self.closed_early = s.closed_early.load(Relaxed);
        self.rss_per_conn_kib = match (self.rss_before_kib, self.rss_connected_kib) {
            (Some(b), Some(a)) if self.connected > 0 => {
                Some((a as f64 - b as f64) / self.connected as f64)
            }
            _ => None,
        };
        self.first_error = s.first_error.lock().ok().and_then(|e| e.clone());
    }

    /// The JSON line.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let shape = if self.idle {
            format!("{} idle connections", self.clients)
        } else {
            let pace = if self.rate > 0.0 {
                format!("{} msg/s each", self.rate)
            } else {
                "ack-paced".to_owned()
            };
            format!(
                "{} rooms x {} clients, {pace}, {} in flight, {} B bodies, client ids {}",
                self.rooms, self.clients_per_room, self.inflight, self.body_bytes, self.client_ids
            )
        };
        let _ = writeln!(t, "== {} [{}] {shape}", self.label, self.proto);
        let _ = writeln!(
            t,
            "connect      {} ok, {} failed in {:.2} s (one: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms); setup {:.1} s",
            self.connected,
            self.connect_failed,
            self.connect_secs,
            self.connect_latency.p50_ms,
            self.connect_latency.p99_ms,
            self.connect_latency.max_ms,
            self.setup_secs
        );
        if !self.idle {
            let _ = writeln!(
                t,
                "throughput   {:>12.0} msgs/s acked   {:>12.0} deliveries/s   over {:.1} s",
                self.msgs_per_sec, self.deliveries_per_sec, self.measured_secs
            );
            let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0} %"));
            let _ = writeln!(
                t,
                "cpu          server {}  chatbench {}  (of one core, measured window)",
                pct(self.server_cpu_pct),
                pct(self.generator_cpu_pct)
            );
            for (name, l) in [("end-to-end", &self.e2e), ("ack", &self.ack)] {
                let _ = writeln!(
                    t,
                    "{name:<12} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  p99.9 {:>8.3} ms  max {:>8.3} ms  ({} samples)",
                    l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.count
                );
            }
            let _ = writeln!(
                t,
                "integrity    expected {}  received {}  lost {}  duplicates {}  out-of-order {}  errors {}  skipped {}  closed early {}",
                self.expected,
                self.received,
                self.lost,
                self.duplicates,
                self.out_of_order,
                self.errors,
                self.skipped,
                self.closed_early
            );
        } else if self.closed_early > 0 {
            let _ = writeln!(t, "integrity    closed early {}", self.closed_early);
        }
        let kib = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} KiB"));
        if self.rss_before_kib.is_some() {
            let per = self
                .rss_per_conn_kib
                .map_or("-".to_owned(), |v| format!("{v:.1} KiB"));
            let _ = writeln!(
                t,
                "server RSS   before {}  connected {}  end {}  per connection {per}",
                kib(self.rss_before_kib),
                kib(self.rss_connected_kib),
                kib(self.rss_end_kib)
            );
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(t, "first error  {e}");
        }
        t
    }
}
