//! `POST /api/v1/csp-report`: browsers report Content-Security-Policy violations here, and
//! each one becomes a `warn` log line. A violation on our own page means either a bug in the
//! web client or script someone managed to inject, so operators should see it.
//!
//! Anyone can post here, so it is bounded: small bodies, a per-address and a server-wide
//! budget (beyond them: 429 and nothing logged), and only a few fields are logged, each
//! shortened and with query strings and fragments cut off URLs (they can hold tokens).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ::http::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body};
use crate::ratelimit::Limiter;

/// Largest report body accepted (a browser's report is well under 2 KiB).
const MAX_REPORT: usize = 8 * 1024;

/// Longest logged field, in characters.
const MAX_FIELD: usize = 200;

/// Reports logged per client address per minute.
pub const PER_ADDRESS_PER_MINUTE: u32 = 20;

/// Reports logged per minute from everyone together, so many addresses cannot flood the log.
pub const TOTAL_PER_MINUTE: u32 = 300;

/// The two budgets of the report endpoint.
#[derive(Debug)]
pub struct ReportLimits {
    per_address: Limiter,
    total: Limiter,
}

impl Default for ReportLimits {
    fn default() -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        ReportLimits {
            per_address: Limiter::new("csp", PER_ADDRESS_PER_MINUTE, MINUTE),
            total: Limiter::new("csp_total", TOTAL_PER_MINUTE, MINUTE),
        }
    }
}

impl ReportLimits {
    async fn acquire(&self, ip: IpAddr) -> Result<(), Duration> {
        let mine = self.per_address.acquire(ip).await?;
        // The server-wide budget is one more limiter key: the unspecified address is never a
        // client's. A report refused there does not count against its address.
        match self.total.acquire(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).await {
            Ok(_counted) => Ok(()),
            Err(wait) => {
                self.per_address.release(ip, mine).await;
                Err(wait)
            }
        }
    }
}

/// `POST /api/v1/csp-report` with `application/csp-report` (`report-uri`) or
/// `application/reports+json` (`report-to`) → 204, the violations logged.
pub async fn report(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    app.limits()
        .csp_reports
        .acquire(ip)
        .await
        .map_err(ApiError::rate_limited)?;
    let (parts, incoming) = req.into_parts();
    if !is_report(&parts.headers) {
        return Err(ApiError::unsupported_content_type(
            "Content-Type: application/csp-report or application/reports+json",
        ));
    }
    let bytes = body::read_limited(&parts.headers, incoming, MAX_REPORT).await?;
    let json: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_json(format!("invalid report: {e}")))?;
    for violation in violations(&json) {
        log(violation);
    }
    Ok(http::no_content())
}

fn is_report(headers: &HeaderMap) -> bool {
    let essence = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    matches!(
        essence.as_deref(),
        Some("application/csp-report" | "application/reports+json" | "application/json")
    )
}

/// The violation objects in either format: `{"csp-report": {...}}` or a list of
/// `{"type": "csp-violation", "body": {...}}` (at most ten, the rest ignored).
fn violations(json: &Value) -> Vec<&Value> {
    if let Some(one) = json.get("csp-report") {
        return vec![one];
    }
    json.as_array()
        .map(|reports| {
            reports
                .iter()
                .filter(|r| r.get("type").and_then(Value::as_str) == Some("csp-violation"))
                .filter_map(|r| r.get("body"))
                .take(10)
                .collect()
        })
        .unwrap_or_default()
}

fn log(violation: &Value) {
    // `report-uri` uses kebab-case names, `report-to` camelCase.
    let field = |old: &str, new: &str| {
        violation
            .get(new)
            .or_else(|| violation.get(old))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let directive = shorten(&field("violated-directive", "effectiveDirective"));
    let blocked = url_without_secrets(&field("blocked-uri", "blockedURL"));
    let document = url_without_secrets(&field("document-uri", "documentURL"));
    let source = url_without_secrets(&field("source-file", "sourceFile"));
    let line = field("line-number", "lineNumber");
    // `?` (Debug) quotes and escapes: a crafted report cannot forge extra log lines.
    tracing::warn!(directive = ?directive, blocked = ?blocked, document = ?document, source = ?source, line = ?shorten(&line), "CSP violation reported");
}

/// A URL without its query string and fragment, shortened.
fn url_without_secrets(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    shorten(&url[..end])
}

fn shorten(text: &str) -> String {
    text.chars().take(MAX_FIELD).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_report_formats_yield_their_violations() {
        let old = json!({"csp-report": {"violated-directive": "script-src"}});
        assert_eq!(
            violations(&old),
            vec![&json!({"violated-directive": "script-src"})]
        );
        let new = json!([
            {"type": "csp-violation", "body": {"effectiveDirective": "img-src"}},
            {"type": "deprecation", "body": {"id": "x"}},
        ]);
        assert_eq!(
            violations(&new),
            vec![&json!({"effectiveDirective": "img-src"})]
        );
        assert!(violations(&json!({"other": 1})).is_empty());
    }

    #[test]
    fn logged_urls_lose_queries_fragments_and_length() {
        assert_eq!(
            url_without_secrets("https://chat.example/invite?token=secret#frag"),
            "https://chat.example/invite"
        );
        assert_eq!(url_without_secrets(&"x".repeat(500)).len(), MAX_FIELD);
    }

    #[tokio::test]
    async fn the_server_wide_budget_holds_across_addresses() {
        let limits = ReportLimits {
            per_address: Limiter::new("csp", 2, Duration::from_secs(60)),
            total: Limiter::new("csp_total", 3, Duration::from_secs(60)),
        };
        let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n));
        assert!(limits.acquire(ip(1)).await.is_ok());
        assert!(limits.acquire(ip(1)).await.is_ok());
        assert!(limits.acquire(ip(1)).await.is_err(), "per address");
        assert!(limits.acquire(ip(2)).await.is_ok());
        assert!(limits.acquire(ip(3)).await.is_err(), "server-wide");
    }
}
