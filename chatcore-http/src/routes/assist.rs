//! `/api/v1/assist`: what the draft assistant offers, and suggestions for a draft. The draft
//! is answered, never stored or logged.

use chatcore::assistant::Offer;
use chatcore::{ASSIST_CONTEXT_MESSAGES, AssistDraft, RoomId, SuggestionKind};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::http::{self, HandlerResult, Request, body};

#[derive(Serialize)]
struct Offered {
    #[serde(flatten)]
    offer: Offer,
    max_draft_chars: usize,
    context_messages: u32,
}

#[derive(Deserialize)]
struct Draft {
    draft: String,
    #[serde(default)]
    kinds: Option<Vec<SuggestionKind>>,
    #[serde(default)]
    translate_to: Option<String>,
    #[serde(default)]
    room_id: Option<RoomId>,
    #[serde(default)]
    include_context: bool,
}

/// `GET /api/v1/assist` → 200 `{kinds, languages, translate_to, llm, max_draft_chars,
/// context_messages}`; `kinds` is empty when the server offers no assistant.
pub async fn offer(app: &App, mut req: Request) -> HandlerResult {
    app.authenticate(&mut req).await?;
    Ok(http::ok(&Offered {
        offer: app.chat().assist_offer(),
        max_draft_chars: chatcore::sanitize::MAX_BODY_CHARS,
        context_messages: ASSIST_CONTEXT_MESSAGES,
    }))
}

/// `POST /api/v1/assist` `{draft, kinds?, translate_to?, room_id?, include_context?}` →
/// 200 `{draft, suggestions}`.
pub async fn suggest(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Draft = body::json(req).await?;
    let draft = AssistDraft {
        draft: body.draft,
        kinds: body.kinds,
        translate_to: body.translate_to,
        room_id: body.room_id,
        include_context: body.include_context,
    };
    Ok(http::ok(&app.chat().assist(&me.actor, draft).await?))
}
