#![allow(clippy::unwrap_used)]

use super::*;
use chatcore::{MessageId, Timestamp};

fn message() -> Message {
    Message {
        id: MessageId(55),
        room_id: RoomId(3),
        seq: 17,
        sender: Sender {
            id: UserId(12),
            display_name: "Alice".into(),
        },
        body: "hello <b>world</b>".into(),
        mentions: Vec::new(),
        media: None,
        reply_to: Some(16),
        custom: None,
        client_id: "c-01".into(),
        created_at: Timestamp(1_795_849_200_123),
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    }
}

#[test]
fn client_frames_decode_as_documented() {
    let send = decode(
        r#"{"type":"send","room_id":3,"body":"hi","client_id":"c-01","reply_to":null,"media_id":null}"#,
    );
    assert_eq!(
        send.unwrap(),
        ClientFrame::Send {
            room_id: RoomId(3),
            body: "hi".into(),
            client_id: "c-01".into(),
            media_id: None,
            reply_to: None,
            kind: None,
            payload: None,
        }
    );
    let sync = decode(r#"{"type":"sync","rooms":{"3":16,"8":0}}"#).unwrap();
    assert_eq!(
        sync,
        ClientFrame::Sync {
            rooms: BTreeMap::from([(RoomId(3), 16), (RoomId(8), 0)])
        }
    );
    assert_eq!(
        decode(r#"{"type":"ping","extra":1}"#).unwrap(),
        ClientFrame::Ping,
        "unknown fields are ignored"
    );
    assert!(
        decode(r#"{"type":"nope"}"#)
            .unwrap_err()
            .message
            .starts_with("invalid frame")
    );
    assert!(
        decode("{")
            .unwrap_err()
            .message
            .starts_with("malformed JSON")
    );
    let missing = decode(r#"{"type":"send","room_id":3,"client_id":"c-9"}"#).unwrap_err();
    assert_eq!(missing.client_id.as_deref(), Some("c-9"));
}

#[test]
fn server_frames_round_trip_through_the_client_decoder() {
    let m = message();
    let json = Outgoing::Ack {
        client_id: "c-01",
        message: &m,
    }
    .encode();
    let text = std::str::from_utf8(&json).unwrap();
    assert!(text.contains(r#""created_at":"2026-11-28T"#), "{text}");
    assert_eq!(
        ServerFrame::decode(text).unwrap(),
        ServerFrame::Ack {
            client_id: "c-01".into(),
            message: m.clone()
        }
    );

    let event = encode_event(&EventKind::Message(m.clone()));
    assert_eq!(
        ServerFrame::decode(std::str::from_utf8(&event).unwrap()).unwrap(),
        ServerFrame::Message { message: m }
    );

    let rooms = BTreeMap::from([(RoomId(3), 17)]);
    let synced = Outgoing::Synced { rooms: &rooms }.encode();
    assert_eq!(
        std::str::from_utf8(&synced).unwrap(),
        r#"{"type":"synced","rooms":{"3":17}}"#
    );
    assert_eq!(
        ServerFrame::decode(std::str::from_utf8(&synced).unwrap()).unwrap(),
        ServerFrame::Synced { rooms }
    );

    let error = Outgoing::Error {
        code: "forbidden",
        message: "no",
        reference: Some("c-02"),
        field: None,
    }
    .encode();
    assert_eq!(
        std::str::from_utf8(&error).unwrap(),
        r#"{"type":"error","code":"forbidden","message":"no","ref":"c-02"}"#
    );
    let room = encode_event(&EventKind::Room {
        room_id: RoomId(3),
        change: RoomChange::Joined,
        user_id: UserId(40),
    });
    assert_eq!(
        std::str::from_utf8(&room).unwrap(),
        r#"{"type":"room","room_id":3,"event":"joined","user_id":40}"#
    );
    assert_eq!(
        ServerFrame::decode(r#"{"type":"from_the_future"}"#).unwrap(),
        ServerFrame::Unknown
    );
}

#[test]
fn custom_kinds_travel_in_both_directions() {
    let send = decode(
        r#"{"type":"send","room_id":3,"body":"","client_id":"c-02","kind":"poll","payload":{"q":"Lunch?"}}"#,
    )
    .unwrap();
    let ClientFrame::Send { kind, payload, .. } = send else {
        panic!("not a send: {send:?}");
    };
    assert_eq!(kind.as_deref(), Some("poll"));
    assert_eq!(payload, Some(serde_json::json!({"q": "Lunch?"})));

    let mut m = message();
    m.custom = Some(Box::new(chatcore::Custom {
        kind: "poll".into(),
        payload: serde_json::json!({"q": "<b>Lunch?</b>", "options": [1, 2]}),
    }));
    let event = encode_event(&EventKind::Message(m.clone()));
    let text = std::str::from_utf8(&event).unwrap();
    assert!(
        text.contains(r#""kind":"poll","payload":{"#),
        "flat on the message: {text}"
    );
    assert_eq!(
        ServerFrame::decode(text).unwrap(),
        ServerFrame::Message { message: m }
    );
    let plain = encode_event(&EventKind::Message(message()));
    let plain = std::str::from_utf8(&plain).unwrap();
    assert!(
        !plain.contains("kind") && !plain.contains("payload"),
        "{plain}"
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,12}".prop_map(serde_json::Value::from),
            prop_oneof![
                Just("send"),
                Just("edit"),
                Just("delete"),
                Just("typing"),
                Just("read"),
                Just("sync"),
                Just("ping")
            ]
            .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            let keys = prop_oneof![
                Just("type".to_owned()),
                Just("room_id".to_owned()),
                Just("rooms".to_owned()),
                Just("seq".to_owned()),
                Just("body".to_owned()),
                Just("client_id".to_owned()),
                Just("media_id".to_owned()),
                Just("reply_to".to_owned()),
                Just("kind".to_owned()),
                Just("payload".to_owned()),
                "[a-z0-9]{1,6}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(keys, inner, 0..7)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = decode(&text);
            let _ = ServerFrame::decode(&text);
        }

        #[test]
        fn arbitrary_json_never_panics(value in json()) {
            let text = value.to_string();
            if let Err(err) = decode(&text) {
                prop_assert!(err.message.len() <= 200);
            }
            let _ = ServerFrame::decode(&text);
        }
    }
}

#[test]
fn reaction_frames_round_trip_as_documented() {
    let react = decode(r#"{"type":"react","room_id":3,"seq":17,"emoji":"👍"}"#).unwrap();
    assert_eq!(
        react,
        ClientFrame::React {
            room_id: RoomId(3),
            seq: 17,
            emoji: "👍".into()
        }
    );
    let unreact = decode(r#"{"type":"unreact","room_id":3,"seq":17,"emoji":"👍"}"#).unwrap();
    assert_eq!(
        unreact,
        ClientFrame::Unreact {
            room_id: RoomId(3),
            seq: 17,
            emoji: "👍".into()
        }
    );
    let now = chatcore::MessageReactions {
        room_id: RoomId(3),
        seq: 17,
        reactions: vec![Reaction {
            emoji: "👍".into(),
            users: vec![UserId(12), UserId(40)],
        }],
    };
    let bytes = encode_event(&EventKind::Reactions(now.clone()));
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(
        text,
        r#"{"type":"reactions","room_id":3,"seq":17,"reactions":[{"emoji":"👍","users":[12,40]}]}"#
    );
    assert_eq!(
        ServerFrame::decode(text).unwrap(),
        ServerFrame::Reactions {
            room_id: RoomId(3),
            seq: 17,
            reactions: now.reactions
        }
    );
}

#[test]
fn room_settings_event_round_trips_as_documented() {
    let now = chatcore::MemberSettings {
        room_id: RoomId(3),
        settings: chatcore::RoomSettings {
            muted: true,
            archived: false,
        },
    };
    let bytes = encode_event(&EventKind::Settings {
        user_id: UserId(12),
        now,
    });
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(
        text,
        r#"{"type":"room_settings","room_id":3,"muted":true,"archived":false}"#
    );
    assert_eq!(
        ServerFrame::decode(text).unwrap(),
        ServerFrame::RoomSettings {
            room_id: RoomId(3),
            muted: true,
            archived: false
        }
    );
}

#[test]
fn user_event_round_trips_as_documented() {
    let user = chatcore::PublicUser {
        id: UserId(7),
        username: Some("ann".into()),
        display_name: "<b>Ann</b>".into(),
        guest: false,
        avatar: Some(chatcore::AvatarId([0; 16])),
    };
    let bytes = encode_event(&EventKind::User(user));
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(
        text,
        r#"{"type":"user","user":{"id":7,"username":"ann","display_name":"<b>Ann</b>","guest":false,"avatar":"AAAAAAAAAAAAAAAAAAAAAA"}}"#
    );
    let ServerFrame::User { user } = ServerFrame::decode(text).unwrap() else {
        panic!("not a user frame");
    };
    assert_eq!(user.display_name, "<b>Ann</b>");
    assert_eq!(user.avatar, Some(chatcore::AvatarId([0; 16])));
}
