//! Measures the server's memory per idle WebSocket connection (see `docs/performance.md`).
//!
//! Two processes, so client memory is not counted:
//!
//! ```text
//! cargo run --release -p chatcore-ws --example idle_connections -- server 5000 /tmp/tokens &
//! # wait for "ready", note the server's VmRSS in /proc/<pid>/status
//! cargo run --release -p chatcore-ws --example idle_connections -- clients <addr> /tmp/tokens
//! # wait for "connected", note the server's VmRSS again: (after - before) / N
//! ```
//!
//! The server creates N guests in N/2 direct rooms (one message each), so every connection
//! has a room in its hub routes and its cursors, as in real use. `scripts`-free on purpose:
//! the numbers come from the kernel's own accounting.

use std::io::Write;
use std::time::Duration;

use chatcore::{Chat, ChatConfig, SendMessage};
use chatcore_ws::WsConfig;
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("server") => server(args[2].parse()?, &args[3]).await,
        Some("clients") => clients(&args[2], &args[3]).await,
        _ => Err(
            "usage: idle_connections server <n> <token-file> | clients <addr> <token-file>".into(),
        ),
    }
}

async fn server(n: usize, token_file: &str) -> Result<(), BoxError> {
    let chat = Chat::in_memory_with(ChatConfig::default());
    let mut tokens = std::fs::File::create(token_file)?;
    for _ in 0..n / 2 {
        let (a, at) = chat.guest(None).await?;
        let (b, bt) = chat.guest(None).await?;
        let room = chat.open_direct(&a, b.id()).await?.id;
        chat.send(
            &a,
            SendMessage {
                room_id: room,
                body: "hi".into(),
                ..Default::default()
            },
        )
        .await?;
        writeln!(tokens, "{}\n{}", at.as_str(), bt.as_str())?;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "ready {} pid {}",
        listener.local_addr()?,
        std::process::id()
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let chat = chat.clone();
        tokio::spawn(async move {
            let config = WsConfig::default();
            if let Ok((ws, actor)) = chatcore_ws::accept(tcp, &chat, &config).await {
                chatcore_ws::serve_connection(ws, chat, actor, config, std::future::pending())
                    .await;
            }
        });
    }
}

async fn clients(addr: &str, token_file: &str) -> Result<(), BoxError> {
    let tokens = std::fs::read_to_string(token_file)?;
    let mut held = Vec::new();
    for token in tokens.lines() {
        let mut request = format!("ws://{addr}/ws").into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let config = WebSocketConfig::default()
            .read_buffer_size(1024)
            .write_buffer_size(0);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        ws.next().await.ok_or("no hello")??;
        held.push(ws);
    }
    println!("connected {}", held.len());
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
