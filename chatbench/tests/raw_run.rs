//! A whole run of load connections against a small in-process server that speaks the raw-ws
//! protocol: every delivery, ack and latency sample must be accounted for, through the
//! generator's own frame reader (batched server writes, pings in between).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbench::cli::Proto;
use chatbench::client_ids::ClientIds;
use chatbench::conn::{self, Pace, Spec};
use chatbench::raw;
use chatbench::stats::{Phase, Shared};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 4;
/// Messages the server takes; it drops every later one (never broadcast, never acked).
const TAKE: u64 = 2_000;

/// The raw-ws protocol, as far as the run needs it. The server switches the run to `Drain`
/// when it takes its last message, so the final figures are known exactly.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let members: Arc<Mutex<Vec<mpsc::UnboundedSender<Message>>>> = Arc::default();
    let taken = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let (members, taken, shared) = (members.clone(), taken.clone(), shared.clone());
        tokio::spawn(async move {
            let ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
            let (mut sink, mut source) = ws.split();
            let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
            // Writer: whatever is queued goes out in one flush, as raw-ws does.
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    let _ = sink.feed(m).await;
                    while let Ok(m) = rx.try_recv() {
                        let _ = sink.feed(m).await;
                    }
                    let _ = sink.flush().await;
                }
            });
            let from = members.lock().expect("lock").len();
            while let Some(Ok(frame)) = source.next().await {
                let Message::Text(text) = frame else {
                    continue;
                };
                let v: Value = serde_json::from_str(text.as_str()).expect("json");
                match v["type"].as_str() {
                    Some("join") => {
                        members.lock().expect("lock").push(tx.clone());
                        let _ = tx.send(Message::text(
                            json!({"type": "joined", "room": v["room"]}).to_string(),
                        ));
                    }
                    Some("msg") => {
                        let id = taken.fetch_add(1, Ordering::SeqCst) + 1;
                        if id > TAKE {
                            continue;
                        }
                        if id == TAKE {
                            shared.set_phase(Phase::Drain);
                        }
                        let out = json!({"type": "msg", "id": id, "room": v["room"],
                            "body": v["body"], "t": v["t"], "from": from})
                        .to_string();
                        for m in members.lock().expect("lock").iter() {
                            let _ = m.send(Message::text(out.clone()));
                        }
                        if id % 100 == 0 {
                            let _ = tx.send(Message::Ping(b"still there?".to_vec().into()));
                        }
                        let _ = tx.send(Message::text(
                            json!({"type": "ack", "seq": v["seq"], "id": id}).to_string(),
                        ));
                    }
                    _ => panic!("unexpected frame {text}"),
                }
            }
        });
    }
}

/// Waits (without sleeping) until `done` holds, for at most 20 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while !done() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_and_ack_of_a_raw_room_is_accounted_for() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let url = format!("ws://{host}/");
    let shared = Arc::new(Shared::default());
    tokio::spawn(serve(listener, shared.clone()));

    // Everyone joins before anyone sends, so every message reaches every member.
    let mut clients = Vec::new();
    for _ in 0..MEMBERS {
        clients.push(raw::connect(&url, &host, 7).await.expect("connect"));
    }
    shared.set_phase(Phase::Measure);
    let pace = Arc::new(Pace {
        proto: Proto::Raw,
        rate: 0.0,
        inflight: 2,
        body_bytes: 64,
        client_ids: ClientIds::Uuid,
        run: 1,
    });
    let (done_tx, done_rx) = watch::channel(false);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let spec = Spec {
                conn: i,
                room: 7,
                sender: i as u32,
                members: MEMBERS as u64,
                offset: Duration::ZERO,
            };
            tokio::spawn(conn::drive(
                ws,
                spec,
                pace.clone(),
                shared.clone(),
                done_rx.clone(),
            ))
        })
        .collect();

    let expected = TAKE * MEMBERS as u64;
    until("every delivery", || {
        shared.delivered_total.load(Relaxed) >= expected && shared.acked_total.load(Relaxed) >= TAKE
    })
    .await;
    done_tx.send_replace(true);
    for task in tasks {
        task.await.expect("driver");
    }

    assert_eq!(shared.acked_total.load(Relaxed), TAKE);
    assert_eq!(shared.expected_total.load(Relaxed), expected);
    assert_eq!(shared.delivered_total.load(Relaxed), expected);
    assert_eq!(shared.duplicates.load(Relaxed), 0);
    assert_eq!(shared.out_of_order.load(Relaxed), 0);
    assert_eq!(shared.errors.load(Relaxed), 0);
    assert_eq!(shared.closed_early.load(Relaxed), 0);
    assert_eq!(*shared.first_error.lock().expect("lock"), None);
    // Samples only while measuring, one per counted delivery and ack.
    let delivered = shared.delivered.load(Relaxed);
    assert!(delivered > 0 && delivered <= expected);
    let e2e = shared.e2e.lock().expect("lock");
    assert_eq!(e2e.len(), delivered);
    assert!(e2e.max() < 20_000_000_000, "latency within the run");
    assert_eq!(
        shared.ack.lock().expect("lock").len(),
        shared.acked.load(Relaxed)
    );
}
