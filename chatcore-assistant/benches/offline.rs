//! The offline checker's latency on chat-sized drafts: a 500-character draft with typical
//! slips (the target is under 10 ms), a correct one, a short one, and a draft in another
//! language (rejected by the language gate before any rule runs).
//!
//! Run: `cargo bench -p chatcore-assistant --bench offline`.

// `criterion_group!` expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use chatcore_assistant::Checker;
use criterion::{Criterion, criterion_group, criterion_main};

/// 500 characters of chat with eight slips, a URL, a mention, code and an emoji.
const DRAFT_500: &str = "Hey team, i wanted to follow up on the meeting from yesterday. I think we should move the deadline to next friday becuase the design review is not finished yet. Their are still a few open questions about the api, and I dont want us to ship something half done. Can you let me know if this works for you? Also, please check the doc at https://docs.example.com/plan and ping @maria if you have questions about `cargo run`. I recieve a lot of mail, so a apple a day is is enough. Thanks, have a great weekend 😀";

/// The same length, no slips.
const CORRECT_500: &str = "Hey team, I wanted to follow up on the meeting from yesterday. I think we should move the deadline to next Friday because the design review is not finished yet. There are still a few open questions about the plan, and I do not want us to ship something half done. Can you let me know if this works for you? Also, please check the doc at https://docs.example.com/plan and ping @maria if you have questions about `cargo run`. I get a lot of mail, so one reply a day is enough. Thanks, have a great weekend!";

const SHORT: &str = "see u tomorow at the the office";

const FRENCH: &str = "Salut tout le monde, je voulais revenir sur la réunion d'hier. Je pense qu'il faudrait repousser la date limite à vendredi prochain, parce que la revue de conception n'est pas encore terminée.";

fn offline(c: &mut Criterion) {
    assert!((490..=520).contains(&DRAFT_500.chars().count()));
    let mut checker = Checker::new();
    let mut group = c.benchmark_group("offline");
    group.bench_function("draft_500_with_slips", |b| {
        b.iter(|| checker.check(black_box(DRAFT_500)))
    });
    group.bench_function("draft_500_correct", |b| {
        b.iter(|| checker.check(black_box(CORRECT_500)))
    });
    group.bench_function("draft_short", |b| {
        b.iter(|| checker.check(black_box(SHORT)))
    });
    group.bench_function("draft_french", |b| {
        b.iter(|| checker.check(black_box(FRENCH)))
    });
    group.finish();
    c.bench_function("checker_new", |b| b.iter(Checker::new));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = offline
}
criterion_main!(benches);
