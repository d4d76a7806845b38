//! The reference chat server binary: `cargo run --release -p reference-server -- --help`.

use anyhow::Context;
use clap::Parser;
use reference_server::config::{AdminCommand, Cli, Command, Config, LogFormat};
use reference_server::storage::redact;
use reference_server::{App, migrate_store, storage};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: the fan-out path allocates and frees many small
/// buffers across tasks, where glibc spent a tenth of the server's CPU (see
/// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.config.log).context("invalid --log / RUST_LOG filter")?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => {
            storage::open(&cli.config).await?.backend.close().await;
            println!(
                "database is up to date: {}",
                redact(&cli.config.database_url())
            );
            Ok(())
        }
        Command::MigrateStore { from, to } => {
            migrate_store::migrate_store(&from, &to, &mut std::io::stdout()).await?;
            Ok(())
        }
        Command::Admin(AdminCommand::Promote { username }) => {
            let (chat, backend) = storage::open_chat(&cli.config).await?;
            let user = chat.promote_server_admin(&username).await;
            backend.close().await;
            let user = user?;
            println!(
                "{} is now a server admin",
                user.username.as_deref().unwrap_or(&username)
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Disable { username }) => {
            let (chat, backend) = storage::open_chat(&cli.config).await?;
            let user = chat.disable_username(&username).await;
            backend.close().await;
            let user = user?;
            println!(
                "{} is disabled",
                user.username.as_deref().unwrap_or(&username)
            );
            Ok(())
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
    let (chat, backend) = storage::open_chat(config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %redact(&config.database_url()), data_dir = %config.data_dir.display(), "storage open");
    // Browser tests parse this exact line to find the port.
    println!("listening on http://{addr}");
    reference_server::run(listener, App::from_config(chat, config), shutdown_signal()).await?;
    backend.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
