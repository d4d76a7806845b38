//! `/api/v1/search`: finding messages by their text in the rooms one is a member of.

use chatcore::MessageId;

use crate::app::App;
use crate::http::{self, HandlerResult, Request, query};

/// Hits per page when the request names no `limit`.
const DEFAULT_LIMIT: u32 = 20;

/// `GET /api/v1/search?q=<text>&before=<message id>&limit=<n>` → 200 `{hits, next_before}`,
/// newest first; each hit is `{message, matches: [{start, end}]}` (UTF-8 byte offsets into the
/// body). Which rooms are searched is chatcore's decision: the caller's own.
pub async fn messages(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let q = query::param(req.uri().query(), "q").unwrap_or_default();
    let before = query::number::<i64>(req.uri().query(), "before")?.map(MessageId);
    let limit = query::number(req.uri().query(), "limit")?.unwrap_or(DEFAULT_LIMIT);
    Ok(http::ok(
        &app.chat().search(&me.actor, &q, before, limit).await?,
    ))
}
