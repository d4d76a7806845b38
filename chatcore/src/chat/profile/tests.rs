//! Scenarios of profiles: renaming, pictures and who sees "last seen".

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::*;
use crate::chat::{ChatConfig, Clock, RoomView};
use crate::hub::{EventKind, Subscription};
use crate::model::Timestamp;
use crate::testing::World;

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.unwrap_err().code()
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Bytes {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    Bytes::from(out.into_inner())
}

fn png(width: u32, height: u32) -> Bytes {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 9]));
    encoded(img.into(), image::ImageFormat::Png)
}

fn rename(name: &str) -> ProfileChange {
    ProfileChange {
        display_name: Some(name.to_owned()),
        hide_last_seen: None,
    }
}

fn hide(hide: bool) -> ProfileChange {
    ProfileChange {
        display_name: None,
        hide_last_seen: Some(hide),
    }
}

/// The `User` events queued on `sub` right now.
fn users_heard(sub: &mut Subscription) -> Vec<PublicUser> {
    std::iter::from_fn(|| sub.try_recv())
        .filter_map(|e| match e.kind() {
            EventKind::User(user) => Some(user.clone()),
            _ => None,
        })
        .collect()
}

async fn picture(w: &World, actor: &Actor, user: UserId, avatar: AvatarId) -> Result<Vec<u8>> {
    let (_, mut file) = w.chat.open_avatar(actor, user, avatar).await?;
    let mut out = Vec::new();
    file.reader.read_to_end(&mut out).await.unwrap();
    Ok(out)
}

/// A live connection of `actor` with nothing queued yet.
async fn connected(w: &World, actor: &Actor) -> Subscription {
    let (mut sub, _) = w.chat.connect(actor).await.unwrap();
    std::iter::from_fn(|| sub.try_recv()).for_each(drop);
    sub
}

/// Ann and Bob in a group, Eve in no room with them, and Bob's live connection.
async fn ann_bob_and_eve(w: &World) -> (Actor, Actor, Actor, Subscription) {
    let (ann, bob, eve) = (
        w.user("ann").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    w.group(&ann, &[&bob]).await;
    let bobs = connected(w, &bob).await;
    (ann, bob, eve, bobs)
}

#[tokio::test]
async fn a_rename_reaches_roommates_and_own_devices_and_nobody_else() {
    let w = World::new();
    let (ann, _, eve, mut bobs) = ann_bob_and_eve(&w).await;
    let mut anns_phone = connected(&w, &ann).await;
    let mut eves = connected(&w, &eve).await;

    let script = "<img src=x onerror=alert(1)>";
    let user = w.chat.update_profile(&ann, rename(script)).await.unwrap();
    assert_eq!(user.display_name, script, "text is data: kept as typed");
    for sub in [&mut bobs, &mut anns_phone] {
        let heard = users_heard(sub);
        assert_eq!(heard, vec![PublicUser::from(&user)], "once per connection");
    }
    assert!(users_heard(&mut eves).is_empty());
    assert_eq!(w.chat.user(ann.id()).await.unwrap().display_name, script);

    // The "last seen" setting is nobody's news.
    let user = w.chat.update_profile(&ann, hide(true)).await.unwrap();
    assert!(user.hide_last_seen);
    assert_eq!(user.display_name, script);
    assert!(users_heard(&mut bobs).is_empty());
    assert!(users_heard(&mut anns_phone).is_empty());
}

#[tokio::test]
async fn bad_profile_changes_are_refused_and_change_nothing() {
    let w = World::new();
    let guest = w.guest().await;
    let before = w.chat.user(guest.id()).await.unwrap();
    let nothing = w
        .chat
        .update_profile(&guest, ProfileChange::default())
        .await;
    assert_eq!(nothing.unwrap_err().field(), Some("profile"));
    for bad in ["", " \n\t ", &"x".repeat(41)] {
        let refused = w.chat.update_profile(&guest, rename(bad)).await;
        let err = refused.unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("invalid", Some("display_name")),
            "{bad:?}"
        );
    }
    assert_eq!(w.chat.user(guest.id()).await.unwrap(), before);
    // Guests name themselves like anyone.
    let named = w
        .chat
        .update_profile(&guest, rename("  Zoë "))
        .await
        .unwrap();
    assert_eq!(named.display_name, "Zoë");
}

#[tokio::test]
async fn a_new_picture_replaces_the_old_ones_bytes() {
    let w = World::new();
    let (ann, bob, eve, mut bobs) = ann_bob_and_eve(&w).await;

    let first = w
        .chat
        .set_avatar(&ann, png(800, 600), Some("image/png"))
        .await
        .unwrap();
    let first_id = first.avatar.as_ref().unwrap().id;
    assert_eq!(first.avatar.as_ref().unwrap().mime, "image/png");
    assert_eq!(users_heard(&mut bobs), vec![PublicUser::from(&first)]);
    assert_eq!(w.media.len(), 1, "one picture, no thumbnail");
    for who in [&ann, &bob] {
        let bytes = picture(&w, who, ann.id(), first_id).await.unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (512, 512));
    }
    assert_eq!(
        code(picture(&w, &eve, ann.id(), first_id).await),
        "not_found"
    );

    let second = w.chat.set_avatar(&ann, png(100, 300), None).await.unwrap();
    let second_id = second.avatar.as_ref().unwrap().id;
    assert_ne!(first_id, second_id);
    assert_eq!(w.media.len(), 1, "the old picture's bytes are gone");
    let bytes = picture(&w, &bob, ann.id(), second_id).await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (100, 100),
        "never enlarged"
    );
    // A stale id, a wrong user and a stranger all get the same answer.
    assert_eq!(
        code(picture(&w, &bob, ann.id(), first_id).await),
        "not_found"
    );
    assert_eq!(
        code(picture(&w, &bob, bob.id(), second_id).await),
        "not_found"
    );
    assert_eq!(
        code(picture(&w, &eve, ann.id(), second_id).await),
        "not_found"
    );
    assert_eq!(
        code(picture(&w, &bob, UserId(9_999), second_id).await),
        "not_found"
    );

    let removed = w.chat.remove_avatar(&ann).await.unwrap();
    assert_eq!(removed.avatar, None);
    assert!(w.media.is_empty());
    assert_eq!(
        code(picture(&w, &ann, ann.id(), second_id).await),
        "not_found"
    );
    users_heard(&mut bobs);
    // Removing nothing succeeds and tells nobody.
    assert_eq!(w.chat.remove_avatar(&ann).await.unwrap().avatar, None);
    assert!(users_heard(&mut bobs).is_empty());
}

#[tokio::test]
async fn forged_animated_audio_and_oversized_pictures_are_refused() {
    let config = ChatConfig {
        max_image_pixels: 1_000_000,
        max_upload_bytes: 200_000,
        ..ChatConfig::default()
    };
    let w = World::builder().config(config).start();
    let ann = w.user("ann").await;
    let svg = Bytes::from_static(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>");
    let wav = {
        let mut wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0".to_vec();
        wav.resize(44, 0);
        Bytes::from(wav)
    };
    let cases: [(Bytes, Option<&str>, &str); 6] = [
        (svg.clone(), Some("image/svg+xml"), "unsupported_media"),
        (svg, Some("image/png"), "unsupported_media"),
        (png(10, 10), Some("text/html"), "unsupported_media"),
        (wav, None, "unsupported_media"),
        (
            Bytes::from(crate::testing::animated_gif()),
            Some("image/gif"),
            "invalid",
        ),
        (png(2000, 1000), None, "too_many_pixels"),
    ];
    for (bytes, declared, wanted) in cases {
        let refused = w.chat.set_avatar(&ann, bytes, declared).await;
        assert_eq!(code(refused), wanted, "{declared:?}");
    }
    let too_large = Bytes::from(vec![0u8; 200_001]);
    assert_eq!(
        code(w.chat.set_avatar(&ann, too_large, None).await),
        "too_large"
    );
    assert_eq!(
        w.chat
            .check_avatar_upload(Some(200_001))
            .unwrap_err()
            .code(),
        "too_large"
    );
    assert!(w.media.is_empty());
    assert_eq!(w.chat.user(ann.id()).await.unwrap().avatar, None);
}

/// What `viewer` sees as `other`'s last seen in `room`, and as their own.
async fn last_seen(
    w: &World,
    viewer: &Actor,
    room: RoomId,
    other: UserId,
) -> [Option<Timestamp>; 2] {
    let view: RoomView = w.chat.room(viewer, room).await.unwrap();
    let of = |id| {
        view.members
            .iter()
            .find(|m| m.user.id == id)
            .unwrap()
            .last_seen
    };
    [of(other), of(viewer.id())]
}

#[tokio::test]
async fn last_seen_shows_only_in_direct_rooms_when_neither_hides_it() {
    let w = World::new();
    let (ann, bob, cy) = (
        w.user("ann").await,
        w.user("bob").await,
        w.user("cyd").await,
    );
    let direct = w.chat.open_direct(&ann, bob.id()).await.unwrap().id;
    let group = w.group(&ann, &[&bob, &cy]).await;
    let bobs_time = w.chat.user(bob.id()).await.unwrap().last_active_at;
    let anns_time = w.chat.user(ann.id()).await.unwrap().last_active_at;

    assert_eq!(
        last_seen(&w, &ann, direct, bob.id()).await,
        [Some(bobs_time), None]
    );
    assert_eq!(
        last_seen(&w, &bob, direct, ann.id()).await,
        [Some(anns_time), None]
    );
    assert_eq!(last_seen(&w, &ann, group, bob.id()).await, [None, None]);
    assert_eq!(last_seen(&w, &cy, group, ann.id()).await, [None, None]);

    // Either side hiding hides both ways.
    for hider in [&bob, &ann] {
        w.chat.update_profile(hider, hide(true)).await.unwrap();
        assert_eq!(last_seen(&w, &ann, direct, bob.id()).await, [None, None]);
        assert_eq!(last_seen(&w, &bob, direct, ann.id()).await, [None, None]);
        w.chat.update_profile(hider, hide(false)).await.unwrap();
    }
    assert_eq!(
        last_seen(&w, &ann, direct, bob.id()).await,
        [Some(bobs_time), None]
    );
    // The room list says the same as the room.
    let listed = w.chat.rooms(&ann).await.unwrap();
    let view = listed.iter().find(|r| r.id == direct).unwrap();
    let bob_there = view.members.iter().find(|m| m.user.id == bob.id()).unwrap();
    assert_eq!(bob_there.last_seen, Some(bobs_time));
}

#[tokio::test]
async fn the_last_connection_closing_is_when_the_user_was_last_seen() {
    let w = World::new();
    let ann = w.user("ann").await;
    let (laptop, _) = w.chat.connect(&ann).await.unwrap();
    let (phone, _) = w.chat.connect(&ann).await.unwrap();
    let joined = w.chat.user(ann.id()).await.unwrap().last_active_at;

    w.clock.advance(Duration::from_secs(600));
    w.chat.disconnect(laptop).await.unwrap();
    let still = w.chat.user(ann.id()).await.unwrap().last_active_at;
    assert_eq!(still, joined, "the phone is still connected");

    w.clock.advance(Duration::from_secs(600));
    w.chat.disconnect(phone).await.unwrap();
    let gone = w.chat.user(ann.id()).await.unwrap().last_active_at;
    assert_eq!(gone, w.clock.now());
}

#[tokio::test]
async fn a_user_on_their_own_is_seen_by_roommates_with_the_same_last_seen_rule() {
    let w = World::new();
    let (ann, bob, cy, eve) = (
        w.user("ann").await,
        w.user("bob").await,
        w.user("cyd").await,
        w.user("eve").await,
    );
    w.chat.open_direct(&ann, bob.id()).await.unwrap();
    w.group(&ann, &[&bob, &cy]).await;
    let bobs_time = w.chat.user(bob.id()).await.unwrap().last_active_at;

    let seen = w.chat.user_view(&ann, bob.id()).await.unwrap();
    assert_eq!((seen.user.id, seen.last_seen), (bob.id(), Some(bobs_time)));
    let in_group_only = w.chat.user_view(&cy, bob.id()).await.unwrap();
    assert_eq!(in_group_only.last_seen, None);
    assert_eq!(
        w.chat.user_view(&ann, ann.id()).await.unwrap().last_seen,
        None
    );
    w.chat.update_profile(&ann, hide(true)).await.unwrap();
    assert_eq!(
        w.chat.user_view(&ann, bob.id()).await.unwrap().last_seen,
        None
    );
    // A stranger and a user who does not exist are told the same.
    assert_eq!(code(w.chat.user_view(&eve, bob.id()).await), "not_found");
    assert_eq!(
        code(w.chat.user_view(&eve, UserId(9_999)).await),
        "not_found"
    );
}
