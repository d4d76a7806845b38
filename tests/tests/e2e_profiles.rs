//! Profiles over real HTTP and WebSocket: renaming, pictures and "last seen", with their access
//! rules and bad requests. Each scenario runs on every backend (the server databases skipped
//! with a reason when no server answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use std::io::Cursor;

use chat_tests::{Backend, Reply, Server, TestUser, on_every_backend, wait_for};
use chatcore_ws::frames::{ServerFrame, WireUser};
use reqwest::Method;
use serde_json::{Value, json};

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        profile_changes_reach_room_peers_live,
        pictures_are_seen_only_by_roommates_and_only_while_current,
        bad_profile_changes_are_refused,
        forged_and_oversized_pictures_are_refused,
        hidden_last_seen_hides_both_ways
    ));
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn put_avatar(server: &Server, user: &TestUser, bytes: Vec<u8>, mime: &str) -> Reply {
    let req = server.request(Method::PUT, "/api/v1/me/avatar", Some(user));
    server
        .send(req.header("content-type", mime).body(bytes))
        .await
}

/// Sets a picture and returns its id.
async fn new_avatar(server: &Server, user: &TestUser, bytes: Vec<u8>) -> String {
    let reply = put_avatar(server, user, bytes, "image/png").await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["avatar"].as_str().unwrap().to_owned()
}

fn avatar_path(user: &TestUser, avatar: &str) -> String {
    format!("/api/v1/users/{}/avatar/{avatar}", user.id)
}

/// The next `user` frame about `user`.
async fn user_frame(client: &mut chatcore_ws::Client, user: &TestUser) -> WireUser {
    wait_for(client, |f| match f {
        ServerFrame::User { user: u } if u.id.0 == user.id => Some(u.clone()),
        _ => None,
    })
    .await
}

/// `user`'s entry in the members of `viewer`'s view of `room`.
async fn member(server: &Server, viewer: &TestUser, room: i64, user: &TestUser) -> Value {
    let view = server.room(viewer, room).await;
    view["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == user.id)
        .unwrap()
        .clone()
}

async fn profile_changes_reach_room_peers_live(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let ann = server.register("ann").await;
    let bob = server.register("bob").await;
    let room = server.direct(&ann, &bob).await;
    let mut bob_ws = server.connect(&bob).await;
    let mut ann_phone = server.connect(&ann).await;

    let script = "<img src=x onerror=alert(1)>";
    let renamed = server
        .patch(Some(&ann), "/api/v1/me", json!({"display_name": script}))
        .await;
    assert_eq!(
        renamed.status,
        200,
        "{}",
        String::from_utf8_lossy(&renamed.body)
    );
    let renamed = renamed.json();
    assert_eq!(renamed["display_name"], script, "text is data");
    assert_eq!(
        (renamed["avatar"].clone(), renamed["hide_last_seen"].clone()),
        (Value::Null, json!(false))
    );
    assert_eq!(user_frame(&mut bob_ws, &ann).await.display_name, script);
    assert_eq!(user_frame(&mut ann_phone, &ann).await.display_name, script);

    let avatar = new_avatar(&server, &ann, png(64, 48)).await;
    let heard = user_frame(&mut bob_ws, &ann).await;
    assert_eq!(heard.avatar.map(|a| a.to_string()), Some(avatar.clone()));
    assert_eq!(heard.display_name, script);
    let shown = member(&server, &bob, room, &ann).await;
    assert_eq!(
        (shown["avatar"].as_str(), shown["display_name"].as_str()),
        (Some(avatar.as_str()), Some(script))
    );
    assert!(
        shown["last_seen"].is_string(),
        "a direct room shows last seen: {shown}"
    );
    let me = server.get(Some(&ann), "/api/v1/me").await.json();
    assert_eq!(me["avatar"], avatar.as_str());

    let removed = server.delete(Some(&ann), "/api/v1/me/avatar").await;
    assert_eq!(
        (removed.status, removed.json()["avatar"].clone()),
        (200, Value::Null)
    );
    assert_eq!(user_frame(&mut bob_ws, &ann).await.avatar, None);
    // Idempotent.
    let again = server.delete(Some(&ann), "/api/v1/me/avatar").await;
    assert_eq!(
        (again.status, again.json()["avatar"].clone()),
        (200, Value::Null)
    );
    server.stop().await;
}

async fn pictures_are_seen_only_by_roommates_and_only_while_current(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let ann = server.register("ann").await;
    let bob = server.register("bob").await;
    let eve = server.register("eve").await;
    server.group(&ann, "Team", &[&bob]).await;
    let first = new_avatar(&server, &ann, png(900, 600)).await;

    let seen = server.get(Some(&bob), &avatar_path(&ann, &first)).await;
    assert_eq!(seen.status, 200);
    let decoded = image::load_from_memory(&seen.body).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (512, 512),
        "cropped square, shrunk"
    );
    assert_eq!(seen.header("content-type"), Some("image/png"));
    assert_eq!(seen.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(seen.header("content-security-policy"), Some("sandbox"));
    assert_eq!(
        seen.header("cross-origin-resource-policy"),
        Some("same-origin")
    );
    assert_eq!(
        seen.header("cache-control"),
        Some("private, max-age=31536000, immutable")
    );
    let etag = seen.header("etag").unwrap().to_owned();
    let cached = server
        .send(
            server
                .request(Method::GET, &avatar_path(&ann, &first), Some(&bob))
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(cached.status, 304);
    assert_eq!(
        server
            .get(Some(&ann), &avatar_path(&ann, &first))
            .await
            .status,
        200
    );

    // A stranger, a stale id, a wrong user, an unknown user, a malformed id and no session:
    // nothing tells them apart.
    let second = new_avatar(&server, &ann, png(40, 40)).await;
    let refused = [
        (Some(&eve), avatar_path(&ann, &second)),
        (Some(&bob), avatar_path(&ann, &first)),
        (Some(&bob), avatar_path(&bob, &second)),
        (Some(&bob), format!("/api/v1/users/999999/avatar/{second}")),
        (Some(&bob), avatar_path(&ann, "not-an-id")),
    ];
    let mut bodies = Vec::new();
    for (who, path) in refused {
        let reply = server.get(who, &path).await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "not_found".to_owned()),
            "{path}"
        );
        bodies.push(reply.body);
    }
    bodies.dedup();
    assert_eq!(
        bodies.len(),
        1,
        "one answer for every picture one may not see"
    );
    assert_eq!(
        server.get(None, &avatar_path(&ann, &second)).await.status,
        401
    );
    assert_eq!(
        server
            .get(Some(&bob), &avatar_path(&ann, &second))
            .await
            .status,
        200
    );
    server.stop().await;
}

async fn bad_profile_changes_are_refused(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let guest = server.guest("Visitor").await;
    let cases = [
        (json!({}), None),
        (json!({"nickname": "x"}), None),
        (json!({"display_name": 5}), Some("display_name")),
        (json!({"display_name": "  "}), Some("display_name")),
        (
            json!({"display_name": "x".repeat(41)}),
            Some("display_name"),
        ),
        (json!({"hide_last_seen": "yes"}), Some("hide_last_seen")),
        (json!({"display_name": "Fine", "admin": true}), None),
    ];
    for (body, field) in cases {
        let reply = server.patch(Some(&guest), "/api/v1/me", body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid".to_owned()),
            "{body}"
        );
        assert_eq!(reply.json()["error"]["field"].as_str(), field, "{body}");
    }
    let not_json = server
        .send(
            server
                .request(Method::PATCH, "/api/v1/me", Some(&guest))
                .body("display_name=x"),
        )
        .await;
    assert_eq!(not_json.status, 415);
    assert_eq!(
        server
            .patch(None, "/api/v1/me", json!({"display_name": "x"}))
            .await
            .status,
        401
    );
    let me = server.get(Some(&guest), "/api/v1/me").await.json();
    assert_eq!(
        (me["display_name"].as_str(), me["hide_last_seen"].as_bool()),
        (Some("Visitor"), Some(false))
    );

    // Guests rename themselves like anyone.
    let renamed = server
        .patch(
            Some(&guest),
            "/api/v1/me",
            json!({"display_name": "Zoë", "hide_last_seen": true}),
        )
        .await
        .json();
    assert_eq!(
        (
            renamed["display_name"].as_str(),
            renamed["hide_last_seen"].as_bool()
        ),
        (Some("Zoë"), Some(true))
    );
    server.stop().await;
}

async fn forged_and_oversized_pictures_are_refused(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| c.max_upload = 100_000).await else {
        return;
    };
    let ann = server.register("ann").await;
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let mut wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0".to_vec();
    wav.resize(44, 0);
    let cases = [
        (svg.clone(), "image/svg+xml", 415, "unsupported_media"),
        (svg, "image/png", 415, "unsupported_media"),
        (html, "image/png", 415, "unsupported_media"),
        (png(8, 8), "text/html", 415, "unsupported_media"),
        (wav, "audio/wav", 415, "unsupported_media"),
        (
            chatcore::testing::animated_gif(),
            "image/gif",
            400,
            "invalid",
        ),
        (vec![0x89; 100_001], "image/png", 413, "too_large"),
    ];
    for (bytes, mime, status, code) in cases {
        let reply = put_avatar(&server, &ann, bytes, mime).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code.to_owned()),
            "{mime}"
        );
    }
    let me = server.get(Some(&ann), "/api/v1/me").await.json();
    assert_eq!(me["avatar"], Value::Null, "nothing changed");

    // A form with a `file` field works like the media upload.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png(30, 20))
            .mime_str("image/png")
            .unwrap(),
    );
    let req = server
        .request(Method::PUT, "/api/v1/me/avatar", Some(&ann))
        .multipart(form);
    let reply = server.send(req).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.json()["avatar"].is_string());
    server.stop().await;
}

async fn hidden_last_seen_hides_both_ways(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let ann = server.register("ann").await;
    let bob = server.register("bob").await;
    let direct = server.direct(&ann, &bob).await;
    let group = server.group(&ann, "Team", &[&bob]).await;
    assert!(member(&server, &ann, direct, &bob).await["last_seen"].is_string());
    assert!(
        member(&server, &ann, direct, &ann).await["last_seen"].is_null(),
        "not for oneself"
    );
    assert!(
        member(&server, &ann, group, &bob).await["last_seen"].is_null(),
        "not in groups"
    );

    let hidden = server
        .patch(Some(&bob), "/api/v1/me", json!({"hide_last_seen": true}))
        .await;
    assert_eq!(hidden.json()["hide_last_seen"], true);
    assert!(member(&server, &ann, direct, &bob).await["last_seen"].is_null());
    assert!(
        member(&server, &bob, direct, &ann).await["last_seen"].is_null(),
        "reciprocal"
    );

    let alone = server
        .get(Some(&ann), &format!("/api/v1/users/{}", bob.id))
        .await;
    assert_eq!(alone.status, 200);
    assert!(alone.json()["last_seen"].is_null());

    server
        .patch(Some(&bob), "/api/v1/me", json!({"hide_last_seen": false}))
        .await;
    assert!(member(&server, &ann, direct, &bob).await["last_seen"].is_string());
    assert!(member(&server, &bob, direct, &ann).await["last_seen"].is_string());
    let alone = server
        .get(Some(&ann), &format!("/api/v1/users/{}", bob.id))
        .await
        .json();
    assert_eq!(alone["display_name"], "Bob");
    assert!(alone["last_seen"].is_string());
    // Someone who shares no room with bob, and a user who does not exist: the same 404.
    let eve = server.register("eve").await;
    let stranger = server
        .get(Some(&eve), &format!("/api/v1/users/{}", bob.id))
        .await;
    let nobody = server.get(Some(&eve), "/api/v1/users/999999").await;
    assert_eq!((stranger.status, nobody.status), (404, 404));
    assert_eq!(stranger.body, nobody.body);
    server.stop().await;
}
