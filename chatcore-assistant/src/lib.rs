//! # chatcore-assistant
//!
//! Draft assistants for [`chatcore`]'s [`Assistant`](chatcore::Assistant) seam:
//!
//! - [`OfflineAssistant`]: English spelling and grammar with harper, on this machine, no
//!   network, no model download. The default.
//! - [`LlmAssistant`]: rephrase, shorter, more polite and translate through any
//!   OpenAI-compatible chat-completions endpoint (llama.cpp server, Ollama, vLLM, hosted APIs).
//! - [`Combined`]: asks each engine for the kinds it offers, so one chat can use both.
//!
//! ```no_run
//! # fn demo(store: std::sync::Arc<dyn chatcore::Store>, media: std::sync::Arc<dyn chatcore::MediaStore>) -> chatcore::Result<()> {
//! use std::sync::Arc;
//! use chatcore_assistant::OfflineAssistant;
//!
//! let chat = chatcore::Chat::builder(store, media)
//!     .assistant(Arc::new(OfflineAssistant::default()))
//!     .start(&tokio::runtime::Handle::current())?;
//! # Ok(()) }
//! ```

mod combined;
mod llm;
mod offline;

pub use combined::Combined;
pub use llm::{LANGUAGES, LlmAssistant, LlmConfig};
pub use offline::{CHAT_WORDS, Checker, OfflineAssistant};
