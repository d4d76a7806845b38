//! Custom message kinds: messages that carry a host-defined `kind` and a JSON payload (a poll,
//! a location, a card from a bot) next to, or instead of, text.
//!
//! A chat accepts no custom kind until the host registers it with
//! [`ChatBuilder::message_kind`](crate::ChatBuilder::message_kind) together with a validator
//! for its payload; a send naming any other kind is refused with `unknown_kind`, so nobody can
//! store arbitrary payloads in a host that never opted in. chatcore checks the name, the payload's
//! size and that the sender may write to the room; the validator checks the payload's shape.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use std::sync::Arc;
//! use chatcore::{Chat, MemoryMediaStore, MemoryStore, SendMessage};
//!
//! let chat = Chat::builder(Arc::new(MemoryStore::new()), Arc::new(MemoryMediaStore::new()))
//!     .message_kind("location", |payload| {
//!         let coordinate = |name: &str, max: f64| {
//!             payload[name].as_f64().filter(|v| v.abs() <= max).is_some()
//!         };
//!         if coordinate("lat", 90.0) && coordinate("lon", 180.0) {
//!             Ok(())
//!         } else {
//!             Err("a location needs lat (±90) and lon (±180)".into())
//!         }
//!     })
//!     .start(&tokio::runtime::Handle::current())?;
//! let alice = chat.external_user("app:1", "Alice").await?;
//! let room = chat.create_group(&alice, "Hikers", &[]).await?;
//! let sent = chat
//!     .send(&alice, SendMessage {
//!         room_id: room.id,
//!         body: "Meet here".into(),
//!         kind: Some("location".into()),
//!         payload: Some(serde_json::json!({"lat": 46.55, "lon": 7.98})),
//!         ..Default::default()
//!     })
//!     .await?;
//! assert_eq!(sent.custom.unwrap().kind, "location");
//! # chat.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::Custom;

/// Longest kind name, in bytes.
pub const MAX_KIND_LEN: usize = 32;

/// Largest payload, in bytes of compact JSON text.
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024;

/// A host's check of a payload: `Ok(())` to accept it, `Err(reason)` to refuse the message
/// (the sender gets `invalid` on field `payload` with this reason, written for the user).
pub type Validator = dyn Fn(&serde_json::Value) -> std::result::Result<(), String> + Send + Sync;

/// The kinds a chat accepts, each with its validator. Empty unless the host registers kinds.
#[derive(Clone, Default)]
pub(crate) struct Kinds {
    validators: HashMap<String, Arc<Validator>>,
}

impl Kinds {
    /// Registers `kind`, replacing an earlier validator for the same name. A bad name is
    /// refused here, when the chat starts, not later on the first send.
    pub(crate) fn register(&mut self, kind: String, validator: Arc<Validator>) -> Result<()> {
        check_name(&kind)?;
        self.validators.insert(kind, validator);
        Ok(())
    }

    /// The content a send asked for, checked: `None` without a kind; a payload without a
    /// kind, a bad name, an unregistered kind, an oversized payload or one the validator
    /// refuses is an error, and nothing is stored.
    pub(crate) fn check(
        &self,
        kind: Option<String>,
        payload: Option<serde_json::Value>,
    ) -> Result<Option<Custom>> {
        let Some(kind) = kind else {
            return match payload {
                None => Ok(None),
                Some(_) => Err(Error::invalid("payload", "a payload needs a kind")),
            };
        };
        check_name(&kind)?;
        let validate = self
            .validators
            .get(&kind)
            .ok_or_else(|| Error::UnknownKind(kind.clone()))?;
        let payload = payload.unwrap_or_default();
        let size = serde_json::to_vec(&payload).map_or(usize::MAX, |json| json.len());
        if size > MAX_PAYLOAD_BYTES {
            return Err(Error::TooLarge {
                what: "payload",
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        validate(&payload).map_err(|reason| Error::invalid("payload", reason))?;
        Ok(Some(Custom { kind, payload }))
    }

    /// The registered names, sorted.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.validators.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Checks a kind name: 1–[`MAX_KIND_LEN`] of `a-z 0-9 _ . -`, starting with a letter (short
/// identifiers that are safe in URLs, CSS classes and logs). Refused: `invalid` on field `kind`.
pub fn check_name(kind: &str) -> Result<()> {
    let ok = (1..=MAX_KIND_LEN).contains(&kind.len())
        && kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "kind",
            format!("a kind is 1–{MAX_KIND_LEN} of a-z 0-9 _ . - starting with a letter"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn poll_only() -> Kinds {
        let mut kinds = Kinds::default();
        let validator: Arc<Validator> = Arc::new(|payload| match payload["question"].as_str() {
            Some(_) => Ok(()),
            None => Err("a poll needs a question".into()),
        });
        kinds.register("poll".into(), validator).unwrap();
        kinds
    }

    #[test]
    fn no_kind_and_no_payload_is_a_plain_message() {
        assert_eq!(poll_only().check(None, None).unwrap(), None);
    }

    #[test]
    fn a_registered_kind_with_a_valid_payload_passes_unchanged() {
        let payload = json!({"question": "Lunch?", "options": ["yes", "no"]});
        let custom = poll_only()
            .check(Some("poll".into()), Some(payload.clone()))
            .unwrap()
            .unwrap();
        assert_eq!((custom.kind.as_str(), custom.payload), ("poll", payload));
    }

    #[test]
    fn every_kind_is_unknown_until_the_host_registers_it() {
        let err = Kinds::default()
            .check(Some("poll".into()), Some(json!({"question": "?"})))
            .unwrap_err();
        assert_eq!(err.code(), "unknown_kind");
        let err = poll_only()
            .check(Some("location".into()), None)
            .unwrap_err();
        assert_eq!(err.code(), "unknown_kind");
    }

    #[test]
    fn bad_names_are_invalid_before_any_lookup() {
        for name in [
            "",
            "Poll",
            "1poll",
            "po ll",
            "poll<b>",
            "é",
            &"p".repeat(33),
        ] {
            let err = poll_only().check(Some(name.into()), None).unwrap_err();
            assert_eq!(
                (err.code(), err.field()),
                ("invalid", Some("kind")),
                "{name:?}"
            );
        }
        for name in ["p", "poll", "acme.poll-v2_1", &"p".repeat(32)] {
            assert!(check_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn a_payload_needs_a_kind() {
        let err = poll_only().check(None, Some(json!({}))).unwrap_err();
        assert_eq!((err.code(), err.field()), ("invalid", Some("payload")));
    }

    #[test]
    fn oversized_payloads_are_refused_before_the_validator_sees_them() {
        let big = json!({"question": "x".repeat(MAX_PAYLOAD_BYTES)});
        let err = poll_only()
            .check(Some("poll".into()), Some(big))
            .unwrap_err();
        assert_eq!(err.code(), "too_large");
        let fits = json!({"question": "x".repeat(MAX_PAYLOAD_BYTES - 20)});
        assert!(poll_only().check(Some("poll".into()), Some(fits)).is_ok());
    }

    #[test]
    fn the_validators_reason_reaches_the_sender() {
        let err = poll_only()
            .check(Some("poll".into()), Some(json!({"options": []})))
            .unwrap_err();
        assert_eq!((err.code(), err.field()), ("invalid", Some("payload")));
        assert!(err.to_string().contains("a poll needs a question"));
    }

    #[test]
    fn registering_a_bad_name_fails() {
        let validator: Arc<Validator> = Arc::new(|_| Ok(()));
        let err = Kinds::default()
            .register("Bad Name".into(), validator)
            .unwrap_err();
        assert_eq!(err.field(), Some("kind"));
    }
}
