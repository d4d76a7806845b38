//! The draft assistant over real HTTP: what the server offers, suggestions for a draft, and
//! the refusals (no session, not a member, bad input, over the per-user budget, an LLM
//! endpoint that is down). The draft is never stored.

use chat_tests::Server;
use serde_json::json;

#[tokio::test]
async fn the_offline_checker_answers_drafts_and_stores_nothing() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Plans", &[&bob]).await;

    let offer = server.get(Some(&alice), "/api/v1/assist").await;
    assert_eq!(offer.status, 200);
    let offer = offer.json();
    assert_eq!(offer["kinds"], json!(["spelling", "grammar"]));
    assert_eq!(offer["languages"], json!(["en"]));
    assert_eq!(offer["llm"], false);
    assert_eq!(offer["max_draft_chars"], 4000);

    let draft = "I recieve teh mail at https://example.com/teh 😀";
    let reply = server
        .post(
            Some(&alice),
            "/api/v1/assist",
            json!({"draft": draft, "room_id": room}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let answer = reply.json();
    assert_eq!(answer["draft"], draft);
    let url_at = draft.find("https://").unwrap();
    let mut fixes: Vec<(String, String)> = Vec::new();
    for suggestion in answer["suggestions"].as_array().unwrap() {
        let edit = &suggestion["edits"][0];
        let start = edit["start"].as_u64().unwrap() as usize;
        let end = edit["end"].as_u64().unwrap() as usize;
        assert!(
            end <= url_at,
            "the URL and the emoji are left alone: {suggestion}"
        );
        let replacement = edit["replacement"].as_str().unwrap().to_owned();
        fixes.push((draft[start..end].to_owned(), replacement));
    }
    assert!(
        fixes.contains(&("recieve".into(), "receive".into())),
        "{fixes:?}"
    );
    assert!(fixes.contains(&("teh".into(), "the".into())), "{fixes:?}");

    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(history["messages"], json!([]), "the draft was not stored");
}

#[tokio::test]
async fn refusals_have_their_codes() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let eve = server.register("eve").await;
    let room = server.group(&alice, "Plans", &[&bob]).await;

    assert_eq!(server.get(None, "/api/v1/assist").await.status, 401);
    let anonymous = server
        .post(None, "/api/v1/assist", json!({"draft": "hi"}))
        .await;
    assert_eq!(
        (anonymous.status, anonymous.code().as_str()),
        (401, "unauthenticated")
    );

    let cases = [
        (
            json!({"draft": "hi", "room_id": room}),
            &eve,
            404,
            "not_found",
            None,
        ),
        (
            json!({"draft": "hi", "room_id": 999_999}),
            &alice,
            404,
            "not_found",
            None,
        ),
        (
            json!({"draft": "hi", "include_context": true}),
            &alice,
            400,
            "invalid",
            Some("include_context"),
        ),
        (
            json!({"draft": "x".repeat(4001)}),
            &alice,
            400,
            "invalid",
            Some("draft"),
        ),
        (
            json!({"draft": "  "}),
            &alice,
            400,
            "invalid",
            Some("draft"),
        ),
        (
            json!({"draft": "hi", "kinds": ["rephrase"]}),
            &alice,
            400,
            "invalid",
            Some("kinds"),
        ),
        (
            json!({"draft": "hi", "kinds": ["delete_room"]}),
            &alice,
            400,
            "bad_json",
            None,
        ),
        (
            json!({"kinds": ["spelling"]}),
            &alice,
            400,
            "bad_json",
            None,
        ),
    ];
    for (body, user, status, code, field) in cases {
        let reply = server
            .post(Some(user), "/api/v1/assist", body.clone())
            .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (status, code),
            "{body}"
        );
        assert_eq!(reply.json()["error"]["field"].as_str(), field, "{body}");
    }
}

#[tokio::test]
async fn each_user_has_a_budget_shared_by_concurrent_requests() {
    let server = Server::start_with(|c| c.assistant_per_minute = 3).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let ask = || {
        server.post(
            Some(&alice),
            "/api/v1/assist",
            json!({"draft": "I recieve mail."}),
        )
    };
    let replies = futures::future::join_all((0..10).map(|_| ask())).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 3, "ten at once, three allowed");
    let refused = replies.iter().find(|r| r.status == 429).unwrap();
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.header("retry-after").is_some());
    let bobs = server
        .post(Some(&bob), "/api/v1/assist", json!({"draft": "hi"}))
        .await;
    assert_eq!(bobs.status, 200, "budgets are per user");
}

#[tokio::test]
async fn an_llm_endpoint_that_is_down_is_assistant_unavailable() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let server = Server::start_with(|c| {
        c.assistant_url = Some(url);
        c.assistant_model = Some("llama3.2".into());
    })
    .await;
    let alice = server.register("alice").await;

    let offer = server.get(Some(&alice), "/api/v1/assist").await.json();
    assert_eq!(offer["llm"], true);
    assert_eq!(
        offer["kinds"],
        json!([
            "spelling",
            "grammar",
            "rephrase",
            "shorter",
            "more_polite",
            "translate"
        ])
    );
    assert!(
        offer["translate_to"]
            .as_array()
            .unwrap()
            .contains(&json!("fr"))
    );

    let reply = server
        .post(
            Some(&alice),
            "/api/v1/assist",
            json!({"draft": "pls send it", "kinds": ["shorter"]}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (503, "assistant_unavailable")
    );
    let checks = server
        .post(
            Some(&alice),
            "/api/v1/assist",
            json!({"draft": "I recieve mail.", "kinds": ["spelling"]}),
        )
        .await;
    assert_eq!(checks.status, 200, "checks work without the model");
}

#[tokio::test]
async fn a_server_without_an_assistant_offers_nothing() {
    let server = Server::start_with(|c| c.offline_assistant = false).await;
    let alice = server.register("alice").await;
    let offer = server.get(Some(&alice), "/api/v1/assist").await.json();
    assert_eq!(offer["kinds"], json!([]));
    let reply = server
        .post(Some(&alice), "/api/v1/assist", json!({"draft": "hi"}))
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "invalid"));
}
