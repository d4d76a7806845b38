use super::*;

const URL: &str = "redis://127.0.0.1:6379";

#[test]
fn the_prefix_names_the_channel() {
    assert_eq!(RedisBroker::new(URL).unwrap().channel(), "chatcore:events");
    let broker = RedisBroker::with_prefix(URL, "chat-b:eu.1").unwrap();
    assert_eq!(broker.channel(), "chat-b:eu.1:events");
}

#[test]
fn a_prefix_that_could_mix_with_other_names_is_refused_by_every_constructor() {
    let long = "p".repeat(MAX_PREFIX_LEN + 1);
    for bad in ["", "has space", "star*", "new\nline", "é", long.as_str()] {
        let refused = |r: Result<(), RedisBrokerError>| matches!(r, Err(RedisBrokerError::InvalidPrefix(ref p)) if p == bad);
        assert!(
            refused(RedisBroker::with_prefix(URL, bad).map(drop)),
            "{bad:?}"
        );
        assert!(
            refused(RedisAttempts::with_prefix(URL, bad).map(drop)),
            "{bad:?}"
        );
        assert!(
            refused(RedisBudgets::with_prefix(URL, bad).map(drop)),
            "{bad:?}"
        );
    }
    let longest = "p".repeat(MAX_PREFIX_LEN);
    assert!(RedisBroker::with_prefix(URL, &longest).is_ok());
}
