//! One chat-completions call over HTTP/1.1 (hyper), with a size limit on the answer.
//!
//! Errors say what went wrong in words safe to log: never the request (which holds the draft)
//! nor the answer's body (which may echo it).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

/// Largest answer read from the endpoint.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The request body of `POST /chat/completions`.
#[derive(Serialize)]
pub struct Completion<'a> {
    pub model: &'a str,
    pub messages: [Message<'a>; 2],
    pub temperature: f32,
    pub stream: bool,
}

/// One chat message of the request.
#[derive(Serialize)]
pub struct Message<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
}

/// A keep-alive HTTP client for one endpoint.
#[derive(Clone)]
pub struct Endpoint {
    client: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
    authorization: Option<HeaderValue>,
}

impl Endpoint {
    /// A client posting to `url` (already checked to be `http://…/chat/completions`).
    pub fn new(url: Uri, api_key: Option<&str>) -> Result<Self, String> {
        let authorization = api_key
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    "the API key contains characters a header cannot hold".to_owned()
                })?;
                value.set_sensitive(true);
                Ok::<_, String>(value)
            })
            .transpose()?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Endpoint {
            client,
            url,
            authorization,
        })
    }

    /// Posts one completion request and returns the first choice's text.
    pub async fn complete(&self, body: &Completion<'_>) -> Result<String, String> {
        let json =
            serde_json::to_vec(body).map_err(|e| format!("cannot encode the request: {e}"))?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(json)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        if let Some(auth) = &self.authorization {
            req.headers_mut().insert(AUTHORIZATION, auth.clone());
        }
        let res = self
            .client
            .request(req)
            .await
            .map_err(|_| "cannot reach the assistant endpoint".to_owned())?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!(
                "the assistant endpoint answered {}",
                status.as_u16()
            ));
        }
        let bytes = Limited::new(res.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|_| "the assistant endpoint's answer was cut off or too large".to_owned())?
            .to_bytes();
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            "the assistant endpoint did not answer with a chat completion".to_owned()
        })?;
        answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| "the assistant endpoint's answer has no message".to_owned())
    }
}
