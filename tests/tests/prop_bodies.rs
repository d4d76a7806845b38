//! Property test over real HTTP: arbitrary JSON bodies (right keys with wrong types, huge
//! numbers, nesting, unknown keys, non-JSON bytes) sent to every route that reads one. Each
//! answer is a success or a 4xx with the error shape and a stable code; never a 5xx.
//!
//! A failing input is saved by proptest in `tests/tests/prop_bodies.proptest-regressions`
//! and replayed first on every later run; commit that file with the fix.
//! New JSON routes go into `json_routes`.

#![allow(clippy::unwrap_used)]

use chat_tests::{Server, TestUser};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::Value;

/// Codes an error reply may carry (docs/api.md).
const CODES: &[&str] = &[
    "invalid",
    "bad_json",
    "unauthenticated",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "too_large",
    "unsupported_media",
    "bad_origin",
    "method_not_allowed",
];

/// Every route that parses a JSON body, with ids of seeded rooms and users.
fn json_routes(group: i64, other: i64) -> Vec<(Method, String)> {
    let r = format!("/api/v1/rooms/{group}");
    vec![
        (Method::POST, "/api/v1/auth/register".into()),
        (Method::POST, "/api/v1/auth/login".into()),
        (Method::POST, "/api/v1/auth/guest".into()),
        (Method::POST, "/api/v1/auth/upgrade".into()),
        (Method::POST, "/api/v1/rooms".into()),
        (Method::POST, "/api/v1/rooms/direct".into()),
        (Method::PATCH, r.clone()),
        (Method::POST, format!("{r}/members")),
        (Method::PATCH, format!("{r}/members/{other}")),
        (Method::POST, format!("{r}/messages")),
        (Method::POST, format!("{r}/read")),
    ]
}

/// JSON built from the keys the routes read, so values of the wrong type reach the parsers.
fn body() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(1e300)),
        Just(Value::from(-0.5)),
        ".{0,10}".prop_map(Value::from),
        prop::sample::select(vec!["member", "admin", "owner", "", "x"]).prop_map(Value::from),
    ];
    let keys = prop_oneof![
        prop::sample::select(vec![
            "username",
            "password",
            "display_name",
            "name",
            "members",
            "user_id",
            "role",
            "body",
            "client_id",
            "media_id",
            "reply_to",
            "seq",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What goes over the wire: mostly JSON text, sometimes not JSON at all.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => body().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"{\"body\": \"\\ud800\"}".to_vec()),
    ]
}

struct World {
    rt: tokio::runtime::Runtime,
    server: Server,
    alice: TestUser,
    routes: Vec<(Method, String)>,
}

fn world() -> World {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, alice, routes) = rt.block_on(async {
        let server = Server::start().await;
        let alice = server.register("alice").await;
        let bob = server.register("bob").await;
        let group = server.group(&alice, "Fuzz", &[&bob]).await;
        (server, alice, json_routes(group, bob.id))
    });
    World {
        rt,
        server,
        alice,
        routes,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_json_body_makes_a_route_fail_with_a_5xx(
        route in any::<prop::sample::Index>(),
        bytes in payload(),
        authed in prop::bool::weighted(0.85),
    ) {
        thread_local!(static WORLD: World = world());
        WORLD.with(|w| {
            let (method, path) = route.get(&w.routes);
            let req = w.server
                .request(method.clone(), path, authed.then_some(&w.alice))
                .header("content-type", "application/json")
                .body(bytes.clone());
            let reply = w.rt.block_on(w.server.send(req));
            prop_assert!(reply.status < 500, "{method} {path} {:?} → {} {}",
                String::from_utf8_lossy(&bytes), reply.status, String::from_utf8_lossy(&reply.body));
            if reply.status >= 400 {
                let code = reply.code();
                prop_assert!(CODES.contains(&code.as_str()), "{method} {path}: code {code:?}");
            }
            Ok(())
        })?;
    }
}
