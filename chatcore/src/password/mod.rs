//! Password policy and argon2id hashing.
//!
//! Policy (OWASP ASVS 5.0 §6.2): 8–256 characters of any Unicode, used exactly as typed (never
//! truncated, trimmed, normalized or case-folded), no composition rules, and none of the most
//! common passwords. The list in `common.txt` is every entry of at least 8 characters among the
//! 10,000 most common passwords of the `zxcvbn` project's frequency list (MIT licence,
//! © 2016 Joshua Holmer / Dropbox), compared case-insensitively.
//!
//! Hashing uses argon2id at OWASP's recommended parameters (19 MiB, t=2, p=1) and always runs on
//! tokio's blocking pool, a bounded number at a time with a bounded line of waiters, so a burst
//! of logins can neither exhaust memory nor queue without end.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

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
/// Cloning is cheap (an `Arc`). At most `max_concurrent` hashes run at once and at most
/// `max_queued` more wait for a turn; one more is refused at once with [`Error::Busy`], so a
/// burst of logins answers quickly instead of piling up. A hash keeps its turn until it has
/// finished, even when the request that asked for it is gone: a client that sends a login and
/// hangs up cannot make more hashes run than `max_concurrent`.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    /// Turns to run: `max_concurrent`.
    running: Arc<Semaphore>,
    /// Places in line, running ones included: `max_concurrent + max_queued`.
    places: Arc<Semaphore>,
    max_in_line: usize,
    /// Hashes running right now, and hashes asked for since the start (metrics, tests).
    running_now: Arc<AtomicUsize>,
    asked: Arc<AtomicU64>,
    /// A hash of a random password, verified against when the user does not exist so an unknown
    /// username costs the same time as a wrong password.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
}

/// A snapshot of the hashing line, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashingLoad {
    /// Hashes being computed right now.
    pub running: usize,
    /// Hashes waiting for a turn.
    pub waiting: usize,
    /// Hashes asked for since the hasher was created (refused ones included).
    pub asked: u64,
}

/// What a refused hash tells the caller to wait.
const BUSY_RETRY: Duration = Duration::from_secs(1);

impl PasswordHasher {
    /// A hasher with the given cost, running at most `max_concurrent` hashes at once with at
    /// most `max_queued` more waiting.
    pub fn new(cost: HashCost, max_concurrent: usize, max_queued: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::invalid("password_cost", e.to_string()))?;
        let max_concurrent = max_concurrent.max(1);
        Ok(PasswordHasher {
            argon: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
            running: Arc::new(Semaphore::new(max_concurrent)),
            places: Arc::new(Semaphore::new(max_concurrent + max_queued)),
            max_in_line: max_concurrent + max_queued,
            running_now: Arc::new(AtomicUsize::new(0)),
            asked: Arc::new(AtomicU64::new(0)),
            dummy_hash: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    /// How busy hashing is right now.
    pub fn load(&self) -> HashingLoad {
        let running = self.running_now.load(Ordering::SeqCst);
        let in_line = self.max_in_line - self.places.available_permits();
        HashingLoad {
            running,
            waiting: in_line.saturating_sub(running),
            asked: self.asked.load(Ordering::SeqCst),
        }
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

    /// Runs `work` on the blocking pool once a turn is free. The place in line and the turn
    /// are owned by the blocking task and released when `work` returns, not when the caller's
    /// future is dropped.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let place = Arc::clone(&self.places).try_acquire_owned().map_err(|_| {
            tracing::debug!("password hashing queue full");
            Error::Busy {
                retry_after: BUSY_RETRY,
            }
        })?;
        let turn = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| internal("hasher closed"))?;
        let running_now = Arc::clone(&self.running_now);
        tokio::task::spawn_blocking(move || {
            running_now.fetch_add(1, Ordering::SeqCst);
            let result = work();
            running_now.fetch_sub(1, Ordering::SeqCst);
            drop((turn, place));
            result
        })
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
        let hasher = PasswordHasher::new(HashCost::default(), 2, 8).unwrap();
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

    async fn wait_until(what: &str, done: impl Fn() -> bool) {
        let wait = async {
            while !done() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
    }

    /// Work that runs on the blocking pool until `release` is sent.
    fn held(release: std::sync::mpsc::Receiver<()>) -> impl FnOnce() -> Result<()> + Send {
        move || {
            release.recv().ok();
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_hash_keeps_its_turn_until_it_finishes() {
        let hasher = PasswordHasher::new(HashCost::default(), 1, 8).unwrap();
        let (release, work) = std::sync::mpsc::channel();
        let caller = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.blocking(held(work)).await }
        });
        wait_until("the work to start", || hasher.load().running == 1).await;
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert_eq!(
            hasher.running.available_permits(),
            0,
            "the caller is gone, the work still runs and keeps its turn"
        );
        release.send(()).unwrap();
        wait_until("the turn to come back", || {
            hasher.running.available_permits() == 1
        })
        .await;
        assert_eq!(hasher.load().running, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_line_is_refused_at_once_with_busy() {
        let hasher = PasswordHasher::new(HashCost::default(), 1, 1).unwrap();
        let (release, work) = std::sync::mpsc::channel();
        let running = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.blocking(held(work)).await }
        });
        wait_until("the work to start", || hasher.load().running == 1).await;
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash("waits for its turn").await }
        });
        wait_until("the second to queue", || {
            hasher.places.available_permits() == 0
        })
        .await;
        let refused = hasher.hash("one too many").await.unwrap_err();
        assert_eq!(refused.code(), "busy");
        assert_eq!(refused.retry_after(), Some(BUSY_RETRY));
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        assert!(waiting.await.unwrap().unwrap().starts_with("$argon2id$"));
    }
}
