//! The axum extractor (feature `axum`): a host's own route serves the chat protocol, and
//! requests that are not upgrades, or come from foreign pages, get the API's error shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chatcore::{Chat, SessionToken};
use chatcore_ws::Connect;
use chatcore_ws::axum::ChatUpgrade;
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use serde_json::Value;

/// The host's route: its own way of knowing the user (here: a chat token as bearer).
async fn chat_socket(
    upgrade: ChatUpgrade,
    State(chat): State<Chat>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(SessionToken::from_presented);
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match chat.authenticate(&token).await {
        Ok(actor) => upgrade.serve(chat, actor),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn serve(chat: Chat) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/ws", get(chat_socket))
        .with_state(chat);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("{addr}")
}

#[tokio::test]
async fn a_host_route_serves_the_chat_protocol() {
    let chat = Chat::in_memory();
    let addr = serve(chat.clone()).await;
    let (ann, ann_token) = chat.guest(Some("Ann")).await.unwrap();
    let (bob, bob_token) = chat.guest(Some("Bob")).await.unwrap();
    let room = chat.open_direct(&ann, bob.id()).await.unwrap().id;

    let url = format!("ws://{addr}/ws");
    let ann_ws = Connect::bearer(&url, ann_token.as_str())
        .connect()
        .await
        .unwrap();
    let mut bob_ws = Connect::bearer(&url, bob_token.as_str())
        .connect()
        .await
        .unwrap();
    let sent = ann_ws.send(room, "over axum").await.unwrap();
    let got = loop {
        let event = tokio::time::timeout(Duration::from_secs(10), bob_ws.next_event())
            .await
            .expect("a message within 10 s")
            .expect("connection open");
        if let ClientEvent::Frame(ServerFrame::Message { message }) = event {
            break message;
        }
    };
    assert_eq!((got.seq, got.body.as_str()), (sent.seq, "over axum"));
}

#[tokio::test]
async fn plain_requests_and_foreign_pages_are_refused_with_the_api_error_shape() {
    let addr = serve(Chat::in_memory()).await;
    let plain = plain_get(&addr, &[]).await;
    assert_eq!(plain.0, 400);
    assert_eq!(plain.1["error"]["code"], "invalid");
    assert_eq!(plain.1["error"]["field"], "upgrade");

    let foreign = plain_get(&addr, &[("origin", "https://evil.example")]).await;
    assert_eq!(foreign.0, 403);
    assert_eq!(foreign.1["error"]["code"], "bad_origin");
}

/// A bare HTTP/1.1 GET of `/ws` with `headers`: the status and the JSON body.
async fn plain_get(addr: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap())
}
