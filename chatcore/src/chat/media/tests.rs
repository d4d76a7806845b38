#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::*;
use crate::chat::{ChatConfig, SendMessage};
use crate::model::{Message, Role};
use crate::testing::World;

fn world() -> World {
    World::new()
}

fn world_with(config: ChatConfig) -> World {
    World::builder().config(config).start()
}

fn png(width: u32, height: u32) -> Bytes {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 9]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    Bytes::from(out.into_inner())
}

/// What these scenarios do beyond the public [`World`]'s steps.
trait MediaSteps {
    async fn send_media(&self, actor: &Actor, room: RoomId, id: MediaId) -> Result<Message>;
    async fn read(&self, actor: &Actor, id: MediaId, variant: MediaVariant) -> Result<Vec<u8>>;
}

impl MediaSteps for World {
    async fn send_media(&self, actor: &Actor, room: RoomId, id: MediaId) -> Result<Message> {
        let msg = SendMessage {
            room_id: room,
            media_id: Some(id),
            ..Default::default()
        };
        self.chat.send(actor, msg).await
    }

    async fn read(&self, actor: &Actor, id: MediaId, variant: MediaVariant) -> Result<Vec<u8>> {
        let (_, mut file) = self.chat.open_media(actor, id, variant).await?;
        let mut out = Vec::new();
        file.reader.read_to_end(&mut out).await.unwrap();
        Ok(out)
    }
}

fn code<T>(r: Result<T>) -> &'static str {
    r.err().map_or("ok", |e| e.code())
}

#[tokio::test]
async fn deleting_the_message_deletes_its_media_for_everyone() {
    let w = world();
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.group(&alice, &[&bob]).await;
    let media = w
        .chat
        .upload(&alice, room, png(400, 300), None)
        .await
        .unwrap();
    assert_eq!(w.media.len(), 2, "the image and its thumbnail");
    let sent = w.send_media(&alice, room, media.id).await.unwrap();
    for who in [&alice, &bob] {
        assert!(w.read(who, media.id, MediaVariant::Original).await.is_ok());
        assert!(w.read(who, media.id, MediaVariant::Thumbnail).await.is_ok());
    }

    w.chat.delete(&alice, room, sent.seq).await.unwrap();
    for who in [&alice, &bob] {
        for variant in [MediaVariant::Original, MediaVariant::Thumbnail] {
            assert_eq!(code(w.read(who, media.id, variant).await), "not_found");
        }
    }
    assert!(w.media.is_empty(), "bytes and thumbnail deleted");
    assert_eq!(
        code(w.send_media(&alice, room, media.id).await),
        "not_found",
        "a deleted upload cannot be sent again"
    );
}

#[tokio::test]
async fn media_another_message_carries_survives_a_delete() {
    let w = world();
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    let media = w.chat.upload(&alice, room, png(8, 8), None).await.unwrap();
    let first = w.send_media(&alice, room, media.id).await.unwrap();
    w.send_media(&alice, room, media.id).await.unwrap();
    w.chat.delete(&alice, room, first.seq).await.unwrap();
    assert!(
        w.read(&alice, media.id, MediaVariant::Original)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_upload_is_the_uploaders_until_it_is_sent() {
    let w = world();
    let (alice, bob, carol) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("carol").await,
    );
    let room = w.group(&alice, &[&bob]).await;
    let media = w.chat.upload(&alice, room, png(8, 8), None).await.unwrap();
    assert!(
        w.read(&alice, media.id, MediaVariant::Original)
            .await
            .is_ok()
    );
    assert_eq!(
        code(w.read(&bob, media.id, MediaVariant::Original).await),
        "not_found"
    );
    assert_eq!(
        code(w.send_media(&bob, room, media.id).await),
        "not_found",
        "nobody sends another's upload"
    );
    w.chat
        .add_member(&alice, room, carol.id(), Role::Member)
        .await
        .unwrap();
    assert_eq!(
        code(w.read(&carol, media.id, MediaVariant::Original).await),
        "not_found",
        "a member added later does not get unsent uploads"
    );
    assert_eq!(
        code(w.read(&alice, media.id, MediaVariant::Thumbnail).await),
        "not_found",
        "an 8-pixel image has no thumbnail"
    );

    w.send_media(&alice, room, media.id).await.unwrap();
    for who in [&bob, &carol] {
        assert!(w.read(who, media.id, MediaVariant::Original).await.is_ok());
    }
}

#[tokio::test]
async fn unsent_uploads_are_swept_after_the_grace_period() {
    let w = world();
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    let unsent = w.chat.upload(&alice, room, png(8, 8), None).await.unwrap();
    let sent = w.chat.upload(&alice, room, png(9, 9), None).await.unwrap();
    w.send_media(&alice, room, sent.id).await.unwrap();

    assert_eq!(
        w.chat.sweep_unattached_media().await.unwrap(),
        0,
        "in grace"
    );
    w.clock
        .advance(w.chat.config().unattached_media_grace + Duration::from_secs(1));
    assert_eq!(w.chat.sweep_unattached_media().await.unwrap(), 1);
    assert_eq!(
        code(w.read(&alice, unsent.id, MediaVariant::Original).await),
        "not_found"
    );
    assert!(
        w.read(&alice, sent.id, MediaVariant::Original)
            .await
            .is_ok()
    );
    assert_eq!(w.media.len(), 1);
}

#[tokio::test]
async fn uploads_past_the_daily_quota_are_refused() {
    let one = png(8, 8);
    let config = ChatConfig {
        upload_quota_per_day: 3 * 1024,
        guest_upload_quota_per_day: 1,
        guests_can_create_groups: true,
        ..ChatConfig::default()
    };
    let w = world_with(config);
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    let mut used = 0;
    while used < 3 * 1024 - 200 {
        used += w
            .chat
            .upload(&alice, room, one.clone(), None)
            .await
            .unwrap()
            .size;
    }
    assert_eq!(
        code(w.chat.upload(&alice, room, png(64, 64), None).await),
        "quota_exceeded"
    );
    assert_eq!(
        code(w.chat.check_upload(&alice, room, Some(4096)).await),
        "quota_exceeded",
        "refused before the bytes are read"
    );
    w.clock.advance(Duration::from_secs(24 * 3600 + 1));
    assert!(
        w.chat.upload(&alice, room, one.clone(), None).await.is_ok(),
        "a new day"
    );

    let (guest, _) = w.chat.guest(None).await.unwrap();
    let theirs = w.group(&guest, &[]).await;
    assert_eq!(
        code(w.chat.upload(&guest, theirs, one, None).await),
        "quota_exceeded",
        "guests have their own, lower quota"
    );
}

#[tokio::test]
async fn images_are_stored_reencoded_with_their_size_and_a_thumbnail() {
    let w = world();
    let alice = w.user("alice").await;
    let room = w.group(&alice, &[]).await;
    let mut upload = png(640, 200).to_vec();
    upload.extend_from_slice(b"PK\x03\x04trailing zip");
    let media = w
        .chat
        .upload(&alice, room, Bytes::from(upload), Some("image/png"))
        .await
        .unwrap();
    assert_eq!(
        (
            media.details.width,
            media.details.height,
            media.details.thumbnail_mime.as_deref()
        ),
        (Some(640), Some(200), Some("image/jpeg"))
    );
    let stored = w
        .read(&alice, media.id, MediaVariant::Original)
        .await
        .unwrap();
    assert_eq!(stored.len() as u64, media.size);
    assert!(!stored.windows(4).any(|w| w == b"PK\x03\x04"));
    let thumb = w
        .read(&alice, media.id, MediaVariant::Thumbnail)
        .await
        .unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 100));

    let config = ChatConfig {
        max_image_pixels: 100,
        ..ChatConfig::default()
    };
    let small = world_with(config);
    let bob = small.user("bob").await;
    let room = small.group(&bob, &[]).await;
    assert_eq!(
        code(small.chat.upload(&bob, room, png(11, 10), None).await),
        "too_many_pixels"
    );
    assert!(small.media.is_empty());
}
