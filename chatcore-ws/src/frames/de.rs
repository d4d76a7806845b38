//! Decoding of the shared shapes on the client side. `chatcore`'s model types serialize to the
//! wire but do not deserialize (timestamps are RFC 3339 text there), so these mirrors read the
//! wire shape and convert into the `chatcore` types.

use chatcore::{
    AvatarId, Custom, MediaId, MediaRef, Mention, Message, MessageId, Reaction, RoomId, Sender,
    Seq, Timestamp, UserId,
};
use serde::{Deserialize, Deserializer, Serialize};

/// A user as sent in `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireUser {
    /// The user's id.
    pub id: UserId,
    /// Login name, if any.
    #[serde(default)]
    pub username: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Whether this is a guest.
    #[serde(default)]
    pub guest: bool,
    /// Whether the user is a server admin.
    #[serde(default)]
    pub admin: bool,
    /// The current profile picture's id, if any.
    #[serde(default)]
    pub avatar: Option<AvatarId>,
    /// Whether the user hides when they were last seen (only in `hello`, about oneself).
    #[serde(default)]
    pub hide_last_seen: bool,
}

/// Media attached to a message, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaRefFrame {
    /// The media id.
    pub id: MediaId,
    /// The MIME type.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Image width in pixels.
    #[serde(default)]
    pub width: Option<u32>,
    /// Image height in pixels.
    #[serde(default)]
    pub height: Option<u32>,
    /// Audio playing time in milliseconds.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// Whether a thumbnail exists.
    #[serde(default)]
    pub thumbnail: bool,
}

#[derive(Deserialize)]
struct SenderDe {
    id: UserId,
    display_name: String,
}

#[derive(Deserialize)]
struct MessageDe {
    id: MessageId,
    room_id: RoomId,
    seq: Seq,
    sender: SenderDe,
    body: String,
    #[serde(default)]
    mentions: Vec<Mention>,
    #[serde(default)]
    media: Option<MediaRefFrame>,
    #[serde(default)]
    reply_to: Option<Seq>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
    client_id: String,
    #[serde(deserialize_with = "rfc3339")]
    created_at: Timestamp,
    #[serde(default, deserialize_with = "opt_rfc3339")]
    edited_at: Option<Timestamp>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    reactions: Vec<Reaction>,
}

fn parse_time<E: serde::de::Error>(text: &str) -> Result<Timestamp, E> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| E::custom(format!("bad timestamp: {e}")))?;
    Ok(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
    parse_time(&text)
}

fn opt_rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let text: Option<std::borrow::Cow<'de, str>> = Deserialize::deserialize(d)?;
    text.map(|t| parse_time(&t)).transpose()
}

/// `#[serde(with = "de::message")]`: a `chatcore::Message` from its wire shape.
pub(super) mod message {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Message, D::Error> {
        let m = MessageDe::deserialize(d)?;
        Ok(Message {
            id: m.id,
            room_id: m.room_id,
            seq: m.seq,
            sender: Sender {
                id: m.sender.id,
                display_name: m.sender.display_name,
            },
            body: m.body,
            mentions: m.mentions,
            media: m.media.map(|x| {
                Box::new(MediaRef {
                    id: x.id,
                    mime: x.mime,
                    size: x.size,
                    width: x.width,
                    height: x.height,
                    duration_ms: x.duration_ms,
                    thumbnail: x.thumbnail,
                })
            }),
            reply_to: m.reply_to,
            custom: m.kind.map(|kind| {
                Box::new(Custom {
                    kind,
                    payload: m.payload.unwrap_or_default(),
                })
            }),
            client_id: m.client_id,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
            reactions: m.reactions,
        })
    }
}

/// `#[serde(with = "de::sender")]`: a `chatcore::Sender` from its wire shape.
pub(super) mod sender {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Sender, D::Error> {
        let s = SenderDe::deserialize(d)?;
        Ok(Sender {
            id: s.id,
            display_name: s.display_name,
        })
    }
}

/// `#[serde(deserialize_with = "de::room_map")]`: `{"3": 17}` into room id → seq. Needed
/// because inside a tagged enum serde buffers the object and integer keys arrive as strings.
pub(super) fn room_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<RoomId, Seq>, D::Error> {
    let raw: std::collections::BTreeMap<std::borrow::Cow<'de, str>, Seq> =
        Deserialize::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            k.parse::<i64>().map(|id| (RoomId(id), v)).map_err(|_| {
                serde::de::Error::custom(format!("room id must be an integer, got {k:?}"))
            })
        })
        .collect()
}
