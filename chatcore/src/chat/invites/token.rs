//! Invite tokens: 256 random bits from the OS, as 43 characters of URL-safe base64 (they go
//! into a link), stored only as their SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// How many characters a token has.
const LEN: usize = 43;
/// How many of its first characters are kept to tell links apart (36 of its 256 bits).
const PREFIX_LEN: usize = 6;

/// The secret part of an invite link, shown to the admin who created it once.
pub(super) struct InviteToken(String);

impl InviteToken {
    /// A fresh token: 32 bytes from the OS CSPRNG.
    pub(super) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        crate::token::fill_random(&mut bytes);
        InviteToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token as presented in a link, or `None` when it cannot be one (wrong length or
    /// characters), so nothing else is ever hashed or looked up.
    pub(super) fn presented(text: &str) -> Option<Self> {
        let well_formed = text.len() == LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| InviteToken(text.to_owned()))
    }

    /// The token text, for the link.
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// What admins recognise the link by.
    pub(super) fn prefix(&self) -> String {
        self.0[..PREFIX_LEN].to_owned()
    }

    /// The SHA-256 of the token, which is what stores keep.
    pub(super) fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_url_safe_and_checked_when_presented() {
        let a = InviteToken::generate();
        let b = InviteToken::generate();
        assert_eq!(a.as_str().len(), LEN);
        assert_ne!(a.as_str(), b.as_str());
        let again = InviteToken::presented(a.as_str()).unwrap();
        assert_eq!(again.hash(), a.hash());
        assert_eq!(a.prefix(), a.as_str()[..PREFIX_LEN]);
        let padded = format!("{}=", &a.as_str()[..42]);
        let accented = format!("{}a", "é".repeat(21));
        for bad in ["", "short", padded.as_str(), accented.as_str()] {
            assert!(InviteToken::presented(bad).is_none(), "{bad:?}");
        }
    }
}
