//! `chatbench`: the load generator operators use to size a deployment, and the tool behind
//! `scripts/bench.sh` and `docs/performance.md`.
//!
//! It creates its own guests and rooms over the REST API, connects every client over the
//! WebSocket, sends messages that carry their send time in the body, and reports acked
//! messages/s, deliveries/s, end-to-end and ack latency (HDR histograms), loss, duplicates,
//! reordering, connect time and server memory per connection. `--proto raw` drives the raw-ws
//! baseline with the same scenario. Run `chatbench --help` for the flags.

mod cli;
mod conn;
mod ours;
mod raw;
mod report;
mod scenario;
mod setup;
mod stamp;
mod stats;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    let summary = rt.block_on(scenario::run(&cli))?;
    if cli.json {
        eprint!("{}", summary.table());
    } else {
        print!("{}", summary.table());
    }
    println!("{}", summary.json());
    Ok(())
}
