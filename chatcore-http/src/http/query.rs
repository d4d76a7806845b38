//! Query strings: `?q=al&limit=20`, percent-decoded.

use std::str::FromStr;

use super::ApiError;

/// The decoded value of query parameter `name`, if present.
pub fn param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Query parameter `name` parsed as a number; absent → `None`, unparsable → 400 `invalid`.
pub fn number<T: FromStr>(query: Option<&str>, name: &'static str) -> Result<Option<T>, ApiError> {
    match param(query, name) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("{name} must be a number"))),
    }
}
