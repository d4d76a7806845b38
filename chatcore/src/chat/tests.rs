//! Scenario tests of every rule the façade enforces, on the in-memory backends.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::hub::{CloseReason, EventKind, RoomChange};
use crate::model::{MediaId, MemberSettings, Role, RoomKind, RoomSettings, SettingsChange};
use crate::testing::{PASSWORD, World};
use crate::throttle::Rate;
use crate::{MemoryMediaStore, MemoryStore, SessionToken};

/// A real 1×1 red PNG (uploads are decoded, so a header alone no longer passes).
pub(super) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

fn world() -> World {
    World::new()
}

fn world_with(config: ChatConfig) -> World {
    World::builder().config(config).start()
}

impl World {
    async fn stored_count(&self, room: RoomId) -> usize {
        self.store.messages_after(room, 0, 100).await.unwrap().len()
    }
}

fn code<T: std::fmt::Debug>(r: crate::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

/// Skips presence and room events until the next message-like event.
async fn next_message(sub: &mut crate::Subscription) -> crate::Message {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await
            .unwrap()
            .unwrap();
        if let EventKind::Message(m) = event.kind() {
            return m.clone();
        }
    }
}

// ---- accounts ----

#[tokio::test]
async fn register_validates_and_refuses_taken_usernames() {
    let w = world();
    assert_eq!(code(w.chat.register("ab", PASSWORD, None).await), "invalid");
    assert_eq!(
        code(w.chat.register("alice", "password1", None).await),
        "invalid"
    );
    assert_eq!(
        code(w.chat.register("alice", "short", None).await),
        "invalid"
    );
    let (alice, token) = w
        .chat
        .register("Alice", PASSWORD, Some(" Alice L. "))
        .await
        .unwrap();
    assert_eq!(alice.user().username.as_deref(), Some("alice"));
    assert_eq!(alice.user().display_name, "Alice L.");
    assert_eq!(w.chat.authenticate(&token).await.unwrap().id(), alice.id());
    let err = w.chat.register("ALICE", PASSWORD, None).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("conflict", Some("username")));
    let (bob, _) = w.chat.register("bob", PASSWORD, None).await.unwrap();
    assert_eq!(
        bob.user().display_name,
        "bob",
        "display name defaults to the username"
    );
}

#[tokio::test]
async fn login_errors_do_not_tell_unknown_users_from_wrong_passwords() {
    let w = world();
    let (alice, first) = w.chat.register("alice", PASSWORD, None).await.unwrap();
    let wrong = w.chat.login("alice", "not the password").await.unwrap_err();
    let unknown = w.chat.login("nobody", PASSWORD).await.unwrap_err();
    assert_eq!(
        (wrong.code(), wrong.to_string()),
        (unknown.code(), unknown.to_string())
    );
    assert_eq!(wrong.code(), "unauthenticated");
    assert_eq!(
        code(w.chat.login("alice", "correct horse battery ").await),
        "unauthenticated",
        "exact"
    );

    let (again, second) = w.chat.login("ALICE", PASSWORD).await.unwrap();
    assert_eq!(again.id(), alice.id());
    assert_ne!(
        first.as_str(),
        second.as_str(),
        "a new token at every login"
    );
}

#[tokio::test]
async fn repeated_login_failures_are_rate_limited_per_username() {
    let w = world();
    w.user("alice").await;
    w.user("bob").await;
    for _ in 0..5 {
        assert_eq!(
            code(w.chat.login("alice", "wrong password").await),
            "unauthenticated"
        );
    }
    let err = w.chat.login("alice", PASSWORD).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after } if retry_after > Duration::ZERO),
        "{err:?}"
    );
    assert!(
        w.chat.login("bob", PASSWORD).await.is_ok(),
        "other usernames are unaffected"
    );
    w.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert!(w.chat.login("alice", PASSWORD).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_logins_are_counted_before_the_password_is_checked() {
    let w = world();
    w.user("alice").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let chat = w.chat.clone();
        attempts.spawn(async move { chat.login("alice", "wrong password").await });
    }
    let results = attempts.join_all().await;
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited { .. })))
        .count();
    assert_eq!(refused, 35, "five checked, the rest refused before hashing");
}

#[tokio::test]
async fn only_valid_usernames_become_throttle_keys() {
    let w = world();
    for i in 0..20 {
        let name = format!("{}{i}", "x".repeat(64 * 1024));
        assert_eq!(
            code(w.chat.login(&name, "wrong password").await),
            "unauthenticated"
        );
    }
    assert_eq!(w.chat.inner.login_failures.local().keys(), 0);
    assert_eq!(
        w.chat.password_hashing().asked,
        0,
        "no hash for an impossible name"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn password_hashing_runs_off_the_async_runtime() {
    // On a single-threaded runtime, a task can only make progress while another awaits. If
    // argon2 ran on the runtime thread, the ticker could not tick during registration and login.
    let w = world();
    let ticks = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        })
    };
    let before = ticks.load(std::sync::atomic::Ordering::Relaxed);
    w.chat.register("alice", PASSWORD, None).await.unwrap();
    w.chat.login("alice", PASSWORD).await.unwrap();
    let during = ticks.load(std::sync::atomic::Ordering::Relaxed) - before;
    ticker.abort();
    assert!(
        during > 10,
        "the runtime stayed responsive while hashing ({during} ticks)"
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_or_too_old_and_logout_revokes() {
    let w = world();
    let (_, token) = w.chat.register("alice", PASSWORD, None).await.unwrap();
    let idle = w.chat.config().session_idle_timeout;
    w.clock.advance(idle - Duration::from_secs(60));
    assert!(
        w.chat.authenticate(&token).await.is_ok(),
        "use refreshes the idle timer"
    );
    w.clock.advance(idle - Duration::from_secs(60));
    assert!(w.chat.authenticate(&token).await.is_ok());
    w.clock.advance(idle + Duration::from_secs(1));
    assert_eq!(
        code(w.chat.authenticate(&token).await),
        "unauthenticated",
        "idle too long"
    );

    let (_, token) = w.chat.login("alice", PASSWORD).await.unwrap();
    let lifetime = w.chat.config().session_lifetime;
    let step = idle / 2;
    let mut elapsed = Duration::ZERO;
    while elapsed + step < lifetime {
        w.clock.advance(step);
        elapsed += step;
        assert!(w.chat.authenticate(&token).await.is_ok());
    }
    w.clock.advance(step);
    assert_eq!(
        code(w.chat.authenticate(&token).await),
        "unauthenticated",
        "absolute lifetime"
    );

    let (actor, token) = w.chat.login("alice", PASSWORD).await.unwrap();
    assert_eq!(w.chat.revalidate(&actor).await.unwrap().id(), actor.id());
    w.chat.logout(&token).await.unwrap();
    assert_eq!(code(w.chat.authenticate(&token).await), "unauthenticated");
    assert_eq!(
        code(w.chat.revalidate(&actor).await),
        "unauthenticated",
        "a held actor goes stale"
    );
    assert_eq!(
        code(
            w.chat
                .authenticate(&SessionToken::from_presented("forged"))
                .await
        ),
        "unauthenticated"
    );
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_can_end_other_sessions() {
    let w = world();
    let (alice, here) = w.chat.register("alice", PASSWORD, None).await.unwrap();
    let (_, elsewhere) = w.chat.login("alice", PASSWORD).await.unwrap();
    let other = w.chat.authenticate(&elsewhere).await.unwrap();
    let (mut live, _) = w.chat.connect(&other).await.unwrap();

    let err = w
        .chat
        .change_password(&alice, "wrong current", "brand new secret", true)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("current_password"));
    assert_eq!(
        code(
            w.chat
                .change_password(&alice, PASSWORD, "password", true)
                .await
        ),
        "invalid"
    );
    w.chat
        .change_password(&alice, PASSWORD, "brand new secret", true)
        .await
        .unwrap();

    assert!(
        w.chat.authenticate(&here).await.is_ok(),
        "the current session stays"
    );
    assert_eq!(
        code(w.chat.authenticate(&elsewhere).await),
        "unauthenticated"
    );
    assert_eq!(live.recv().await.unwrap_err(), CloseReason::SessionEnded);
    assert!(w.chat.login("alice", PASSWORD).await.is_err());
    assert!(w.chat.login("alice", "brand new secret").await.is_ok());
}

#[tokio::test]
async fn disabled_users_lose_sessions_and_connections() {
    let w = world();
    let (admin, _) = w.chat.register("root", PASSWORD, None).await.unwrap();
    w.chat.promote_server_admin("root").await.unwrap();
    let (bob, token) = w.chat.register("bob", PASSWORD, None).await.unwrap();
    let (mut live, _) = w.chat.connect(&bob).await.unwrap();

    assert_eq!(
        code(w.chat.admin_disable_user(&bob, admin.id()).await),
        "forbidden",
        "not an admin"
    );
    w.chat.admin_disable_user(&admin, bob.id()).await.unwrap();
    assert_eq!(code(w.chat.authenticate(&token).await), "unauthenticated");
    assert_eq!(live.recv().await.unwrap_err(), CloseReason::SessionEnded);
    assert_eq!(code(w.chat.login("bob", PASSWORD).await), "forbidden");
    assert_eq!(
        code(w.chat.open_direct(&admin, bob.id()).await),
        "not_found"
    );
    assert_eq!(
        code(w.chat.admin_disable_user(&admin, admin.id()).await),
        "invalid"
    );
}

#[tokio::test]
async fn server_admin_role_comes_only_from_the_operator() {
    let w = world();
    let first = w.user("first").await;
    assert!(
        !first.user().is_server_admin,
        "being first to register grants nothing"
    );
    assert_eq!(
        code(w.chat.admin_list_users(&first, UserId(0), 50).await),
        "forbidden"
    );
    w.chat.promote_server_admin("first").await.unwrap();
    let listed = w
        .chat
        .admin_list_users(&first, UserId(0), 50)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        code(w.chat.promote_server_admin("nobody").await),
        "not_found"
    );
    let disabled = w.chat.disable_username("first").await.unwrap();
    assert!(disabled.disabled);
}

#[tokio::test]
async fn host_app_identities_are_created_once_and_follow_the_same_rules() {
    let w = world();
    let a = w
        .chat
        .external_user("acme:42", "Ann from Acme")
        .await
        .unwrap();
    let again = w
        .chat
        .external_user("acme:42", "Ann from Acme")
        .await
        .unwrap();
    assert_eq!(a.id(), again.id());
    assert_eq!(again.user().display_name, "Ann from Acme");
    assert!(!a.user().is_guest && a.user().username.is_none());
    let b = w.chat.external_user("acme:43", "Ben").await.unwrap();
    let room = w.chat.open_direct(&a, b.id()).await.unwrap();
    w.send(&a, room.id, "hello from the host app")
        .await
        .unwrap();
    assert_eq!(code(w.chat.external_user("", "x").await), "invalid");
    w.chat.disable_username("nobody").await.unwrap_err();
    w.store.set_disabled(b.id(), true).await.unwrap();
    assert_eq!(
        code(w.chat.external_user("acme:43", "Ben").await),
        "forbidden"
    );
}

#[tokio::test]
async fn the_host_renames_its_users_and_repeat_calls_do_not_write() {
    let w = world();
    let ann = w.chat.external_user("acme:42", "Ann").await.unwrap();
    let created = w.store.user(ann.id()).await.unwrap().unwrap();

    w.clock.advance(Duration::from_secs(30));
    let same = w.chat.external_user("acme:42", "Ann").await.unwrap();
    let stored = w.store.user(ann.id()).await.unwrap().unwrap();
    assert_eq!(
        stored, created,
        "nothing written within a minute of the last activity"
    );
    assert_eq!(same.user(), &created);

    let renamed = w.chat.external_user("acme:42", "Ann Smith").await.unwrap();
    assert_eq!(renamed.id(), ann.id());
    assert_eq!(renamed.user().display_name, "Ann Smith");
    let stored = w.store.user(ann.id()).await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Ann Smith");
    assert_eq!(
        code(w.chat.external_user("acme:42", "\u{202e}").await),
        "invalid"
    );

    w.clock.advance(Duration::from_secs(61));
    w.chat.external_user("acme:42", "Ann Smith").await.unwrap();
    let stored = w.store.user(ann.id()).await.unwrap().unwrap();
    assert!(
        stored.last_active_at > created.last_active_at,
        "activity recorded"
    );
}

#[tokio::test]
async fn a_host_can_issue_chat_sessions_for_its_users() {
    let w = world();
    let ann = w.chat.external_user("acme:42", "Ann").await.unwrap();
    let (actor, token) = w.chat.issue_session(&ann).await.unwrap();
    assert_eq!(actor.id(), ann.id());
    let back = w.chat.authenticate(&token).await.unwrap();
    assert_eq!(back.id(), ann.id());
    w.chat.logout(&token).await.unwrap();
    assert_eq!(code(w.chat.authenticate(&token).await), "unauthenticated");

    w.store.set_disabled(ann.id(), true).await.unwrap();
    assert_eq!(code(w.chat.issue_session(&ann).await), "forbidden");
}

// ---- guests ----

#[tokio::test]
async fn guests_chat_but_never_hold_an_admin_role() {
    let w = world();
    let alice = w.user("alice").await;
    let guest = w.guest().await;
    let name = &guest.user().display_name;
    assert!(guest.user().is_guest);
    assert!(name.starts_with("Guest ") && name.len() == 10, "{name}");

    assert_eq!(
        code(w.chat.create_group(&guest, "Mine", &[]).await),
        "forbidden"
    );
    let dm = w.chat.open_direct(&guest, alice.id()).await.unwrap();
    w.send(&guest, dm.id, "hi").await.unwrap();

    let group = w.group(&alice, &[]).await;
    assert_eq!(
        code(
            w.chat
                .add_member(&alice, group, guest.id(), Role::Admin)
                .await
        ),
        "forbidden"
    );
    w.chat
        .add_member(&alice, group, guest.id(), Role::Member)
        .await
        .unwrap();
    assert_eq!(
        code(
            w.chat
                .set_role(&alice, group, guest.id(), Role::Admin)
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            w.chat
                .promote_server_admin(&guest.user().display_name)
                .await
        ),
        "invalid"
    );

    // The last admin leaving promotes no guest.
    w.chat
        .remove_member(&alice, group, alice.id())
        .await
        .unwrap();
    let view = w.chat.room(&guest, group).await.unwrap();
    assert!(view.members.iter().all(|m| m.role == Role::Member));
}

#[tokio::test]
async fn guests_may_create_groups_when_configured_but_stay_members() {
    let w = world_with(ChatConfig {
        guests_can_create_groups: true,
        ..ChatConfig::default()
    });
    let guest = w.guest().await;
    let view = w
        .chat
        .create_group(&guest, "Guests welcome", &[])
        .await
        .unwrap();
    assert_eq!(view.role, Role::Member);
}

#[tokio::test]
async fn upgraded_guests_keep_their_rooms_and_history_under_a_new_session() {
    let w = world();
    let alice = w.user("alice").await;
    let (guest, token) = w.chat.guest(Some("Visitor")).await.unwrap();
    let (mut live, _) = w.chat.connect(&guest).await.unwrap();
    let dm = w.chat.open_direct(&alice, guest.id()).await.unwrap();
    w.send(&alice, dm.id, "welcome").await.unwrap();
    assert_eq!(
        code(w.chat.upgrade_guest(&guest, "alice", PASSWORD).await),
        "conflict"
    );
    assert_eq!(
        code(w.chat.upgrade_guest(&guest, "visitor", "12345678").await),
        "invalid"
    );
    assert_eq!(
        w.chat.password_hashing().asked,
        1,
        "only alice's; refusals before hashing"
    );

    let (actor, new_token) = w
        .chat
        .upgrade_guest(&guest, "visitor", PASSWORD)
        .await
        .unwrap();
    let user = actor.user();
    assert!(!user.is_guest);
    assert_eq!(
        (user.id, user.display_name.as_str()),
        (guest.id(), "Visitor")
    );
    // No token handed out to the guest speaks for the full account.
    assert_eq!(code(w.chat.authenticate(&token).await), "unauthenticated");
    assert_eq!(code(w.chat.revalidate(&guest).await), "unauthenticated");
    assert_eq!(live.recv().await.unwrap_err(), CloseReason::SessionEnded);
    let actor = w.chat.authenticate(&new_token).await.unwrap();
    assert_eq!(
        w.chat
            .history(&actor, dm.id, None, 50)
            .await
            .unwrap()
            .messages[0]
            .body,
        "welcome"
    );
    assert_eq!(
        w.chat.login("visitor", PASSWORD).await.unwrap().0.id(),
        guest.id()
    );
    assert_eq!(
        code(w.chat.upgrade_guest(&actor, "again", PASSWORD).await),
        "conflict"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_racing_upgrades_exactly_one_wins() {
    let w = world();
    let (guest, _) = w.chat.guest(None).await.unwrap();
    let mut upgrades = tokio::task::JoinSet::new();
    for name in ["first", "second", "third"] {
        let (chat, guest) = (w.chat.clone(), guest.clone());
        upgrades.spawn(async move { chat.upgrade_guest(&guest, name, PASSWORD).await });
    }
    let results = upgrades.join_all().await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(lost.code(), "conflict");
    }
    let name = won[0].0.user().username.clone().unwrap();
    for other in ["first", "second", "third"].iter().filter(|&&n| n != name) {
        assert_eq!(code(w.chat.login(other, PASSWORD).await), "unauthenticated");
    }
}

#[tokio::test]
async fn expired_sessions_are_deleted_and_their_connections_closed() {
    let w = world_with(ChatConfig {
        session_idle_timeout: Duration::from_secs(3600),
        session_lifetime: Duration::from_secs(10 * 3600),
        ..ChatConfig::default()
    });
    let (idle, idle_token) = w.chat.guest(None).await.unwrap();
    let (mut idle_feed, _) = w.chat.connect(&idle).await.unwrap();
    let (_, busy_token) = w.chat.guest(None).await.unwrap();
    assert_eq!(
        w.chat.session_time_left(&idle),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(w.chat.expire_sessions().await.unwrap(), 0);
    // The busy session is used every half hour; the idle one never again.
    for _ in 0..3 {
        w.clock.advance(Duration::from_secs(1800));
        let fresh = w.chat.authenticate(&busy_token).await.unwrap();
        assert_eq!(
            w.chat.session_time_left(&fresh),
            Some(Duration::from_secs(3600)),
            "use extends the idle deadline"
        );
    }
    assert_eq!(w.chat.expire_sessions().await.unwrap(), 1);
    assert_eq!(
        idle_feed.recv().await.unwrap_err(),
        CloseReason::SessionEnded
    );
    let idle_hash = SessionToken::from_presented(idle_token.as_str()).hash();
    assert_eq!(w.store.session(&idle_hash).await.unwrap(), None, "pruned");
    assert!(w.chat.authenticate(&busy_token).await.is_ok());
    // However busy, a session ends at its absolute lifetime (ten hours).
    for _ in 0..25 {
        w.clock.advance(Duration::from_secs(1800));
        if w.chat.authenticate(&busy_token).await.is_err() {
            break;
        }
    }
    assert_eq!(
        code(w.chat.authenticate(&busy_token).await),
        "unauthenticated"
    );
}

#[tokio::test]
async fn inactive_guests_expire() {
    let w = world_with(ChatConfig {
        guest_ttl: Duration::from_secs(24 * 3600),
        ..ChatConfig::default()
    });
    let (idle, token) = w.chat.guest(None).await.unwrap();
    let (mut live, _) = w.chat.connect(&idle).await.unwrap();
    w.clock.advance(w.chat.config().guest_ttl / 2);
    let (_, active) = w.chat.guest(None).await.unwrap();
    w.clock
        .advance(w.chat.config().guest_ttl / 2 + Duration::from_secs(1));
    let member = w.user("alice").await;
    assert_eq!(w.chat.expire_inactive_guests().await.unwrap(), 1);
    assert_eq!(code(w.chat.authenticate(&token).await), "unauthenticated");
    assert_eq!(live.recv().await.unwrap_err(), CloseReason::SessionEnded);
    assert!(w.chat.authenticate(&active).await.is_ok());
    assert!(!w.chat.user(member.id()).await.unwrap().disabled);
}

// ---- rooms ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_connecting_never_receives_the_room() {
    let store = Arc::new(crate::testing::GatedStore::new(
        Arc::new(MemoryStore::new()),
    ));
    let chat = Chat::builder(store.clone(), Arc::new(MemoryMediaStore::new()))
        .start(&tokio::runtime::Handle::current())
        .unwrap();
    let (alice, _) = chat.register("alice", PASSWORD, None).await.unwrap();
    let (bob, _) = chat.register("bob", PASSWORD, None).await.unwrap();
    let (carol, _) = chat.register("carol", PASSWORD, None).await.unwrap();
    let room = chat
        .create_group(&alice, "Team", &[bob.id(), carol.id()])
        .await
        .unwrap()
        .id;

    // Bob's connect reads his rooms, and is held right there.
    let mut held = store.hold_next_rooms_of_user();
    let connecting = tokio::spawn({
        let (chat, bob) = (chat.clone(), bob.clone());
        async move { chat.connect(&bob).await }
    });
    held.arrived().await;
    chat.remove_member(&alice, room, bob.id()).await.unwrap();
    held.release();
    let (mut feed, rooms) = connecting.await.unwrap().unwrap();
    assert!(rooms.is_empty(), "the room is not listed: {rooms:?}");

    let msg = SendMessage {
        room_id: room,
        body: "bob is gone".into(),
        ..Default::default()
    };
    chat.send(&alice, msg).await.unwrap();
    // Carol connects after the send; once her feed shows it, bob's would have too.
    let (mut witness, _) = chat.connect(&carol).await.unwrap();
    let probe = SendMessage {
        room_id: room,
        body: "probe".into(),
        ..Default::default()
    };
    chat.send(&alice, probe).await.unwrap();
    loop {
        let event = witness.recv().await.unwrap();
        if matches!(event.kind(), EventKind::Message(m) if m.body == "probe") {
            break;
        }
    }
    while let Some(event) = feed.try_recv() {
        assert!(
            !matches!(event.kind(), EventKind::Message(_) | EventKind::Room { .. }),
            "bob received {event:?}"
        );
    }
}

#[tokio::test]
async fn direct_rooms_are_one_per_pair_from_either_side() {
    let w = world();
    let (a, b) = (w.user("alice").await, w.user("bob").await);
    let ab = w.chat.open_direct(&a, b.id()).await.unwrap();
    let ba = w.chat.open_direct(&b, a.id()).await.unwrap();
    assert_eq!(ab.id, ba.id);
    assert_eq!(ab.kind, RoomKind::Direct);
    assert_eq!(ab.members.len(), 2);
    assert_eq!(code(w.chat.open_direct(&a, a.id()).await), "invalid");
    assert_eq!(
        code(w.chat.open_direct(&a, UserId(424_242)).await),
        "not_found"
    );
    assert_eq!(
        code(w.chat.remove_member(&a, ab.id, a.id()).await),
        "forbidden",
        "no leaving DMs"
    );
    assert_eq!(
        code(
            w.chat
                .add_member(&a, ab.id, w.user("carol").await.id(), Role::Member)
                .await
        ),
        "forbidden"
    );
}

#[tokio::test]
async fn only_group_admins_manage_members_and_names() {
    let w = world();
    let (admin, bob, carol) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
    );
    let room = w.group(&admin, &[&bob]).await;

    assert_eq!(
        code(
            w.chat
                .add_member(&bob, room, carol.id(), Role::Member)
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        code(w.chat.remove_member(&bob, room, admin.id()).await),
        "forbidden"
    );
    assert_eq!(
        code(w.chat.rename_room(&bob, room, "Mine now").await),
        "forbidden"
    );
    assert_eq!(
        code(w.chat.set_role(&bob, room, bob.id(), Role::Admin).await),
        "forbidden"
    );
    assert_eq!(
        code(
            w.chat
                .add_member(&carol, room, carol.id(), Role::Member)
                .await
        ),
        "not_found"
    );

    w.chat
        .add_member(&admin, room, carol.id(), Role::Member)
        .await
        .unwrap();
    assert_eq!(
        code(
            w.chat
                .add_member(&admin, room, carol.id(), Role::Member)
                .await
        ),
        "conflict"
    );
    assert_eq!(
        w.chat
            .rename_room(&admin, room, "Renamed")
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Renamed")
    );
    assert_eq!(code(w.chat.rename_room(&admin, room, "").await), "invalid");
    w.chat
        .set_role(&admin, room, bob.id(), Role::Admin)
        .await
        .unwrap();
    w.chat.remove_member(&bob, room, carol.id()).await.unwrap();
    assert_eq!(code(w.chat.room(&carol, room).await), "not_found");
    assert_eq!(
        code(w.chat.remove_member(&admin, room, carol.id()).await),
        "not_found"
    );
}

#[tokio::test]
async fn the_last_admin_cannot_step_down_but_leaving_promotes_the_oldest_member() {
    let w = world();
    let (admin, bob, carol) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
    );
    let room = w.group(&admin, &[&bob]).await;
    w.clock.advance(Duration::from_secs(5));
    w.chat
        .add_member(&admin, room, carol.id(), Role::Member)
        .await
        .unwrap();
    assert_eq!(
        code(
            w.chat
                .set_role(&admin, room, admin.id(), Role::Member)
                .await
        ),
        "conflict"
    );

    w.chat
        .remove_member(&admin, room, admin.id())
        .await
        .unwrap();
    let view = w.chat.room(&bob, room).await.unwrap();
    assert_eq!(view.role, Role::Admin, "bob joined first");
    assert_eq!(w.chat.room(&carol, room).await.unwrap().role, Role::Member);
    assert_eq!(code(w.chat.room(&admin, room).await), "not_found");
}

#[tokio::test]
async fn group_creation_validates_names_and_members() {
    let w = world();
    let alice = w.user("alice").await;
    assert_eq!(
        code(w.chat.create_group(&alice, "  ", &[]).await),
        "invalid"
    );
    assert_eq!(
        code(w.chat.create_group(&alice, &"x".repeat(81), &[]).await),
        "invalid"
    );
    assert_eq!(
        code(
            w.chat
                .create_group(&alice, "Team", &[UserId(777_777)])
                .await
        ),
        "not_found"
    );
    let view = w
        .chat
        .create_group(&alice, "Team", &[alice.id(), alice.id()])
        .await
        .unwrap();
    assert_eq!(view.members.len(), 1, "the creator is not added twice");
    assert_eq!(view.role, Role::Admin);
}

// ---- messages and access control ----

#[tokio::test]
async fn non_members_get_not_found_and_no_content() {
    let w = world();
    let (alice, bob, eve) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    w.send(&alice, room, "secret").await.unwrap();
    let media = w
        .chat
        .upload(&alice, room, Bytes::from_static(PNG), Some("image/png"))
        .await
        .unwrap();

    assert_eq!(code(w.chat.room(&eve, room).await), "not_found");
    assert_eq!(
        code(w.chat.history(&eve, room, None, 10).await),
        "not_found"
    );
    assert_eq!(
        code(w.chat.messages_after(&eve, room, 0, 10).await),
        "not_found"
    );
    assert_eq!(code(w.send(&eve, room, "let me in").await), "not_found");
    assert_eq!(code(w.chat.mark_read(&eve, room, 1).await), "not_found");
    assert_eq!(code(w.chat.typing(&eve, room).await), "not_found");
    assert_eq!(code(w.chat.edit(&eve, room, 1, "x").await), "not_found");
    assert_eq!(code(w.chat.delete(&eve, room, 1).await), "not_found");
    assert_eq!(
        code(
            w.chat
                .upload(&eve, room, Bytes::from_static(PNG), None)
                .await
        ),
        "not_found"
    );
    let original = MediaVariant::Original;
    assert_eq!(
        code(w.chat.open_media(&eve, media.id, original).await),
        "not_found"
    );
    assert_eq!(
        code(w.chat.open_media(&eve, MediaId::generate(), original).await),
        "not_found"
    );
    // A room that does not exist looks exactly the same.
    assert_eq!(
        code(w.chat.history(&eve, RoomId(987_654), None, 10).await),
        "not_found"
    );
    assert_eq!(w.stored_count(room).await, 1, "nothing was stored");
    assert!(w.chat.rooms(&eve).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_repeated_client_id_returns_the_first_message_and_publishes_once() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut bobs_feed, _) = w.chat.connect(&bob).await.unwrap();
    let send = |body: &str| SendMessage {
        room_id: room,
        body: body.into(),
        client_id: Some("c-1".into()),
        ..Default::default()
    };
    let first = w.chat.send(&alice, send("once")).await.unwrap();
    let retry = w.chat.send(&alice, send("once, again")).await.unwrap();
    assert_eq!(first, retry);
    assert_eq!(w.stored_count(room).await, 1);
    assert_eq!(next_message(&mut bobs_feed).await, first);
    let next = w.send(&alice, room, "next").await.unwrap();
    assert_eq!(
        next_message(&mut bobs_feed).await.seq,
        next.seq,
        "the retry was not published"
    );
    let bad = SendMessage {
        room_id: room,
        body: "x".into(),
        client_id: Some("has space".into()),
        ..Default::default()
    };
    assert_eq!(
        w.chat.send(&alice, bad).await.unwrap_err().field(),
        Some("client_id")
    );
}

/// Skips other events until the next reactions event.
async fn next_reactions(sub: &mut crate::Subscription) -> crate::MessageReactions {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await
            .unwrap()
            .unwrap();
        if let EventKind::Reactions(now) = event.kind() {
            return now.clone();
        }
    }
}

#[tokio::test]
async fn reactions_are_checked_capped_idempotent_and_published_once_per_change() {
    let w = world_with(ChatConfig {
        max_reaction_emojis: 2,
        ..ChatConfig::default()
    });
    let (alice, bob, eve) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    let room = w.group(&alice, &[&bob]).await;
    let seq = w.send(&alice, room, "lunch?").await.unwrap().seq;
    let (mut alices_feed, _) = w.chat.connect(&alice).await.unwrap();

    let first = w.chat.react(&bob, room, seq, "👍").await.unwrap();
    assert_eq!(next_reactions(&mut alices_feed).await, first);
    let retry = w.chat.react(&bob, room, seq, "👍").await.unwrap();
    assert_eq!(retry, first, "a retried add changes nothing");
    w.chat.react(&alice, room, seq, "❤️").await.unwrap();
    let now = next_reactions(&mut alices_feed).await;
    assert_eq!(
        now.reactions.len(),
        2,
        "the retry was not published: {now:?}"
    );

    // The cap counts different emojis; joining one that is there is always fine.
    let over = w.chat.react(&bob, room, seq, "🎉").await.unwrap_err();
    assert_eq!((over.code(), over.field()), ("conflict", Some("emoji")));
    w.chat.react(&bob, room, seq, "❤️").await.unwrap();
    // Bad emojis and outsiders are refused; an outsider hears "room" whatever it asks.
    for bad in ["ok", "<b>", " 👍", ""] {
        let err = w.chat.react(&bob, room, seq, bad).await.unwrap_err();
        assert_eq!((err.code(), err.field()), ("invalid", Some("emoji")));
    }
    for (r, s) in [(room, seq), (room, 99), (RoomId(999), 1)] {
        let err = w.chat.react(&eve, r, s, "👍").await.unwrap_err();
        assert_eq!(err.to_string(), "room not found");
        let err = w.chat.unreact(&eve, r, s, "👍").await.unwrap_err();
        assert_eq!(err.to_string(), "room not found");
    }
    let missing = w.chat.react(&bob, room, 99, "👍").await.unwrap_err();
    assert_eq!(missing.code(), "not_found");

    // A deleted message takes no reactions, nor gives any back.
    w.chat.delete(&alice, room, seq).await.unwrap();
    assert_eq!(code(w.chat.react(&bob, room, seq, "👍").await), "not_found");
    assert_eq!(
        code(w.chat.unreact(&bob, room, seq, "👍").await),
        "not_found"
    );
    let history = w.chat.history(&bob, room, None, 10).await.unwrap();
    assert!(history.messages[0].reactions.is_empty());
}

/// The idempotency window is at least a day (`Store::append_message`): a client that retries a
/// send 24 hours later, with other messages in between, gets the first message back.
#[tokio::test]
async fn a_retry_a_day_later_returns_the_first_message() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.group(&alice, &[&bob]).await;
    let send = |body: &str| SendMessage {
        room_id: room,
        body: body.into(),
        client_id: Some("0b9e2f4c-7d1a-4e55-9c3b-2a6f8e1d7c40".into()),
        ..Default::default()
    };
    let first = w.chat.send(&alice, send("once")).await.unwrap();
    w.clock.advance(Duration::from_secs(24 * 60 * 60));
    w.send(&bob, room, "a day later").await.unwrap();
    let retry = w
        .chat
        .send(&alice, send("once, a day later"))
        .await
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(w.stored_count(room).await, 2, "the retry stored nothing");
}

#[tokio::test]
async fn sending_sanitizes_and_validates() {
    let w = world();
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    let m = w
        .send(&alice, room, "  <b>hi</b>\u{202e}\u{0} ")
        .await
        .unwrap();
    assert_eq!(
        m.body, "<b>hi</b>",
        "stored as plain text, stripped and trimmed"
    );
    assert_eq!(code(w.send(&alice, room, "   ").await), "invalid");
    assert_eq!(
        code(w.send(&alice, room, &"x".repeat(4001)).await),
        "invalid"
    );
    let reply = SendMessage {
        room_id: room,
        body: "re".into(),
        reply_to: Some(1),
        ..Default::default()
    };
    assert_eq!(w.chat.send(&alice, reply).await.unwrap().reply_to, Some(1));
    let dangling = SendMessage {
        room_id: room,
        body: "re".into(),
        reply_to: Some(99),
        ..Default::default()
    };
    assert_eq!(
        w.chat.send(&alice, dangling).await.unwrap_err().field(),
        Some("reply_to")
    );
    assert_eq!(
        w.stored_count(room).await,
        2,
        "rejected sends store nothing"
    );
}

#[tokio::test]
async fn media_must_belong_to_the_room_and_be_an_accepted_type() {
    let w = world();
    let alice = w.user("alice").await;
    let (one, two) = (w.group(&alice, &[]).await, w.group(&alice, &[]).await);
    let svg = Bytes::from_static(b"<svg onload=alert(1)>");
    assert_eq!(
        code(w.chat.upload(&alice, one, svg, Some("image/svg+xml")).await),
        "unsupported_media"
    );
    assert_eq!(
        code(w.chat.upload(&alice, one, Bytes::new(), None).await),
        "unsupported_media"
    );
    let big = Bytes::from(vec![0u8; w.chat.config().max_upload_bytes + 1]);
    assert_eq!(
        code(w.chat.upload(&alice, one, big, None).await),
        "too_large"
    );

    let media = w
        .chat
        .upload(&alice, one, Bytes::from_static(PNG), None)
        .await
        .unwrap();
    assert_eq!(
        (
            media.mime.as_str(),
            media.details.width,
            media.details.height
        ),
        ("image/png", Some(1), Some(1))
    );
    let elsewhere = SendMessage {
        room_id: two,
        media_id: Some(media.id),
        ..Default::default()
    };
    assert_eq!(code(w.chat.send(&alice, elsewhere).await), "not_found");
    let photo = SendMessage {
        room_id: one,
        media_id: Some(media.id),
        ..Default::default()
    };
    let sent = w.chat.send(&alice, photo).await.unwrap();
    assert_eq!(sent.body, "", "a photo needs no caption");
    assert_eq!(sent.media.unwrap().id, media.id);
    let (meta, file) = w
        .chat
        .open_media(&alice, media.id, MediaVariant::Original)
        .await
        .unwrap();
    assert_eq!((meta.id, file.len), (media.id, media.size));
}

#[tokio::test]
async fn only_own_messages_can_be_edited_or_deleted_and_deletes_leave_tombstones() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.group(&alice, &[&bob]).await;
    let m = w.send(&alice, room, "original").await.unwrap();
    assert_eq!(
        code(w.chat.edit(&bob, room, m.seq, "hijacked").await),
        "forbidden"
    );
    assert_eq!(code(w.chat.delete(&bob, room, m.seq).await), "forbidden");
    let edited = w.chat.edit(&alice, room, m.seq, "edited").await.unwrap();
    assert_eq!(edited.body, "edited");
    assert!(edited.edited_at.is_some());
    let tomb = w.chat.delete(&alice, room, m.seq).await.unwrap();
    assert!(tomb.deleted && tomb.body.is_empty());
    assert_eq!(
        code(w.chat.edit(&alice, room, m.seq, "zombie").await),
        "not_found"
    );
    let next = w.send(&bob, room, "after").await.unwrap();
    assert_eq!(next.seq, 2);
    let page = w.chat.history(&bob, room, None, 10).await.unwrap();
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[tokio::test]
async fn history_pages_backwards_with_has_more() {
    let w = world();
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    for i in 1..=30 {
        w.send(&alice, room, &format!("m{i}")).await.unwrap();
    }
    let page = w.chat.history(&alice, room, None, 20).await.unwrap();
    assert_eq!(
        (page.messages[0].seq, page.messages[19].seq, page.has_more),
        (11, 30, true)
    );
    let older = w.chat.history(&alice, room, Some(11), 20).await.unwrap();
    assert_eq!((older.messages.len(), older.has_more), (10, false));
    assert_eq!(
        w.chat
            .messages_after(&alice, room, 28, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(code(w.chat.history(&alice, room, None, 0).await), "invalid");
    assert_eq!(
        code(w.chat.history(&alice, room, None, 101).await),
        "invalid"
    );
}

#[tokio::test]
async fn read_markers_drive_unread_counts_and_only_move_forward() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    for body in ["1", "2", "3"] {
        w.send(&alice, room, body).await.unwrap();
    }
    w.send(&bob, room, "mine").await.unwrap();
    let unread = |views: Vec<RoomView>| views.into_iter().map(|v| v.unread).collect::<Vec<_>>();
    assert_eq!(unread(w.chat.rooms(&bob).await.unwrap()), vec![3]);
    assert_eq!(w.chat.mark_read(&bob, room, 2).await.unwrap(), 2);
    assert_eq!(unread(w.chat.rooms(&bob).await.unwrap()), vec![1]);
    assert_eq!(
        w.chat.mark_read(&bob, room, 1).await.unwrap(),
        2,
        "never backwards"
    );
    assert_eq!(
        w.chat.mark_read(&bob, room, 999).await.unwrap(),
        4,
        "capped at the newest"
    );
    assert_eq!(unread(w.chat.rooms(&bob).await.unwrap()), vec![0]);
    let view = w.chat.room(&alice, room).await.unwrap();
    assert_eq!(view.read_markers.get(&bob.id()), Some(&4));
    assert_eq!(code(w.chat.mark_read(&bob, room, -1).await), "invalid");
}

#[tokio::test]
async fn room_list_is_sorted_by_last_activity() {
    let w = world();
    let (alice, bob, carol) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
    );
    let with_bob = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    w.clock.advance(Duration::from_secs(1));
    let with_carol = w.chat.open_direct(&alice, carol.id()).await.unwrap().id;
    w.clock.advance(Duration::from_secs(1));
    w.send(&bob, with_bob, "bump").await.unwrap();
    let order: Vec<RoomId> = w
        .chat
        .rooms(&alice)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(order, vec![with_bob, with_carol]);
    let first = &w.chat.rooms(&alice).await.unwrap()[0];
    assert_eq!(first.last_message.as_ref().unwrap().body, "bump");
}

// ---- budgets ----

#[tokio::test]
async fn sends_share_one_budget_per_user_and_refusals_store_nothing() {
    let w = world_with(ChatConfig {
        send_rate: Rate::per_second(0.1, 3, Duration::ZERO),
        ..ChatConfig::default()
    });
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    for i in 0..3 {
        w.send(&alice, room, &format!("m{i}")).await.unwrap();
    }
    let err = w.send(&alice, room, "one too many").await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after } if retry_after >= Duration::from_secs(1))
    );
    assert_eq!(w.stored_count(room).await, 3);
    w.send(&bob, room, "bob has his own budget").await.unwrap();
    // A failed send still spends: a non-member cannot probe rooms for free.
    let mallory = w.user("mallory").await;
    for _ in 0..3 {
        assert_eq!(code(w.send(&mallory, room, "let me in").await), "not_found");
    }
    assert_eq!(
        code(w.send(&mallory, room, "let me in").await),
        "rate_limited"
    );
}

#[tokio::test]
async fn edits_and_deletes_spend_the_send_budget_and_typing_its_own() {
    let w = world_with(ChatConfig {
        send_rate: Rate::per_second(0.1, 3, Duration::ZERO),
        typing_rate: Rate::per_second(0.1, 2, Duration::ZERO),
        ..ChatConfig::default()
    });
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    w.chat.typing(&alice, room).await.unwrap();
    w.chat.typing(&alice, room).await.unwrap();
    assert_eq!(code(w.chat.typing(&alice, room).await), "rate_limited");

    // Typing spent none of the send budget: two sends and an edit still fit in it.
    let first = w.send(&alice, room, "first").await.unwrap().seq;
    let second = w.send(&alice, room, "second").await.unwrap().seq;
    w.chat.edit(&alice, room, first, "first!").await.unwrap();
    assert_eq!(
        code(w.chat.edit(&alice, room, first, "again").await),
        "rate_limited"
    );
    assert_eq!(
        code(w.chat.delete(&alice, room, second).await),
        "rate_limited"
    );
    let stored = w.store.messages_after(room, 0, 10).await.unwrap();
    assert_eq!(
        (stored[0].body.as_str(), stored[1].deleted),
        ("first!", false),
        "a refused edit or delete changes nothing"
    );
    w.chat.typing(&bob, room).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_sender_over_its_rate_is_paced_before_it_is_refused() {
    let w = world_with(ChatConfig {
        send_rate: Rate::per_second(1.0, 1, Duration::from_secs(2)),
        ..ChatConfig::default()
    });
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    w.send(&alice, room, "free").await.unwrap();
    let before = tokio::time::Instant::now();
    w.send(&alice, room, "paced").await.unwrap();
    assert!(
        before.elapsed() >= Duration::from_secs(1),
        "waited for its turn"
    );
}

#[tokio::test]
async fn group_creation_and_member_adds_have_budgets() {
    let w = world_with(ChatConfig {
        group_rate: Rate::per_hour(2),
        member_add_rate: Rate::per_hour(3),
        ..ChatConfig::default()
    });
    let alice = w.user("alice").await;
    let others = [
        w.user("bob").await,
        w.user("carol").await,
        w.user("dave").await,
    ];
    let ids: Vec<UserId> = others.iter().map(Actor::id).collect();
    // Four members at once are more adds than alice has: refused, and no group spent.
    assert_eq!(
        code(
            w.chat
                .create_group(
                    &alice,
                    "Big",
                    &[ids[0], ids[1], ids[2], w.user("erin").await.id()]
                )
                .await
        ),
        "rate_limited"
    );
    let room = w
        .chat
        .create_group(&alice, "One", &ids[..2])
        .await
        .unwrap()
        .id;
    w.chat.create_group(&alice, "Two", &[]).await.unwrap();
    assert_eq!(
        code(w.chat.create_group(&alice, "Three", &[]).await),
        "rate_limited"
    );
    w.chat
        .add_member(&alice, room, ids[2], Role::Member)
        .await
        .unwrap();
    let erin = w.chat.login("erin", PASSWORD).await.unwrap().0;
    assert_eq!(
        code(
            w.chat
                .add_member(&alice, room, erin.id(), Role::Member)
                .await
        ),
        "rate_limited"
    );
    assert_eq!(w.chat.room(&alice, room).await.unwrap().members.len(), 4);
}

// ---- live delivery ----

#[tokio::test]
async fn membership_changes_reach_live_connections() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.group(&alice, &[]).await;
    let (mut feed, rooms) = w.chat.connect(&bob).await.unwrap();
    assert!(rooms.is_empty());

    w.chat
        .add_member(&alice, room, bob.id(), Role::Member)
        .await
        .unwrap();
    let joined = tokio::time::timeout(Duration::from_secs(5), feed.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        joined.kind(),
        EventKind::Room {
            change: RoomChange::Joined,
            ..
        }
    ));
    let m = w.send(&alice, room, "welcome").await.unwrap();
    assert_eq!(next_message(&mut feed).await, m, "joining starts delivery");

    w.chat.remove_member(&alice, room, bob.id()).await.unwrap();
    let removed = loop {
        let e = feed.recv().await.unwrap();
        if let EventKind::Room { change, .. } = e.kind() {
            break *change;
        }
    };
    assert_eq!(removed, RoomChange::Removed);
    w.send(&alice, room, "after removal").await.unwrap();
    assert!(feed.try_recv().is_none(), "removal stops delivery at once");
}

#[tokio::test]
async fn typing_and_read_events_are_published_not_stored() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut feed, _) = w.chat.connect(&bob).await.unwrap();
    w.chat.typing(&alice, room).await.unwrap();
    let typing = loop {
        let e = feed.recv().await.unwrap();
        if let EventKind::Typing { user, .. } = e.kind() {
            break user.clone();
        }
    };
    assert_eq!(typing.id, alice.id());
    assert_eq!(w.stored_count(room).await, 0);
}

// ---- room settings ----

/// Every event on `feed` up to the next message: whether one of them was a settings event.
async fn settings_before_next_message(feed: &mut crate::Subscription) -> Option<MemberSettings> {
    let mut seen = None;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap()
            .unwrap();
        match event.kind() {
            EventKind::Settings { now, .. } => seen = Some(*now),
            EventKind::Message(_) => return seen,
            _ => {}
        }
    }
}

#[tokio::test]
async fn room_settings_reach_every_own_connection_and_nobody_else() {
    let w = world();
    let (alice, bob, eve) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    let room = w.group(&alice, &[&bob]).await;
    let (mut laptop, _) = w.chat.connect(&alice).await.unwrap();
    let (mut phone, _) = w.chat.connect(&alice).await.unwrap();
    let (mut bobs_feed, _) = w.chat.connect(&bob).await.unwrap();
    let mute = SettingsChange {
        muted: Some(true),
        archived: None,
    };

    let now = w.chat.set_room_settings(&alice, room, mute).await.unwrap();
    let muted = RoomSettings {
        muted: true,
        archived: false,
    };
    assert_eq!((now.room_id, now.settings), (room, muted));
    w.send(&bob, room, "lunch?").await.unwrap();
    assert_eq!(settings_before_next_message(&mut laptop).await, Some(now));
    assert_eq!(settings_before_next_message(&mut phone).await, Some(now));
    assert_eq!(settings_before_next_message(&mut bobs_feed).await, None);

    // Setting what is set publishes nothing.
    w.chat.set_room_settings(&alice, room, mute).await.unwrap();
    w.send(&bob, room, "anyone?").await.unwrap();
    assert_eq!(settings_before_next_message(&mut phone).await, None);

    // The room list shows each member their own settings; muted rooms keep counting unread.
    let mine = w.chat.rooms(&alice).await.unwrap();
    assert_eq!((mine[0].settings, mine[0].unread), (muted, 2));
    let bobs = w.chat.rooms(&bob).await.unwrap();
    assert_eq!(bobs[0].settings, RoomSettings::default());
    let archive = SettingsChange {
        muted: None,
        archived: Some(true),
    };
    let now = w.chat.set_room_settings(&alice, room, archive).await;
    assert_eq!(
        now.unwrap().settings,
        RoomSettings {
            muted: true,
            archived: true
        }
    );
    w.send(&bob, room, "still archived").await.unwrap();
    assert!(
        w.chat.room(&alice, room).await.unwrap().settings.archived,
        "a new message does not unarchive"
    );

    // Refusals: nothing to change; outsiders hear "room" whether or not it exists.
    let err = w
        .chat
        .set_room_settings(&alice, room, SettingsChange::default())
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid", Some("settings")));
    for r in [room, RoomId(999)] {
        let err = w.chat.set_room_settings(&eve, r, mute).await.unwrap_err();
        assert_eq!(err.to_string(), "room not found");
    }
}

// ---- mentions ----

/// Who each mention of `m` names, with the text it covers.
fn mentioned(m: &crate::Message) -> Vec<(&str, UserId)> {
    m.mentions
        .iter()
        .map(|s| (&m.body[s.start as usize..s.end as usize], s.user_id))
        .collect()
}

#[tokio::test]
async fn mentions_name_members_only_and_are_resolved_again_on_edit() {
    let w = world();
    // Eve has an account but is not in the room.
    let (alice, bob, carol, _eve) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
        w.user("eve").await,
    );
    let room = w.group(&alice, &[&bob, &carol]).await;

    let m = w
        .send(
            &alice,
            room,
            "@Bob, @eve and @nobody: ask @carol. mail bob@x.org",
        )
        .await
        .unwrap();
    assert_eq!(
        mentioned(&m),
        [("@Bob", bob.id()), ("@carol", carol.id())],
        "a non-member, an unknown name and an address stay plain text"
    );
    assert_eq!(m.body, "@Bob, @eve and @nobody: ask @carol. mail bob@x.org");
    let history = w.chat.history(&bob, room, None, 10).await.unwrap();
    assert_eq!(history.messages[0].mentions, m.mentions);

    let edited = w
        .chat
        .edit(&alice, room, m.seq, "sorry, I meant @eve and @alice")
        .await
        .unwrap();
    assert_eq!(mentioned(&edited), [("@alice", alice.id())]);
    let edited = w
        .chat
        .edit(&alice, room, m.seq, "never mind")
        .await
        .unwrap();
    assert!(edited.mentions.is_empty());

    // Someone who left is no longer mentioned; a deleted message names nobody.
    w.chat
        .remove_member(&alice, room, carol.id())
        .await
        .unwrap();
    let m = w.send(&bob, room, "@carol @alice").await.unwrap();
    assert_eq!(mentioned(&m), [("@alice", alice.id())]);
    let tomb = w.chat.delete(&bob, room, m.seq).await.unwrap();
    assert!(tomb.mentions.is_empty());
}

/// The members the next `edited` event on `feed` names as newly mentioned.
async fn next_newly_mentioned(feed: &mut crate::Subscription) -> Vec<UserId> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap()
            .unwrap();
        if let EventKind::Edited {
            newly_mentioned, ..
        } = event.kind()
        {
            return newly_mentioned.clone();
        }
    }
}

#[tokio::test]
async fn an_edit_tells_whom_it_mentions_anew_and_nobody_twice() {
    let w = world();
    let (alice, bob, carol) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
    );
    let room = w.group(&alice, &[&bob, &carol]).await;
    let (mut feed, _) = w.chat.connect(&bob).await.unwrap();
    let m = w.send(&alice, room, "hi @bob").await.unwrap();
    next_message(&mut feed).await;

    let steps: [(&str, &[UserId]); 5] = [
        ("hi @bob and @carol, @Carol", &[carol.id()]),
        ("hi @Bob, @carol", &[]),
        ("hi @carol and @alice", &[alice.id()]),
        ("hi all", &[]),
        ("hi @bob", &[bob.id()]),
    ];
    for (body, newly) in steps {
        w.chat.edit(&alice, room, m.seq, body).await.unwrap();
        assert_eq!(next_newly_mentioned(&mut feed).await, newly, "{body}");
    }
}
