//! The LLM adapter: rewrites through any OpenAI-compatible chat-completions endpoint.

mod http;
mod prompt;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chatcore::assistant::{
    AssistRequest, Assistant, AssistantError, Offer, Suggestion, SuggestionKind,
};
use hyper::Uri;
use tokio::sync::Semaphore;

pub use prompt::LANGUAGES;

use http::{Completion, Endpoint, Message};

/// Where and how to reach the model.
#[derive(Clone)]
#[non_exhaustive]
pub struct LlmConfig {
    /// The API's base URL, e.g. `http://127.0.0.1:11434/v1` (Ollama) or
    /// `http://127.0.0.1:8080/v1` (llama.cpp); requests go to `<url>/chat/completions`.
    /// A URL already ending in `/chat/completions` is used as it is.
    pub url: String,
    /// The model name the endpoint expects, e.g. `llama3.2`.
    pub model: String,
    /// Sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<String>,
    /// How long one suggestion may take, waiting for a free slot included (default 30 s);
    /// slower is `assistant_unavailable`.
    pub timeout: Duration,
    /// Requests to the endpoint at once (default 4); more wait for a slot within `timeout`.
    pub max_concurrent: usize,
}

impl LlmConfig {
    /// Settings for `model` at `url`, with the default timeout and concurrency, no key.
    pub fn new(url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            url: url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(30),
            max_concurrent: 4,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_concurrent", &self.max_concurrent)
            .finish()
    }
}

/// Rephrase, shorter, more polite and translate, each one chat completion whose answer is
/// the rewritten text. Drafts (and the context, when the user included it) leave this machine
/// for the endpoint, so the offer says `llm: true`; nothing of them is logged.
///
/// A model's answer is only ever a suggestion the user sees: text that says "delete the room"
/// is shown as text, never acted upon.
#[derive(Clone)]
pub struct LlmAssistant {
    endpoint: Endpoint,
    model: Arc<str>,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl LlmAssistant {
    /// An adapter for `config`. Fails on a URL that is not `http://host[:port]/…` (https
    /// endpoints are reached through a local TLS proxy) or a key that cannot be a header.
    pub fn new(config: LlmConfig) -> Result<Self, String> {
        let url = completions_url(&config.url)?;
        Ok(LlmAssistant {
            endpoint: Endpoint::new(url, config.api_key.as_deref())?,
            model: config.model.into(),
            timeout: config.timeout,
            slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
        })
    }

    /// One rewrite, within the timeout (waiting for a slot included).
    async fn rewrite(
        &self,
        kind: SuggestionKind,
        request: &AssistRequest,
    ) -> Result<Option<Suggestion>, AssistantError> {
        let language = request
            .translate_to
            .as_deref()
            .and_then(prompt::language_name);
        let Some(system) = prompt::system(kind, language) else {
            return Ok(None);
        };
        let user = prompt::user(request);
        let body = Completion {
            model: &self.model,
            messages: [
                Message {
                    role: "system",
                    content: &system,
                },
                Message {
                    role: "user",
                    content: &user,
                },
            ],
            temperature: 0.3,
            stream: false,
        };
        let call = async {
            let _slot = self
                .slots
                .acquire()
                .await
                .map_err(|_| "shutting down".to_owned())?;
            self.endpoint.complete(&body).await
        };
        let reply = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(reason)) => return Err(unavailable(kind, reason)),
            Err(_) => {
                let reason = format!("no answer within {} s", self.timeout.as_secs_f32());
                return Err(unavailable(kind, reason));
            }
        };
        let text = prompt::rewritten(&reply, &request.draft);
        Ok(Some(Suggestion::text(kind, label(kind, language), text)))
    }
}

fn unavailable(kind: SuggestionKind, reason: String) -> AssistantError {
    tracing::warn!(kind = kind.as_str(), %reason, "LLM assistant failed");
    AssistantError::Unavailable(reason)
}

fn label(kind: SuggestionKind, language: Option<&str>) -> String {
    match (kind, language) {
        (SuggestionKind::Translate, Some(name)) => format!("In {name}"),
        (SuggestionKind::Shorter, _) => "Shorter".into(),
        (SuggestionKind::MorePolite, _) => "More polite".into(),
        _ => "Rephrased".into(),
    }
}

/// `<base>/chat/completions` as a URI; only plain-HTTP URLs.
fn completions_url(base: &str) -> Result<Uri, String> {
    let base = base.trim().trim_end_matches('/');
    let full = if base.ends_with("/chat/completions") {
        base.to_owned()
    } else {
        format!("{base}/chat/completions")
    };
    let uri: Uri = full
        .parse()
        .map_err(|_| format!("{base:?} is not a URL like http://127.0.0.1:11434/v1"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(_)) => Ok(uri),
        (Some("https"), _) => Err(format!(
            "{base:?}: only http:// endpoints are supported; reach an https API through a local TLS proxy"
        )),
        _ => Err(format!(
            "{base:?} is not a URL like http://127.0.0.1:11434/v1"
        )),
    }
}

impl std::fmt::Debug for LlmAssistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAssistant")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Assistant for LlmAssistant {
    fn offer(&self) -> Offer {
        Offer {
            kinds: vec![
                SuggestionKind::Rephrase,
                SuggestionKind::Shorter,
                SuggestionKind::MorePolite,
                SuggestionKind::Translate,
            ],
            languages: Vec::new(),
            translate_to: LANGUAGES
                .iter()
                .map(|(code, _)| (*code).to_owned())
                .collect(),
            llm: true,
        }
    }

    async fn suggest(&self, request: &AssistRequest) -> Result<Vec<Suggestion>, AssistantError> {
        let rewrites = request
            .kinds
            .iter()
            .map(|&kind| self.rewrite(kind, request));
        let answers = futures::future::try_join_all(rewrites).await?;
        Ok(answers.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_completions_path_and_must_be_plain_http() {
        let ok = |u: &str| completions_url(u).map(|u| u.to_string());
        assert_eq!(
            ok("http://127.0.0.1:11434/v1").unwrap(),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(ok("http://h/v1/").unwrap(), "http://h/v1/chat/completions");
        assert_eq!(
            ok("http://h/v1/chat/completions").unwrap(),
            "http://h/v1/chat/completions"
        );
        assert!(
            ok("https://api.example.com/v1")
                .unwrap_err()
                .contains("TLS proxy")
        );
        assert!(ok("127.0.0.1:8080").is_err());
        assert!(ok("not a url").is_err());
    }
}
