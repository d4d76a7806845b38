//! Setup over the REST API: guest accounts (no password hashing, so thousands are cheap) and
//! group rooms. Uses plain hyper HTTP/1 connections, several at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

/// A user the benchmark created: its id and bearer token.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user's id.
    pub user_id: i64,
    /// Bearer token for the WebSocket upgrade.
    pub token: String,
}

/// One keep-alive HTTP/1 connection to the server.
struct Http {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Http {
    async fn connect(host: &str) -> Result<Self> {
        let tcp = TcpStream::connect(host)
            .await
            .with_context(|| format!("connecting to {host}"))?;
        tcp.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("chatbench: setup connection failed: {e}");
            }
        });
        Ok(Http {
            sender,
            host: host.to_owned(),
        })
    }

    /// POSTs `body` as JSON; returns the status and the decoded answer (`null` when empty).
    async fn post(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<(StatusCode, Value)> {
        self.sender.ready().await?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/json");
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let req = req.body(Full::new(Bytes::from(body.to_string())))?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok((status, value))
    }
}

/// Creates `n` guest accounts with up to `parallel` requests at once.
pub async fn guests(host: &str, n: usize, parallel: usize) -> Result<Vec<Account>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..parallel.clamp(1, 32).min(n.max(1)) {
        let (next, host) = (next.clone(), host.to_owned());
        workers.push(tokio::spawn(async move {
            let mut http = Http::connect(&host).await?;
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(made);
                }
                made.push((i, guest(&mut http, i).await?));
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, a)| a).collect())
}

async fn guest(http: &mut Http, i: usize) -> Result<Account> {
    let (status, v) = http
        .post(
            "/api/v1/auth/guest",
            None,
            &json!({ "display_name": format!("bench {i}") }),
        )
        .await?;
    match status {
        StatusCode::CREATED | StatusCode::OK => {}
        StatusCode::TOO_MANY_REQUESTS => {
            bail!("guest sign-up rate limited: start the server with a large --guests-per-hour")
        }
        s => bail!("POST /auth/guest: HTTP {s}: {v}"),
    }
    let user_id = v["user"]["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no user id in {v}"))?;
    let token = v["token"]
        .as_str()
        .ok_or_else(|| anyhow!("no token in {v}"))?
        .to_owned();
    Ok(Account { user_id, token })
}

/// Creates one group per member list (the first member creates it and invites the others);
/// returns the room ids in the same order.
pub async fn groups(host: &str, rooms: &[Vec<Account>], parallel: usize) -> Result<Vec<i64>> {
    let rooms = Arc::new(rooms.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..parallel.clamp(1, 16).min(rooms.len().max(1)) {
        let (next, host, rooms) = (next.clone(), host.to_owned(), rooms.clone());
        workers.push(tokio::spawn(async move {
            let mut http = Http::connect(&host).await?;
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(members) = rooms.get(i) else {
                    return Ok::<_, anyhow::Error>(made);
                };
                made.push((i, group(&mut http, i, members).await?));
            }
        }));
    }
    let mut all = Vec::with_capacity(rooms.len());
    for w in workers {
        all.extend(w.await??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

async fn group(http: &mut Http, i: usize, members: &[Account]) -> Result<i64> {
    let (creator, others) = members.split_first().ok_or_else(|| anyhow!("empty room"))?;
    let ids: Vec<i64> = others.iter().map(|a| a.user_id).collect();
    let body = json!({ "name": format!("bench room {i}"), "members": ids });
    let (status, v) = http
        .post("/api/v1/rooms", Some(&creator.token), &body)
        .await?;
    match status {
        StatusCode::CREATED | StatusCode::OK => {}
        StatusCode::FORBIDDEN => {
            bail!(
                "guests may not create groups: start the server with --guests-can-create-groups ({v})"
            )
        }
        StatusCode::NOT_FOUND => {
            bail!("guests may not add strangers: start the server with --discovery everyone ({v})")
        }
        s => bail!("POST /rooms: HTTP {s}: {v}"),
    }
    v["id"].as_i64().ok_or_else(|| anyhow!("no room id in {v}"))
}
