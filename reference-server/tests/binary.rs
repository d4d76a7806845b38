//! The real binary as an operator runs it: flags, the `listening on` line, subcommands, and a
//! graceful exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");

fn command(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env_remove("CHAT_DATABASE")
        .env("RUST_LOG", "warn");
    cmd
}

/// Starts `serve` with `cmd` on a free port and returns the process and its address from
/// stdout.
fn start(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read stdout");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, addr)
}

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
fn http(addr: &str, method: &str, path: &str, json: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let body = json.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "server exited with {exit:?}");
}

#[test]
fn serves_on_the_printed_port_and_exits_cleanly_on_sigterm() {
    let data = tempfile::tempdir().expect("temp dir");
    let (child, addr) = start(&mut command(data.path()));
    let (status, body) = http(&addr, "GET", "/healthz", None);
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = http(&addr, "GET", "/", None);
    assert_eq!(status, 200);
    assert!(body.contains("<!doctype html>"));
    let register = r#"{"username":"operator","password":"correct horse battery staple"}"#;
    assert_eq!(
        http(&addr, "POST", "/api/v1/auth/register", Some(register)).0,
        201
    );
    terminate(child);
    assert!(
        data.path().join("chat.db").exists(),
        "SQLite under the data dir"
    );
    assert!(
        data.path().join("media").is_dir(),
        "media under the data dir"
    );

    // Operator commands work on the stopped server's data.
    let out = command(data.path())
        .args(["admin", "promote", "operator"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("operator is now a server admin"));
    let out = command(data.path())
        .args(["admin", "disable", "nobody"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "an unknown user is an error");
    let out = command(data.path()).arg("migrate").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And the data is still there for the next start.
    let (child, addr) = start(&mut command(data.path()));
    let login = r#"{"username":"operator","password":"correct horse battery staple"}"#;
    let (status, body) = http(&addr, "POST", "/api/v1/auth/login", Some(login));
    assert_eq!(status, 200);
    assert!(body.contains(r#""admin":true"#), "{body}");
    terminate(child);
}

#[test]
fn migrate_store_moves_the_chat_and_refuses_a_database_in_use() {
    let data = tempfile::tempdir().expect("temp dir");
    let (child, addr) = start(&mut command(data.path()));
    let account = r#"{"username":"operator","password":"correct horse battery staple"}"#;
    assert_eq!(
        http(&addr, "POST", "/api/v1/auth/register", Some(account)).0,
        201
    );
    terminate(child);

    let from = format!("sqlite://{}", data.path().join("chat.db").display());
    let to = format!("sqlite://{}", data.path().join("moved.db").display());
    let migrate = || {
        command(data.path())
            .args(["migrate-store", "--from", &from, "--to", &to])
            .output()
            .expect("run")
    };
    let out = migrate();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("users: 1 of 1 rows"), "{printed}");
    assert!(
        printed.contains("copied: users 1, rooms 0, members 0, sessions 1, media 0, messages 0"),
        "{printed}"
    );

    // The server runs on the copy, and the old password works there.
    let (child, addr) = start(command(data.path()).args(["--database", &to]));
    assert_eq!(
        http(&addr, "POST", "/api/v1/auth/login", Some(account)).0,
        200
    );
    terminate(child);

    // That login wrote to the copy: copying into it again is refused, and says why.
    let out = migrate();
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("not empty"), "{error}");
}

#[test]
fn help_lists_every_flag_and_subcommand() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--database",
        "--data-dir",
        "--public-url",
        "--allowed-origin",
        "--max-upload",
        "--web-dir",
        "--log",
        "--log-format",
        "--guests-can-create-groups",
        "--registrations-per-hour",
        "--guests-per-hour",
        "--login-failures-per-ip",
        "--trust-forwarded-for",
        "--max-connections",
        "--ws-rate-per-sec",
        "--ws-rate-burst",
        "--shutdown-grace",
        "--max-concurrent-hashes",
        "--max-queued-hashes",
        "--session-idle-timeout",
        "--session-lifetime",
        "--session-expiry-interval",
        "--max-group-members",
        "--send-rate-per-sec",
        "--send-burst",
        "--send-max-wait-ms",
        "--groups-per-hour",
        "--member-adds-per-hour",
        "--discovery",
        "--max-connections-per-ip",
        "--request-header-timeout",
        "--broker",
        "--broker-prefix",
        "migrate",
        "migrate-store",
        "admin",
        "serve",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn refuses_a_public_url_that_could_never_match_an_origin() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = command(data.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "chat.example.com",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an http(s) URL"));
}

#[test]
fn refuses_a_broker_over_a_database_only_one_node_can_share() {
    let data = tempfile::tempdir().expect("temp dir");
    for database in [None, Some("memory:")] {
        let mut cmd = command(data.path());
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--broker",
            "redis://127.0.0.1:6379",
        ]);
        if let Some(database) = database {
            cmd.args(["--database", database]);
        }
        let out = cmd.output().expect("run");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("use --database mysql://"), "{stderr}");
    }
}

#[test]
fn refuses_a_broker_url_that_is_not_redis() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = command(data.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://nobody@127.0.0.1:1/none",
        ])
        .args(["--broker", "http://127.0.0.1:6379"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid Redis URL"), "{stderr}");
}

#[test]
fn refuses_a_broker_prefix_that_could_mix_with_other_names() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = command(data.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://nobody@127.0.0.1:1/none",
        ])
        .args(["--broker", "redis://127.0.0.1:6379"])
        .args(["--broker-prefix", "chat *"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--broker-prefix: invalid Redis prefix \"chat *\""),
        "{stderr}"
    );
}
