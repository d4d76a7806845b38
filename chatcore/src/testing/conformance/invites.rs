//! Conformance cases of invite links: creating, listing, revoking and redeeming them.

use std::time::Duration;

use super::{S, T0, group, user};
use crate::error::{Entity, StoreError, Unique};
use crate::model::*;

fn hash(n: u8) -> [u8; 32] {
    [n; 32]
}

fn at(secs: u64) -> Timestamp {
    T0.plus(Duration::from_secs(secs))
}

/// A link to `room` by `by` with token hash `[n; 32]`, working until `at(until)`.
fn new_invite(room: RoomId, by: UserId, n: u8, until: u64, max_uses: Option<u32>) -> NewInvite {
    NewInvite {
        room_id: room,
        token_hash: hash(n),
        token_prefix: format!("pre{n}"),
        created_by: by,
        created_at: T0,
        expires_at: at(until),
        max_uses,
    }
}

pub async fn invite_links(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id]).await;
    let other = group(&store, &[b.id]).await;

    let first = store
        .create_invite(new_invite(room.id, a.id, 1, 60, Some(2)), 3)
        .await
        .unwrap();
    assert_eq!(
        (first.room_id, first.created_by, first.token_prefix.as_str()),
        (room.id, a.id, "pre1")
    );
    assert_eq!(
        (first.expires_at, first.max_uses, first.uses),
        (at(60), Some(2), 0)
    );
    let second = store
        .create_invite(new_invite(room.id, a.id, 2, 60, None), 3)
        .await
        .unwrap();
    assert_eq!(second.max_uses, None);
    store
        .create_invite(new_invite(other.id, b.id, 3, 60, None), 3)
        .await
        .unwrap();
    assert_eq!(
        store.invites(room.id).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.invite_by_hash(&hash(9)).await.unwrap(), None);

    // A token hash is stored once; a link needs its room.
    assert!(matches!(
        store
            .create_invite(new_invite(room.id, a.id, 1, 60, None), 3)
            .await,
        Err(StoreError::Duplicate(Unique::Invite))
    ));
    assert!(matches!(
        store
            .create_invite(new_invite(RoomId(999_999), a.id, 4, 60, None), 3)
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));

    // Revoking touches the room's own link only.
    assert!(!store.delete_invite(other.id, first.id).await.unwrap());
    assert!(store.invite_by_hash(&hash(1)).await.unwrap().is_some());
    assert!(store.delete_invite(room.id, first.id).await.unwrap());
    assert!(!store.delete_invite(room.id, first.id).await.unwrap());
    assert_eq!(store.invite_by_hash(&hash(1)).await.unwrap(), None);
    assert_eq!(store.invites(room.id).await.unwrap(), [second]);
}

pub async fn invite_cap_counts_usable_links(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    // One that has expired by T0 + 10 s, one used up, one usable: a cap of 2 holds one more.
    let mut expired = new_invite(room.id, a.id, 1, 5, None);
    expired.created_at = at(0);
    store.create_invite(expired, 2).await.unwrap();
    store
        .create_invite(new_invite(room.id, a.id, 2, 60, Some(1)), 2)
        .await
        .unwrap();
    let b = user(&store, "bob").await;
    store.redeem_invite(&hash(2), b.id, T0, 10).await.unwrap();
    store
        .create_invite(new_invite(room.id, a.id, 3, 60, None), 2)
        .await
        .unwrap();
    let mut later = new_invite(room.id, a.id, 4, 60, None);
    later.created_at = at(10);
    let kept = store.create_invite(later, 2).await.unwrap();
    let left: Vec<[u8; 32]> = [1, 2, 3, 4].into_iter().map(hash).collect();
    let mut found = Vec::new();
    for h in &left {
        found.push(store.invite_by_hash(h).await.unwrap().is_some());
    }
    assert_eq!(
        found,
        [false, false, true, true],
        "creating a link clears the room's dead ones"
    );
    let mut one_more = new_invite(room.id, a.id, 5, 60, None);
    one_more.created_at = at(10);
    assert!(matches!(
        store.create_invite(one_more, 2).await,
        Err(StoreError::TooManyInvites)
    ));
    assert_eq!(store.invite_by_hash(&hash(5)).await.unwrap(), None);
    assert_eq!(store.invites(room.id).await.unwrap().last(), Some(&kept));
}

pub async fn invite_redemption(store: S) {
    let (a, b, c) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
    );
    let room = group(&store, &[a.id]).await;
    store
        .create_invite(new_invite(room.id, a.id, 1, 60, Some(2)), 10)
        .await
        .unwrap();

    let joined = store
        .redeem_invite(&hash(1), b.id, at(1), 10)
        .await
        .unwrap();
    assert_eq!(
        joined,
        Redeemed {
            room_id: room.id,
            joined: true
        }
    );
    let member = store.member(room.id, b.id).await.unwrap().unwrap();
    assert_eq!((member.role, member.joined_at), (Role::Member, at(1)));
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap().unwrap().uses,
        1
    );

    // Following it again, as a member, changes nothing and counts no use.
    let again = store
        .redeem_invite(&hash(1), b.id, at(2), 10)
        .await
        .unwrap();
    assert_eq!(
        again,
        Redeemed {
            room_id: room.id,
            joined: false
        }
    );
    let admin = store
        .redeem_invite(&hash(1), a.id, at(2), 10)
        .await
        .unwrap();
    assert!(!admin.joined);
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap().unwrap().uses,
        1
    );

    // A full room: refused, nothing written, no use counted.
    assert!(matches!(
        store.redeem_invite(&hash(1), c.id, at(3), 2).await,
        Err(StoreError::RoomFull)
    ));
    assert!(store.member(room.id, c.id).await.unwrap().is_none());
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap().unwrap().uses,
        1
    );

    // Unknown, expired, used up: all `Missing(Invite)`, nothing written.
    assert!(matches!(
        store.redeem_invite(&hash(9), c.id, at(3), 10).await,
        Err(StoreError::Missing(Entity::Invite))
    ));
    assert!(matches!(
        store.redeem_invite(&hash(1), c.id, at(60), 10).await,
        Err(StoreError::Missing(Entity::Invite))
    ));
    assert!(store.member(room.id, c.id).await.unwrap().is_none());
    store
        .redeem_invite(&hash(1), c.id, at(59), 10)
        .await
        .unwrap();
    let d = user(&store, "dave").await;
    assert!(matches!(
        store.redeem_invite(&hash(1), d.id, at(4), 10).await,
        Err(StoreError::Missing(Entity::Invite))
    ));
    assert!(store.member(room.id, d.id).await.unwrap().is_none());
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap().unwrap().uses,
        2
    );
    // A member still follows a used-up link of their room without a refusal.
    assert!(
        !store
            .redeem_invite(&hash(1), c.id, at(5), 10)
            .await
            .unwrap()
            .joined
    );

    // A revoked link admits no one.
    store
        .create_invite(new_invite(room.id, a.id, 2, 60, None), 10)
        .await
        .unwrap();
    let id = store.invite_by_hash(&hash(2)).await.unwrap().unwrap().id;
    assert!(store.delete_invite(room.id, id).await.unwrap());
    assert!(matches!(
        store.redeem_invite(&hash(2), d.id, at(5), 10).await,
        Err(StoreError::Missing(Entity::Invite))
    ));
    assert!(matches!(
        store
            .redeem_invite(&hash(2), UserId(999_999), at(5), 10)
            .await,
        Err(StoreError::Missing(Entity::Invite))
    ));
}

pub async fn concurrent_redemptions_share_the_last_use(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    store
        .create_invite(new_invite(room.id, a.id, 1, 60, Some(1)), 10)
        .await
        .unwrap();
    let mut joiners = Vec::new();
    for i in 0..8 {
        joiners.push(user(&store, &format!("joiner{i}")).await.id);
    }
    let tasks: Vec<_> = joiners
        .iter()
        .map(|&u| {
            let store = store.clone();
            tokio::spawn(async move { store.redeem_invite(&hash(1), u, at(1), 100).await })
        })
        .collect();
    let (mut joined, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) if r.joined => joined += 1,
            Err(StoreError::Missing(Entity::Invite)) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (joined, refused),
        (1, 7),
        "a link with one use admits one user"
    );
    assert_eq!(store.members(room.id).await.unwrap().len(), 2);
    assert_eq!(
        store.invite_by_hash(&hash(1)).await.unwrap().unwrap().uses,
        1
    );
}
