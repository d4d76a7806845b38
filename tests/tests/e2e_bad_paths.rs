//! Bad paths: every refusal has the documented status and code, leaks nothing, and changes
//! nothing.

use chat_tests::{PASSWORD, PNG, Server, TestUser};
use chatcore_ws::tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use futures::StreamExt;
use reqwest::Method;
use serde_json::json;

/// Every route that needs a session, with a body that would otherwise be valid.
fn authenticated_routes(room: i64, user: i64, media: &str) -> Vec<(Method, String)> {
    let r = format!("/api/v1/rooms/{room}");
    vec![
        (Method::POST, "/api/v1/auth/upgrade".into()),
        (Method::POST, "/api/v1/auth/logout".into()),
        (Method::GET, "/api/v1/me".into()),
        (Method::GET, "/api/v1/users?q=a".into()),
        (Method::GET, "/api/v1/rooms".into()),
        (Method::POST, "/api/v1/rooms".into()),
        (Method::POST, "/api/v1/rooms/direct".into()),
        (Method::GET, r.clone()),
        (Method::PATCH, r.clone()),
        (Method::POST, format!("{r}/members")),
        (Method::PATCH, format!("{r}/members/{user}")),
        (Method::DELETE, format!("{r}/members/{user}")),
        (Method::GET, format!("{r}/messages")),
        (Method::POST, format!("{r}/messages")),
        (Method::POST, format!("{r}/read")),
        (Method::POST, format!("{r}/media")),
        (Method::GET, format!("/api/v1/media/{media}")),
        (Method::GET, "/api/v1/admin/users".into()),
        (Method::POST, format!("/api/v1/admin/users/{user}/disable")),
        (Method::GET, "/api/v1/ws".into()),
        (Method::GET, "/api/v1/assist".into()),
        (Method::POST, "/api/v1/assist".into()),
    ]
}

fn body_for(method: &Method, path: &str, user: i64) -> serde_json::Value {
    match (method.as_str(), path.rsplit('/').next().unwrap_or("")) {
        ("POST", "upgrade") => json!({"username": "someone", "password": PASSWORD}),
        ("POST", "rooms") => json!({"name": "x", "members": []}),
        ("POST", "direct") | ("POST", "members") => json!({"user_id": user}),
        ("POST", "messages") => json!({"body": "secret"}),
        ("POST", "read") => json!({"seq": 1}),
        ("POST", "assist") => json!({"draft": "secret plan", "room_id": 1}),
        ("PATCH", _) => json!({"name": "x", "role": "admin"}),
        _ => json!({}),
    }
}

async fn scene() -> (Server, TestUser, TestUser, i64, String) {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Private plans", &[&bob]).await;
    server.say(&alice, room, "the surprise is on friday").await;
    let upload = server.request(
        Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&alice),
    );
    let media = server.send(upload.body(PNG.to_vec())).await.json()["id"]
        .as_str()
        .expect("media id")
        .to_owned();
    (server, alice, bob, room, media)
}

#[tokio::test]
async fn every_route_without_a_session_is_401() {
    let (server, _alice, bob, room, media) = scene().await;
    let bogus = TestUser {
        id: 0,
        username: None,
        token: "0".repeat(64),
    };
    for (method, path) in authenticated_routes(room, bob.id, &media) {
        for user in [None, Some(&bogus)] {
            let req = server
                .request(method.clone(), &path, user)
                .json(&body_for(&method, &path, bob.id));
            let reply = server.send(req).await;
            assert_eq!(reply.status, 401, "{method} {path}");
            assert_eq!(reply.code(), "unauthenticated", "{method} {path}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn another_users_room_reveals_nothing() {
    let (server, _alice, bob, room, media) = scene().await;
    let mallory = server.register("mallory").await;
    for (method, path) in authenticated_routes(room, bob.id, &media) {
        if !path.contains(&format!("/rooms/{room}")) && !path.contains("/media/") {
            continue;
        }
        let req = server
            .request(method.clone(), &path, Some(&mallory))
            .json(&body_for(&method, &path, bob.id));
        let reply = server.send(req).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (404, "not_found"),
            "{method} {path}"
        );
        let text = String::from_utf8_lossy(&reply.body);
        assert!(
            !text.contains("friday") && !text.contains("Private"),
            "{method} {path} leaked: {text}"
        );
    }
    // A room that does not exist looks exactly the same.
    let missing = server.get(Some(&mallory), "/api/v1/rooms/999999").await;
    let existing = server
        .get(Some(&mallory), &format!("/api/v1/rooms/{room}"))
        .await;
    assert_eq!(
        (missing.status, missing.body.clone()),
        (existing.status, existing.body.clone())
    );
    // An id of the right shape that names nothing: answered like media one may not see.
    let no_media = server
        .get(Some(&mallory), "/api/v1/media/AAAAAAAAAAAAAAAAAAAAAA")
        .await;
    let their_media = server
        .get(Some(&mallory), &format!("/api/v1/media/{media}"))
        .await;
    assert_eq!(
        (no_media.status, no_media.body),
        (their_media.status, their_media.body)
    );
    // Nothing was stored by the refused writes.
    assert_eq!(server.room(&bob, room).await["last_seq"], 1);
    assert_eq!(
        server.room(&bob, room).await["members"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    server.stop().await;
}

#[tokio::test]
async fn admin_routes_need_a_server_admin() {
    let (server, alice, bob, _room, _media) = scene().await;
    let list = server.get(Some(&bob), "/api/v1/admin/users").await;
    assert_eq!((list.status, list.code().as_str()), (403, "forbidden"));
    let disable = server
        .post(
            Some(&bob),
            &format!("/api/v1/admin/users/{}/disable", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(
        (disable.status, disable.code().as_str()),
        (403, "forbidden")
    );

    server
        .chat
        .promote_server_admin("alice")
        .await
        .expect("promote");
    let list = server.get(Some(&alice), "/api/v1/admin/users").await.json();
    let users = list["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["disabled"], false);
    assert!(users[0]["created_at"].is_string());
    let disable = server
        .post(
            Some(&alice),
            &format!("/api/v1/admin/users/{}/disable", bob.id),
            json!({}),
        )
        .await;
    assert_eq!(disable.status, 204);
    assert_eq!(
        server.get(Some(&bob), "/api/v1/me").await.status,
        401,
        "a disabled user's session ends"
    );
    server.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let server = Server::start_with(|c| c.max_upload = 1024).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let path = format!("/api/v1/rooms/{room}/messages");

    let broken = server
        .request(Method::POST, &path, Some(&alice))
        .header("content-type", "application/json");
    let reply = server.send(broken.body("{\"body\": ")).await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "bad_json"));
    let wrong_shape = server.post(Some(&alice), &path, json!({"body": 42})).await;
    assert_eq!(
        (wrong_shape.status, wrong_shape.code().as_str()),
        (400, "bad_json")
    );
    let form = server
        .request(Method::POST, &path, Some(&alice))
        .header("content-type", "text/plain");
    let reply = server.send(form.body("{\"body\":\"hi\"}")).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (415, "unsupported_media")
    );
    let invalid = server.post(Some(&alice), &path, json!({"body": ""})).await;
    assert_eq!((invalid.status, invalid.code().as_str()), (400, "invalid"));
    assert!(invalid.json()["error"]["field"].is_string());
    let limit = server.get(Some(&alice), &format!("{path}?limit=abc")).await;
    assert_eq!(
        (limit.status, limit.json()["error"]["field"].as_str()),
        (400, Some("limit"))
    );

    let huge = json!({"body": "x".repeat(70 * 1024)});
    let reply = server.post(Some(&alice), &path, huge).await;
    assert_eq!((reply.status, reply.code().as_str()), (413, "too_large"));
    let upload = server.request(
        Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&alice),
    );
    let mut big = PNG.to_vec();
    big.resize(4096, 0);
    let reply = server
        .send(upload.header("content-type", "image/png").body(big))
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (413, "too_large"));
    assert_eq!(
        server.room(&alice, room).await["last_seq"],
        0,
        "nothing was stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn dangerous_or_empty_uploads_are_415() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let path = format!("/api/v1/rooms/{room}/media");
    let mut png_then_html = PNG[..8].to_vec();
    png_then_html.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "PNG header on HTML declared as HTML",
            png_then_html,
            "text/html",
        ),
        ("SVG", svg.clone(), "image/svg+xml"),
        ("SVG declared as PNG", svg, "image/png"),
        ("zero bytes", Vec::new(), "image/png"),
    ];
    for (what, bytes, declared) in cases {
        let req = server
            .request(Method::POST, &path, Some(&alice))
            .header("content-type", declared);
        let reply = server.send(req.body(bytes.clone())).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (415, "unsupported_media"),
            "{what}"
        );
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("x")
            .mime_str(declared)
            .unwrap();
        let req = server.request(Method::POST, &path, Some(&alice));
        let reply = server
            .send(req.multipart(reqwest::multipart::Form::new().part("file", part)))
            .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (415, "unsupported_media"),
            "multipart {what}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn cookie_requests_from_foreign_origins_are_refused() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let cookie = format!("chat_session={}", alice.token);
    let post = |origin: Option<&str>| {
        let req = server
            .request(Method::POST, "/api/v1/rooms", None)
            .header("cookie", &cookie)
            .json(&json!({"name": "Via cookie", "members": []}));
        match origin {
            Some(o) => req.header("origin", o),
            None => req,
        }
    };
    let foreign = server.send(post(Some("http://evil.example"))).await;
    assert_eq!(
        (foreign.status, foreign.code().as_str()),
        (403, "bad_origin")
    );
    let missing = server.send(post(None)).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (403, "bad_origin")
    );
    let own = server.send(post(Some(&server.base))).await;
    assert_eq!(own.status, 201, "the server's own origin is allowed");
    let reads = server
        .send(
            server
                .request(Method::GET, "/api/v1/rooms", None)
                .header("cookie", &cookie),
        )
        .await;
    assert_eq!(reads.status, 200, "cookie GETs need no Origin");
    assert_eq!(
        reads.json()["rooms"].as_array().map(Vec::len),
        Some(1),
        "only the allowed POST created a room"
    );
    // Bearer clients (no cookie) need no Origin at all.
    assert_eq!(
        server
            .post(
                Some(&alice),
                "/api/v1/rooms",
                json!({"name": "Bot", "members": []})
            )
            .await
            .status,
        201
    );
    // Logging in from a foreign page is refused too.
    let login = server
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("origin", "http://evil.example")
        .json(&json!({"username": "alice", "password": PASSWORD}));
    assert_eq!(server.send(login).await.code(), "bad_origin");
    server.stop().await;
}

#[tokio::test]
async fn websocket_upgrade_checks_session_and_origin_first() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let status = |origin: Option<&str>, cookie: Option<&str>, host: Option<&str>| {
        let mut req = server.ws_url().into_client_request().unwrap();
        if let Some(h) = host {
            req.headers_mut().insert("host", h.parse().unwrap());
        }
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        async move {
            match chatcore_ws::tokio_tungstenite::connect_async(req).await {
                Ok((mut ws, res)) => {
                    // The upgraded socket speaks the chat protocol: `hello` comes first.
                    let first = tokio::time::timeout(chat_tests::PATIENCE, ws.next()).await;
                    let text = match first {
                        Ok(Some(Ok(tungstenite::Message::Text(text)))) => text.to_string(),
                        other => panic!("expected hello, got {other:?}"),
                    };
                    assert!(text.contains("\"type\":\"hello\""), "{text}");
                    ws.close(None).await.ok();
                    res.status().as_u16()
                }
                Err(tungstenite::Error::Http(res)) => res.status().as_u16(),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    };
    let cookie = format!("chat_session={}", alice.token);
    assert_eq!(status(None, None, None).await, 401);
    assert_eq!(
        status(Some("http://evil.example"), Some(&cookie), None).await,
        403
    );
    assert_eq!(
        status(None, Some(&cookie), None).await,
        403,
        "a cookie without Origin is not a browser we trust"
    );
    assert_eq!(status(Some(&server.base), Some(&cookie), None).await, 101);
    // A page served from the listening address, reached under another host name (a proxy
    // that rewrites `Host`): one origin check, which knows the listening address.
    assert_eq!(
        status(Some(&server.base), Some(&cookie), Some("chat.example")).await,
        101
    );
    server.stop().await;
}

#[tokio::test]
async fn repeated_wrong_logins_are_throttled() {
    let server = Server::start().await;
    server.register("alice").await;
    for _ in 0..5 {
        let reply = server.login("alice", "wrong password!").await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "unauthenticated")
        );
    }
    let sixth = server.login("alice", "wrong password!").await;
    assert_eq!((sixth.status, sixth.code().as_str()), (429, "rate_limited"));
    let retry: u64 = sixth
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(
        server.login("alice", PASSWORD).await.status,
        429,
        "even the right password waits"
    );
    server.stop().await;
}

#[tokio::test]
async fn per_ip_limits_on_logins_registrations_and_guests() {
    let server = Server::start_with(|c| {
        c.login_failures_per_ip = 3;
        c.registrations_per_hour = 2;
        c.guests_per_hour = 1;
    })
    .await;
    server.register("alice").await;
    server.register("bob").await;
    let third = server
        .post(
            None,
            "/api/v1/auth/register",
            json!({"username": "carol", "password": PASSWORD}),
        )
        .await;
    assert_eq!((third.status, third.code().as_str()), (429, "rate_limited"));
    assert!(third.header("retry-after").is_some());

    for name in ["x1", "x2", "x3"] {
        assert_eq!(server.login(name, "nope nope nope").await.status, 401);
    }
    let blocked = server.login("alice", PASSWORD).await;
    assert_eq!(
        (blocked.status, blocked.code().as_str()),
        (429, "rate_limited")
    );

    server.guest("One").await;
    let second = server.post(None, "/api/v1/auth/guest", json!({})).await;
    assert_eq!(second.status, 429);
    server.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    for reply in [
        server.get(None, "/").await,
        server.get(None, "/healthz").await,
        server.get(None, "/api/v1/nope").await,
        server.get(Some(&alice), "/api/v1/me").await,
        server.get(None, "/api/v1/rooms/abc").await,
    ] {
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    }
    let index = server.get(None, "/").await;
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&index.body).contains("<!doctype html>"));
    let health = server.get(None, "/healthz").await;
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    assert_eq!(server.get(None, "/api/v1/nope").await.code(), "not_found");
    assert_eq!(server.get(None, "/../Cargo.toml").await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn a_failing_store_is_503_storage_and_healthz_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = reference_server::Config::for_data_dir(dir.path());
    let storage = reference_server::storage::open(&config)
        .await
        .expect("open");
    let chat = chatcore::Chat::builder(storage.store, storage.media)
        .config(reference_server::storage::chat_config(&config))
        .start(&tokio::runtime::Handle::current())
        .expect("chat");
    storage.backend.close().await; // every later query fails
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = reference_server::App::from_config(chat, &config);
    let server = tokio::spawn(reference_server::run(listener, app, async {
        stopped.await.ok();
    }));
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 503);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!(body["error"]["code"], "storage");
    let register = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert_eq!(register.status().as_u16(), 503);
    let text = register.text().await.expect("text");
    assert!(
        text.contains("\"storage\"") && !text.to_lowercase().contains("sqlite"),
        "no backend details: {text}"
    );
    stop.send(()).ok();
    server.await.expect("join").expect("run");
}

#[tokio::test]
async fn session_cookie_flags() {
    let server = Server::start().await;
    let reply = server.post(None, "/api/v1/auth/guest", json!({})).await;
    let cookie = reply.header("set-cookie").expect("cookie").to_owned();
    for part in ["chat_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    server.stop().await;

    let server =
        Server::start_with(|c| c.public_url = Some("https://chat.example.com".into())).await;
    let reply = server.post(None, "/api/v1/auth/guest", json!({})).await;
    assert!(
        reply
            .header("set-cookie")
            .expect("cookie")
            .contains("; Secure")
    );
    // The public URL's origin is allowed for cookie requests.
    let token = reply.json()["token"].as_str().expect("token").to_owned();
    let req = server
        .request(Method::POST, "/api/v1/auth/logout", None)
        .header("cookie", format!("chat_session={token}"))
        .header("origin", "https://chat.example.com");
    assert_eq!(server.send(req).await.status, 204);
    server.stop().await;
}

#[tokio::test]
async fn web_dir_serves_a_folder_instead_of_the_built_in_client() {
    let web = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>dev copy</title>",
    )
    .expect("write");
    std::fs::write(web.path().join("app.js"), "export {};").expect("write");
    let dir = web.path().to_owned();
    let server = Server::start_with(|c| c.web_dir = Some(dir)).await;
    let index = server.get(None, "/").await;
    assert!(String::from_utf8_lossy(&index.body).contains("dev copy"));
    let js = server.get(None, "/app.js").await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(server.get(None, "/missing.js").await.status, 404);
    assert_eq!(server.get(None, "/%2e%2e/Cargo.toml").await.status, 404);
    let post = server.send(server.request(Method::POST, "/", None)).await;
    assert_eq!(post.status, 405);
    server.stop().await;
}
