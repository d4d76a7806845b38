//! Mentions: `@username` in a message's text, resolved to members of the room when it is sent
//! or edited, and kept as spans of the text (never markup).

use std::collections::HashMap;

use super::Chat;
use crate::error::Result;
use crate::model::{Mention, RoomId, UserId};

/// Most different usernames one message resolves; `@names` after these stay plain text, so a
/// message costs at most this many lookups however many `@` it holds.
const MAX_MENTIONED: usize = 20;

impl Chat {
    /// The mentions in `body`, a message of `room`: each `@username` (any case) that names a
    /// member of the room now, in text order. Anything else stays plain text: a non-member, an
    /// unknown name, an e-mail address. Text without `@` costs no store read.
    pub(super) async fn resolve_mentions(&self, room: RoomId, body: &str) -> Result<Vec<Mention>> {
        let candidates = candidates(body);
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let members = self.store().members(room).await?;
        let mut named: HashMap<&str, Option<UserId>> = HashMap::new();
        for candidate in &candidates {
            if named.len() == MAX_MENTIONED || named.contains_key(candidate.name.as_str()) {
                continue;
            }
            let user = self.store().user_by_username(&candidate.name).await?;
            let member = user
                .map(|(user, _)| user.id)
                .filter(|id| members.iter().any(|m| m.user_id == *id));
            named.insert(&candidate.name, member);
        }
        Ok(candidates
            .iter()
            .filter_map(|c| {
                let user_id = (*named.get(c.name.as_str())?)?;
                Some(Mention {
                    start: c.start,
                    end: c.end,
                    user_id,
                })
            })
            .collect())
    }
}

/// An `@name` in a text: bytes `start..end` (the `@` included) and the name, lowercase.
#[derive(Debug, PartialEq, Eq)]
struct Candidate {
    start: u32,
    end: u32,
    name: String,
}

/// Every `@name` that could be a username: an `@` at the start or after a character that
/// cannot end a username (so `bob@example.com` is none), then 3–32 username characters
/// (`a-z 0-9 _ . -`, any case), without the dots that end a sentence (`@bob.` is `@bob`).
fn candidates(text: &str) -> Vec<Candidate> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        if at > 0 && is_name_byte(bytes[at - 1]) {
            continue;
        }
        let name_len = bytes[at + 1..]
            .iter()
            .take_while(|&&b| is_name_byte(b))
            .count();
        let name = text[at + 1..at + 1 + name_len].trim_end_matches('.');
        let (Ok(start), Ok(end)) = (u32::try_from(at), u32::try_from(at + 1 + name.len())) else {
            break;
        };
        if (3..=32).contains(&name.len()) {
            found.push(Candidate {
                start,
                end,
                name: name.to_ascii_lowercase(),
            });
        }
    }
    found
}

/// A byte that may appear in a username (see [`sanitize::username`](crate::sanitize::username)).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(&str, String)> {
        candidates(text)
            .into_iter()
            .map(|c| (&text[c.start as usize..c.end as usize], c.name))
            .collect()
    }

    #[test]
    fn names_are_found_with_their_spans() {
        assert_eq!(
            names("@Bob and @carol.b, see @dave."),
            [
                ("@Bob", "bob".to_owned()),
                ("@carol.b", "carol.b".to_owned()),
                ("@dave", "dave".to_owned())
            ]
        );
        assert_eq!(names("שלום @bob!"), [("@bob", "bob".to_owned())]);
        assert_eq!(names("(@bob)"), [("@bob", "bob".to_owned())]);
    }

    #[test]
    fn addresses_short_names_and_lone_signs_are_not_names() {
        for text in [
            "mail bob@example.com",
            "@ab",
            "@",
            "@@",
            "a @ b",
            "@...",
            "no at sign",
            &format!("@{}", "a".repeat(33)),
        ] {
            assert_eq!(names(text), [], "{text:?}");
        }
    }
}
