//! Connecting, migrating and surviving outages: what the conformance suite cannot see.

use std::time::{Duration, Instant};

use chatcore::{NewUser, Store, StoreError, Timestamp};
use chatcore_mysql::testing::{TestDb, server_options};
use chatcore_mysql::{MySqlOptions, MySqlStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

fn main() {
    chatcore::testing::harness::run(
        &[chatcore_mysql::testing::needs()],
        chatcore::harness_tests![
            an_already_migrated_database_opens_again_with_its_data,
            an_unreachable_server_is_a_backend_error_not_a_hang,
            operations_fail_during_an_outage_and_recover_after_it,
        ],
    );
}

fn guest(name: &str) -> NewUser {
    NewUser {
        username: None,
        display_name: name.to_owned(),
        password_hash: None,
        is_guest: true,
        external_id: None,
        created_at: Timestamp(0),
    }
}

/// A TCP proxy to the test server; aborting the handle closes the port and every connection
/// through it, which looks like the database going away.
fn proxy(listener: TcpListener) -> JoinHandle<()> {
    let server = server_options();
    let upstream = (server.get_host().to_owned(), server.get_port());
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            connections.spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    // Either side hanging up ends the connection; nothing to report.
                    tokio::io::copy_bidirectional(&mut client, &mut server)
                        .await
                        .ok();
                }
            });
        }
    })
}

async fn an_already_migrated_database_opens_again_with_its_data() {
    let db = TestDb::create().await.expect("a test database");
    let first = MySqlStore::connect(&db.url(), MySqlOptions::default())
        .await
        .expect("fresh");
    let alice = first.create_user(guest("Alice")).await.expect("create");
    first.close().await;
    let again = MySqlStore::connect(&db.url(), MySqlOptions::default())
        .await
        .expect("migrated");
    assert_eq!(again.user(alice.id).await.expect("read"), Some(alice));
}

async fn an_unreachable_server_is_a_backend_error_not_a_hang() {
    // Port 1 on loopback: nothing listens there.
    let options = MySqlOptions::default().acquire_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let err = MySqlStore::connect("mysql://root@127.0.0.1:1/chat", options)
        .await
        .expect_err("no server");
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by acquire_timeout"
    );
}

async fn operations_fail_during_an_outage_and_recover_after_it() {
    let db = TestDb::create().await.expect("a test database");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("proxy address").port();
    let link = proxy(listener);
    let options = MySqlOptions::default().acquire_timeout(Duration::from_millis(800));
    let store = MySqlStore::connect(&db.url_via(port), options)
        .await
        .expect("connect via proxy");
    let alice = store.create_user(guest("Alice")).await.expect("create");

    link.abort();
    assert!(link.await.expect_err("aborted").is_cancelled());
    let started = Instant::now();
    let err = store.user(alice.id).await.expect_err("database is gone");
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    let err = store
        .create_user(guest("Bob"))
        .await
        .expect_err("database is gone");
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(matches!(store.ping().await, Err(StoreError::Backend(_))));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failures are bounded by acquire_timeout"
    );

    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("rebind proxy");
    let _link = proxy(listener);
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.ping().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the store reconnects once the server is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        store.user(alice.id).await.expect("read after outage"),
        Some(alice)
    );
    store
        .create_user(guest("Bob"))
        .await
        .expect("write after outage");
}
