//! A test harness for tests that need something the machine may not have: a database server,
//! Redis, an external program. Where it is missing, the tests are reported **ignored** (cargo
//! test and nextest both show them as skipped), never as passed; under `CI=true` they run
//! anyway and fail, because CI promises every service.
//!
//! A test file that uses it sets `harness = false` for itself in Cargo.toml and has a `main`:
//!
//! ```text
//! [[test]]
//! name = "lifecycle"
//! harness = false
//! ```
//!
//! ```no_run
//! use chatcore::testing::harness::{self, Needs};
//!
//! async fn reopens_with_its_data() { /* … */ }
//! async fn survives_an_outage() { /* … */ }
//!
//! fn main() {
//!     let mariadb = Needs::service("MariaDB", "CHATCORE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306");
//!     harness::run(&[mariadb], chatcore::harness_tests![reopens_with_its_data, survives_an_outage]);
//! }
//! ```
//!
//! Whether a service is there is decided once per run, when the tests are listed, by opening a
//! TCP connection to the host and port of its URL: a server that accepts connections but then
//! misbehaves fails its tests, as it should.

use std::future::Future;
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};

/// One test's body, as [`harness_tests!`](crate::harness_tests) builds it from an `async fn`.
pub type TestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A named test: its name and a function starting its body.
pub type NamedTest = (&'static str, fn() -> TestFuture);

/// Something the tests need, and whether this machine has it.
#[derive(Debug, Clone)]
pub struct Needs {
    /// Why it is missing (`None`: it is here).
    missing: Option<String>,
}

impl Needs {
    /// A server named by the URL in the environment variable `url_var` (or `default_url`),
    /// present when its host and port accept a TCP connection within two seconds.
    pub fn service(name: &str, url_var: &str, default_url: &str) -> Needs {
        let url = std::env::var(url_var).unwrap_or_else(|_| default_url.to_owned());
        let missing = match host_port(&url) {
            Some(address) => connect(&address).err().map(|reason| {
                format!("no {name} at {address} ({reason}); start it or set {url_var}")
            }),
            None => Some(format!("{url_var}={url} names no host and port")),
        };
        Needs { missing }
    }

    /// A program at the path in the environment variable `path_var`, or else named `name` on
    /// `PATH`: present when that file exists.
    pub fn program(name: &str, path_var: &str) -> Needs {
        let on_path = || {
            std::env::var_os("PATH").is_some_and(|dirs| {
                std::env::split_paths(&dirs).any(|dir| dir.join(name).is_file())
            })
        };
        let missing = match std::env::var_os(path_var) {
            Some(path) if std::path::Path::new(&path).is_file() => None,
            Some(path) => Some(format!(
                "{path_var}={} is not a file",
                path.to_string_lossy()
            )),
            None if on_path() => None,
            None => Some(format!(
                "{name} is not on PATH; install it or set {path_var} to its path"
            )),
        };
        Needs { missing }
    }

    /// Why it is missing, or `None` when it is here.
    pub fn missing(&self) -> Option<&str> {
        self.missing.as_deref()
    }
}

/// Tests that need the same things: what they need, and the tests.
pub type Group = (Vec<Needs>, Vec<NamedTest>);

/// Runs `tests` like the built-in harness does (same arguments, same output), each on a tokio
/// multi-thread runtime of its own with two workers. When something in `needs` is missing and
/// `CI` is not `true`, every test is ignored, with the reasons printed once on stderr.
pub fn run(needs: &[Needs], tests: Vec<NamedTest>) -> ! {
    run_groups(vec![(needs.to_vec(), tests)])
}

/// [`run`] for tests with different needs: each group's tests are ignored when something that
/// group needs is missing (and `CI` is not `true`).
pub fn run_groups(groups: Vec<Group>) -> ! {
    let args = Arguments::from_args();
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let mut trials = Vec::new();
    for (needs, tests) in groups {
        let missing: Vec<&str> = needs.iter().filter_map(Needs::missing).collect();
        let ignore = !missing.is_empty() && !ci;
        if ignore && !args.list && !tests.is_empty() {
            eprintln!("ignored {} tests: {}", tests.len(), missing.join("; "));
        }
        trials.extend(tests.into_iter().map(|(name, test)| {
            Trial::test(name, move || run_one(test)).with_ignored_flag(ignore)
        }));
    }
    libtest_mimic::run(&args, trials).exit()
}

/// Runs one test body to completion; a panic in it fails the test (libtest-mimic catches it).
fn run_one(test: fn() -> TestFuture) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| Failed::from(format!("cannot start a runtime: {err}")))?;
    runtime.block_on(test());
    Ok(())
}

/// `host:port` of a URL such as `mysql://user@host:port/db` (default ports of the schemes the
/// project uses when the URL names none).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return None;
    }
    if host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        return Some(host.to_owned());
    }
    let port = match scheme {
        "mysql" | "mariadb" => 3306,
        "postgres" | "postgresql" => 5432,
        "redis" => 6379,
        _ => return None,
    };
    Some(format!("{host}:{port}"))
}

fn connect(address: &str) -> Result<(), String> {
    let socket = address
        .to_socket_addrs()
        .map_err(|err| err.to_string())?
        .next()
        .ok_or_else(|| "the name resolves to nothing".to_owned())?;
    TcpStream::connect_timeout(&socket, Duration::from_secs(2))
        .map(drop)
        .map_err(|err| err.to_string())
}

/// A list of [`NamedTest`]s from the names of `async fn`s in scope, for [`run`].
#[macro_export]
macro_rules! harness_tests {
    ($($test:path),* $(,)?) => {
        ::std::vec![$(
            (
                ::std::stringify!($test),
                (|| ::std::boxed::Box::pin($test()) as $crate::testing::harness::TestFuture)
                    as fn() -> $crate::testing::harness::TestFuture,
            )
        ),*]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_come_from_the_url() {
        assert_eq!(
            host_port("mysql://root@127.0.0.1:3306").as_deref(),
            Some("127.0.0.1:3306")
        );
        assert_eq!(
            host_port("postgres://postgres@db.internal/app?sslmode=disable").as_deref(),
            Some("db.internal:5432")
        );
        assert_eq!(
            host_port("redis://:secret@cache:6380/2").as_deref(),
            Some("cache:6380")
        );
        assert_eq!(
            host_port("redis://localhost").as_deref(),
            Some("localhost:6379")
        );
        assert_eq!(host_port("mysql://"), None);
        assert_eq!(host_port("not a url"), None);
    }

    #[test]
    fn a_closed_port_is_missing_with_the_reason() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        let var = "CHATCORE_HARNESS_TEST_CLOSED_URL";
        // The variable is unset: the default URL is used.
        let needs = Needs::service("Nothing", var, &format!("redis://127.0.0.1:{port}"));
        let reason = needs.missing().expect("a closed port is missing");
        assert!(reason.contains("no Nothing at 127.0.0.1:"), "{reason}");
        assert!(reason.contains(var), "{reason}");
    }

    #[test]
    fn an_open_port_is_present() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let needs = Needs::service(
            "Listener",
            "CHATCORE_HARNESS_TEST_OPEN_URL",
            &format!("redis://127.0.0.1:{port}"),
        );
        assert_eq!(needs.missing(), None);
    }

    #[test]
    fn a_program_is_found_through_its_variable_or_path() {
        let absent = Needs::program("tool", "CHATCORE_HARNESS_TEST_NO_SUCH_VAR");
        assert!(
            absent
                .missing()
                .is_some_and(|m| m.contains("CHATCORE_HARNESS_TEST_NO_SUCH_VAR"))
        );
    }
}
