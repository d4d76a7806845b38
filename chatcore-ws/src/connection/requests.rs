//! Client frames: decode, call `Chat`, answer (the rate is the intake's job).

use std::borrow::Cow;

use chatcore::SendMessage;

use super::{Conn, Stop};
use crate::close;
use crate::frames::{self, ClientFrame, Outgoing};

impl Conn {
    /// Handles one text frame (its rate token already spent). Bad input gets an `error` frame;
    /// only repeated abuse closes.
    pub(super) async fn on_text(&mut self, text: &str) -> Result<(), Stop> {
        let frame = match frames::decode(text) {
            Ok(frame) => frame,
            Err(err) => return self.bad_frame(&err.message, err.client_id.as_deref()).await,
        };
        // A ping proves nothing about the client's other frames: it does not end a row of
        // invalid ones.
        let active = !matches!(frame, ClientFrame::Ping);
        if active {
            self.bad_frames = 0;
        }
        self.dispatch(frame).await?;
        if active {
            self.on_activity().await?;
        }
        Ok(())
    }

    async fn dispatch(&mut self, frame: ClientFrame<'_>) -> Result<(), Stop> {
        let (chat, actor) = (&self.chat, &self.actor);
        let result = match frame {
            ClientFrame::Send {
                room_id,
                body,
                client_id,
                media_id,
                reply_to,
                kind,
                payload,
            } => {
                let msg = SendMessage {
                    room_id,
                    body: body.into_owned(),
                    client_id: Some(client_id.to_string()),
                    media_id,
                    reply_to,
                    kind: kind.map(Cow::into_owned),
                    payload,
                };
                return match chat.send(actor, msg).await {
                    // The store committed it: acked means durable.
                    Ok(message) => {
                        self.send(&Outgoing::Ack {
                            client_id: &client_id,
                            message: &message,
                        })
                        .await
                    }
                    Err(err) => self.send_error(&err, Some(&client_id)).await,
                };
            }
            // Edits, deletes, reactions, typing and read markers come back to every member (this
            // connection too) as hub events; only failures are answered directly.
            ClientFrame::Edit { room_id, seq, body } => {
                chat.edit(actor, room_id, seq, &body).await.map(drop)
            }
            ClientFrame::Delete { room_id, seq } => {
                chat.delete(actor, room_id, seq).await.map(drop)
            }
            ClientFrame::React {
                room_id,
                seq,
                emoji,
            } => chat.react(actor, room_id, seq, &emoji).await.map(drop),
            ClientFrame::Unreact {
                room_id,
                seq,
                emoji,
            } => chat.unreact(actor, room_id, seq, &emoji).await.map(drop),
            ClientFrame::Typing { room_id } => chat.typing(actor, room_id).await,
            ClientFrame::Read { room_id, seq } => {
                chat.mark_read(actor, room_id, seq).await.map(drop)
            }
            ClientFrame::Sync { rooms } => return self.on_sync(rooms).await,
            ClientFrame::Ping => return self.send(&Outgoing::Pong).await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => self.send_error(&err, None).await,
        }
    }

    /// Answers an undecodable frame with `error` (code `invalid`); too many in a row close the
    /// connection with 1008.
    pub(super) async fn bad_frame(
        &mut self,
        message: &str,
        reference: Option<&str>,
    ) -> Result<(), Stop> {
        self.bad_frames += 1;
        if self.bad_frames >= self.config.max_bad_frames {
            return Err(Stop::Close(close::POLICY, "too many invalid frames"));
        }
        self.send(&Outgoing::Error {
            code: "invalid",
            message,
            reference,
            field: None,
        })
        .await
    }
}
