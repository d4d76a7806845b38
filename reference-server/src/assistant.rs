//! The draft assistant the server offers, from `--offline-assistant` and `--assistant-*`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chatcore::Assistant;
use chatcore_assistant::{Combined, LlmAssistant, LlmConfig, OfflineAssistant};

use crate::config::Config;

/// The assistant `config` asks for: the offline checker, the LLM adapter, both (checks
/// offline, rewrites by the model) or none. The LLM's key comes from
/// [`Config::ASSISTANT_KEY_VAR`].
pub fn from_config(config: &Config) -> anyhow::Result<Option<Arc<dyn Assistant>>> {
    let mut engines: Vec<Arc<dyn Assistant>> = Vec::new();
    if config.offline_assistant {
        engines.push(Arc::new(OfflineAssistant::default()));
    }
    if let (Some(url), Some(model)) = (&config.assistant_url, &config.assistant_model) {
        let mut llm = LlmConfig::new(url, model);
        llm.api_key = std::env::var(Config::ASSISTANT_KEY_VAR)
            .ok()
            .filter(|k| !k.is_empty());
        llm.timeout = Duration::from_secs(config.assistant_timeout.max(1));
        llm.max_concurrent = config.assistant_max_concurrent.max(1);
        let llm = LlmAssistant::new(llm)
            .map_err(anyhow::Error::msg)
            .context("invalid --assistant-url")?;
        tracing::info!(url = %url, model = %model, "LLM assistant configured");
        engines.push(Arc::new(llm));
    }
    Ok(match engines.len() {
        0 => None,
        1 => engines.pop(),
        _ => Some(Arc::new(Combined::new(engines))),
    })
}
