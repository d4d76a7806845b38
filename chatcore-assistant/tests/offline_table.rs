//! The offline checker on real slips and on correct chat messages.
//!
//! Each slip must be caught with the expected fix among the suggestions (applying that one
//! suggestion gives the expected sentence); each correct sentence must get no suggestion at
//! all; code, URLs, @mentions and emoji are never touched; other languages get nothing.

#![allow(clippy::unwrap_used)]

use chatcore::assistant::{Change, Suggestion};
use chatcore_assistant::Checker;

/// (draft, the draft after the expected fix)
const SLIPS: &[(&str, &str)] = &[
    // their / there / they're, your / you're, its / it's, then / than …
    (
        "I think their going to be late.",
        "I think they're going to be late.",
    ),
    (
        "Their is a problem with the build.",
        "There is a problem with the build.",
    ),
    ("I recieved your message.", "I received your message."),
    ("I should of known.", "I should have known."),
    ("Could of been worse.", "Could have been worse."),
    ("We would of helped you.", "We would have helped you."),
    ("He don't know the answer.", "He doesn't know the answer."),
    // a / an
    ("She ate a apple yesterday.", "She ate an apple yesterday."),
    (
        "It was a honor to meet you.",
        "It was an honor to meet you.",
    ),
    ("That is an terrible idea.", "That is a terrible idea."),
    ("I need a umbrella today.", "I need an umbrella today."),
    (
        "We waited a hour for the bus.",
        "We waited an hour for the bus.",
    ),
    // doubled words
    ("This is is a test.", "This is a test."),
    ("I went to the the store.", "I went to the store."),
    ("Can you you send it again?", "Can you send it again?"),
    ("We will see you at at noon.", "We will see you at noon."),
    // capitals
    ("i went to the store.", "I went to the store."),
    ("Yesterday i saw the movie.", "Yesterday I saw the movie."),
    ("See you on monday.", "See you on Monday."),
    (
        "We meet every tuesday at noon.",
        "We meet every Tuesday at noon.",
    ),
    (
        "The deadline is next friday.",
        "The deadline is next Friday.",
    ),
    ("My birthday is in january.", "My birthday is in January."),
    (
        "She moved to london last year.",
        "She moved to London last year.",
    ),
    // common misspellings
    ("I recieve a lot of mail.", "I receive a lot of mail."),
    (
        "See you tomorow at the office.",
        "See you tomorrow at the office.",
    ),
    (
        "That is definately the best one.",
        "That is definitely the best one.",
    ),
    ("I will send it seperately.", "I will send it separately."),
    (
        "The meeting was very usefull.",
        "The meeting was very useful.",
    ),
    ("We where late again.", "We were late again."),
    ("It was a wierd day.", "It was a weird day."),
    ("We need to acheive more.", "We need to achieve more."),
    ("I beleive you are right.", "I believe you are right."),
    (
        "She is my freind from school.",
        "She is my friend from school.",
    ),
    (
        "The goverment announced new rules.",
        "The government announced new rules.",
    ),
    (
        "Please untill then wait here.",
        "Please until then wait here.",
    ),
    (
        "We are going becuase it is fun.",
        "We are going because it is fun.",
    ),
    (
        "I am not sure wich one to pick.",
        "I am not sure which one to pick.",
    ),
    (
        "That was an interresting talk.",
        "That was an interesting talk.",
    ),
    (
        "The calender is full this week.",
        "The calendar is full this week.",
    ),
    (
        "It is neccessary to book early.",
        "It is necessary to book early.",
    ),
    (
        "We had a great experiance there.",
        "We had a great experience there.",
    ),
    (
        "The enviroment matters to us.",
        "The environment matters to us.",
    ),
    (
        "I will occassionally work from home.",
        "I will occasionally work from home.",
    ),
    (
        "This is truely amazing news.",
        "This is truly amazing news.",
    ),
    (
        "Let me know your adress please.",
        "Let me know your address please.",
    ),
    (
        "I have no idea what hapened.",
        "I have no idea what happened.",
    ),
    (
        "The bussiness is doing well.",
        "The business is doing well.",
    ),
    ("She is a good begining.", "She is a good beginning."),
    ("We should meet agian soon.", "We should meet again soon."),
    ("Have you tried it alredy?", "Have you tried it already?"),
    ("The resturant was closed.", "The restaurant was closed."),
    ("I am realy tired today.", "I am really tired today."),
    (
        "The tempature dropped overnight.",
        "The temperature dropped overnight.",
    ),
    (
        "Do you have any sugestions?",
        "Do you have any suggestions?",
    ),
    ("Teh report is ready.", "The report is ready."),
    (
        "I will be their in five minutes.",
        "I will be there in five minutes.",
    ),
    ("It was alot of work.", "It was a lot of work."),
    (
        "Thank you for your patiance.",
        "Thank you for your patience.",
    ),
    ("The wheather is nice today.", "The weather is nice today."),
    (
        "I am so exited for the trip.",
        "I am so excited for the trip.",
    ),
];

/// Correct chat messages: no suggestion at all.
const CORRECT: &[&str] = &[
    "Can you send me the report by Friday?",
    "I think they're going to be late.",
    "There is a problem with the build.",
    "You're going to love this.",
    "I should have known.",
    "She ate an apple yesterday.",
    "It was an honor to meet you.",
    "See you on Monday at noon.",
    "Thanks for your help with the move.",
    "The meeting went well, thank you.",
    "Let me know if you need anything else.",
    "I will be there in five minutes.",
    "We had a great time at the beach.",
    "Could you check the numbers again?",
    "Happy birthday! Have a wonderful day.",
    "I'm running late, sorry about that.",
    "The train leaves at half past seven.",
    "Please call me when you get home.",
    "Did you see the game last night?",
    "I'll bring the snacks and drinks.",
    "The new office is much bigger than the old one.",
    "We should plan a trip this summer.",
    "My phone died, so I could not answer.",
    "Good morning, everyone.",
    "That sounds like a great plan.",
    "I have attached the slides from today.",
    "Are we still meeting for lunch tomorrow?",
    "The kids are asleep, finally.",
    "Can we move the call to three o'clock?",
    "I agree with you on that point.",
    "The weather is lovely today.",
    "She finished the book in two days.",
    "He doesn't know the answer yet.",
    "Where did you park the car?",
    "Thank you so much for the flowers.",
    "We need more milk and bread.",
    "It was a lot of work, but it was worth it.",
    "I am really tired today.",
    "The restaurant was closed on Sunday.",
    "Do you have any suggestions for the name?",
    "I believe you are right about this.",
    "Let's meet again soon.",
    "The results look better than expected.",
    "Send me the address and I will come over.",
    "The package arrived this morning.",
    "Could you pick up the dry cleaning?",
    "We won the match three to one!",
    "I'm not sure which one to pick.",
    "Have you tried it already?",
    "The printer on the second floor is broken again.",
    "See you tomorrow at the office.",
    "Sorry, I missed your call.",
    "Dinner is ready whenever you are.",
    "This is truly amazing news.",
    "My flight lands at nine in the evening.",
];

/// Slips inside code, URLs, mentions and next to emoji: no edit may touch those parts.
const PROTECTED: &[(&str, &[&str])] = &[
    ("Run `teh --recieve` first.", &["`teh --recieve`"]),
    (
        "Read https://example.com/teh/recieve now.",
        &["https://example.com/teh/recieve"],
    ),
    ("Ask @teh_recieve about it.", &["@teh_recieve"]),
    (
        "Mail teh.recieve@example.com today.",
        &["teh.recieve@example.com"],
    ),
    ("Great job 🎉🎉 see you soon 😀", &["🎉🎉", "😀"]),
    (
        "```\nlet recieve = teh;\n``` compiles.",
        &["```\nlet recieve = teh;\n```"],
    ),
];

/// Not English: no suggestions rather than wrong ones.
const OTHER_LANGUAGES: &[&str] = &[
    "Ceci n'est pas une pipe, je pense que c'est très bien.",
    "Das ist ein schöner Tag und ich gehe nach Hause.",
    "¿Dónde está la estación de tren, por favor?",
    "Ik ga morgen naar de winkel met mijn zus.",
    "Привет, как дела? Увидимся завтра.",
    "明日の会議は十時からです。",
    "שלום, מה שלומך היום?",
];

fn apply(draft: &str, suggestion: &Suggestion) -> String {
    let Change::Edits(edits) = &suggestion.change else {
        panic!("offline suggestions are edits: {suggestion:?}")
    };
    let mut out = draft.to_owned();
    for e in edits.iter().rev() {
        out.replace_range(e.start..e.end, &e.replacement);
    }
    out
}

#[test]
fn catches_real_slips_with_the_expected_fix() {
    assert!(SLIPS.len() >= 50);
    let mut checker = Checker::new();
    let mut misses = Vec::new();
    for (draft, fixed) in SLIPS {
        let suggestions = checker.check(draft);
        if !suggestions.iter().any(|s| apply(draft, s) == *fixed) {
            let got: Vec<String> = suggestions.iter().map(|s| apply(draft, s)).collect();
            misses.push(format!("{draft:?}: expected {fixed:?}, got {got:?}"));
        }
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
fn leaves_correct_sentences_alone() {
    assert!(CORRECT.len() >= 50);
    let mut checker = Checker::new();
    let noisy: Vec<String> = CORRECT
        .iter()
        .filter_map(|draft| {
            let s = checker.check(draft);
            (!s.is_empty()).then(|| format!("{draft:?}: {s:?}"))
        })
        .collect();
    assert!(
        noisy.is_empty(),
        "{} false alarms:\n{}",
        noisy.len(),
        noisy.join("\n")
    );
}

#[test]
fn never_touches_code_urls_mentions_or_emoji() {
    let mut checker = Checker::new();
    for (draft, untouchable) in PROTECTED {
        for s in checker.check(draft) {
            let fixed = apply(draft, &s);
            for part in *untouchable {
                assert!(fixed.contains(part), "{draft:?}: {s:?} touched {part:?}");
            }
        }
    }
}

#[test]
fn other_languages_get_no_suggestions() {
    let mut checker = Checker::new();
    for draft in OTHER_LANGUAGES {
        let s = checker.check(draft);
        assert!(s.is_empty(), "{draft:?}: {s:?}");
    }
}

#[test]
fn the_same_draft_always_gets_the_same_suggestions() {
    let mut first = Checker::new();
    let mut second = Checker::new();
    let draft = "i think their going to recieve a apple on friday, lol 😀";
    let once = first.check(draft);
    for (other, _) in SLIPS.iter().take(5) {
        first.check(other);
    }
    assert!(!once.is_empty());
    assert_eq!(first.check(draft), once, "after other drafts");
    assert_eq!(second.check(draft), once, "on another checker");
}
