//! An axum app with its own cookie login that mounts chat's REST API and WebSocket under
//! `/chat`. The app owns its users: chat learns who is asking from one identity hook (REST and
//! WebSocket alike) and keeps a chat user per app user. A policy hook refuses shouting, and a
//! webhook posts every committed message to a URL, resuming where it stopped after a restart.
//!
//! ```text
//! cargo run -p chat-examples --example axum_app           # serves http://127.0.0.1:3000
//! curl -c jar -H 'content-type: application/json' -d '{"user":"ann","password":"ann-pw"}' \
//!      http://127.0.0.1:3000/login
//! curl -b jar http://127.0.0.1:3000/chat/api/v1/me
//! ```
//!
//! The chat API is `docs/api.md` under `/chat` (`/chat/api/v1/rooms`, the WebSocket at
//! `/chat/api/v1/ws`) minus `auth`: logging in is the app's job. Set `WEBHOOK_URL` to have every
//! message posted there. `cargo test -p chat-examples --example axum_app` runs the scenarios at
//! the bottom against real ports.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::{Json, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HeaderMap, SET_COOKIE};
use axum::http::{StatusCode, request::Parts};
use axum::routing::post;
use axum::{Router, response::IntoResponse};
use chatcore::commits::Cursor;
use chatcore::policy::{Draft, Policy, Verdict};
use chatcore::{Chat, Error, SessionToken};
use chatcore_http::{ChatHttp, Conn};

/// The app's own users and passwords (a real app has a database).
const USERS: [(&str, &str); 2] = [("ann", "ann-pw"), ("bob", "bob-pw")];

/// The app's login sessions: token → user name. Cloning is shallow.
#[derive(Clone, Default)]
struct Logins(Arc<Mutex<HashMap<String, String>>>);

// ---- glue: everything chat needs from the app (counted in the README) ----
fn app(chat: Chat) -> Router {
    let logins = Logins::default();
    let (seen, users) = (logins.clone(), chat.clone());
    let identity = move |parts: &Parts| {
        let (chat, user) = (users.clone(), seen.user(&parts.headers));
        async move {
            let user = user.ok_or(Error::Unauthenticated("log in at /login first"))?;
            chat.external_user(&format!("app:{user}"), &user).await
        }
    };
    let api = ChatHttp::builder(chat).identity(identity).build();
    Router::new()
        .route("/login", post(login))
        .with_state(logins)
        .nest_service("/chat", api)
}

/// Refuses messages written in capitals, with a reason the sender sees.
struct NoShouting;

#[chatcore::async_trait]
impl Policy for NoShouting {
    async fn before_send(&self, draft: &Draft<'_>) -> Verdict {
        let mut letters = draft.body.chars().filter(|c| c.is_alphabetic());
        if draft.body.len() > 3 && letters.all(char::is_uppercase) {
            return Verdict::Reject("please don't shout".into());
        }
        Verdict::Allow
    }
}
// ---- end of glue ----

impl Logins {
    /// The user behind the request's `host_session` cookie or bearer token.
    fn user(&self, headers: &HeaderMap) -> Option<String> {
        let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let bearer = bearer
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let token = bearer.or_else(|| cookie(headers, "host_session"))?;
        lock(&self.0).get(&token).cloned()
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let cookies = headers.get(COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

#[derive(serde::Deserialize)]
struct LoginForm {
    user: String,
    password: String,
}

/// `POST /login {"user","password"}` → the `host_session` cookie (and the token, for bots).
async fn login(State(logins): State<Logins>, Json(form): Json<LoginForm>) -> impl IntoResponse {
    if !USERS.contains(&(form.user.as_str(), form.password.as_str())) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let token = SessionToken::generate().as_str().to_owned();
    lock(&logins.0).insert(token.clone(), form.user);
    let cookie = format!("host_session={token}; HttpOnly; SameSite=Lax; Path=/");
    Ok((
        [(SET_COOKIE, cookie)],
        Json(serde_json::json!({ "token": token })),
    ))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Posts every message chat commits to `url` as JSON (each room in seq order, each once),
/// starting after the cursor in `saved` and saving it after each delivery (a real app keeps it
/// in its database, with the delivery). Stops when `stop` resolves; a failed post returns the
/// error, and a restart resumes from the last saved cursor.
async fn webhook(
    chat: Chat,
    url: String,
    saved: Arc<Mutex<Cursor>>,
    stop: impl Future<Output = ()>,
) -> Result<(), BoxError> {
    let http = reqwest::Client::new();
    let mut feed = chat.commits(lock(&saved).clone());
    tokio::pin!(stop);
    loop {
        // Stopping only while waiting for a message: never between a post and its save.
        let message = tokio::select! {
            message = feed.next() => message?,
            () = &mut stop => return Ok(()),
        };
        http.post(&url)
            .json(&message)
            .send()
            .await?
            .error_for_status()?;
        *lock(&saved) = feed.cursor().clone();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A chat on the in-memory backends with the app's policy, started on this runtime.
fn start_chat() -> Result<Chat, Error> {
    Chat::builder(
        Arc::new(chatcore::MemoryStore::new()),
        Arc::new(chatcore::MemoryMediaStore::new()),
    )
    .policy(Arc::new(NoShouting))
    .start(&tokio::runtime::Handle::current())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chat = start_chat()?;
    if let Ok(url) = std::env::var("WEBHOOK_URL") {
        let saved = Arc::new(Mutex::new(Cursor::default()));
        tokio::spawn(webhook(chat.clone(), url, saved, std::future::pending()));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
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

    use chatcore_ws::client::ClientEvent;
    use chatcore_ws::frames::ServerFrame;
    use chatcore_ws::{Client, Connect};
    use serde_json::{Value, json};

    use super::*;

    async fn serve() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let chat = start_chat().unwrap();
        let app = app(chat).into_make_service_with_connect_info::<Conn>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// Logs in with the app's own login; returns an HTTP client holding the cookie, and the
    /// token (the Rust WebSocket client sends it as a bearer token).
    async fn log_in(addr: SocketAddr, user: &str) -> (reqwest::Client, String) {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("http://{addr}/login"))
            .json(&json!({ "user": user, "password": format!("{user}-pw") }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        (http, token)
    }

    async fn get(http: &reqwest::Client, token: &str, url: String) -> (u16, Value) {
        let res = http.get(url).bearer_auth(token).send().await.unwrap();
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
    async fn host_login_mounted_rest_and_websocket_and_the_policy_hook() {
        let addr = serve().await;
        let chat = format!("http://{addr}/chat/api/v1");

        // Without the app's login, chat knows nobody; chat's own auth routes are not offered.
        let (status, body) = get(&reqwest::Client::new(), "nope", format!("{chat}/me")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthenticated"))
        );
        let res = reqwest::Client::new()
            .post(format!("{chat}/auth/guest"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);

        let (ann_http, ann) = log_in(addr, "ann").await;
        let (bob_http, bob) = log_in(addr, "bob").await;
        let (_, bob_me) = get(&bob_http, &bob, format!("{chat}/me")).await;
        assert_eq!(bob_me["display_name"], "bob");

        // Ann opens a direct room with Bob over the mounted REST API.
        let room: Value = ann_http
            .post(format!("{chat}/rooms/direct"))
            .bearer_auth(&ann)
            .json(&json!({ "user_id": bob_me["id"] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let room_id = chatcore::RoomId(room["id"].as_i64().expect("a room id"));

        // Both connect to the mounted WebSocket; Ann's message reaches Bob.
        let ws = format!("ws://{addr}/chat/api/v1/ws");
        let ann_ws = Connect::bearer(&ws, &ann).connect().await.unwrap();
        let mut bob_ws = Connect::bearer(&ws, &bob).connect().await.unwrap();
        let sent = ann_ws.send(room_id, "hello Bob").await.unwrap();
        let got = next_message(&mut bob_ws).await;
        assert_eq!((got.seq, got.body.as_str()), (sent.seq, "hello Bob"));

        // The app's before_send hook refuses shouting; Ann sees its reason.
        let refused = ann_ws.send(room_id, "HELLO BOB").await.unwrap_err();
        assert_eq!(refused.code(), Some("rejected"));
        assert!(
            refused.to_string().contains("please don't shout"),
            "{refused}"
        );

        // History over the mounted REST API: the one message, not the refused one.
        let (status, history) = get(
            &bob_http,
            &bob,
            format!("{chat}/rooms/{}/messages", room_id.0),
        )
        .await;
        assert_eq!(status, 200);
        let bodies: Vec<&str> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["hello Bob"]);
    }

    #[tokio::test]
    async fn the_webhook_gets_every_committed_message_once_in_order_across_a_restart() {
        // The receiving end: records what it is posted.
        let (posted, mut received) = tokio::sync::mpsc::channel::<Value>(1024);
        let receiver = Router::new().route(
            "/hook",
            post(move |Json(message): Json<Value>| {
                let posted = posted.clone();
                async move { posted.send(message).await.map_err(|_| StatusCode::GONE) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, receiver).await });

        let chat = start_chat().unwrap();
        let ann = chat.external_user("app:ann", "ann").await.unwrap();
        let bob = chat.external_user("app:bob", "bob").await.unwrap();
        let room = chat.open_direct(&ann, bob.id()).await.unwrap().id;
        let send = |n: usize| {
            let (chat, ann) = (chat.clone(), ann.clone());
            async move {
                let body = format!("note {n}");
                let msg = chatcore::SendMessage {
                    room_id: room,
                    body,
                    ..Default::default()
                };
                chat.send(&ann, msg).await.unwrap();
            }
        };
        let mut seen = Vec::new();
        let mut receive = async |seen: &mut Vec<Value>, n: usize| {
            for _ in 0..n {
                let got = tokio::time::timeout(Duration::from_secs(10), received.recv());
                seen.push(got.await.expect("a post within 10 s").unwrap());
            }
        };

        let saved = Arc::new(Mutex::new(Cursor::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async { stopped.await.unwrap_or_default() };
        let first = tokio::spawn(webhook(chat.clone(), url.clone(), saved.clone(), stopped));
        for n in 1..=10 {
            send(n).await;
        }
        receive(&mut seen, 10).await;
        stop.send(()).unwrap();
        first.await.unwrap().unwrap();

        // Committed while the consumer is down, then more after it restarts.
        for n in 11..=20 {
            send(n).await;
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async { stopped.await.unwrap_or_default() };
        let second = tokio::spawn(webhook(chat.clone(), url, saved.clone(), stopped));
        for n in 21..=25 {
            send(n).await;
        }
        receive(&mut seen, 15).await;
        stop.send(()).unwrap();
        second.await.unwrap().unwrap();

        let got: Vec<(i64, String)> = seen
            .iter()
            .map(|m| {
                (
                    m["seq"].as_i64().unwrap(),
                    m["body"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(i64, String)> = (1..=25).map(|n| (n, format!("note {n}"))).collect();
        assert_eq!(got, expected, "every message once, in order");
        assert!(received.try_recv().is_err(), "nothing posted twice");
        assert_eq!(lock(&saved).get(room), 25);
    }
}
