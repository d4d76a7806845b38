//! Password policy and argon2id hashing.
//!
//! Policy (OWASP ASVS 5.0 §6.2): 8–256 characters of any Unicode, used exactly as typed (never
//! truncated, trimmed, normalized or case-folded), no composition rules, and none of the most
//! common passwords. The list in `common.txt` is every entry of at least 8 characters among the
//! 10,000 most common passwords of the `zxcvbn` project's frequency list (MIT licence,
//! © 2016 Joshua Holmer / Dropbox), compared case-insensitively.
//!
//! Hashing uses argon2id at OWASP's recommended parameters (19 MiB, t=2, p=1) and always runs on
//! tokio's blocking pool, behind a semaphore so a burst of logins cannot exhaust memory.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have.
pub const MAX_PASSWORD_CHARS: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common.txt").lines().collect());

/// Checks a new password against the policy. The password is never modified.
pub fn check_policy(password: &str) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if len > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("password must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(Error::invalid(
            "password",
            "this password is too common; choose one that is harder to guess",
        ));
    }
    Ok(())
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's recommendation: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords off the async runtime.
///
/// Cloning is cheap (an `Arc`). At most `max_concurrent` hashes run at once; the rest wait.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist so an unknown
    /// username costs the same time as a wrong password.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl PasswordHasher {
    /// A hasher with the given cost, running at most `max_concurrent` hashes at once.
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::invalid("password_cost", e.to_string()))?;
        Ok(PasswordHasher {
            argon: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    /// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &str) -> Result<String> {
        let argon = Arc::clone(&self.argon);
        let password = password.to_owned();
        self.blocking(move || {
            let mut salt_bytes = [0u8; 16];
            crate::token::fill_random(&mut salt_bytes);
            let salt =
                SaltString::encode_b64(&salt_bytes).map_err(|e| internal_text(e.to_string()))?;
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::invalid("password", e.to_string()))
        })
        .await
    }

    /// True when `password` matches `hash`. With `hash = None` (unknown user or an account
    /// without a password) it verifies against a dummy hash and returns false, taking about the
    /// same time as a real check.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy().await?, false),
        };
        let argon = Arc::clone(&self.argon);
        let password = password.to_owned();
        let matches = self
            .blocking(move || {
                Ok(PasswordHash::new(&hash)
                    .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false))
            })
            .await?;
        Ok(real && matches)
    }

    async fn dummy(&self) -> Result<String> {
        self.dummy_hash
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                crate::token::fill_random(&mut random);
                self.hash(&crate::token::hex(&random)).await
            })
            .await
            .cloned()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| internal("hasher closed"))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| internal("password hashing task failed"))?
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn internal(what: &'static str) -> Error {
    internal_text(what.to_owned())
}

fn internal_text(what: String) -> Error {
    Error::Internal(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_length_bounds_count_characters() {
        assert!(check_policy("Tr0ub4do").is_ok(), "8 characters is enough");
        assert_eq!(check_policy("short").unwrap_err().field(), Some("password"));
        assert!(
            check_policy("ünïcödé").is_err(),
            "7 characters, more than 8 bytes"
        );
        assert!(check_policy("ünïcödé!").is_ok());
        assert!(check_policy(&"x7".repeat(128)).is_ok(), "256 characters");
        assert!(check_policy(&"x7".repeat(129)).is_err());
    }

    #[test]
    fn common_passwords_refused_case_insensitively() {
        for pw in [
            "password",
            "PASSWORD",
            "12345678",
            "iloveyou",
            "sunshine",
            "qwertyuiop",
            "Password1",
        ] {
            let err = check_policy(pw).unwrap_err();
            assert!(err.to_string().contains("too common"), "{pw}: {err}");
        }
        assert!(COMMON.len() >= 3000);
    }

    #[test]
    fn no_composition_rules() {
        assert!(check_policy("correct horse battery staple").is_ok());
        assert!(check_policy("ぱすわーどですよ").is_ok());
    }

    #[tokio::test]
    async fn hash_and_verify_exactly_as_typed() {
        let hasher = PasswordHasher::new(HashCost::default(), 2).unwrap();
        let hash = hasher.hash(" Pässwörd with spaces ").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify(" Pässwörd with spaces ", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("Pässwörd with spaces", Some(&hash))
                .await
                .unwrap(),
            "not trimmed"
        );
        assert!(
            !hasher
                .verify(" pässwörd with spaces ", Some(&hash))
                .await
                .unwrap(),
            "not case-folded"
        );
        assert!(
            !hasher
                .verify(" Pässwörd with spaces", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("anything", None).await.unwrap());
    }
}
