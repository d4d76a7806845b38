//! An echo bot on the `chatcore_ws` client: it listens in its rooms (or one room) and answers
//! every `/echo some text` with `some text`.
//!
//! Against a running reference server (the bot's account must already be in the room):
//!
//! ```text
//! cargo run -p chat-examples --example echo_bot -- --url ws://127.0.0.1:8080/api/v1/ws --token <TOKEN> [--room <ID>]
//! ```
//!
//! `--url`/`--token` may also come from `CHAT_WS_URL`/`CHAT_TOKEN`. Get a token from
//! `POST /api/v1/auth/login` (or `/auth/guest`). Without a URL the bot runs self-contained: an
//! in-memory chat served on 127.0.0.1 by `chatcore-ws`, a user who says `/echo hello`, and the
//! bot's answer printed. `cargo test -p chat-examples --example echo_bot` runs that as a test.

use std::error::Error;

use chatcore::{Chat, RoomId};
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use chatcore_ws::{Client, Connect, WsConfig};
use tokio::net::TcpListener;

type BoxError = Box<dyn Error + Send + Sync>;

/// Answers `/echo …` until the connection ends for good. `room` limits it to one room.
async fn run_bot(client: &mut Client, room: Option<RoomId>) -> Result<(), BoxError> {
    let me = client.user().id;
    while let Some(event) = client.next_event().await {
        let ClientEvent::Frame(ServerFrame::Message { message }) = event else {
            continue;
        };
        if message.sender.id == me || room.is_some_and(|r| r != message.room_id) {
            continue;
        }
        if let Some(text) = message.body.strip_prefix("/echo ") {
            client.send(message.room_id, text).await?;
        }
    }
    Ok(())
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name);
    args.next()?;
    args.next()
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = arg("--url").or_else(|| std::env::var("CHAT_WS_URL").ok());
    let token = arg("--token").or_else(|| std::env::var("CHAT_TOKEN").ok());
    match (url, token) {
        (Some(url), Some(token)) => {
            let room = arg("--room").map(|r| r.parse().map(RoomId)).transpose()?;
            let mut client = Connect::bearer(url, token).connect().await?;
            println!(
                "echo bot online as {} in {} rooms",
                client.user().display_name,
                client.rooms().len()
            );
            run_bot(&mut client, room).await
        }
        (None, None) => {
            let answer = demo().await?;
            println!("bot answered: {answer}");
            Ok(())
        }
        _ => Err("give both --url and --token (or neither, for the self-contained demo)".into()),
    }
}

/// The self-contained run: serves an in-memory chat on 127.0.0.1, starts the bot, says
/// `/echo hello`, and returns the bot's answer.
async fn demo() -> Result<String, BoxError> {
    let chat = Chat::in_memory();
    let url = serve(chat.clone()).await?;
    let (alice, alice_token) = chat.guest(Some("Alice")).await?;
    let (bot, bot_token) = chat.guest(Some("Echo bot")).await?;
    let room = chat.open_direct(&alice, bot.id()).await?.id;

    let mut bot_client = Connect::bearer(&url, bot_token.as_str()).connect().await?;
    tokio::spawn(async move { run_bot(&mut bot_client, None).await });
    let mut alice_client = Connect::bearer(&url, alice_token.as_str())
        .connect()
        .await?;
    alice_client.send(room, "/echo hello").await?;

    let wait = async {
        while let Some(event) = alice_client.next_event().await {
            if let ClientEvent::Frame(ServerFrame::Message { message }) = event
                && message.sender.id == bot.id()
            {
                return Some(message.body);
            }
        }
        None
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), wait).await?;
    let answer = answer.ok_or("the connection ended before the bot answered")?;
    // The answer is in the store, not just on the wire.
    let stored = chat.history(&alice, room, None, 10).await?.messages;
    assert!(
        stored
            .iter()
            .any(|m| m.sender.id == bot.id() && m.body == answer)
    );
    Ok(answer)
}

/// A WebSocket-only server (no HTTP) on an ephemeral port; returns its URL.
async fn serve(chat: Chat) -> Result<String, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/ws", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let chat = chat.clone();
            tokio::spawn(async move {
                let config = WsConfig::default();
                match chatcore_ws::accept(tcp, &chat, &config).await {
                    Ok((ws, actor)) => {
                        chatcore_ws::serve_connection(
                            ws,
                            chat,
                            actor,
                            config,
                            std::future::pending(),
                        )
                        .await;
                    }
                    Err(err) => eprintln!("refused a connection: {err}"),
                }
            });
        }
    });
    Ok(url)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_bot_echoes() {
        assert_eq!(super::demo().await.ok().as_deref(), Some("hello"));
    }
}
