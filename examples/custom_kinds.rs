//! A host that registers a custom message kind, `location`, and serves chat's REST API and
//! WebSocket with chat's own guest sessions. Clients send a location as a `kind` and a JSON
//! `payload`; the host's check decides what a valid one is; every other kind is refused.
//!
//! ```text
//! cargo run -p chat-examples --example custom_kinds        # serves http://127.0.0.1:3001
//! curl -s -XPOST http://127.0.0.1:3001/api/v1/auth/guest   # → {"token": …}
//! ```
//!
//! `cargo test -p chat-examples --example custom_kinds` sends locations over the WebSocket and
//! over REST on a real port and reads them back from history, live and refused.

use std::sync::Arc;

use chatcore::{Chat, Error};
use chatcore_http::{ChatHttp, Conn};
use serde_json::Value;

/// A location is `{"lat": -90..=90, "lon": -180..=180}` and, optionally, a short `"label"`.
fn check_location(payload: &Value) -> Result<(), String> {
    let within = |name: &str, limit: f64| payload[name].as_f64().is_some_and(|v| v.abs() <= limit);
    let label_ok = match &payload["label"] {
        Value::Null => true,
        Value::String(label) => label.chars().count() <= 100,
        _ => false,
    };
    let known = payload.as_object().is_some_and(|o| {
        o.keys()
            .all(|k| ["lat", "lon", "label"].contains(&k.as_str()))
    });
    if within("lat", 90.0) && within("lon", 180.0) && label_ok && known {
        Ok(())
    } else {
        Err(
            "a location is lat (±90), lon (±180) and an optional label of up to 100 characters"
                .into(),
        )
    }
}

/// A chat on the in-memory backends that accepts `location` messages, started on this runtime.
fn start_chat() -> Result<Chat, Error> {
    Chat::builder(
        Arc::new(chatcore::MemoryStore::new()),
        Arc::new(chatcore::MemoryMediaStore::new()),
    )
    .message_kind("location", check_location)
    .start(&tokio::runtime::Handle::current())
}

/// The whole chat API, served at the root.
fn app(chat: Chat) -> axum::Router {
    axum::Router::new().fallback_service(ChatHttp::builder(chat).build())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chat = start_chat()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("serving http://{}", listener.local_addr()?);
    // Connect info: chat sees each client's address (per-address limits, own origin).
    let app = app(chat.clone()).into_make_service_with_connect_info::<Conn>();
    axum::serve(listener, app).await?;
    chat.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::SocketAddr;
    use std::time::Duration;

    use chatcore::RoomId;
    use chatcore_ws::client::{ClientEvent, SendRequest};
    use chatcore_ws::frames::ServerFrame;
    use chatcore_ws::{Client, Connect};
    use serde_json::json;

    use super::*;

    async fn serve() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = app(start_chat().unwrap()).into_make_service_with_connect_info::<Conn>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// A guest's token and user id.
    async fn guest(http: &reqwest::Client, api: &str, name: &str) -> (String, Value) {
        let res: Value = http
            .post(format!("{api}/auth/guest"))
            .json(&json!({ "display_name": name }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            res["token"].as_str().unwrap().to_owned(),
            res["user"]["id"].clone(),
        )
    }

    async fn post(http: &reqwest::Client, token: &str, url: String, body: Value) -> (u16, Value) {
        let res = http
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn next_message(client: &mut Client) -> chatcore::Message {
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), client.next_event())
                .await
                .expect("no message within 10 s")
                .expect("connection ended");
            if let ClientEvent::Frame(ServerFrame::Message { message }) = event {
                return message;
            }
        }
    }

    #[tokio::test]
    async fn locations_over_websocket_and_rest_and_everything_else_refused() {
        let addr = serve().await;
        let api = format!("http://{addr}/api/v1");
        let http = reqwest::Client::new();
        let (ann, _) = guest(&http, &api, "Ann").await;
        let (bob, bob_id) = guest(&http, &api, "Bob").await;
        let (_, room) = post(
            &http,
            &ann,
            format!("{api}/rooms/direct"),
            json!({ "user_id": bob_id }),
        )
        .await;
        let room_id = RoomId(room["id"].as_i64().expect("a room id"));
        let messages = format!("{api}/rooms/{}/messages", room_id.0);

        // Over the WebSocket: Ann sends a location, Bob receives it live, kind and payload.
        let ws = format!("ws://{addr}/api/v1/ws");
        let ann_ws = Connect::bearer(&ws, &ann).connect().await.unwrap();
        let mut bob_ws = Connect::bearer(&ws, &bob).connect().await.unwrap();
        let here = json!({ "lat": 46.5475, "lon": 7.9853, "label": "<b>Kleine Scheidegg</b>" });
        let sent = ann_ws
            .send_message(SendRequest {
                room_id,
                body: "meet here".into(),
                kind: Some("location".into()),
                payload: Some(here.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let custom = sent.custom.as_deref().expect("the ack carries the kind");
        assert_eq!((custom.kind.as_str(), &custom.payload), ("location", &here));
        assert_eq!(next_message(&mut bob_ws).await, sent);

        // Over REST, with nothing but the location.
        let there = json!({ "lat": -33.8568, "lon": 151.2153 });
        let (status, stored) = post(
            &http,
            &bob,
            messages.clone(),
            json!({ "kind": "location", "payload": there }),
        )
        .await;
        assert_eq!(status, 201, "{stored}");
        assert_eq!(
            (
                stored["kind"].as_str(),
                &stored["payload"],
                stored["body"].as_str()
            ),
            (Some("location"), &there, Some(""))
        );
        let live = next_message(&mut bob_ws).await;
        assert_eq!(live.custom.unwrap().payload, there);

        // Refused, each with its code, and nothing stored: a kind the host never registered, a
        // malformed kind, a payload the host's check refuses (with its reason), an oversized one.
        let refusals = [
            (
                json!({ "kind": "poll", "payload": { "question": "?" } }),
                422,
                "unknown_kind",
            ),
            (
                json!({ "kind": "Location!", "payload": there }),
                400,
                "invalid",
            ),
            (
                json!({ "kind": "location", "payload": { "lat": 200, "lon": 0 } }),
                400,
                "invalid",
            ),
            (json!({ "payload": there }), 400, "invalid"),
            (
                json!({ "kind": "location", "payload": { "lat": 0, "lon": 0, "label": "x".repeat(9000) } }),
                413,
                "too_large",
            ),
        ];
        for (body, status, code) in refusals {
            let (got, error) = post(&http, &ann, messages.clone(), body.clone()).await;
            assert_eq!(
                (got, error["error"]["code"].as_str()),
                (status, Some(code)),
                "{body}: {error}"
            );
        }
        let (_, error) = post(
            &http,
            &ann,
            messages.clone(),
            json!({ "kind": "location", "payload": { "lat": 91, "lon": 0 } }),
        )
        .await;
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("a location is"),
            "{error}"
        );
        let refused = ann_ws
            .send_message(SendRequest {
                room_id,
                kind: Some("poll".into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some("unknown_kind"));

        // History over REST: the two locations, exactly as sent.
        let history: Value = http
            .get(&messages)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got: Vec<(&str, &Value)> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["kind"].as_str().unwrap(), &m["payload"]))
            .collect();
        assert_eq!(got, [("location", &here), ("location", &there)]);
    }
}
