//! Secrets stay out of the logs: the real binary, at the most verbose log level there is
//! (`trace`, every crate), goes through a whole session (register, a wrong and a right login, guest
//! upgrade, rooms, an invite link, messages over REST and WebSocket, typing, an upload, an
//! assistant draft, a CSP report, logout), and then no session or invite token, password or
//! draft appears anywhere in what it wrote, not even the first half of a token.
//!
//! The log must show the session happened (positive controls), so a silent logger cannot pass.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use chatcore::RoomId;
use chatcore_ws::client::Connect;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");

/// Everything the server prints, gathered while it runs.
struct Server {
    child: Child,
    base: String,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn start(data_dir: &std::path::Path, log: &str) -> Server {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("CHAT_DATABASE")
        .env("RUST_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let output = Arc::new(Mutex::new(String::new()));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    let collect = |mut from: Box<dyn Read + Send>, into: Arc<Mutex<String>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            from.read_to_string(&mut text).ok();
            into.lock().unwrap().push_str(&text);
        })
    };
    let readers = vec![
        collect(Box::new(stdout), output.clone()),
        collect(Box::new(child.stderr.take().unwrap()), output.clone()),
    ];
    Server {
        child,
        base,
        output,
        readers,
    }
}

impl Server {
    /// Stops the server with SIGTERM and returns everything it printed.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.child.wait().unwrap().success());
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        std::mem::take(&mut *self.output.lock().unwrap())
    }
}

/// One client of the running server; remembers every secret it sent or was given.
struct Session {
    http: reqwest::Client,
    base: String,
    secrets: Vec<String>,
}

impl Session {
    async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&mut self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Registers (or upgrades) an account and keeps its password and token as secrets.
    async fn register(&mut self, username: &str) -> (String, i64) {
        let password = format!("{username}-secret-password-1f9d");
        self.secrets.push(password.clone());
        let (status, body) = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        self.secrets.push(token.clone());
        (token, body["user"]["id"].as_i64().unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_password_or_draft_reaches_the_log() {
    let data = tempfile::tempdir().unwrap();
    // `trace` everywhere: our request lines, hyper, sqlx statements, tungstenite frames.
    let server = start(data.path(), "trace");
    let mut s = Session {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        secrets: Vec::new(),
    };

    let (alice, _) = s.register("alice").await;
    let (bob, bob_id) = s.register("bob").await;

    let wrong = "alice-wrong-password-7c2e".to_owned();
    s.secrets.push(wrong.clone());
    let (status, _) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "alice", "password": wrong}),
        )
        .await;
    assert_eq!(status, 401);
    let password = s.secrets[0].clone();
    let (status, body) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "alice", "password": password}),
        )
        .await;
    assert_eq!(status, 200);
    let alice2 = body["token"].as_str().unwrap().to_owned();
    s.secrets.push(alice2.clone());

    let (status, body) = s
        .post("/api/v1/auth/guest", None, json!({"display_name": "Carol"}))
        .await;
    assert_eq!(status, 201);
    let carol = body["token"].as_str().unwrap().to_owned();
    s.secrets.push(carol.clone());
    let carol_password = "carol-secret-password-88aa".to_owned();
    s.secrets.push(carol_password.clone());
    let (status, _) = s
        .post(
            "/api/v1/auth/upgrade",
            Some(&carol),
            json!({"username": "carol", "password": carol_password}),
        )
        .await;
    assert_eq!(status, 200);

    // A token that is not one: refused, and not echoed into the log either.
    let forged = "f0".repeat(32);
    s.secrets.push(forged.clone());
    let (status, _) = s
        .call(reqwest::Method::GET, "/api/v1/me", Some(&forged), None)
        .await;
    assert_eq!(status, 401);

    let (status, room) = s
        .post(
            "/api/v1/rooms",
            Some(&alice),
            json!({"name": "Plans", "members": [bob_id]}),
        )
        .await;
    assert_eq!(status, 201);
    let room_id = room["id"].as_i64().unwrap();
    let (status, _) = s
        .post(
            &format!("/api/v1/rooms/{room_id}/messages"),
            Some(&alice),
            json!({"body": "see you at noon"}),
        )
        .await;
    assert_eq!(status, 201);

    // An invite link's token is in the URL of its page, its preview and its join.
    let (status, invite) = s
        .post(
            &format!("/api/v1/rooms/{room_id}/invites"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(status, 201);
    let invite = invite["token"].as_str().unwrap().to_owned();
    s.secrets.push(invite.clone());
    let page = s
        .http
        .get(format!("{}/join/{invite}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let (status, _) = s
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/invites/{invite}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .post(
            &format!("/api/v1/invites/{invite}/join"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // The draft a user asks the assistant about has not been sent: it is nobody's business.
    let draft = "draft: i am not sure i can make it 3b9f".to_owned();
    s.secrets.push(draft.clone());
    s.post(
        "/api/v1/assist",
        Some(&alice),
        json!({"room_id": room_id, "draft": draft}),
    )
    .await;

    // The same session by cookie, as a browser sends it.
    let res = s
        .http
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", format!("chat_session={alice2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let upload = s
        .http
        .post(format!("{}/api/v1/rooms/{room_id}/media", s.base))
        .bearer_auth(&bob)
        .header("content-type", "image/png")
        // A real 1×1 PNG: uploads are decoded and re-encoded, so a header alone is refused.
        .body(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status().as_u16(), 201);

    let ws_url = format!("{}/api/v1/ws", s.base.replacen("http://", "ws://", 1));
    let client = Connect::bearer(ws_url, &bob)
        .reconnect(false)
        .connect()
        .await
        .unwrap();
    client.typing(RoomId(room_id)).await.unwrap();
    client.send(RoomId(room_id), "noon works").await.unwrap();
    client.close().await;

    // A CSP report whose page URL carries a secret in its query string.
    let leaky_url = "http://chat.example/?invite=9d1c0ffee5ecre7";
    s.secrets.push("9d1c0ffee5ecre7".into());
    let res = s
        .http
        .post(format!("{}/api/v1/csp-report", s.base))
        .header("content-type", "application/csp-report")
        .body(
            json!({"csp-report": {"document-uri": leaky_url, "violated-directive": "script-src"}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);

    let (status, _) = s
        .post("/api/v1/auth/logout", Some(&alice2), json!({}))
        .await;
    assert_eq!(status, 204);

    let log = server.stop();
    // Positive controls: the session is in the log, so the log was really written.
    for expected in [
        "/api/v1/auth/login",
        "/api/v1/rooms",
        "WebSocket open",
        "CSP violation reported",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    for secret in &s.secrets {
        // Half a token is still too much (and catches a truncated or prefixed form).
        let half = &secret[..secret.len() / 2];
        for (i, line) in log.lines().enumerate() {
            assert!(
                !line.contains(half),
                "log line {} contains (part of) the secret {secret:?}:\n{line}",
                i + 1
            );
        }
    }
}
