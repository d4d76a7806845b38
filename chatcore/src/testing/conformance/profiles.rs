//! Conformance cases of profiles: display name, the "last seen" setting and the avatar.

use std::collections::HashSet;

use super::{S, group, new_user, user};
use crate::error::{Entity, StoreError};
use crate::model::*;
use crate::store::Among;

fn avatar(n: u8, mime: &str) -> Avatar {
    Avatar {
        id: AvatarId([n; 16]),
        mime: mime.to_owned(),
    }
}

pub async fn profile_changes(store: S) {
    let ann = store.create_user(new_user(None, "Ann")).await.unwrap();
    assert_eq!((ann.avatar.clone(), ann.hide_last_seen), (None, false));

    let renamed = ProfileChange {
        display_name: Some("Zoë Quinn".into()),
        hide_last_seen: None,
    };
    let after = store.update_profile(ann.id, &renamed).await.unwrap();
    assert_eq!(
        (after.display_name.as_str(), after.hide_last_seen),
        ("Zoë Quinn", false)
    );
    // The new name is what search finds (its lowercase key changed with it).
    let found = store
        .search_users("zoë", Among::Everyone, 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ann.id]);
    assert!(
        store
            .search_users("ann", Among::Everyone, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let hidden = ProfileChange {
        display_name: None,
        hide_last_seen: Some(true),
    };
    let after = store.update_profile(ann.id, &hidden).await.unwrap();
    assert_eq!(
        (after.display_name.as_str(), after.hide_last_seen),
        ("Zoë Quinn", true)
    );
    assert_eq!(store.user(ann.id).await.unwrap().unwrap(), after);

    let missing = store.update_profile(UserId(ann.id.0 + 1000), &hidden).await;
    assert!(
        matches!(missing, Err(StoreError::Missing(Entity::User))),
        "{missing:?}"
    );
}

pub async fn avatars_replace_each_other(store: S) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let room = group(&store, &[ann.id, bob.id]).await;

    let (after, replaced) = store
        .set_avatar(ann.id, Some(&avatar(1, "image/png")))
        .await
        .unwrap();
    assert_eq!(
        (after.avatar, replaced),
        (Some(avatar(1, "image/png")), None)
    );
    let (after, replaced) = store
        .set_avatar(ann.id, Some(&avatar(2, "image/jpeg")))
        .await
        .unwrap();
    assert_eq!(after.avatar, Some(avatar(2, "image/jpeg")));
    assert_eq!(replaced, Some(avatar(1, "image/png")));
    assert_eq!(store.user(ann.id).await.unwrap().unwrap(), after);
    // Room lists carry members' avatars and settings like single reads do.
    let list = store.room_list(bob.id).await.unwrap();
    let entry = list.iter().find(|e| e.room.id == room.id).unwrap();
    let (_, shown) = entry
        .members
        .iter()
        .find(|(m, _)| m.user_id == ann.id)
        .unwrap();
    assert_eq!(shown, &after);

    let (after, replaced) = store.set_avatar(ann.id, None).await.unwrap();
    assert_eq!(
        (after.avatar, replaced),
        (None, Some(avatar(2, "image/jpeg")))
    );
    let (after, replaced) = store.set_avatar(ann.id, None).await.unwrap();
    assert_eq!((after.avatar, replaced), (None, None));
    assert_eq!(store.user(bob.id).await.unwrap().unwrap().avatar, None);

    let missing = store
        .set_avatar(UserId(bob.id.0 + 1000), Some(&avatar(3, "image/png")))
        .await;
    assert!(
        matches!(missing, Err(StoreError::Missing(Entity::User))),
        "{missing:?}"
    );
}

/// Concurrent changes of one user's avatar: each avatar set is replaced by exactly one later
/// change, or is the one that stays, so no picture's bytes are left behind or deleted twice.
pub async fn concurrent_avatar_changes_replace_each_once(store: S) {
    let ann = user(&store, "ann").await;
    let changes = (1..=8u8).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .set_avatar(ann.id, Some(&avatar(n, "image/png")))
                .await
        })
    });
    let mut replaced = Vec::new();
    for change in changes {
        let (_, before) = change.await.unwrap().unwrap();
        replaced.extend(before.map(|a| a.id.0[0]));
    }
    let stays = store
        .user(ann.id)
        .await
        .unwrap()
        .unwrap()
        .avatar
        .unwrap()
        .id
        .0[0];
    replaced.push(stays);
    let distinct: HashSet<u8> = replaced.iter().copied().collect();
    assert_eq!(replaced.len(), 8, "{replaced:?}");
    assert_eq!(distinct, (1..=8).collect(), "{replaced:?}");
}
