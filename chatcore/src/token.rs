//! Session tokens: 256 random bits from the OS, stored only as their SHA-256.

use sha2::{Digest, Sha256};

/// A bearer token handed to a client once, at login. Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token: 32 bytes from the OS CSPRNG, as 64 lowercase hex characters.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes);
        SessionToken(hex(&bytes))
    }

    /// Wraps a token presented by a client (not validated; look it up by its hash).
    pub fn from_presented(text: impl Into<String>) -> Self {
        SessionToken(text.into())
    }

    /// The token text to give to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the token, which is what stores keep.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Panics
/// If the OS has no working random source, which leaves no safe way to continue.
pub(crate) fn fill_random(buf: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the OS random number generator failed");
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_random_and_debug_redacted() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, b);
        assert_eq!(a.hash(), SessionToken::from_presented(a.as_str()).hash());
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(a.as_str()));
    }
}
