//! `GET /healthz`: 200 while the store answers, 503 otherwise (for load balancers).

use serde_json::json;

use crate::app::App;
use crate::http::{self, HandlerResult};

/// `GET /healthz` → 200 `{"status":"ok"}`, or 503 `storage`.
pub async fn get(app: &App) -> HandlerResult {
    app.chat().health().await?;
    Ok(http::ok(&json!({ "status": "ok" })))
}
