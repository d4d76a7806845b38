//! What the client shows and how keys and server messages change it: pure, with no terminal
//! and no network, so every rule here is a unit test.

use std::collections::{BTreeMap, HashMap, HashSet};

use chatcore::{RoomId, Seq, UserId};

/// A key the client understands; the terminal layer maps its key events onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character typed into the message box.
    Char(char),
    /// Send the message box.
    Enter,
    /// Delete the last character of the message box.
    Backspace,
    /// The previous room in the list.
    Up,
    /// The next room in the list.
    Down,
    /// Leave.
    Quit,
    /// The terminal changed size: nothing changes but the drawing.
    Redraw,
}

/// What the network side should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond drawing again.
    Nothing,
    /// Send `body` to `room`.
    Send {
        /// The room shown when Enter was pressed.
        room: RoomId,
        /// The message box's text.
        body: String,
    },
    /// `room` is shown now; load its history if it is not loaded yet.
    Open(RoomId),
    /// Leave.
    Quit,
}

/// A room in the list, its name already safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomEntry {
    /// The room.
    pub id: RoomId,
    /// Its name (a group's, or the other member's in a direct room).
    pub name: String,
    /// Messages from others not seen in this client yet.
    pub unread: u32,
}

impl RoomEntry {
    /// A room named `name` (text from the server, made safe to print here).
    pub fn new(id: RoomId, name: &str, unread: u32) -> Self {
        RoomEntry {
            id,
            name: printable(name),
            unread,
        }
    }
}

/// A message as the server sent it (live or from history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Its room.
    pub room: RoomId,
    /// Its place in the room.
    pub seq: Seq,
    /// Who sent it.
    pub sender_id: UserId,
    /// The sender's display name.
    pub sender: String,
    /// The text.
    pub body: String,
    /// A tombstone.
    pub deleted: bool,
    /// Carries an image or a voice message (not shown in a terminal).
    pub media: bool,
}

impl From<&chatcore::Message> for Incoming {
    fn from(m: &chatcore::Message) -> Self {
        Incoming {
            room: m.room_id,
            seq: m.seq,
            sender_id: m.sender.id,
            sender: m.sender.display_name.clone(),
            body: m.body.clone(),
            deleted: m.deleted,
            media: m.media.is_some(),
        }
    }
}

/// One message as shown, every text in it safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Who sent it.
    pub sender: String,
    /// What it says.
    pub text: String,
    /// Sent by this client's user.
    pub mine: bool,
}

/// Everything the screen shows.
#[derive(Debug)]
pub struct State {
    me: UserId,
    rooms: Vec<RoomEntry>,
    selected: usize,
    messages: HashMap<RoomId, BTreeMap<Seq, Line>>,
    loaded: HashSet<RoomId>,
    /// The read marker last told to the server, per room.
    told_read: HashMap<RoomId, Seq>,
    input: String,
    status: String,
}

impl State {
    /// The state of `me` with `rooms`, the first one shown.
    pub fn new(me: UserId, rooms: Vec<RoomEntry>) -> Self {
        let mut state = State {
            me,
            rooms: Vec::new(),
            selected: 0,
            messages: HashMap::new(),
            loaded: HashSet::new(),
            told_read: HashMap::new(),
            input: String::new(),
            status: "Up/Down: room · Enter: send · Esc: quit".to_owned(),
        };
        state.set_rooms(rooms);
        state
    }

    /// The rooms, in list order.
    pub fn rooms(&self) -> &[RoomEntry] {
        &self.rooms
    }

    /// The index of the selected room in [`rooms`](Self::rooms).
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The room shown, if there is any.
    pub fn room(&self) -> Option<RoomId> {
        self.rooms.get(self.selected).map(|r| r.id)
    }

    /// The shown room's messages, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        let room = self.room().and_then(|id| self.messages.get(&id));
        room.into_iter().flat_map(BTreeMap::values)
    }

    /// The message box.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The status line.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// Replaces the status line (text from anywhere, made safe to print).
    pub fn set_status(&mut self, text: &str) {
        self.status = printable(text);
    }

    /// Whether `room`'s history was loaded.
    pub fn is_loaded(&self, room: RoomId) -> bool {
        self.loaded.contains(&room)
    }

    /// What `key` does.
    pub fn on_key(&mut self, key: Key) -> Action {
        match key {
            // Control characters (a pasted escape sequence) never reach the message box.
            Key::Char(c) if !c.is_control() => self.input.push(c),
            Key::Char(_) | Key::Redraw => {}
            Key::Backspace => {
                self.input.pop();
            }
            Key::Enter => {
                let Some(room) = self.room() else {
                    return Action::Nothing;
                };
                if self.input.trim().is_empty() {
                    return Action::Nothing;
                }
                let body = std::mem::take(&mut self.input);
                return Action::Send { room, body };
            }
            Key::Up => return self.select(self.selected.saturating_sub(1)),
            Key::Down => return self.select(self.selected + 1),
            Key::Quit => return Action::Quit,
        }
        Action::Nothing
    }

    /// Shows the room at `index`, if there is one.
    fn select(&mut self, index: usize) -> Action {
        let Some(room) = self.rooms.get_mut(index) else {
            return Action::Nothing;
        };
        room.unread = 0;
        self.selected = index;
        Action::Open(room.id)
    }

    /// A message arrived (new, edited or deleted: one per seq, the latest wins). Returns
    /// false for a room this state does not list (the caller reloads the room list).
    pub fn on_message(&mut self, message: &Incoming) -> bool {
        let Some(index) = self.rooms.iter().position(|r| r.id == message.room) else {
            return false;
        };
        let mine = message.sender_id == self.me;
        let lines = self.messages.entry(message.room).or_default();
        let new = !lines.contains_key(&message.seq);
        lines.insert(message.seq, line(message, mine));
        if new && !mine && index != self.selected {
            self.rooms[index].unread += 1;
        }
        true
    }

    /// `room`'s history arrived (merged with what arrived live meanwhile).
    pub fn on_history(&mut self, room: RoomId, messages: &[Incoming]) {
        let me = self.me;
        let lines = self.messages.entry(room).or_default();
        for message in messages.iter().filter(|m| m.room == room) {
            lines.insert(message.seq, line(message, message.sender_id == me));
        }
        self.loaded.insert(room);
    }

    /// Where to move the read marker, when it should move: what the shown room shows is read,
    /// so once its history is loaded its newest message is. Each position is handed out once
    /// (the caller tells the server), and only forward.
    pub fn read_to_tell(&mut self) -> Option<(RoomId, Seq)> {
        let room = self.room().filter(|room| self.is_loaded(*room))?;
        let newest = *self.messages.get(&room)?.keys().next_back()?;
        let told = self.told_read.entry(room).or_default();
        if newest <= *told {
            return None;
        }
        *told = newest;
        Some((room, newest))
    }

    /// A new room list (rooms joined or renamed meanwhile); the shown room stays shown, and
    /// what is shown is not unread.
    pub fn set_rooms(&mut self, rooms: Vec<RoomEntry>) {
        let shown = self.room();
        self.rooms = rooms;
        let index = shown.and_then(|id| self.rooms.iter().position(|r| r.id == id));
        self.select(index.unwrap_or(0));
    }
}

fn line(message: &Incoming, mine: bool) -> Line {
    let text = if message.deleted {
        "(deleted)".to_owned()
    } else if message.media && message.body.is_empty() {
        "(media)".to_owned()
    } else {
        printable(&message.body)
    };
    Line {
        sender: printable(&message.sender),
        text,
        mine,
    }
}

/// Text from the network made safe to print on a terminal: control characters (ESC starts
/// the escape sequences that move the cursor, recolour or retitle a terminal; C1 controls do
/// the same on some) become `\u{fffd}`, line breaks and tabs become spaces, and bidi controls
/// (which reorder what follows) are dropped. The server strips most of these already; a
/// client does not rely on it.
pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const ME: UserId = UserId(1);
    const ANN: UserId = UserId(2);

    fn state() -> State {
        let rooms = vec![
            RoomEntry::new(RoomId(10), "Team", 7),
            RoomEntry::new(RoomId(20), "Ann", 0),
        ];
        State::new(ME, rooms)
    }

    fn message(room: i64, seq: Seq, from: UserId, body: &str) -> Incoming {
        Incoming {
            room: RoomId(room),
            seq,
            sender_id: from,
            sender: if from == ME { "Me" } else { "Ann" }.to_owned(),
            body: body.to_owned(),
            deleted: false,
            media: false,
        }
    }

    fn texts(state: &State) -> Vec<&str> {
        state.lines().map(|l| l.text.as_str()).collect()
    }

    fn type_text(state: &mut State, text: &str) {
        for c in text.chars() {
            assert_eq!(state.on_key(Key::Char(c)), Action::Nothing);
        }
    }

    #[test]
    fn messages_are_shown_in_seq_order_once_whatever_order_they_arrive_in() {
        let mut s = state();
        assert!(s.on_message(&message(10, 2, ANN, "second")));
        s.on_history(
            RoomId(10),
            &[message(10, 1, ANN, "first"), message(10, 2, ANN, "second")],
        );
        assert!(s.on_message(&message(10, 3, ME, "third")));
        assert_eq!(texts(&s), ["first", "second", "third"]);
        assert!(s.lines().last().is_some_and(|l| l.mine));
        assert!(s.is_loaded(RoomId(10)) && !s.is_loaded(RoomId(20)));
    }

    #[test]
    fn an_edit_or_delete_replaces_its_message_in_place() {
        let mut s = state();
        s.on_message(&message(10, 1, ANN, "helo"));
        s.on_message(&message(10, 2, ANN, "next"));
        s.on_message(&message(10, 1, ANN, "hello"));
        let mut gone = message(10, 2, ANN, "");
        gone.deleted = true;
        s.on_message(&gone);
        assert_eq!(texts(&s), ["hello", "(deleted)"]);
    }

    #[test]
    fn switching_rooms_shows_that_room_and_clears_its_unread_count() {
        let mut s = state();
        s.on_message(&message(20, 1, ANN, "psst"));
        s.on_message(&message(20, 1, ANN, "psst"));
        s.on_message(&message(20, 2, ME, "mine, from another device"));
        assert_eq!(s.rooms()[1].unread, 1, "once per message, never for mine");
        assert!(texts(&s).is_empty());

        assert_eq!(s.on_key(Key::Down), Action::Open(RoomId(20)));
        assert_eq!(s.room(), Some(RoomId(20)));
        assert_eq!(s.rooms()[1].unread, 0);
        assert_eq!(texts(&s), ["psst", "mine, from another device"]);
        assert_eq!(
            s.on_key(Key::Down),
            Action::Nothing,
            "no room past the last"
        );
        assert_eq!(s.on_key(Key::Up), Action::Open(RoomId(10)));
        assert_eq!(
            s.rooms()[0].unread,
            0,
            "the first room was shown from the start"
        );
    }

    #[test]
    fn what_the_shown_room_shows_is_read_once_and_only_forward() {
        let mut s = state();
        s.on_message(&message(10, 3, ANN, "early"));
        assert_eq!(s.read_to_tell(), None, "not before the history is loaded");
        s.on_history(
            RoomId(10),
            &[message(10, 1, ANN, "a"), message(10, 2, ME, "b")],
        );
        assert_eq!(s.read_to_tell(), Some((RoomId(10), 3)));
        assert_eq!(s.read_to_tell(), None, "told once");

        s.on_message(&message(20, 1, ANN, "elsewhere"));
        assert_eq!(s.read_to_tell(), None, "a room not shown stays unread");
        s.on_message(&message(10, 4, ANN, "while shown"));
        assert_eq!(s.read_to_tell(), Some((RoomId(10), 4)));

        s.on_key(Key::Down);
        s.on_history(RoomId(20), &[message(20, 1, ANN, "elsewhere")]);
        assert_eq!(s.read_to_tell(), Some((RoomId(20), 1)));
        s.on_key(Key::Up);
        s.on_history(RoomId(10), &[message(10, 2, ME, "b")]);
        assert_eq!(s.read_to_tell(), None, "never backwards");
    }

    #[test]
    fn sending_clears_the_input_and_blank_input_sends_nothing() {
        let mut s = state();
        type_text(&mut s, "hi!x");
        s.on_key(Key::Backspace);
        assert_eq!(s.input(), "hi!");
        assert_eq!(
            s.on_key(Key::Enter),
            Action::Send {
                room: RoomId(10),
                body: "hi!".to_owned()
            }
        );
        assert_eq!(s.input(), "");
        type_text(&mut s, "   ");
        assert_eq!(s.on_key(Key::Enter), Action::Nothing);
        assert_eq!(
            State::new(ME, Vec::new()).on_key(Key::Enter),
            Action::Nothing
        );
        assert_eq!(s.on_key(Key::Quit), Action::Quit);
    }

    #[test]
    fn text_is_shown_as_text_never_as_terminal_commands() {
        let mut s = state();
        let attack = "\u{1b}[2J\u{1b}]0;owned\u{7}hi\u{9b}31m\u{202e}txt.exe\nnext";
        let mut m = message(10, 1, ANN, attack);
        m.sender = "Ann\u{1b}[31m".to_owned();
        s.on_message(&m);
        let line = s.lines().next().unwrap();
        for text in [&line.text, &line.sender] {
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        assert_eq!(
            line.text,
            "\u{fffd}[2J\u{fffd}]0;owned\u{fffd}hi\u{fffd}31mtxt.exe next"
        );
        assert_eq!(line.sender, "Ann\u{fffd}[31m");
        assert_eq!(RoomEntry::new(RoomId(1), "\u{1b}c", 0).name, "\u{fffd}c");
        s.set_status("failed: \u{1b}[5m");
        assert_eq!(s.status(), "failed: \u{fffd}[5m");
        // Typing or pasting a control character does not put it in the message.
        type_text(&mut s, "a");
        s.on_key(Key::Char('\u{1b}'));
        assert_eq!(s.input(), "a");
    }

    #[test]
    fn a_new_room_list_keeps_the_shown_room() {
        let mut s = state();
        s.on_key(Key::Down);
        assert!(!s.on_message(&message(30, 1, ANN, "new room")));
        s.set_rooms(vec![
            RoomEntry::new(RoomId(30), "New", 0),
            RoomEntry::new(RoomId(10), "Team", 4),
            RoomEntry::new(RoomId(20), "Ann", 2),
        ]);
        assert_eq!((s.room(), s.selected()), (Some(RoomId(20)), 2));
        let unread: Vec<u32> = s.rooms().iter().map(|r| r.unread).collect();
        assert_eq!(unread, [0, 4, 0], "the shown room is read");
        assert!(s.on_message(&message(30, 1, ANN, "new room")));
        assert_eq!(s.rooms()[0].unread, 1);
    }
}
