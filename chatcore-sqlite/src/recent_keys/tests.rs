use super::*;

/// The window in milliseconds.
const WINDOW: i64 = IDEMPOTENCY_WINDOW.as_millis() as i64;
/// How late a key may be forgotten, in milliseconds.
const SLICE: i64 = expiry::SLICE.as_millis() as i64;

fn key(keys: &RecentKeys, room: i64, sender: i64, client_id: &str) -> Fingerprint {
    keys.fingerprint(RoomId(room), UserId(sender), client_id)
}

/// The messages stored under `fingerprint`, lowest id first.
fn candidates(keys: &RecentKeys, fingerprint: Fingerprint) -> Vec<i64> {
    let mut ids: Vec<i64> = keys.candidates(fingerprint).map(|id| id.0).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn the_key_is_room_sender_and_client_id() {
    let keys = RecentKeys::default();
    let a = key(&keys, 1, 1, "x");
    assert_eq!(a, key(&keys, 1, 1, "x"));
    assert_ne!(a, key(&keys, 2, 1, "x"));
    assert_ne!(a, key(&keys, 1, 2, "x"));
    assert_ne!(a, key(&keys, 1, 1, "y"));
}

#[test]
fn keys_live_one_window_after_the_newest_and_at_most_one_slice_more() {
    let mut keys = RecentKeys::default();
    let first = key(&keys, 1, 1, "first");
    keys.insert(first, MessageId(1), Timestamp(1_000));
    let later = key(&keys, 1, 1, "later");
    keys.insert(later, MessageId(2), Timestamp(1_000 + WINDOW));
    assert_eq!(candidates(&keys, first), [1], "a window old: kept");
    let last = key(&keys, 1, 1, "last");
    keys.insert(last, MessageId(3), Timestamp(1_000 + WINDOW + SLICE));
    assert_eq!(
        candidates(&keys, first),
        [] as [i64; 0],
        "older than the window by a slice: forgotten"
    );
    assert_eq!(candidates(&keys, later), [2]);
    assert_eq!(candidates(&keys, last), [3]);
}

#[test]
fn a_clock_stepping_back_forgets_nothing_early() {
    let mut keys = RecentKeys::default();
    let (a, b, c) = (
        key(&keys, 1, 1, "a"),
        key(&keys, 1, 1, "b"),
        key(&keys, 1, 1, "c"),
    );
    keys.insert(a, MessageId(1), Timestamp(WINDOW));
    keys.insert(b, MessageId(2), Timestamp(10));
    keys.insert(c, MessageId(3), Timestamp(2 * WINDOW - 5));
    assert_eq!(candidates(&keys, a), [1], "still inside the window");
    assert_eq!(candidates(&keys, b), [2], "kept behind a newer key");
}

#[test]
fn a_shared_fingerprint_returns_every_message_under_it() {
    let mut keys = RecentKeys::default();
    let (seven, eight) = (Fingerprint(7), Fingerprint(8));
    keys.insert(seven, MessageId(1), Timestamp(0));
    keys.insert(seven, MessageId(2), Timestamp(SLICE));
    keys.insert(eight, MessageId(3), Timestamp(SLICE));
    assert_eq!(candidates(&keys, seven), [1, 2]);
    assert_eq!(candidates(&keys, eight), [3]);
    keys.insert(eight, MessageId(4), Timestamp(WINDOW + 1));
    assert_eq!(candidates(&keys, seven), [2], "the first left the window");
    assert_eq!(candidates(&keys, eight), [3, 4]);
}

#[test]
fn an_expired_key_is_skipped_until_a_sweep_drops_it() {
    let mut keys = RecentKeys::default();
    keys.insert(Fingerprint(0), MessageId(1), Timestamp(0));
    for id in 2..10 {
        keys.insert(Fingerprint(1), MessageId(id), Timestamp(SLICE));
    }
    keys.insert(Fingerprint(1), MessageId(10), Timestamp(WINDOW + 1));
    assert_eq!(
        keys.table.len(),
        10,
        "one key in ten expired: not swept yet"
    );
    assert_eq!(candidates(&keys, Fingerprint(0)), [] as [i64; 0]);
    assert_eq!(
        candidates(&keys, Fingerprint(1)),
        (2..=10).collect::<Vec<_>>()
    );
}

#[test]
fn an_id_too_far_above_the_base_moves_the_base_onto_the_window() {
    let mut keys = RecentKeys::default();
    let (a, b, c) = (Fingerprint(1), Fingerprint(2), Fingerprint(3));
    keys.insert(a, MessageId(1), Timestamp(0));
    keys.insert(b, MessageId(1 << 31), Timestamp(WINDOW / 2));
    let far = (1 << 32) + 100;
    keys.insert(c, MessageId(far), Timestamp(WINDOW + SLICE));
    assert_eq!(keys.base, 1 << 31, "rebased onto the lowest key left");
    assert_eq!(candidates(&keys, a), [] as [i64; 0]);
    assert_eq!(candidates(&keys, b), [1 << 31]);
    assert_eq!(candidates(&keys, c), [far]);
}

#[test]
fn a_window_of_more_than_2_pow_32_ids_forgets_its_oldest_keys() {
    let mut keys = RecentKeys::default();
    let (a, b, c) = (Fingerprint(1), Fingerprint(2), Fingerprint(3));
    keys.insert(a, MessageId(1), Timestamp(0));
    keys.insert(b, MessageId(1000), Timestamp(0));
    let far = (1 << 32) + 500;
    keys.insert(c, MessageId(far), Timestamp(1));
    assert_eq!(candidates(&keys, a), [] as [i64; 0], "not addressable");
    assert_eq!(candidates(&keys, b), [1000]);
    assert_eq!(candidates(&keys, c), [far]);
}

#[test]
fn a_million_keys_take_at_most_20_bytes_each() {
    let mut keys = RecentKeys::default();
    let n = 1_000_000;
    for i in 0..n {
        // 2,000 a second, like benchmark scenario L.
        keys.insert(key(&keys, i, 1, "k"), MessageId(i), Timestamp(i / 2));
    }
    assert_eq!(keys.table.len(), n as usize);
    let per_key = keys.table.allocation_size() as f64 / n as f64;
    assert!(per_key <= 20.0, "{per_key:.1} bytes per key");
}

#[test]
fn a_burst_gives_its_memory_back_once_it_expired() {
    let mut keys = RecentKeys::default();
    for i in 0..100_000 {
        keys.insert(Fingerprint(i as u32), MessageId(i), Timestamp(0));
    }
    let burst = keys.table.allocation_size();
    keys.insert(
        Fingerprint(0),
        MessageId(100_000),
        Timestamp(WINDOW + SLICE),
    );
    assert_eq!(keys.table.len(), 1);
    assert!(
        keys.table.allocation_size() < burst / 8,
        "{} bytes left of {burst}",
        keys.table.allocation_size()
    );
}
