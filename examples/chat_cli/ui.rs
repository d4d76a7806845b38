//! Drawing the [`State`]: the room list on the left, the shown room's messages, the message
//! box and a status line on the right. Nothing here decides anything.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};

use crate::state::State;

/// Draws `state` on the whole frame.
pub fn draw(frame: &mut Frame, state: &State) {
    let [rooms, chat] =
        Layout::horizontal([Constraint::Length(26), Constraint::Min(20)]).areas(frame.area());
    let [messages, input, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(chat);

    let items = state.rooms().iter().map(|room| {
        let unread = match room.unread {
            0 => String::new(),
            n => format!(" ({n})"),
        };
        ListItem::new(format!("{}{unread}", room.name))
    });
    let list = List::new(items)
        .block(Block::bordered().title("Rooms"))
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut selected = ListState::default().with_selected(Some(state.selected()));
    frame.render_stateful_widget(list, rooms, &mut selected);

    // The newest messages that fit, one line each.
    let fits = usize::from(messages.height.saturating_sub(2));
    let lines: Vec<_> = state.lines().collect();
    let shown = lines[lines.len().saturating_sub(fits)..]
        .iter()
        .map(|line| {
            let style = if line.mine {
                Style::new().add_modifier(Modifier::DIM)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            };
            Line::from(vec![
                Span::styled(format!("{}: ", line.sender), style),
                Span::raw(line.text.as_str()),
            ])
        });
    let title = state
        .room()
        .and_then(|id| state.rooms().iter().find(|r| r.id == id))
        .map_or("No rooms yet", |room| room.name.as_str());
    let history = Paragraph::new(shown.collect::<Vec<_>>()).block(Block::bordered().title(title));
    frame.render_widget(history, messages);

    let typing = Paragraph::new(state.input()).block(Block::bordered().title("Message"));
    frame.render_widget(typing, input);
    frame.render_widget(Paragraph::new(state.status()), status);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chatcore::{RoomId, UserId};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::state::{Incoming, Key, RoomEntry};

    #[test]
    fn the_screen_shows_rooms_the_newest_messages_and_the_message_box() {
        let rooms = vec![
            RoomEntry::new(RoomId(1), "Team", 0),
            RoomEntry::new(RoomId(2), "Ann", 3),
        ];
        let mut state = State::new(UserId(1), rooms);
        for seq in 1..=20 {
            state.on_message(&Incoming {
                room: RoomId(1),
                seq,
                sender_id: UserId(2),
                sender: "Ann".to_owned(),
                body: format!("note {seq}"),
                deleted: false,
                media: false,
            });
        }
        state.on_key(Key::Char('h'));
        let mut terminal = Terminal::new(TestBackend::new(60, 12)).unwrap();
        terminal.draw(|frame| draw(frame, &state)).unwrap();
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol())
            .collect();
        for shown in ["Team", "Ann (3)", "Ann: note 20", "Ann: note 15", "│h"] {
            assert!(screen.contains(shown), "{shown:?} missing from {screen:?}");
        }
        assert!(!screen.contains("note 14"), "older messages scrolled away");
    }
}
