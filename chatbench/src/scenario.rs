//! A run: set up users and rooms, connect every client, warm up, measure, drain, summarize.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::cli::{Cli, Proto};
use crate::conn::{self, Pace, Spec};
use crate::report::Summary;
use crate::stats::{Phase, Shared};
use crate::wire::LoadWs;
use crate::{ours, raw, setup};

/// Everything a connection task needs to open its socket.
#[derive(Debug, Clone)]
struct Client {
    spec: Spec,
    /// Bearer token (ours).
    token: Option<String>,
    /// Whether the client joins a room and sends.
    active: bool,
}

/// Runs the scenario `cli` describes and returns its figures.
pub async fn run(cli: &Cli) -> Result<Summary> {
    let started = Instant::now();
    let clients = plan(cli).await?;
    let mut summary = Summary::new(cli);
    summary.setup_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "chatbench: setup done in {:.1} s ({} clients)",
        summary.setup_secs,
        clients.len()
    );

    let shared = Arc::new(Shared::default());
    summary.rss_before_kib = rss_kib(cli.server_pid);
    let (start_tx, start_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(false);
    let connecting = Instant::now();
    let tasks = connect_all(cli, clients, &shared, start_rx, done_rx).await;
    summary.connect_secs = connecting.elapsed().as_secs_f64();
    summary.connected = tasks.connected;
    summary.connect_failed = tasks.failed;
    eprintln!(
        "chatbench: {} connected, {} failed in {:.2} s",
        tasks.connected, tasks.failed, summary.connect_secs
    );
    if tasks.connected == 0 {
        bail!(
            "no client could connect: {}",
            shared
                .first_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default()
        );
    }
    // Let the server settle (allocator, presence fan-out) before reading its memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    summary.rss_connected_kib = rss_kib(cli.server_pid);

    if cli.idle.is_none() {
        start_tx.send_replace(true);
        measure(cli, &shared, &mut summary).await;
    }
    summary.rss_end_kib = rss_kib(cli.server_pid);
    done_tx.send_replace(true);
    for handle in tasks.handles {
        let _ = tokio::time::timeout(Duration::from_secs(5), handle).await;
    }
    summary.collect(&shared);
    Ok(summary)
}

/// Creates the accounts and rooms (ours) or just numbers them (raw).
async fn plan(cli: &Cli) -> Result<Vec<Client>> {
    let n = cli.clients();
    let per_room = cli.clients_per_room.max(1);
    let active = cli.idle.is_none();
    let (tokens, rooms): (Vec<Option<String>>, Vec<i64>) = match cli.proto {
        Proto::Raw => (vec![None; n], (0..n.div_ceil(per_room) as i64).collect()),
        Proto::Ours => {
            let host = cli.host_port();
            let accounts = setup::guests(&host, n, cli.connect_concurrency).await?;
            let rooms = if active {
                let groups: Vec<_> = accounts.chunks(per_room).map(<[_]>::to_vec).collect();
                setup::groups(&host, &groups, cli.connect_concurrency).await?
            } else {
                Vec::new()
            };
            (accounts.into_iter().map(|a| Some(a.token)).collect(), rooms)
        }
    };
    let period = if cli.rate > 0.0 { 1.0 / cli.rate } else { 0.0 };
    Ok(tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| Client {
            spec: Spec {
                conn: i,
                room: rooms.get(i / per_room).copied().unwrap_or(0),
                sender: (i % per_room) as u32,
                members: per_room.min(n - (i / per_room) * per_room) as u64,
                offset: Duration::from_secs_f64(period * i as f64 / n.max(1) as f64),
            },
            token,
            active,
        })
        .collect())
}

/// Connection tasks, once every client has tried to connect.
struct Tasks {
    handles: Vec<tokio::task::JoinHandle<()>>,
    connected: usize,
    failed: usize,
}

/// Opens every connection, `--connect-concurrency` at a time; each task then waits for
/// `start` and drives its client (or idles) until `done`.
async fn connect_all(
    cli: &Cli,
    clients: Vec<Client>,
    shared: &Arc<Shared>,
    start: watch::Receiver<bool>,
    done: watch::Receiver<bool>,
) -> Tasks {
    let pace = Arc::new(Pace {
        proto: cli.proto,
        rate: cli.rate,
        inflight: cli.inflight,
        body_bytes: cli.body_bytes,
        client_ids: cli.client_ids,
        run: fastrand::u32(..),
    });
    let gate = Arc::new(Semaphore::new(cli.connect_concurrency.max(1)));
    let (report, mut reports) = mpsc::unbounded_channel::<bool>();
    let total = clients.len();
    // Clients take the nodes in turn, so each room's members span them.
    let nodes: Vec<(Arc<String>, Arc<String>)> = cli
        .nodes()
        .into_iter()
        .map(|(url, host)| (Arc::new(url), Arc::new(host)))
        .collect();
    let mut handles = Vec::with_capacity(total);
    for client in clients {
        let (gate, report, shared, pace) =
            (gate.clone(), report.clone(), shared.clone(), pace.clone());
        let (url, host) = nodes[client.spec.conn % nodes.len()].clone();
        let (mut start, done) = (start.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let began = Instant::now();
            if pace.proto == Proto::Ours && !client.active {
                // Idle clients of our server: the project's own Rust client fits (no per-message
                // cost to worry about) and keeps the connection as an application would.
                let token = client.token.as_deref().unwrap_or_default();
                let opened = chatcore_ws::Connect::bearer(url.as_str(), token)
                    .events(false)
                    .reconnect(false)
                    .connect()
                    .await
                    .map_err(anyhow::Error::from);
                drop(permit);
                if let Some(ws_client) = opened_or_noted(opened, began, &shared, &report) {
                    drop(report);
                    let mut done = done;
                    let _ = done.wait_for(|d| *d).await;
                    ws_client.close().await;
                }
                return;
            }
            if !client.active {
                let opened = raw::connect_idle(&url, &host).await;
                drop(permit);
                if let Some(ws) = opened_or_noted(opened, began, &shared, &report) {
                    conn::idle(ws, shared, done).await;
                }
                return;
            }
            let opened = open(pace.proto, &url, &host, &client).await;
            drop(permit);
            let Some(ws) = opened_or_noted(opened, began, &shared, &report) else {
                return;
            };
            if start.wait_for(|s| *s).await.is_ok() {
                conn::drive(ws, client.spec, pace, shared, done).await;
            }
        }));
    }
    drop(report);
    let (mut connected, mut failed) = (0, 0);
    let mut last = Instant::now();
    while connected + failed < total {
        let Some(ok) = reports.recv().await else {
            break;
        };
        if ok {
            connected += 1
        } else {
            failed += 1
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            eprintln!("chatbench: connecting {connected}/{total} ({failed} failed)");
        }
    }
    Tasks {
        handles,
        connected,
        failed,
    }
}

/// Opens a load connection (one that joins a room and sends).
async fn open(proto: Proto, url: &str, host: &str, client: &Client) -> Result<LoadWs> {
    match proto {
        Proto::Ours => ours::connect(url, host, client.token.as_deref().unwrap_or_default()).await,
        Proto::Raw => raw::connect(url, host, client.spec.room).await,
    }
}

/// Reports a connection attempt: its time when it opened, its error when it did not.
fn opened_or_noted<T>(
    opened: Result<T>,
    began: Instant,
    shared: &Shared,
    report: &mpsc::UnboundedSender<bool>,
) -> Option<T> {
    match opened {
        Ok(ws) => {
            Shared::record(
                &shared.connect,
                &mut vec![began.elapsed().as_nanos() as u64],
            );
            let _ = report.send(true);
            Some(ws)
        }
        Err(e) => {
            shared.note_error(format!("connect failed: {e:#}"));
            let _ = report.send(false);
            None
        }
    }
}

/// Warm-up, measurement and drain, with a progress line on stderr every second.
async fn measure(cli: &Cli, shared: &Shared, summary: &mut Summary) {
    let phase_end = |secs: f64| Instant::now() + Duration::from_secs_f64(secs.max(0.0));
    progress(shared, "warmup", phase_end(cli.warmup_secs)).await;
    shared.set_phase(Phase::Measure);
    let measuring = Instant::now();
    let cpu = (cpu_secs(cli.server_pid), cpu_secs(Some(std::process::id())));
    progress(shared, "measure", phase_end(cli.duration_secs)).await;
    shared.set_phase(Phase::Drain);
    summary.measured_secs = measuring.elapsed().as_secs_f64();
    let busy =
        |before: Option<f64>, pid| Some((cpu_secs(pid)? - before?) / summary.measured_secs * 100.0);
    summary.server_cpu_pct = busy(cpu.0, cli.server_pid);
    summary.generator_cpu_pct = busy(cpu.1, Some(std::process::id()));
    // Drain: stop early once every expected delivery has arrived.
    let until = phase_end(cli.drain_secs);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if shared.delivered_total.load(Relaxed) >= shared.expected_total.load(Relaxed) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if shared.delivered_total.load(Relaxed) >= shared.expected_total.load(Relaxed) {
                break;
            }
        }
    }
}

async fn progress(shared: &Shared, name: &str, until: Instant) {
    let (mut acks, mut dels) = (
        shared.acked_total.load(Relaxed),
        shared.delivered_total.load(Relaxed),
    );
    let mut last = Instant::now();
    while Instant::now() < until {
        tokio::time::sleep_until(until.min(last + Duration::from_secs(1))).await;
        let secs = last.elapsed().as_secs_f64().max(1e-9);
        last = Instant::now();
        let (a, d) = (
            shared.acked_total.load(Relaxed),
            shared.delivered_total.load(Relaxed),
        );
        eprintln!(
            "chatbench: {name:>7}  {:>10.0} msgs/s  {:>11.0} deliveries/s  errors {}  closed {}",
            (a - acks) as f64 / secs,
            (d - dels) as f64 / secs,
            shared.errors.load(Relaxed),
            shared.closed_early.load(Relaxed),
        );
        (acks, dels) = (a, d);
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) process `pid` has used, in seconds (`/proc/<pid>/stat`, assuming
/// the usual 100 clock ticks per second).
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}
