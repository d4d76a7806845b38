//! The identity hook and the origin policy of a mounted API, through `ChatHttp::handle`: the
//! host decides who is asking, chat decides what they may do and which pages may ask.

#![allow(clippy::unwrap_used)]

use chatcore::{Chat, Error};
use chatcore_http::ChatHttp;
use http::request::Parts;
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

/// An API whose host vouches for the user named in `x-user` (a stand-in for its login).
fn hosted(chat: &Chat) -> ChatHttp {
    let hook_chat = chat.clone();
    ChatHttp::builder(chat.clone())
        .identity(move |parts: &Parts| {
            let chat = hook_chat.clone();
            let user = parts
                .headers
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            async move {
                let user = user.ok_or(Error::Unauthenticated("log in first"))?;
                chat.external_user(&format!("host:{user}"), &user).await
            }
        })
        .build()
}

async fn call(api: &ChatHttp, req: http::request::Builder, body: &str) -> (u16, Value) {
    let req: Request<String> = req
        .header("host", "app.example")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .unwrap();
    let res = api.handle(req).await;
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

#[tokio::test]
async fn the_host_decides_who_is_asking_for_every_route() {
    let chat = Chat::in_memory();
    let api = hosted(&chat);
    let me = || Request::builder().uri("/api/v1/me");

    let (status, body) = call(&api, me(), "").await;
    assert_eq!((status, code(&body)), (401, Some("unauthenticated")));

    let (status, body) = call(&api, me().header("x-user", "ann"), "").await;
    assert_eq!(status, 200);
    assert_eq!(body["display_name"], "ann");

    let (_, again) = call(&api, me().header("x-user", "ann"), "").await;
    assert_eq!(
        again["id"], body["id"],
        "the same chat user on every request"
    );

    // Chat's own accounts are not offered when the host logs users in.
    let guest = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/guest");
    let (status, body) = call(&api, guest, "{}").await;
    assert_eq!((status, code(&body)), (404, Some("not_found")));
}

#[tokio::test]
async fn cookie_requests_must_come_from_an_allowed_origin() {
    let chat = Chat::in_memory();
    let api = hosted(&chat);
    let create = || {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/rooms")
            .header("x-user", "ann")
    };
    let group = r#"{"name":"Team","members":[]}"#;

    // A page elsewhere cannot use the host's cookie (or anything else) to act here.
    let foreign = create()
        .header("cookie", "host_session=1")
        .header("origin", "https://evil.example");
    let (status, body) = call(&api, foreign, group).await;
    assert_eq!((status, code(&body)), (403, Some("bad_origin")));

    // A request that carries cookies must say where it comes from (browsers always do).
    let unnamed = create().header("cookie", "host_session=1");
    let (status, body) = call(&api, unnamed, group).await;
    assert_eq!((status, code(&body)), (403, Some("bad_origin")));

    // The app's own page, and a client without cookies (a bot), are fine.
    let own = create()
        .header("cookie", "host_session=1")
        .header("origin", "https://app.example");
    assert_eq!(call(&api, own, group).await.0, 201);
    assert_eq!(call(&api, create(), group).await.0, 201);
}

#[tokio::test]
async fn without_a_hook_chat_sessions_and_auth_routes_are_served() {
    let chat = Chat::in_memory();
    let api = ChatHttp::builder(chat).build();
    let guest = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/guest");
    let (status, body) = call(&api, guest, r#"{"display_name":"Gil"}"#).await;
    assert_eq!(status, 201);
    let token = body["token"].as_str().unwrap().to_owned();
    let me = Request::builder()
        .uri("/api/v1/me")
        .header("authorization", format!("Bearer {token}"));
    let (status, body) = call(&api, me, "").await;
    assert_eq!((status, body["display_name"].as_str()), (200, Some("Gil")));
}
