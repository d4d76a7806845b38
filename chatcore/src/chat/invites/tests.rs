//! Scenarios of invite links: who may manage them, what they admit, and when they stop.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;
use crate::Store;
use crate::chat::Clock;
use crate::hub::EventKind;
use crate::model::Role;
use crate::testing::World;

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.unwrap_err().code()
}

fn uses(n: u32) -> InviteOptions {
    InviteOptions {
        lifetime: None,
        max_uses: Some(n),
    }
}

#[tokio::test]
async fn only_group_admins_manage_links() {
    let w = World::new();
    let (ann, bob, eve) = (
        w.user("ann").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    let room = w.group(&ann, &[&bob]).await;
    let created = w
        .chat
        .create_invite(&ann, room, InviteOptions::default())
        .await
        .unwrap();
    assert_eq!(created.token.len(), 43);
    assert_eq!(created.view.state, InviteState::Active);
    assert!(created.token.starts_with(&created.view.invite.token_prefix));
    let week = w.clock.now().plus(DEFAULT_INVITE_LIFETIME);
    assert_eq!(created.view.invite.expires_at, week);
    let id = created.view.invite.id;

    // A member is refused, an outsider learns nothing, a direct chat has no links.
    let options = InviteOptions::default();
    assert_eq!(
        code(w.chat.create_invite(&bob, room, options).await),
        "forbidden"
    );
    assert_eq!(code(w.chat.invites(&bob, room).await), "forbidden");
    assert_eq!(
        code(w.chat.revoke_invite(&bob, room, id).await),
        "forbidden"
    );
    assert_eq!(
        code(w.chat.create_invite(&eve, room, options).await),
        "not_found"
    );
    assert_eq!(code(w.chat.invites(&eve, room).await), "not_found");
    assert_eq!(
        code(w.chat.revoke_invite(&eve, room, id).await),
        "not_found"
    );
    let direct = w.chat.open_direct(&ann, bob.id()).await.unwrap().id;
    assert_eq!(
        code(w.chat.create_invite(&ann, direct, options).await),
        "forbidden"
    );

    // Bounds are checked before anything is stored.
    for bad in [
        InviteOptions {
            lifetime: Some(Duration::from_secs(59)),
            max_uses: None,
        },
        InviteOptions {
            lifetime: Some(Duration::from_secs(31 * 24 * 3600)),
            max_uses: None,
        },
        uses(0),
        uses(MAX_INVITE_USES + 1),
    ] {
        let err = w.chat.create_invite(&ann, room, bad).await.unwrap_err();
        assert_eq!(err.code(), "invalid", "{bad:?}");
    }
    let listed = w.chat.invites(&ann, room).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&created.view));

    // An admin of another group cannot revoke this group's link through their own.
    let other = w.group(&eve, &[]).await;
    assert_eq!(
        code(w.chat.revoke_invite(&eve, other, id).await),
        "not_found"
    );
    w.chat.revoke_invite(&ann, room, id).await.unwrap();
    assert!(w.chat.invites(&ann, room).await.unwrap().is_empty());
    assert_eq!(
        code(w.chat.revoke_invite(&ann, room, id).await),
        "not_found"
    );
}

#[tokio::test]
async fn a_guest_joins_by_link_and_the_group_sees_it() {
    let w = World::new();
    let (ann, bob) = (w.user("ann").await, w.user("bob").await);
    let room = w.group(&ann, &[&bob]).await;
    let other = w.group(&bob, &[]).await;
    let created = w.chat.create_invite(&ann, room, uses(1)).await.unwrap();
    let (mut feed, _) = w.chat.connect(&ann).await.unwrap();

    let preview = w.chat.preview_invite(&created.token).await.unwrap();
    assert_eq!(
        (preview.room_name.as_str(), preview.member_count),
        ("Team", 2)
    );

    let guest = w.guest().await;
    let joined = w.chat.join_by_invite(&guest, &created.token).await.unwrap();
    assert_eq!(joined.id, room, "a link admits to its own group only");
    let me = w.store.member(room, guest.id()).await.unwrap().unwrap();
    assert_eq!(me.role, Role::Member);
    assert!(w.store.member(other, guest.id()).await.unwrap().is_none());
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap()
            .unwrap();
        if let EventKind::Room { user_id, .. } = event.kind()
            && *user_id == guest.id()
        {
            break;
        }
    }

    // Used up: the next person is refused, the member who joined still gets in (idempotent).
    let late = w.guest().await;
    assert_eq!(
        code(w.chat.join_by_invite(&late, &created.token).await),
        "not_found"
    );
    assert_eq!(
        code(w.chat.preview_invite(&created.token).await),
        "not_found"
    );
    let again = w.chat.join_by_invite(&guest, &created.token).await.unwrap();
    assert_eq!(again.id, room);
    let listed = w.chat.invites(&ann, room).await.unwrap();
    assert_eq!(
        (listed[0].state, listed[0].invite.uses),
        (InviteState::UsedUp, 1)
    );
}

#[tokio::test]
async fn expired_and_revoked_links_are_refused_alike() {
    let w = World::new();
    let ann = w.user("ann").await;
    let room = w.group(&ann, &[]).await;
    let hour = InviteOptions {
        lifetime: Some(Duration::from_secs(3600)),
        max_uses: None,
    };
    let expiring = w.chat.create_invite(&ann, room, hour).await.unwrap();
    let revoked = w.chat.create_invite(&ann, room, hour).await.unwrap();
    w.chat
        .revoke_invite(&ann, room, revoked.view.invite.id)
        .await
        .unwrap();
    let bob = w.user("bob").await;
    let before = w.chat.preview_invite(&expiring.token).await.unwrap();
    assert_eq!(before.expires_at, expiring.view.invite.expires_at);

    w.clock.advance(Duration::from_secs(3600));
    let mut answers = Vec::new();
    for token in [
        &expiring.token,
        &revoked.token,
        &"A".repeat(43),
        &"<b>".to_owned(),
    ] {
        let preview = w.chat.preview_invite(token).await.unwrap_err();
        let join = w.chat.join_by_invite(&bob, token).await.unwrap_err();
        answers.push((preview.to_string(), join.to_string(), join.code()));
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "one answer whatever the reason: {answers:?}"
    );
    assert_eq!(answers[0].2, "not_found");
    assert!(w.store.member(room, bob.id()).await.unwrap().is_none());
    let listed = w.chat.invites(&ann, room).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, InviteState::Expired);
}

#[tokio::test]
async fn guessing_tokens_is_rate_limited_per_user() {
    let config = crate::ChatConfig {
        invite_failures_per_user: 3,
        ..crate::ChatConfig::default()
    };
    let w = World::builder().config(config).start();
    let ann = w.user("ann").await;
    let room = w.group(&ann, &[]).await;
    let real = w
        .chat
        .create_invite(&ann, room, InviteOptions::default())
        .await
        .unwrap();
    let eve = w.user("eve").await;
    for i in 0..3 {
        let guess = format!("{i}").repeat(43);
        assert_eq!(code(w.chat.join_by_invite(&eve, &guess).await), "not_found");
    }
    assert_eq!(
        code(w.chat.join_by_invite(&eve, &real.token).await),
        "rate_limited",
        "refused unchecked, even with a real token"
    );
    assert!(w.store.member(room, eve.id()).await.unwrap().is_none());
    w.clock.advance(Duration::from_secs(15 * 60));
    w.chat.join_by_invite(&eve, &real.token).await.unwrap();
}
