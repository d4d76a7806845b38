//! `chatbench` binary: parses the flags, runs one scenario, prints the table and the JSON line.

use chatbench::{cli, scenario};
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
