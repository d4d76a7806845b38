//! A terminal chat client on `chatcore_ws::Client`, for the reference server (or any app that
//! serves chat's REST API and WebSocket with chat's own sessions): log in, pick a room, read
//! its history and live messages, type and send.
//!
//! ```text
//! cargo run -p reference-server                      # in one terminal
//! cargo run -p chat-examples --example chat_cli -- --guest Ann
//! cargo run -p chat-examples --example chat_cli -- --user alice   # asks for the password
//! ```
//!
//! `--server` is the server's address (default `http://127.0.0.1:8080`; plain http in this
//! example); the password may also come from `CHAT_PASSWORD`. Up/Down pick a room, Enter
//! sends, Esc or Ctrl-C quits. Rooms are made in the web client (or over REST); new ones show
//! up here as they are joined.
//!
//! What is shown lives in `state.rs` (pure, unit-tested: order, rooms, the message box, text
//! that is printed as text and never as terminal commands), the network in `session.rs`, the
//! drawing in `ui.rs`. `cargo test -p chat-examples --example chat_cli` runs those tests and
//! two clients against a real in-process server, without a terminal.

mod session;
mod state;
mod ui;

use std::collections::HashMap;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc;

use session::{BoxError, Login, Session};
use state::{Key, State};

/// The command line's `--name value` pairs, checked against the names this client knows.
fn options() -> Result<HashMap<String, String>, BoxError> {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let mut options = HashMap::new();
    for pair in words.chunks(2) {
        let [name, value] = pair else {
            return Err(format!("{} needs a value", pair[0]).into());
        };
        if !["--server", "--user", "--guest"].contains(&name.as_str()) {
            return Err(format!("unknown option {name}").into());
        }
        options.insert(name.clone(), value.clone());
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut options = options()?;
    let server = options.remove("--server");
    let server = server.unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let login = match (options.remove("--user"), options.remove("--guest")) {
        (Some(username), None) => {
            let password = match std::env::var("CHAT_PASSWORD") {
                Ok(password) => password,
                Err(_) => read_password(&format!("password for {username}: "))?,
            };
            Login::Password { username, password }
        }
        (None, Some(name)) => Login::Guest(name),
        _ => return Err("give --user NAME (password account) or --guest NAME".into()),
    };
    let session = Session::login(&server, &login).await?;
    let mut client = session.connect().await?;
    let mut state = State::new(session.me(), session.rooms().await?);

    let (keys_tx, mut keys) = mpsc::channel(64);
    // crossterm's `read` blocks: it gets a thread, which ends with the process.
    std::thread::spawn(move || {
        while let Ok(event) = event::read() {
            let key = match event {
                Event::Key(key) => map_key(key),
                Event::Resize(..) => Some(Key::Redraw),
                _ => None,
            };
            if key.is_some_and(|key| keys_tx.blocking_send(key).is_err()) {
                break;
            }
        }
    });

    let mut terminal = ratatui::try_init()?;
    let ran = session::run(&session, &mut client, &mut state, &mut keys, |state| {
        terminal.draw(|frame| ui::draw(frame, state)).map(drop)
    })
    .await;
    ratatui::try_restore()?;
    client.close().await;
    ran
}

/// The client's key for a terminal key press (releases and repeats on terminals that report
/// them are not presses).
fn map_key(key: KeyEvent) -> Option<Key> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c' | 'd') if ctrl => Key::Quit,
        KeyCode::Char(c) if !ctrl => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up | KeyCode::BackTab => Key::Up,
        KeyCode::Down | KeyCode::Tab => Key::Down,
        KeyCode::Esc => Key::Quit,
        _ => return None,
    })
}

/// Reads a password from the terminal without showing it.
fn read_password(prompt: &str) -> Result<String, BoxError> {
    use ratatui::crossterm::terminal::{disable_raw_mode, enable_raw_mode};
    use std::io::Write;
    print!("{prompt}");
    std::io::stdout().flush()?;
    enable_raw_mode()?;
    let mut password = String::new();
    let typed = loop {
        match event::read() {
            Ok(Event::Key(key)) => match map_key(key) {
                Some(Key::Enter) => break Ok(()),
                Some(Key::Char(c)) => password.push(c),
                Some(Key::Backspace) => {
                    password.pop();
                }
                Some(Key::Quit) => break Err("cancelled"),
                _ => {}
            },
            Ok(_) => {}
            Err(_) => break Err("cannot read the terminal"),
        }
    };
    disable_raw_mode()?;
    println!();
    typed?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use chatcore::{Chat, SessionToken};
    use chatcore_http::ChatHttp;
    use tokio::sync::watch;

    use super::*;

    /// A chat served the way the reference server serves it (chat's own logins, REST and
    /// WebSocket) on a real port; its address.
    async fn serve(chat: Chat) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback_service(ChatHttp::builder(chat).build());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    /// Runs a client of `session` in a task: keys go in through the returned sender, and what
    /// it would draw (the shown room's lines, and the message box) comes out of the watch.
    async fn start(
        session: Session,
    ) -> (mpsc::Sender<Key>, watch::Receiver<(Vec<String>, String)>) {
        let mut client = session.connect().await.unwrap();
        let mut state = State::new(session.me(), session.rooms().await.unwrap());
        let (keys_tx, mut keys) = mpsc::channel(64);
        let (screen_tx, screen) = watch::channel(Default::default());
        tokio::spawn(async move {
            let draw = |state: &State| {
                let lines = state.lines().map(|l| format!("{}: {}", l.sender, l.text));
                screen_tx.send_replace((lines.collect(), state.input().to_owned()));
                Ok(())
            };
            session::run(&session, &mut client, &mut state, &mut keys, draw).await
        });
        (keys_tx, screen)
    }

    async fn until(
        screen: &mut watch::Receiver<(Vec<String>, String)>,
        what: &str,
        shown: impl FnMut(&(Vec<String>, String)) -> bool,
    ) {
        let wait = screen.wait_for(shown);
        let seen = tokio::time::timeout(Duration::from_secs(10), wait).await;
        assert!(seen.is_ok_and(|r| r.is_ok()), "{what} within 10 s");
    }

    #[tokio::test]
    async fn two_clients_send_and_receive_through_a_real_server() {
        let chat = Chat::in_memory();
        let server = serve(chat.clone()).await;
        let ann = Session::login(&server, &Login::Guest("Ann".into()))
            .await
            .unwrap();
        let bob = Session::login(&server, &Login::Guest("Bob".into()))
            .await
            .unwrap();
        // A room between them, made on the server's side (this client makes none).
        let ann_actor = chat
            .authenticate(&SessionToken::from_presented(ann.token()))
            .await
            .unwrap();
        let room = chat.open_direct(&ann_actor, bob.me()).await.unwrap().id;
        let old = chatcore::SendMessage {
            room_id: room,
            body: "from before".into(),
            ..Default::default()
        };
        chat.send(&ann_actor, old).await.unwrap();

        // Ann's own feed of the room, to hear Bob's read marker move.
        let (mut ann_feed, _) = chat.connect(&ann_actor).await.unwrap();
        let bob_id = bob.me();
        let (ann_keys, mut ann_screen) = start(ann).await;
        let (_bob_keys, mut bob_screen) = start(bob).await;
        until(&mut bob_screen, "history", |(lines, _)| {
            lines == &["Ann: from before"]
        })
        .await;

        for key in "hi Bob".chars().map(Key::Char).chain([Key::Enter]) {
            ann_keys.send(key).await.unwrap();
        }
        until(&mut bob_screen, "Ann's message at Bob's", |(lines, _)| {
            lines == &["Ann: from before", "Ann: hi Bob"]
        })
        .await;
        until(
            &mut ann_screen,
            "Ann's own message, input cleared",
            |(lines, input)| lines.last().is_some_and(|l| l == "Ann: hi Bob") && input.is_empty(),
        )
        .await;
        let stored = chat.history(&ann_actor, room, None, 10).await.unwrap();
        assert_eq!(stored.messages.len(), 2, "stored once");

        // Bob's client shows the room, so it has read it: his marker reaches Ann's message.
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let event = ann_feed.recv().await.unwrap();
                if let chatcore::EventKind::Read { user_id, seq, .. } = event.kind()
                    && *user_id == bob_id
                    && *seq == 2
                {
                    return;
                }
            }
        });
        assert!(read.await.is_ok(), "Bob's read marker reached seq 2");
    }

    #[tokio::test]
    async fn a_wrong_password_is_the_servers_answer() {
        let server = serve(Chat::in_memory()).await;
        let login = Login::Password {
            username: "nobody".into(),
            password: "wrong password!".into(),
        };
        let err = Session::login(&server, &login).await.unwrap_err();
        assert!(err.to_string().contains("unauthenticated"), "{err}");
    }
}
