//! `LIKE` patterns that match text taken literally: every statement using them says
//! `ESCAPE '!'`.

/// `text` with `LIKE`'s wildcards (`%`, `_`) and the escape character (`!`) escaped.
pub fn escaped(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_and_the_escape_are_escaped() {
        assert_eq!(super::escaped(r#"50%_a!b\"c"#), r#"50!%!_a!!b\"c"#);
    }
}
