//! Property tests of the request parsers every REST route goes through: query strings
//! (`http::query`) and JSON bodies (`http::body::parse`). Whatever a client sends, the answer
//! is the value it meant or a 4xx with a stable code, never a panic or a 5xx.
//!
//! A failing input is saved by proptest in `chatcore-http/tests/prop_parsers.proptest-regressions`
//! and replayed first on every later run; commit that file with the fix.

#![allow(clippy::unwrap_used)]

use chatcore_http::http::{body, query};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde_json::Value;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["q", "limit", "before", "after", "Q", "q[]", ""])
            .prop_map(str::to_owned),
        ".{0,4}",
    ]
}

/// Values with the characters that matter in a query: `&`, `=`, `+`, `%`, `#`, spaces,
/// non-ASCII, quotes and SQL metacharacters.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-0-9]{0,20}",
        "[a-z&=+%# ;'\"\\\\()*é😀\u{0}-]{0,16}",
        ".{0,16}",
    ]
}

/// Raw query text as an attacker might type it, including broken escapes like `%zz` and `%`.
fn raw_query() -> impl Strategy<Value = String> {
    "[a-z0-9&=+%;#]{0,6}(limit|q|before)?[=&%]{0,2}[-+0-9a-fA-FzZ%&=é]{0,24}"
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Quarters print and parse back exactly (arbitrary floats may differ in the last bit).
        (-1e9..1e9f64).prop_map(|f| Value::from((f * 4.0).round() / 4.0)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn headers(content_type: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers
}

fn json_content_type() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        " application/json ;x=y",
    ])
    .prop_map(str::to_owned)
}

fn other_content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/json-seq",
            "text/json",
            "application/javascript",
        ])
        .prop_map(str::to_owned),
        "[a-z/+;= -]{0,24}".prop_filter("not JSON", |ct| {
            ct.split(';').next().unwrap().trim() != "application/json"
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_query_parameter_is_the_first_value_sent_for_it(
        pairs in prop::collection::vec((key(), value()), 0..6),
        wanted in key(),
    ) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        let query = query.finish();
        let first = pairs.iter().find(|(k, _)| *k == wanted).map(|(_, v)| v.clone());
        prop_assert_eq!(query::param(Some(&query), &wanted), first);
    }

    #[test]
    fn a_number_parameter_is_a_number_or_a_400(raw in raw_query()) {
        let param = query::param(Some(&raw), "limit");
        match query::number::<i64>(Some(&raw), "limit") {
            Ok(None) => prop_assert!(param.is_none()),
            Ok(Some(n)) => prop_assert_eq!(param.unwrap().parse::<i64>().unwrap(), n),
            Err(err) => {
                prop_assert!(param.unwrap().parse::<i64>().is_err());
                prop_assert_eq!(err.status().as_u16(), 400);
                prop_assert_eq!(err.code(), "invalid");
            }
        }
    }

    #[test]
    fn a_json_body_parses_to_exactly_what_was_sent(value in json(), ct in json_content_type()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let parsed: Value = body::parse(&headers(&ct), &bytes).unwrap();
        prop_assert_eq!(parsed, value);
    }

    #[test]
    fn a_broken_json_body_is_a_400(
        value in json(),
        cut in any::<prop::sample::Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..8),
        ct in json_content_type(),
    ) {
        let mut bytes = serde_json::to_vec(&value).unwrap();
        bytes.truncate(cut.index(bytes.len() + 1));
        bytes.extend(junk);
        if let Err(err) = body::parse::<Value>(&headers(&ct), &bytes) {
            prop_assert_eq!(err.status().as_u16(), 400);
            prop_assert_eq!(err.code(), "bad_json");
        }
    }

    #[test]
    fn only_application_json_is_parsed(value in json(), ct in other_content_type()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let err = body::parse::<Value>(&headers(&ct), &bytes).unwrap_err();
        prop_assert_eq!(err.status().as_u16(), 415);
        prop_assert_eq!(err.code(), "unsupported_media");
    }
}
