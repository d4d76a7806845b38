//! The storage conformance cases. Each takes a fresh, empty store and panics on a violation.
//! Run them through [`store_conformance_tests!`](crate::store_conformance_tests).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{Entity, StoreError, Unique};
use crate::model::*;
use crate::store::{Among, Store};

mod search;
pub use search::*;

type S = Arc<dyn Store>;

mod invites;
pub use invites::*;

mod profiles;
pub use profiles::*;

const T0: Timestamp = Timestamp(1_700_000_000_000);
/// A quota no test upload reaches.
const NO_QUOTA: UploadQuota = UploadQuota {
    since: T0,
    limit: u64::MAX,
};

fn new_user(username: Option<&str>, display: &str) -> NewUser {
    NewUser {
        username: username.map(str::to_owned),
        display_name: display.to_owned(),
        password_hash: username.map(|u| format!("$argon2id$hash-of-{u}")),
        is_guest: username.is_none(),
        external_id: None,
        created_at: T0,
    }
}

async fn user(store: &S, name: &str) -> User {
    store
        .create_user(new_user(Some(name), &name.to_uppercase()))
        .await
        .unwrap()
}

async fn group(store: &S, members: &[UserId]) -> Room {
    let members = members
        .iter()
        .enumerate()
        .map(|(i, &u)| (u, if i == 0 { Role::Admin } else { Role::Member }))
        .collect();
    store
        .create_room(NewRoom {
            kind: RoomKind::Group,
            name: Some("group".into()),
            direct_key: None,
            members,
            created_at: T0,
        })
        .await
        .unwrap()
}

fn msg(room: RoomId, sender: UserId, client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        room_id: room,
        sender_id: sender,
        body: body.to_owned(),
        mentions: Vec::new(),
        media_id: None,
        reply_to: None,
        custom: None,
        client_id: client_id.to_owned(),
        created_at: T0,
    }
}

fn new_media(room_id: RoomId, uploader_id: UserId, mime: &str, size: u64) -> NewMedia {
    let id = MediaId::generate();
    NewMedia {
        id,
        room_id,
        uploader_id,
        mime: mime.to_owned(),
        size,
        sha256: "ab".repeat(32),
        key: id.to_string(),
        details: MediaDetails::default(),
        created_at: T0,
    }
}

fn seqs(messages: &[Message]) -> Vec<Seq> {
    messages.iter().map(|m| m.seq).collect()
}

pub async fn users_round_trip(store: S) {
    let created = store
        .create_user(new_user(Some("alice"), "Alice"))
        .await
        .unwrap();
    assert_eq!(created.username.as_deref(), Some("alice"));
    assert_eq!(created.display_name, "Alice");
    assert!(!created.is_guest && !created.is_server_admin && !created.disabled);
    assert_eq!(created.created_at, T0);
    assert_eq!(store.user(created.id).await.unwrap(), Some(created.clone()));

    let (found, hash) = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found, created);
    assert_eq!(hash.as_deref(), Some("$argon2id$hash-of-alice"));
    assert_eq!(store.password_hash(created.id).await.unwrap(), hash);

    let guest = store.create_user(new_user(None, "Guest 1")).await.unwrap();
    assert!(guest.is_guest);
    assert_eq!(guest.username, None);
    assert_eq!(store.password_hash(guest.id).await.unwrap(), None);
    assert_ne!(guest.id, created.id);
    assert_eq!(store.user_by_username("bob").await.unwrap(), None);
}

pub async fn usernames_are_unique(store: S) {
    user(&store, "alice").await;
    let err = store
        .create_user(new_user(Some("alice"), "Other"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::Username)),
        "{err:?}"
    );
    // Password-less users without a username never collide.
    store.create_user(new_user(None, "G")).await.unwrap();
    store.create_user(new_user(None, "G")).await.unwrap();
    assert_eq!(store.list_users(UserId(0), 100).await.unwrap().len(), 3);
}

pub async fn external_ids_are_unique(store: S) {
    let mut host = new_user(None, "Host user");
    host.is_guest = false;
    host.external_id = Some("tenant-1:USER-42".into());
    let created = store.create_user(host.clone()).await.unwrap();
    assert_eq!(
        store.user_by_external_id("tenant-1:USER-42").await.unwrap(),
        Some(created)
    );
    assert_eq!(
        store.user_by_external_id("tenant-1:user-42").await.unwrap(),
        None,
        "exact match"
    );
    let err = store.create_user(host).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::ExternalId)),
        "{err:?}"
    );
}

pub async fn display_names_can_change(store: S) {
    let ann = store.create_user(new_user(None, "Ann")).await.unwrap();
    store.set_display_name(ann.id, "Ann Smith").await.unwrap();
    let stored = store.user(ann.id).await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Ann Smith");
    let missing = store.set_display_name(UserId(ann.id.0 + 1000), "x").await;
    assert!(
        matches!(missing, Err(StoreError::Missing(Entity::User))),
        "{missing:?}"
    );
}

pub async fn user_search_and_listing(store: S) {
    let alice = user(&store, "alice").await;
    let alina = user(&store, "alina").await;
    let bob = user(&store, "bob").await;
    let mut guest = new_user(None, "Alfred");
    guest.display_name = "Alfred".into();
    let alfred = store.create_user(guest).await.unwrap();

    let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.search_users("al", Among::Everyone, 10).await.unwrap()),
        vec![alice.id, alina.id, alfred.id]
    );
    assert_eq!(
        ids(store.search_users("AL", Among::Everyone, 10).await.unwrap()),
        vec![alice.id, alina.id, alfred.id]
    );
    assert_eq!(
        ids(store.search_users("al", Among::Everyone, 2).await.unwrap()),
        vec![alice.id, alina.id]
    );
    assert_eq!(
        ids(store.search_users("B", Among::Everyone, 10).await.unwrap()),
        vec![bob.id]
    );
    // LIKE wildcards in the prefix are data, not patterns.
    assert!(
        store
            .search_users("%", Among::Everyone, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_users("_", Among::Everyone, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.set_disabled(bob.id, true).await.unwrap();
    assert!(
        store
            .search_users("bob", Among::Everyone, 10)
            .await
            .unwrap()
            .is_empty(),
        "disabled users are hidden"
    );

    assert_eq!(
        ids(store.list_users(UserId(0), 2).await.unwrap()),
        vec![alice.id, alina.id]
    );
    assert_eq!(
        ids(store.list_users(alina.id, 10).await.unwrap()),
        vec![bob.id, alfred.id]
    );
}

/// A search `among` roommates sees exactly who shares a room; registered users are listed
/// whatever rooms they are in, guests only as roommates; nobody is their own roommate.
pub async fn search_scopes_follow_shared_rooms(store: S) {
    let alice = user(&store, "alice").await;
    let alina = user(&store, "alina").await;
    let albert = user(&store, "albert").await;
    let alfie = store.create_user(new_user(None, "Alfie")).await.unwrap();
    let alma = store.create_user(new_user(None, "Alma")).await.unwrap();
    group(&store, &[alice.id, alfie.id]).await;
    group(&store, &[albert.id, alma.id]).await;
    group(&store, &[alice.id, alina.id]).await;

    let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    let search = |among| {
        let store = store.clone();
        async move { ids(store.search_users("al", among, 10).await.unwrap()) }
    };
    assert_eq!(
        search(Among::Everyone).await,
        [alice.id, alina.id, albert.id, alfie.id, alma.id]
    );
    assert_eq!(
        search(Among::RoommatesOf(alice.id)).await,
        [alina.id, alfie.id]
    );
    assert_eq!(search(Among::RoommatesOf(alfie.id)).await, [alice.id]);
    assert_eq!(
        search(Among::RegisteredOrRoommatesOf(alice.id)).await,
        [alice.id, alina.id, albert.id, alfie.id],
        "registered users, and the one guest alice shares a room with"
    );
    assert_eq!(
        search(Among::RegisteredOrRoommatesOf(alina.id)).await,
        [alice.id, alina.id, albert.id]
    );
    let loner = store.create_user(new_user(None, "Alone")).await.unwrap();
    assert!(search(Among::RoommatesOf(loner.id)).await.is_empty());
    // The limit applies after the scope.
    assert_eq!(
        ids(store
            .search_users("al", Among::RoommatesOf(alice.id), 1)
            .await
            .unwrap()),
        [alina.id]
    );
    store.set_disabled(alina.id, true).await.unwrap();
    assert_eq!(search(Among::RoommatesOf(alice.id)).await, [alfie.id]);

    assert!(store.share_a_room(alice.id, alfie.id).await.unwrap());
    assert!(store.share_a_room(alfie.id, alice.id).await.unwrap());
    assert!(!store.share_a_room(alice.id, alma.id).await.unwrap());
    assert!(!store.share_a_room(loner.id, alice.id).await.unwrap());
    assert!(!store.share_a_room(loner.id, loner.id).await.unwrap());
    let room = group(&store, &[alice.id, alma.id]).await;
    assert!(store.share_a_room(alice.id, alma.id).await.unwrap());
    store.remove_member(room.id, alma.id).await.unwrap();
    assert!(!store.share_a_room(alice.id, alma.id).await.unwrap());
}

pub async fn password_and_admin_flags(store: S) {
    let alice = user(&store, "alice").await;
    store.set_password_hash(alice.id, "$new").await.unwrap();
    assert_eq!(
        store.password_hash(alice.id).await.unwrap().as_deref(),
        Some("$new")
    );
    store.set_server_admin(alice.id, true).await.unwrap();
    store.set_disabled(alice.id, true).await.unwrap();
    let now = store.user(alice.id).await.unwrap().unwrap();
    assert!(now.is_server_admin && now.disabled);
    store.set_disabled(alice.id, false).await.unwrap();
    assert!(!store.user(alice.id).await.unwrap().unwrap().disabled);
}

pub async fn guest_upgrade(store: S) {
    user(&store, "taken").await;
    let guest = store.create_user(new_user(None, "Guest 7")).await.unwrap();
    let other = user(&store, "other").await;
    for (hash, owner) in [
        ([1; 32], guest.id),
        ([2; 32], guest.id),
        ([3; 32], other.id),
    ] {
        store.create_session(session(hash, owner)).await.unwrap();
    }
    let err = store
        .upgrade_guest(guest.id, "taken", "$h")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::Username)),
        "{err:?}"
    );
    assert!(
        store.user(guest.id).await.unwrap().unwrap().is_guest,
        "a failed upgrade changes nothing"
    );
    assert!(store.session(&[1; 32]).await.unwrap().is_some());

    let (upgraded, ended) = store
        .upgrade_guest(guest.id, "newname", "$h")
        .await
        .unwrap();
    assert_eq!(upgraded.id, guest.id);
    assert_eq!(upgraded.username.as_deref(), Some("newname"));
    assert_eq!(upgraded.display_name, "Guest 7");
    assert!(!upgraded.is_guest);
    assert_eq!(
        store
            .user_by_username("newname")
            .await
            .unwrap()
            .unwrap()
            .1
            .as_deref(),
        Some("$h")
    );
    assert_eq!(
        ended.into_iter().collect::<HashSet<_>>(),
        HashSet::from([[1; 32], [2; 32]]),
        "every session of the guest ended"
    );
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None);
    assert!(
        store.session(&[3; 32]).await.unwrap().is_some(),
        "other users' sessions stay"
    );

    let err = store
        .upgrade_guest(guest.id, "second", "$other")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAGuest), "{err:?}");
    let err = store
        .upgrade_guest(other.id, "renamed", "$other")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAGuest), "{err:?}");
    let (now, hash) = store.user_by_username("newname").await.unwrap().unwrap();
    assert_eq!(
        (now.id, hash.as_deref()),
        (guest.id, Some("$h")),
        "unchanged"
    );
    assert_eq!(store.user_by_username("second").await.unwrap(), None);
}

/// Two upgrades of the same guest at once: exactly one wins, the other is `NotAGuest`.
pub async fn concurrent_guest_upgrades_have_one_winner(store: S) {
    for round in 0..5 {
        let guest = store.create_user(new_user(None, "Guest")).await.unwrap();
        let attempts: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|side| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .upgrade_guest(guest.id, &format!("{side}{round}"), "$h")
                        .await
                })
            })
            .collect();
        let mut won = Vec::new();
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok((user, _)) => won.push(user.username.unwrap()),
                Err(StoreError::NotAGuest) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(won.len(), 1, "exactly one upgrade wins: {won:?}");
        let now = store.user(guest.id).await.unwrap().unwrap();
        assert_eq!(now.username, won.pop());
        assert!(!now.is_guest);
    }
}

pub async fn guest_expiry(store: S) {
    let stale = store.create_user(new_user(None, "Stale")).await.unwrap();
    let fresh = store.create_user(new_user(None, "Fresh")).await.unwrap();
    let member = user(&store, "alice").await;
    store
        .touch_user(fresh.id, T0.plus(std::time::Duration::from_secs(100)))
        .await
        .unwrap();
    store
        .create_session(session([1; 32], stale.id))
        .await
        .unwrap();
    store
        .create_session(session([2; 32], fresh.id))
        .await
        .unwrap();

    let cutoff = T0.plus(std::time::Duration::from_secs(50));
    assert_eq!(store.expire_guests(cutoff).await.unwrap(), vec![stale.id]);
    assert!(store.user(stale.id).await.unwrap().unwrap().disabled);
    assert!(!store.user(fresh.id).await.unwrap().unwrap().disabled);
    assert!(
        !store.user(member.id).await.unwrap().unwrap().disabled,
        "full accounts never expire"
    );
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None);
    assert!(store.session(&[2; 32]).await.unwrap().is_some());
    assert!(
        store.expire_guests(cutoff).await.unwrap().is_empty(),
        "already expired"
    );
}

fn session(hash: [u8; 32], user: UserId) -> Session {
    Session {
        token_hash: hash,
        user_id: user,
        created_at: T0,
        last_seen_at: T0,
    }
}

pub async fn sessions(store: S) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    for (h, u) in [
        ([1; 32], alice.id),
        ([2; 32], alice.id),
        ([3; 32], alice.id),
        ([4; 32], bob.id),
    ] {
        store.create_session(session(h, u)).await.unwrap();
    }
    let err = store
        .create_session(session([1; 32], bob.id))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::Session)),
        "{err:?}"
    );
    assert_eq!(
        store.session(&[1; 32]).await.unwrap(),
        Some(session([1; 32], alice.id))
    );

    let later = T0.plus(std::time::Duration::from_secs(60));
    store.touch_session(&[1; 32], later).await.unwrap();
    assert_eq!(
        store.session(&[1; 32]).await.unwrap().unwrap().last_seen_at,
        later
    );

    assert!(store.delete_session(&[1; 32]).await.unwrap());
    assert!(!store.delete_session(&[1; 32]).await.unwrap());
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None);

    let ended: HashSet<[u8; 32]> = store
        .delete_user_sessions(alice.id, Some(&[2; 32]))
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(ended, HashSet::from([[3; 32]]));
    assert!(store.session(&[2; 32]).await.unwrap().is_some(), "kept");
    assert!(
        store.session(&[4; 32]).await.unwrap().is_some(),
        "other users untouched"
    );
    assert_eq!(
        store.delete_user_sessions(alice.id, None).await.unwrap(),
        vec![[2; 32]]
    );
}

/// Sessions idle too long or older than their lifetime are swept, `limit` at a time.
pub async fn expired_sessions_are_swept(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let at = |secs| T0.plus(std::time::Duration::from_secs(secs));
    // (hash, user, created, last seen)
    let rows = [
        (1, a.id, 0, 10),   // idle: last seen before 50
        (2, a.id, 0, 100),  // fresh
        (3, b.id, 0, 20),   // idle
        (4, b.id, 0, 30),   // idle
        (5, a.id, 0, 200),  // fresh
        (6, b.id, 200, 49), // idle (a clock jump: seen before created)
    ];
    for (h, u, created, seen) in rows {
        store
            .create_session(Session {
                token_hash: [h; 32],
                user_id: u,
                created_at: at(created),
                last_seen_at: at(seen),
            })
            .await
            .unwrap();
    }
    let mut swept = HashSet::new();
    loop {
        let batch = store
            .delete_expired_sessions(at(50), at(0), 3)
            .await
            .unwrap();
        assert!(batch.len() <= 3, "at most limit per call");
        let done = batch.len() < 3;
        swept.extend(batch);
        if done {
            break;
        }
    }
    assert_eq!(
        swept,
        HashSet::from([
            ([1; 32], a.id),
            ([3; 32], b.id),
            ([4; 32], b.id),
            ([6; 32], b.id)
        ])
    );
    assert!(store.session(&[2; 32]).await.unwrap().is_some());
    assert_eq!(store.session(&[3; 32]).await.unwrap(), None);

    // Too old, however recently used.
    let old = store
        .delete_expired_sessions(at(0), at(100), 10)
        .await
        .unwrap();
    assert_eq!(
        old.into_iter().collect::<HashSet<_>>(),
        HashSet::from([([2; 32], a.id), ([5; 32], a.id)])
    );
    assert!(
        store
            .delete_expired_sessions(at(1000), at(1000), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `room_heads` lists rooms by id after a given one, each with its newest seq.
pub async fn room_heads_page_by_id(store: S) {
    let a = user(&store, "alice").await;
    let quiet = group(&store, &[a.id]).await;
    let busy = group(&store, &[a.id]).await;
    let third = group(&store, &[a.id]).await;
    for i in 0..3 {
        let id = format!("k{i}");
        store
            .append_message(msg(busy.id, a.id, &id, "hi"))
            .await
            .unwrap();
    }
    store
        .append_message(msg(third.id, a.id, "k", "hi"))
        .await
        .unwrap();
    assert_eq!(
        store.room_heads(RoomId(0), 10).await.unwrap(),
        vec![(quiet.id, 0), (busy.id, 3), (third.id, 1)]
    );
    assert_eq!(
        store.room_heads(quiet.id, 1).await.unwrap(),
        vec![(busy.id, 3)],
        "after is exclusive, limit holds"
    );
    assert!(store.room_heads(third.id, 10).await.unwrap().is_empty());
}

pub async fn rooms_and_members(store: S) {
    let (a, b, c) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
    );
    let room = group(&store, &[a.id, b.id]).await;
    assert_eq!(room.kind, RoomKind::Group);
    assert_eq!(room.name.as_deref(), Some("group"));
    assert_eq!(room.last_seq, 0);
    assert_eq!(store.room(room.id).await.unwrap(), Some(room.clone()));

    let members = store.members(room.id).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.user_id, m.role))
            .collect::<Vec<_>>(),
        vec![(a.id, Role::Admin), (b.id, Role::Member)]
    );
    let later = T0.plus(std::time::Duration::from_secs(5));
    store
        .add_member(room.id, c.id, Role::Member, later, 3)
        .await
        .unwrap();
    let err = store
        .add_member(room.id, c.id, Role::Member, later, 3)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::Member)),
        "{err:?}"
    );
    let carol = store.member(room.id, c.id).await.unwrap().unwrap();
    assert_eq!(
        (carol.role, carol.joined_at, carol.last_read_seq),
        (Role::Member, later, 0)
    );
    assert_eq!(
        store
            .members(room.id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .user_id,
        c.id,
        "oldest first"
    );

    store.set_role(room.id, c.id, Role::Admin).await.unwrap();
    assert_eq!(
        store.member(room.id, c.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    store.rename_room(room.id, "renamed").await.unwrap();
    assert_eq!(
        store.room(room.id).await.unwrap().unwrap().name.as_deref(),
        Some("renamed")
    );

    let of_c = store.rooms_of_user(c.id).await.unwrap();
    assert_eq!(of_c.len(), 1);
    assert_eq!(of_c[0].0.id, room.id);
    assert_eq!(of_c[0].1.user_id, c.id);

    assert_eq!(
        store.remove_member(room.id, c.id).await.unwrap(),
        Some(Removed { promoted: None }),
        "another admin remains"
    );
    assert_eq!(store.remove_member(room.id, c.id).await.unwrap(), None);
    assert_eq!(store.member(room.id, c.id).await.unwrap(), None);
    assert!(store.rooms_of_user(c.id).await.unwrap().is_empty());
    assert!(matches!(
        store.set_role(room.id, c.id, Role::Member).await,
        Err(StoreError::Missing(Entity::Member))
    ));
    assert!(matches!(
        store
            .add_member(RoomId(999_999), c.id, Role::Member, T0, 10)
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));
}

/// `add_member` refuses past the cap, atomically, also with 20 adds at once.
pub async fn member_cap(store: S) {
    let admin = user(&store, "admin").await;
    let room = group(&store, &[admin.id]).await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(user(&store, &format!("u{i}")).await.id);
    }
    let adds: Vec<_> = users
        .iter()
        .map(|&u| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.add_member(room.id, u, Role::Member, T0, 10).await })
        })
        .collect();
    let (mut added, mut full) = (0, 0);
    for add in adds {
        match add.await.unwrap() {
            Ok(()) => added += 1,
            Err(StoreError::RoomFull) => full += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((added, full), (9, 11));
    let members = store.members(room.id).await.unwrap();
    assert_eq!(members.len(), 10, "exactly the cap");
    let outsider = users
        .iter()
        .find(|u| !members.iter().any(|m| m.user_id == **u))
        .copied()
        .unwrap();
    assert!(matches!(
        store
            .add_member(room.id, outsider, Role::Member, T0, 10)
            .await,
        Err(StoreError::RoomFull)
    ));
    assert!(matches!(
        store
            .add_member(room.id, members[1].user_id, Role::Member, T0, 10)
            .await,
        Err(StoreError::Duplicate(Unique::Member))
    ));
    assert_eq!(store.member(room.id, outsider).await.unwrap(), None);
    store
        .add_member(room.id, outsider, Role::Member, T0, 11)
        .await
        .unwrap();
}

/// The only admin cannot be demoted, and two admins demoting each other at once leave one.
pub async fn last_admin_stays(store: S) {
    let (a, b, c) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
    );
    let room = group(&store, &[a.id, b.id, c.id]).await;
    assert!(matches!(
        store.set_role(room.id, a.id, Role::Member).await,
        Err(StoreError::LastAdmin)
    ));
    assert_eq!(
        store.member(room.id, a.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    store.set_role(room.id, a.id, Role::Admin).await.unwrap();
    store.set_role(room.id, b.id, Role::Member).await.unwrap();
    for _ in 0..10 {
        store.set_role(room.id, b.id, Role::Admin).await.unwrap();
        let demotions: Vec<_> = [b.id, a.id]
            .into_iter()
            .map(|target| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.set_role(room.id, target, Role::Member).await })
            })
            .collect();
        let mut refused = 0;
        for d in demotions {
            match d.await.unwrap() {
                Ok(()) => {}
                Err(StoreError::LastAdmin) => refused += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        let admins: Vec<UserId> = store
            .members(room.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.role == Role::Admin)
            .map(|m| m.user_id)
            .collect();
        assert_eq!((admins.len(), refused), (1, 1), "one admin remains");
        store.set_role(room.id, a.id, Role::Admin).await.unwrap();
    }
}

/// Removing the last admin promotes the oldest full member in the same step; guests and
/// disabled users are passed over; two admins leaving at once still leave an admin.
pub async fn removing_the_last_admin_promotes_an_heir(store: S) {
    let admin = user(&store, "admin").await;
    let guest = store.create_user(new_user(None, "Guest")).await.unwrap();
    let off = user(&store, "off").await;
    let (first, second) = (user(&store, "first").await, user(&store, "second").await);
    store.set_disabled(off.id, true).await.unwrap();
    let room = group(&store, &[admin.id, guest.id, off.id, first.id, second.id]).await;

    assert_eq!(
        store.remove_member(room.id, second.id).await.unwrap(),
        Some(Removed { promoted: None }),
        "a member leaving changes no role"
    );
    store
        .add_member(room.id, second.id, Role::Member, T0, 10)
        .await
        .unwrap();
    assert_eq!(
        store.remove_member(room.id, admin.id).await.unwrap(),
        Some(Removed {
            promoted: Some(first.id)
        })
    );
    let roles: Vec<(UserId, Role)> = store
        .members(room.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    assert_eq!(
        roles,
        [
            (guest.id, Role::Member),
            (off.id, Role::Member),
            (first.id, Role::Admin),
            (second.id, Role::Member)
        ]
    );

    store
        .set_role(room.id, second.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        store.remove_member(room.id, first.id).await.unwrap(),
        Some(Removed { promoted: None }),
        "another admin remains"
    );
    assert_eq!(
        store.remove_member(room.id, second.id).await.unwrap(),
        Some(Removed { promoted: None }),
        "nobody to promote: only a guest and a disabled user remain"
    );
    assert!(
        store
            .members(room.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.role == Role::Member)
    );

    for round in 0..5 {
        let mut ids = Vec::new();
        for name in ["x", "y", "z"] {
            ids.push(user(&store, &format!("{name}{round}")).await.id);
        }
        let room = group(&store, &ids).await;
        store.set_role(room.id, ids[1], Role::Admin).await.unwrap();
        let removals: Vec<_> = ids[..2]
            .iter()
            .map(|&u| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.remove_member(room.id, u).await })
            })
            .collect();
        let mut promoted = Vec::new();
        for r in removals {
            promoted.extend(r.await.unwrap().unwrap().unwrap().promoted);
        }
        assert_eq!(
            promoted,
            [ids[2]],
            "the remaining full member was promoted once"
        );
        let left = store.members(room.id).await.unwrap();
        assert_eq!(
            left.iter().map(|m| (m.user_id, m.role)).collect::<Vec<_>>(),
            [(ids[2], Role::Admin)]
        );
    }
}

pub async fn direct_rooms_are_unique(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let key = crate::direct_key(a.id, b.id);
    let new = NewRoom {
        kind: RoomKind::Direct,
        name: None,
        direct_key: Some(key.clone()),
        members: vec![(a.id, Role::Member), (b.id, Role::Member)],
        created_at: T0,
    };
    let room = store.create_room(new.clone()).await.unwrap();
    assert_eq!(room.kind, RoomKind::Direct);
    assert_eq!(room.name, None);
    let err = store.create_room(new).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(Unique::DirectRoom)),
        "{err:?}"
    );
    assert_eq!(store.direct_room(&key).await.unwrap(), Some(room));
    assert_eq!(store.direct_room("1:2:3").await.unwrap(), None);
    assert_eq!(
        store.rooms_of_user(a.id).await.unwrap().len(),
        1,
        "no half-created room"
    );
}

pub async fn read_markers(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    assert_eq!(store.mark_read(room.id, b.id, 5).await.unwrap(), 5);
    assert_eq!(
        store.mark_read(room.id, b.id, 3).await.unwrap(),
        5,
        "never backwards"
    );
    assert_eq!(
        store
            .member(room.id, b.id)
            .await
            .unwrap()
            .unwrap()
            .last_read_seq,
        5
    );
    assert_eq!(
        store
            .member(room.id, a.id)
            .await
            .unwrap()
            .unwrap()
            .last_read_seq,
        0
    );
    let outsider = user(&store, "carol").await;
    assert!(matches!(
        store.mark_read(room.id, outsider.id, 1).await,
        Err(StoreError::Missing(Entity::Member))
    ));
}

pub async fn append_assigns_gapless_seqs(store: S) {
    let a = user(&store, "alice").await;
    let one = group(&store, &[a.id]).await;
    let two = group(&store, &[a.id]).await;
    for i in 1..=3 {
        let (m, created) = store
            .append_message(msg(one.id, a.id, &format!("c{i}"), "x"))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(m.seq, i);
    }
    let (m, _) = store
        .append_message(msg(two.id, a.id, "c1", "hello"))
        .await
        .unwrap();
    assert_eq!(m.seq, 1, "seqs are per room");
    assert_eq!(m.room_id, two.id);
    assert_eq!(
        m.sender,
        Sender {
            id: a.id,
            display_name: "ALICE".into()
        }
    );
    assert_eq!(m.body, "hello");
    assert_eq!(
        (m.media.clone(), m.reply_to, m.edited_at, m.deleted),
        (None, None, None, false)
    );
    assert_eq!(m.created_at, T0);
    assert_eq!(store.room(one.id).await.unwrap().unwrap().last_seq, 3);
    assert_eq!(store.message(two.id, 1).await.unwrap(), Some(m));
    assert!(matches!(
        store
            .append_message(msg(RoomId(999_999), a.id, "c", "x"))
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));
}

pub async fn append_is_idempotent_per_sender(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let (first, created) = store
        .append_message(msg(room.id, a.id, "same", "first"))
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .append_message(msg(room.id, a.id, "same", "second"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first, "a retry returns the first message unchanged");
    let (bobs, created) = store
        .append_message(msg(room.id, b.id, "same", "bob"))
        .await
        .unwrap();
    assert!(created, "client ids are per sender");
    assert_eq!(bobs.seq, 2);
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 2);
}

/// Only members append; a refused message takes no seq, alone or in a batch, and a former
/// member's retry of a message sent while a member is refused too.
pub async fn append_requires_membership(store: S) {
    let (a, b, outsider) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "eve").await,
    );
    let room = group(&store, &[a.id, b.id]).await;
    assert!(matches!(
        store
            .append_message(msg(room.id, outsider.id, "x", "hi"))
            .await,
        Err(StoreError::Missing(Entity::Member))
    ));
    let results = store
        .append_messages(vec![
            msg(room.id, a.id, "1", "one"),
            msg(room.id, outsider.id, "y", "sneaky"),
            msg(room.id, b.id, "1", "two"),
        ])
        .await;
    assert!(matches!(
        results[1],
        Err(StoreError::Missing(Entity::Member))
    ));
    let ok: Vec<Seq> = [&results[0], &results[2]]
        .into_iter()
        .map(|r| r.as_ref().unwrap().0.seq)
        .collect();
    assert_eq!(ok, [1, 2], "the refused message took no seq");
    assert!(store.remove_member(room.id, b.id).await.unwrap().is_some());
    assert!(matches!(
        store.append_message(msg(room.id, b.id, "1", "two")).await,
        Err(StoreError::Missing(Entity::Member))
    ));
    assert!(matches!(
        store.append_message(msg(room.id, b.id, "2", "three")).await,
        Err(StoreError::Missing(Entity::Member))
    ));
    let mut with_media = msg(room.id, a.id, "m", "caption");
    with_media.media_id = Some(MediaId::generate());
    assert!(matches!(
        store.append_message(with_media).await,
        Err(StoreError::Missing(Entity::Media))
    ));
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 2);
    let bodies: Vec<String> = store
        .messages_after(room.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["one", "two"]);
}

pub async fn concurrent_appends_are_gapless(store: S) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 250;
    let mut senders = Vec::new();
    for t in 0..TASKS {
        senders.push(user(&store, &format!("sender{t}")).await.id);
    }
    let room = group(&store, &senders).await;
    let mut handles = Vec::new();
    for (t, sender) in senders.into_iter().enumerate() {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(PER_TASK);
            for i in 0..PER_TASK {
                let (m, created) = store
                    .append_message(msg(
                        room.id,
                        sender,
                        &format!("t{t}-{i}"),
                        &format!("{t}/{i}"),
                    ))
                    .await
                    .unwrap();
                assert!(created);
                got.push(m.seq);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let got = h.await.unwrap();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs increase"
        );
        all.extend(got);
    }
    all.sort_unstable();
    let expected: Vec<Seq> = (1..=(TASKS * PER_TASK) as Seq).collect();
    assert_eq!(all, expected, "seqs are exactly 1..=2000");
    assert_eq!(
        store.room(room.id).await.unwrap().unwrap().last_seq,
        (TASKS * PER_TASK) as Seq
    );
    let stored = store.messages_after(room.id, 0, 100).await.unwrap();
    assert_eq!(seqs(&stored), (1..=100).collect::<Vec<_>>());
}

pub async fn concurrent_retries_store_once(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    let mut handles = Vec::new();
    for _ in 0..16 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            store
                .append_message(msg(room.id, a.id, "retry-me", "once"))
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for h in handles {
        let (m, c) = h.await.unwrap();
        created += usize::from(c);
        ids.insert(m.id);
        assert_eq!(m.seq, 1);
    }
    assert_eq!(created, 1, "exactly one send stored");
    assert_eq!(ids.len(), 1, "every retry got the same message");
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 1);
}

/// The idempotency window is at least 24 hours: a retry a day after the first send, with other
/// sends in between (on a paused clock: `created_at` is the server's time of each send), still
/// returns the first message.
pub async fn retry_a_day_later_returns_the_first(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let (first, _) = store
        .append_message(msg(room.id, a.id, "sent-once", "first"))
        .await
        .unwrap();
    let day_later = T0.plus(std::time::Duration::from_secs(24 * 60 * 60));
    let at = |mut m: NewMessage, t: Timestamp| {
        m.created_at = t;
        m
    };
    let (_, created) = store
        .append_message(at(msg(room.id, b.id, "b-1", "meanwhile"), day_later))
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .append_message(at(msg(room.id, a.id, "sent-once", "retry"), day_later))
        .await
        .unwrap();
    assert!(!created, "a retry 24 h later stores nothing");
    assert_eq!(again, first);
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 2);
}

/// Ids of any shape work: 10,000 random ones are each stored exactly once, and each one's retry
/// (in another order, batched differently) returns its message.
pub async fn random_client_ids_are_each_stored_once(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let sends: Vec<NewMessage> = (0..10_000)
        .map(|i| {
            let mut id = [0u8; 16];
            getrandom::fill(&mut id).unwrap();
            let id: String = id.iter().map(|byte| format!("{byte:02x}")).collect();
            let sender = if i % 2 == 0 { a.id } else { b.id };
            msg(room.id, sender, &id, &format!("m{i}"))
        })
        .collect();
    let mut first = Vec::with_capacity(sends.len());
    for chunk in sends.chunks(128) {
        for result in store.append_messages(chunk.to_vec()).await {
            let (m, created) = result.unwrap();
            assert!(created, "a fresh random id is stored");
            first.push(m);
        }
    }
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 10_000);
    let order: Vec<usize> = (0..sends.len()).rev().collect();
    for chunk in order.chunks(100) {
        let retries = chunk.iter().map(|&i| sends[i].clone()).collect();
        for (&i, result) in chunk.iter().zip(store.append_messages(retries).await) {
            let (m, created) = result.unwrap();
            assert!(!created, "retry {i} stores nothing");
            assert_eq!(m, first[i], "retry {i} returns the first message");
        }
    }
    assert_eq!(store.room(room.id).await.unwrap().unwrap().last_seq, 10_000);
}

pub async fn batch_append(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let batch = vec![
        msg(room.id, a.id, "1", "one"),
        msg(room.id, b.id, "1", "two"),
        msg(room.id, a.id, "1", "retry of one"),
        msg(RoomId(999_999), a.id, "x", "nowhere"),
        msg(room.id, a.id, "2", "three"),
    ];
    let results = store.append_messages(batch).await;
    assert_eq!(results.len(), 5);
    let ok: Vec<(Seq, bool)> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(m, created)| (m.seq, *created))
        .collect();
    assert_eq!(ok, vec![(1, true), (2, true), (1, false), (3, true)]);
    assert!(
        matches!(results[3], Err(StoreError::Missing(Entity::Room))),
        "one bad message fails alone"
    );
    let bodies: Vec<String> = store
        .messages_after(room.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["one", "two", "three"]);
}

pub async fn history_pages(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    let empty = group(&store, &[a.id]).await;
    let batch: Vec<NewMessage> = (1..=25)
        .map(|i| msg(room.id, a.id, &format!("c{i}"), &format!("m{i}")))
        .collect();
    for r in store.append_messages(batch).await {
        r.unwrap();
    }
    assert_eq!(
        seqs(&store.messages_before(room.id, None, 10).await.unwrap()),
        (16..=25).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&store.messages_before(room.id, Some(16), 10).await.unwrap()),
        (6..=15).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&store.messages_before(room.id, Some(6), 10).await.unwrap()),
        (1..=5).collect::<Vec<_>>()
    );
    assert!(
        store
            .messages_before(room.id, Some(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        seqs(&store.messages_before(room.id, Some(1000), 2).await.unwrap()),
        vec![24, 25]
    );
    assert_eq!(
        seqs(&store.messages_after(room.id, 20, 3).await.unwrap()),
        vec![21, 22, 23]
    );
    assert_eq!(
        seqs(&store.messages_after(room.id, 23, 100).await.unwrap()),
        vec![24, 25]
    );
    assert!(
        store
            .messages_after(room.id, 25, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .messages_before(empty.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.message(room.id, 7).await.unwrap().unwrap().body, "m7");
    assert_eq!(store.message(room.id, 26).await.unwrap(), None);
    assert_eq!(
        store.message(empty.id, 7).await.unwrap(),
        None,
        "seqs belong to their room"
    );
}

pub async fn edit_and_delete(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    let mut new = new_media(room.id, a.id, "image/png", 3);
    new.details.width = Some(640);
    new.details.height = Some(480);
    new.details.thumbnail_mime = Some("image/png".into());
    let media = store.create_media(new, NO_QUOTA).await.unwrap();
    let mut with_media = msg(room.id, a.id, "m", "caption");
    with_media.media_id = Some(media.id);
    let (original, _) = store.append_message(with_media).await.unwrap();
    assert_eq!(
        original.media,
        Some(Box::new(MediaRef {
            id: media.id,
            mime: "image/png".into(),
            size: 3,
            width: Some(640),
            height: Some(480),
            duration_ms: None,
            thumbnail: true,
        }))
    );

    let t1 = T0.plus(std::time::Duration::from_secs(1));
    let edited = store
        .edit_message(room.id, 1, "new caption", &[], t1)
        .await
        .unwrap();
    assert_eq!(
        (edited.body.as_str(), edited.edited_at, edited.seq),
        ("new caption", Some(t1), 1)
    );
    assert_eq!(edited.media, original.media);
    assert_eq!(store.message(room.id, 1).await.unwrap(), Some(edited));

    let t2 = T0.plus(std::time::Duration::from_secs(2));
    let tomb = store.delete_message(room.id, 1, t2).await.unwrap();
    assert!(tomb.deleted);
    assert_eq!(
        (tomb.body.as_str(), tomb.media.clone(), tomb.seq, tomb.id),
        ("", None, 1, original.id)
    );
    assert_eq!(store.message(room.id, 1).await.unwrap(), Some(tomb));
    let (next, _) = store
        .append_message(msg(room.id, a.id, "n", "after"))
        .await
        .unwrap();
    assert_eq!(next.seq, 2, "a tombstone keeps its seq");
    assert!(matches!(
        store.edit_message(room.id, 9, "x", &[], t2).await,
        Err(StoreError::Missing(Entity::Message))
    ));
    assert!(matches!(
        store.delete_message(room.id, 9, t2).await,
        Err(StoreError::Missing(Entity::Message))
    ));
}

fn custom(kind: &str, payload: serde_json::Value) -> Option<Custom> {
    Some(Custom {
        kind: kind.to_owned(),
        payload,
    })
}

pub async fn custom_kinds_round_trip(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let poll = custom(
        "poll",
        serde_json::json!({
            "question": "Lunch? <b>now</b> 'quoted' \"double\" ש",
            "options": ["yes", "no", null, 1, -2.5, 46.55, 1e300, true],
            "nested": {"deep": [{"x": {}}], "empty": []},
            "big": "x".repeat(crate::kinds::MAX_PAYLOAD_BYTES - 200),
        }),
    );
    let mut first = msg(room.id, a.id, "p1", "");
    first.custom = poll.clone();
    let mut ping = msg(room.id, b.id, "p2", "fallback text");
    ping.custom = custom("acme.ping-v2", serde_json::Value::Null);
    let plain = msg(room.id, a.id, "p3", "plain");
    let results = store
        .append_messages(vec![first.clone(), ping, plain])
        .await;
    let stored: Vec<Message> = results.into_iter().map(|r| r.unwrap().0).collect();
    assert_eq!(stored[0].custom.as_deref(), poll.as_ref());
    assert_eq!(
        stored[1].custom.as_deref(),
        custom("acme.ping-v2", serde_json::Value::Null).as_ref()
    );
    assert_eq!(stored[2].custom, None);
    assert_eq!(
        store.messages_after(room.id, 0, 10).await.unwrap(),
        stored,
        "history keeps kind and payload exactly"
    );
    assert_eq!(
        store.messages_before(room.id, None, 10).await.unwrap(),
        stored
    );
    assert_eq!(
        store.message(room.id, 1).await.unwrap().as_ref(),
        Some(&stored[0])
    );

    let mut retry = first.clone();
    retry.custom = custom("poll", serde_json::json!({"question": "other"}));
    let (again, created) = store.append_message(retry).await.unwrap();
    assert!(!created);
    assert_eq!(
        again, stored[0],
        "a retried send returns the first, kind and all"
    );

    let t1 = T0.plus(std::time::Duration::from_secs(1));
    let edited = store
        .edit_message(room.id, 1, "caption", &[], t1)
        .await
        .unwrap();
    assert_eq!(
        (edited.body.as_str(), edited.custom.as_deref()),
        ("caption", poll.as_ref()),
        "an edit changes the text, not the kind or payload"
    );
    let entry = store.room_list(b.id).await.unwrap();
    assert_eq!(entry[0].last_message.as_ref(), Some(&stored[2]));

    let tomb = store.delete_message(room.id, 1, t1).await.unwrap();
    assert_eq!((tomb.deleted, tomb.custom.clone()), (true, None));
    assert_eq!(store.message(room.id, 1).await.unwrap(), Some(tomb));
    assert_eq!(
        store.message(room.id, 2).await.unwrap().unwrap().custom,
        stored[1].custom,
        "deleting one message leaves the others' kinds alone"
    );
}

/// Mentions are stored with the message as given (spans and users, in order) by both append
/// paths, read back wherever the message is, replaced by an edit and dropped by a delete.
pub async fn mentions_round_trip(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let span = |start, end, user_id| Mention {
        start,
        end,
        user_id,
    };
    let both = vec![span(0, 4, b.id), span(9, 15, a.id)];
    let mut first = msg(room.id, a.id, "1", "@bob and @alice");
    first.mentions = both.clone();
    let (sent, _) = store.append_message(first).await.unwrap();
    assert_eq!(sent.mentions, both);
    let mut named = msg(room.id, b.id, "2", "héllo @alice");
    named.mentions = vec![span(7, 13, a.id)];
    let batch = store
        .append_messages(vec![named, msg(room.id, b.id, "3", "plain")])
        .await;
    assert_eq!(batch[0].as_ref().unwrap().0.mentions, [span(7, 13, a.id)]);
    assert!(batch[1].as_ref().unwrap().0.mentions.is_empty());

    assert_eq!(
        store.message(room.id, 1).await.unwrap().unwrap().mentions,
        both
    );
    let page = store.messages_after(room.id, 0, 10).await.unwrap();
    let read: Vec<_> = page.iter().map(|m| m.mentions.clone()).collect();
    assert_eq!(read, [both.clone(), vec![span(7, 13, a.id)], vec![]]);
    let page = store.messages_before(room.id, None, 10).await.unwrap();
    assert_eq!(page[0].mentions, both);

    let edited = store
        .edit_message(room.id, 1, "@alice only", &[span(0, 6, a.id)], T0)
        .await
        .unwrap();
    assert_eq!(edited.mentions, [span(0, 6, a.id)]);
    assert_eq!(
        store.message(room.id, 1).await.unwrap().unwrap().mentions,
        [span(0, 6, a.id)]
    );
    let plain = store
        .edit_message(room.id, 2, "hello", &[], T0)
        .await
        .unwrap();
    let tomb = store.delete_message(room.id, 1, T0).await.unwrap();
    for (seq, changed) in [(2, plain), (1, tomb)] {
        assert!(changed.mentions.is_empty(), "{seq}: {changed:?}");
        let stored = store.message(room.id, seq).await.unwrap().unwrap();
        assert!(stored.mentions.is_empty(), "{seq}: {stored:?}");
    }
}

fn reaction(emoji: &str, users: &[UserId]) -> Reaction {
    Reaction {
        emoji: emoji.to_owned(),
        users: users.to_vec(),
    }
}

pub async fn reactions(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    store
        .append_message(msg(room.id, a.id, "1", "hello"))
        .await
        .unwrap();
    store
        .append_message(msg(room.id, b.id, "2", "world"))
        .await
        .unwrap();
    let at = |s| T0.plus(std::time::Duration::from_secs(s));

    let (now, added) = store
        .add_reaction(room.id, 1, b.id, "👍", at(1), 3)
        .await
        .unwrap();
    assert!(added);
    assert_eq!(now, [reaction("👍", &[b.id])]);
    let (again, added) = store
        .add_reaction(room.id, 1, b.id, "👍", at(2), 3)
        .await
        .unwrap();
    assert!(!added, "one reaction per emoji per user");
    assert_eq!(again, now);
    store
        .add_reaction(room.id, 1, a.id, "❤️", at(3), 3)
        .await
        .unwrap();
    let (now, _) = store
        .add_reaction(room.id, 1, a.id, "👍", at(4), 3)
        .await
        .unwrap();
    let expected = [reaction("👍", &[b.id, a.id]), reaction("❤️", &[a.id])];
    assert_eq!(
        now, expected,
        "emojis by first use, users in the order they reacted"
    );

    // Reactions are part of the message wherever it is read.
    assert_eq!(
        store.message(room.id, 1).await.unwrap().unwrap().reactions,
        expected
    );
    assert_eq!(
        store.messages_before(room.id, None, 10).await.unwrap()[0].reactions,
        expected
    );
    let page = store.messages_after(room.id, 0, 10).await.unwrap();
    assert_eq!(page[0].reactions, expected);
    assert!(page[1].reactions.is_empty(), "only the message reacted to");

    // Reactions in the same millisecond keep the order they were made in, whoever made them.
    for who in [b.id, a.id] {
        store
            .add_reaction(room.id, 2, who, "👍", at(4), 3)
            .await
            .unwrap();
    }
    assert_eq!(
        store.message(room.id, 2).await.unwrap().unwrap().reactions,
        [reaction("👍", &[b.id, a.id])],
        "a tie in time is broken by the order the store took them"
    );
    let edited = store
        .edit_message(room.id, 1, "hello!", &[], at(5))
        .await
        .unwrap();
    assert_eq!(edited.reactions, expected, "an edit keeps the reactions");

    // The cap counts different emojis; another user on a used emoji is always fine. Emojis
    // compare as exact text: ❤ without the variation selector is another emoji.
    store
        .add_reaction(room.id, 1, b.id, "❤", at(6), 3)
        .await
        .unwrap();
    assert!(matches!(
        store.add_reaction(room.id, 1, b.id, "🎉", at(7), 3).await,
        Err(StoreError::TooManyReactions)
    ));
    let (now, added) = store
        .add_reaction(room.id, 1, b.id, "❤️", at(8), 3)
        .await
        .unwrap();
    assert!(added);
    assert_eq!(now.len(), 3, "the refused emoji was not stored");

    let (now, removed) = store.remove_reaction(room.id, 1, a.id, "❤️").await.unwrap();
    assert!(removed);
    let expected = [
        reaction("👍", &[b.id, a.id]),
        reaction("❤", &[b.id]),
        reaction("❤️", &[b.id]),
    ];
    assert_eq!(now, expected, "the order follows the reactions that remain");
    let (_, removed) = store.remove_reaction(room.id, 1, a.id, "❤️").await.unwrap();
    assert!(!removed, "removing what is not there changes nothing");
    let (now, _) = store.remove_reaction(room.id, 1, b.id, "❤️").await.unwrap();
    let emojis: Vec<&str> = now.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(emojis, ["👍", "❤"], "an emoji nobody uses any more is gone");

    // A tombstone has no reactions and takes none.
    let tomb = store.delete_message(room.id, 1, at(9)).await.unwrap();
    assert!(tomb.reactions.is_empty());
    assert!(
        store
            .message(room.id, 1)
            .await
            .unwrap()
            .unwrap()
            .reactions
            .is_empty()
    );
    for (room_id, seq) in [(room.id, 1), (room.id, 99), (RoomId(999_999), 1)] {
        assert!(matches!(
            store
                .add_reaction(room_id, seq, a.id, "👍", at(10), 3)
                .await,
            Err(StoreError::Missing(Entity::Message))
        ));
        assert!(matches!(
            store.remove_reaction(room_id, seq, b.id, "👍").await,
            Err(StoreError::Missing(Entity::Message))
        ));
    }
}

pub async fn reactions_stay_under_the_cap_when_concurrent(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    store
        .append_message(msg(room.id, a.id, "1", "hi"))
        .await
        .unwrap();
    let tasks: Vec<_> = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆"]
        .into_iter()
        .map(|emoji| {
            let store = store.clone();
            tokio::spawn(async move { store.add_reaction(room.id, 1, a.id, emoji, T0, 3).await })
        })
        .collect();
    let (mut added, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => added += 1,
            Err(StoreError::TooManyReactions) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((added, refused), (3, 5));
    let stored = store.message(room.id, 1).await.unwrap().unwrap().reactions;
    assert_eq!(stored.len(), 3);
}

pub async fn unread_counts(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    for (i, sender) in [a.id, b.id, b.id, a.id, b.id].into_iter().enumerate() {
        store
            .append_message(msg(room.id, sender, &format!("c{i}"), "x"))
            .await
            .unwrap();
    }
    assert_eq!(
        store.count_unread(room.id, a.id, 0).await.unwrap(),
        3,
        "own messages don't count"
    );
    assert_eq!(store.count_unread(room.id, a.id, 3).await.unwrap(), 1);
    assert_eq!(store.count_unread(room.id, b.id, 0).await.unwrap(), 2);
    store.delete_message(room.id, 5, T0).await.unwrap();
    assert_eq!(
        store.count_unread(room.id, a.id, 3).await.unwrap(),
        0,
        "deleted messages don't count"
    );
}

/// A member's own settings: each field changes alone, reads show them (the membership and the
/// room list), other members keep theirs, and a member added again starts from the defaults.
pub async fn room_settings(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &[a.id, b.id]).await;
    let settings = |muted, archived| RoomSettings { muted, archived };
    let mute = SettingsChange {
        muted: Some(true),
        archived: None,
    };
    let archive = SettingsChange {
        muted: None,
        archived: Some(true),
    };
    assert_eq!(
        store.member(room.id, a.id).await.unwrap().unwrap().settings,
        RoomSettings::default(),
        "a new member is neither muted nor archived"
    );

    let (now, changed) = store.set_room_settings(room.id, a.id, mute).await.unwrap();
    assert_eq!((now, changed), (settings(true, false), true));
    let (now, changed) = store.set_room_settings(room.id, a.id, mute).await.unwrap();
    assert_eq!(
        (now, changed),
        (settings(true, false), false),
        "setting what is set changes nothing"
    );
    let (now, _) = store
        .set_room_settings(room.id, a.id, archive)
        .await
        .unwrap();
    assert_eq!(
        now,
        settings(true, true),
        "a field left out keeps its value"
    );
    assert_eq!(
        store.member(room.id, a.id).await.unwrap().unwrap().settings,
        settings(true, true)
    );
    let listed = store.room_list(a.id).await.unwrap();
    assert_eq!(listed[0].me.settings, settings(true, true));
    assert_eq!(
        store.member(room.id, b.id).await.unwrap().unwrap().settings,
        RoomSettings::default(),
        "settings are per member"
    );
    let both_off = SettingsChange {
        muted: Some(false),
        archived: Some(false),
    };
    let (now, changed) = store
        .set_room_settings(room.id, a.id, both_off)
        .await
        .unwrap();
    assert_eq!((now, changed), (RoomSettings::default(), true));

    // Settings belong to the membership: gone with it, defaults when added again.
    store.set_room_settings(room.id, b.id, mute).await.unwrap();
    store.remove_member(room.id, b.id).await.unwrap();
    assert!(matches!(
        store.set_room_settings(room.id, b.id, mute).await,
        Err(StoreError::Missing(Entity::Member))
    ));
    store
        .add_member(room.id, b.id, Role::Member, T0, 100)
        .await
        .unwrap();
    assert_eq!(
        store.member(room.id, b.id).await.unwrap().unwrap().settings,
        RoomSettings::default()
    );
    assert!(matches!(
        store.set_room_settings(RoomId(999_999), a.id, mute).await,
        Err(StoreError::Missing(Entity::Room))
    ));
}

/// Two changes of different fields at once both stick.
pub async fn concurrent_room_settings_keep_both_fields(store: S) {
    let a = user(&store, "alice").await;
    for _ in 0..10 {
        let room = group(&store, &[a.id]).await;
        let changes = [
            SettingsChange {
                muted: Some(true),
                archived: None,
            },
            SettingsChange {
                muted: None,
                archived: Some(true),
            },
        ];
        let tasks: Vec<_> = changes
            .into_iter()
            .map(|change| {
                let store = store.clone();
                tokio::spawn(async move { store.set_room_settings(room.id, a.id, change).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(
            store.member(room.id, a.id).await.unwrap().unwrap().settings,
            RoomSettings {
                muted: true,
                archived: true
            }
        );
    }
}

/// `room_list` reads what the single-room methods read, for every room of the user: members
/// with their accounts, the newest message (a tombstone too), unread counts after the marker.
pub async fn room_list_matches_single_room_reads(store: S) {
    let (a, b, c) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
    );
    let busy = group(&store, &[a.id, b.id, c.id]).await;
    let quiet = group(&store, &[b.id, a.id]).await;
    let _not_mine = group(&store, &[b.id, c.id]).await;
    for (i, sender) in [b.id, a.id, c.id, b.id].into_iter().enumerate() {
        store
            .append_message(msg(busy.id, sender, &format!("c{i}"), "x"))
            .await
            .unwrap();
    }
    store.mark_read(busy.id, a.id, 1).await.unwrap();
    store.mark_read(busy.id, c.id, 3).await.unwrap();
    for (who, muted, archived) in [(b.id, Some(true), None), (c.id, None, Some(true))] {
        let change = SettingsChange { muted, archived };
        store.set_room_settings(busy.id, who, change).await.unwrap();
    }
    store.delete_message(busy.id, 4, T0).await.unwrap();
    let listed = store.room_list(a.id).await.unwrap();
    let mut expected = Vec::new();
    for (room, me) in store.rooms_of_user(a.id).await.unwrap() {
        expected.push(
            crate::store::room_list_entry(store.as_ref(), room, me)
                .await
                .unwrap(),
        );
    }
    assert_eq!(listed, expected);
    let ids: Vec<RoomId> = listed.iter().map(|e| e.room.id).collect();
    assert_eq!(ids, [busy.id, quiet.id]);
    let (busy, quiet) = (&listed[0], &listed[1]);
    assert_eq!(busy.unread, 1, "after the marker, not own, not deleted");
    assert_eq!(
        busy.last_message.as_ref().map(|m| (m.seq, m.deleted)),
        Some((4, true))
    );
    let members: Vec<&str> = busy
        .members
        .iter()
        .map(|(_, u)| u.display_name.as_str())
        .collect();
    assert_eq!(members, ["ALICE", "BOB", "CAROL"]);
    let states: Vec<(Role, bool, bool, Seq)> = busy
        .members
        .iter()
        .map(|(m, _)| {
            (
                m.role,
                m.settings.muted,
                m.settings.archived,
                m.last_read_seq,
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (Role::Admin, false, false, 1),
            (Role::Member, true, false, 0),
            (Role::Member, false, true, 3)
        ],
        "each member's own role, settings and marker"
    );
    let joined: Vec<UserId> = quiet
        .members
        .iter()
        .map(|(m, u)| {
            assert_eq!(m.user_id, u.id);
            u.id
        })
        .collect();
    assert_eq!(joined, [b.id, a.id], "join order, not id order");
    assert_eq!((quiet.last_message.as_ref(), quiet.unread), (None, 0));
    assert!(store.room_list(UserId(999_999)).await.unwrap().is_empty());
}

pub async fn media_metadata(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    let mut new = new_media(room.id, a.id, "audio/webm", 123_456);
    new.sha256 = "0f".repeat(32);
    new.details.duration_ms = Some(61_500);
    let media = store.create_media(new.clone(), NO_QUOTA).await.unwrap();
    assert_eq!(
        (
            media.id,
            media.room_id,
            media.uploader_id,
            media.mime.as_str(),
            media.size,
            media.sha256.as_str(),
            media.key.as_str(),
            &media.details,
        ),
        (
            new.id,
            room.id,
            a.id,
            "audio/webm",
            123_456,
            new.sha256.as_str(),
            new.key.as_str(),
            &new.details,
        )
    );
    assert!(matches!(
        store.create_media(new.clone(), NO_QUOTA).await,
        Err(StoreError::Duplicate(Unique::Media))
    ));
    let again = store
        .create_media(
            NewMedia {
                id: MediaId::generate(),
                ..new
            },
            NO_QUOTA,
        )
        .await
        .unwrap();
    assert_ne!(again.id, media.id, "the same bytes twice are two uploads");
    assert_eq!(store.media(media.id).await.unwrap(), Some(media));
    assert_eq!(store.media(MediaId::generate()).await.unwrap(), None);
}

/// Media lives while a message carries it: released only when unattached, its bytes' key
/// handed back only when no other row shares it.
pub async fn media_release(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    let sent = store
        .create_media(new_media(room.id, a.id, "image/png", 10), NO_QUOTA)
        .await
        .unwrap();
    let twice = store
        .create_media(new_media(room.id, a.id, "image/png", 10), NO_QUOTA)
        .await
        .unwrap();
    for (client_id, id) in [("1", sent.id), ("2", twice.id), ("3", twice.id)] {
        let mut m = msg(room.id, a.id, client_id, "");
        m.media_id = Some(id);
        store.append_message(m).await.unwrap();
    }
    assert!(store.media_attached(sent.id).await.unwrap());
    assert_eq!(
        store.release_media(sent.id).await.unwrap(),
        None,
        "attached"
    );
    assert!(store.media(sent.id).await.unwrap().is_some());

    store.delete_message(room.id, 1, T0).await.unwrap();
    assert!(!store.media_attached(sent.id).await.unwrap());
    assert_eq!(store.release_media(sent.id).await.unwrap(), Some(sent.key));
    assert_eq!(store.media(sent.id).await.unwrap(), None);
    assert_eq!(store.release_media(sent.id).await.unwrap(), None, "gone");

    store.delete_message(room.id, 2, T0).await.unwrap();
    assert!(
        store.media_attached(twice.id).await.unwrap(),
        "seq 3 still carries it"
    );
    assert_eq!(store.release_media(twice.id).await.unwrap(), None);
    store.delete_message(room.id, 3, T0).await.unwrap();
    assert_eq!(
        store.release_media(twice.id).await.unwrap(),
        Some(twice.key)
    );

    // Rows from before per-upload keys may share their bytes: the key comes back with the last.
    let mut shared = new_media(room.id, a.id, "image/png", 10);
    shared.key = "cd".repeat(32);
    let first = store.create_media(shared.clone(), NO_QUOTA).await.unwrap();
    shared.id = MediaId::generate();
    let second = store.create_media(shared.clone(), NO_QUOTA).await.unwrap();
    assert_eq!(store.release_media(first.id).await.unwrap(), None, "shared");
    assert_eq!(
        store.release_media(second.id).await.unwrap(),
        Some(shared.key)
    );
}

/// The sweep's candidates are old uploads no message carries; quotas count what still exists.
pub async fn unattached_media_and_quota_use(store: S) {
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let room = group(&store, &[a.id, b.id]).await;
    let at = |secs: u64, uploader, size| {
        let mut m = new_media(room.id, uploader, "image/png", size);
        m.created_at = T0.plus(std::time::Duration::from_secs(secs));
        m
    };
    let old = store
        .create_media(at(0, a.id, 100), NO_QUOTA)
        .await
        .unwrap();
    let older = store.create_media(at(0, b.id, 7), NO_QUOTA).await.unwrap();
    let attached = store.create_media(at(1, a.id, 20), NO_QUOTA).await.unwrap();
    let recent = store.create_media(at(50, a.id, 3), NO_QUOTA).await.unwrap();
    let mut m = msg(room.id, a.id, "x", "");
    m.media_id = Some(attached.id);
    store.append_message(m).await.unwrap();

    let cutoff = T0.plus(std::time::Duration::from_secs(10));
    let mut found = store.unattached_media(cutoff, 10).await.unwrap();
    found.sort();
    let mut expected = vec![old.id, older.id];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(store.unattached_media(cutoff, 1).await.unwrap().len(), 1);
    assert!(
        !store
            .unattached_media(T0, 10)
            .await
            .unwrap()
            .contains(&recent.id)
    );

    assert_eq!(store.uploaded_bytes_since(a.id, T0).await.unwrap(), 123);
    assert_eq!(store.uploaded_bytes_since(a.id, cutoff).await.unwrap(), 3);
    assert_eq!(store.uploaded_bytes_since(b.id, T0).await.unwrap(), 7);
    store.release_media(old.id).await.unwrap();
    assert_eq!(store.uploaded_bytes_since(a.id, T0).await.unwrap(), 23);
}

/// `create_media` refuses an upload past the quota, atomically, also with 20 uploads at once;
/// only the uploader's uploads within the window count.
pub async fn upload_quota(store: S) {
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let room = group(&store, &[a.id, b.id]).await;
    let window = T0.plus(std::time::Duration::from_secs(60));
    let mut before = new_media(room.id, a.id, "image/png", 1_000);
    before.created_at = T0;
    store.create_media(before, NO_QUOTA).await.unwrap();
    store
        .create_media(new_media(room.id, b.id, "image/png", 1_000), NO_QUOTA)
        .await
        .unwrap();

    let quota = UploadQuota {
        since: window,
        limit: 500,
    };
    let uploads: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            let mut new = new_media(room.id, a.id, "image/png", 100);
            new.created_at = window;
            tokio::spawn(async move { store.create_media(new, quota).await })
        })
        .collect();
    let (mut stored, mut refused) = (0, 0);
    for upload in uploads {
        match upload.await.unwrap() {
            Ok(_) => stored += 1,
            Err(StoreError::QuotaExceeded) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((stored, refused), (5, 15), "exactly the quota");
    assert_eq!(store.uploaded_bytes_since(a.id, window).await.unwrap(), 500);
    let mut one_more = new_media(room.id, a.id, "image/png", 1);
    one_more.created_at = window;
    assert!(matches!(
        store.create_media(one_more.clone(), quota).await,
        Err(StoreError::QuotaExceeded)
    ));
    assert!(
        store.media(one_more.id).await.unwrap().is_none(),
        "nothing written"
    );
    // Bob's own quota is untouched by Alice's uploads.
    let mut bobs = new_media(room.id, b.id, "image/png", 500);
    bobs.created_at = window;
    store.create_media(bobs, quota).await.unwrap();
}

/// Injection payloads and exotic text round-trip byte for byte and change nothing else. (No
/// NUL: chatcore never stores one, and PostgreSQL text cannot hold it.)
pub async fn text_round_trips_exactly(store: S) {
    const PAYLOADS: &[&str] = &[
        "' OR '1'='1",
        "\"; DROP TABLE users; --",
        "\\'",
        "%",
        "_",
        "tab\tnew\nline\r\u{7f}\u{feff}",
        "trailing space ",
        "😀 emoji",
        "𝄞 four-byte 𐍈",
        "<script>alert(1)</script>",
        "Robert'); DROP TABLE rooms;--",
    ];
    let a = user(&store, "alice").await;
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let u = store.create_user(new_user(None, payload)).await.unwrap();
        assert_eq!(
            store.user(u.id).await.unwrap().unwrap().display_name,
            *payload
        );
        let mut room = NewRoom {
            kind: RoomKind::Group,
            name: Some((*payload).to_owned()),
            direct_key: None,
            members: vec![(a.id, Role::Admin)],
            created_at: T0,
        };
        room.members.push((u.id, Role::Member));
        let room = store.create_room(room).await.unwrap();
        assert_eq!(
            store.room(room.id).await.unwrap().unwrap().name.as_deref(),
            Some(*payload)
        );
        let (m, _) = store
            .append_message(msg(room.id, u.id, &format!("c{i}"), payload))
            .await
            .unwrap();
        assert_eq!(m.body.as_bytes(), payload.as_bytes());
        assert_eq!(m.sender.display_name, *payload, "as appended");
        let back = store.message(room.id, m.seq).await.unwrap().unwrap();
        assert_eq!(back.body.as_bytes(), payload.as_bytes());
        assert_eq!(back.sender.display_name, *payload);
        let ext = format!("ext:{payload}");
        let mut host = new_user(None, "host");
        host.is_guest = false;
        host.external_id = Some(ext.clone());
        let h = store.create_user(host).await.unwrap();
        assert_eq!(
            store.user_by_external_id(&ext).await.unwrap().map(|u| u.id),
            Some(h.id)
        );
    }
    let users = store.list_users(UserId(0), 1000).await.unwrap();
    assert_eq!(
        users.len(),
        1 + 2 * PAYLOADS.len(),
        "nothing else was created or dropped"
    );
    assert_eq!(
        store.rooms_of_user(a.id).await.unwrap().len(),
        PAYLOADS.len()
    );
    assert_eq!(
        store
            .user_by_username("alice")
            .await
            .unwrap()
            .map(|u| u.0.id),
        Some(a.id)
    );
}

pub async fn missing_rows(store: S) {
    let nobody = UserId(999_999);
    assert_eq!(store.user(nobody).await.unwrap(), None);
    assert_eq!(store.room(RoomId(999_999)).await.unwrap(), None);
    assert_eq!(store.member(RoomId(999_999), nobody).await.unwrap(), None);
    assert!(store.members(RoomId(999_999)).await.unwrap().is_empty());
    assert!(matches!(
        store.set_disabled(nobody, true).await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store.set_server_admin(nobody, true).await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store.set_password_hash(nobody, "$h").await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store.upgrade_guest(nobody, "someone", "$h").await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store.rename_room(RoomId(999_999), "x").await,
        Err(StoreError::Missing(Entity::Room))
    ));
    assert!(matches!(
        store.create_session(session([9; 32], nobody)).await,
        Err(StoreError::Missing(Entity::User))
    ));

    let alice = user(&store, "alice").await;
    let room = group(&store, &[alice.id]).await;
    let mut with_nobody = NewRoom {
        kind: RoomKind::Group,
        name: Some("g".into()),
        direct_key: None,
        members: vec![(alice.id, Role::Admin), (nobody, Role::Member)],
        created_at: T0,
    };
    assert!(matches!(
        store.create_room(with_nobody.clone()).await,
        Err(StoreError::Missing(Entity::User))
    ));
    with_nobody.members.pop();
    assert_eq!(
        store.rooms_of_user(alice.id).await.unwrap().len(),
        1,
        "the refused room was not created"
    );
    assert!(matches!(
        store
            .add_member(room.id, nobody, Role::Member, T0, 10)
            .await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store
            .add_member(RoomId(999_999), alice.id, Role::Member, T0, 10)
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));
    assert!(matches!(
        store
            .set_role(RoomId(999_999), alice.id, Role::Member)
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));
    assert!(matches!(
        store.mark_read(RoomId(999_999), alice.id, 1).await,
        Err(StoreError::Missing(Entity::Room))
    ));
    assert_eq!(
        store
            .remove_member(RoomId(999_999), alice.id)
            .await
            .unwrap(),
        None
    );
    let media = |room_id, uploader_id| new_media(room_id, uploader_id, "image/png", 1);
    assert!(matches!(
        store
            .create_media(media(RoomId(999_999), alice.id), NO_QUOTA)
            .await,
        Err(StoreError::Missing(Entity::Room))
    ));
    assert!(matches!(
        store.create_media(media(room.id, nobody), NO_QUOTA).await,
        Err(StoreError::Missing(Entity::User))
    ));
    assert!(matches!(
        store.messages_after(RoomId(999_999), 0, 10).await,
        Err(StoreError::Missing(Entity::Room))
    ));
    store.ping().await.unwrap();
}
