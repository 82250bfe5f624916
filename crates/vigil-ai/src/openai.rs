//! Any OpenAI-compatible `/v1/chat/completions` endpoint: vLLM, llama.cpp's server, Ollama,
//! SGLang, `vigil serve`, or a hosted API.

use std::time::Duration;

use serde_json::{Value, json};

use crate::backend::{Backend, BackendError};
use crate::chat::{ChatRequest, ChatResponse, FinishReason};

/// How the endpoint is told about a response schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    /// `response_format: {type: json_schema, ...}` (vLLM, llama.cpp, SGLang, OpenAI).
    #[default]
    JsonSchema,
    /// `response_format: {type: json_object}`: JSON, not a particular shape.
    JsonObject,
    /// Nothing sent: the prompt alone asks for the shape.
    None,
}

/// Settings of one endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including `/v1` (`http://127.0.0.1:8080/v1`).
    pub url: String,
    pub model: String,
    /// The API key, read by the caller from the environment variable the config names.
    pub api_key: Option<String>,
    pub timeout: Duration,
    /// Extra attempts after a failure that another attempt may cure (connection, 429, 5xx).
    pub retries: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    pub schema_mode: SchemaMode,
}

/// A client of one endpoint.
pub struct OpenAiBackend {
    config: OpenAiConfig,
    agent: ureq::Agent,
}

impl OpenAiBackend {
    pub fn new(config: OpenAiConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        OpenAiBackend { config, agent }
    }

    fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.config.url.trim_end_matches('/'))
    }

    fn body(&self, r: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.config.model,
            "messages": r.messages,
            "max_tokens": r.max_tokens,
            "temperature": r.temperature,
            "top_p": r.top_p,
        });
        if let Some(seed) = r.seed {
            body["seed"] = json!(seed);
        }
        if !r.stop.is_empty() {
            body["stop"] = json!(r.stop);
        }
        if let Some(schema) = &r.schema {
            match self.config.schema_mode {
                SchemaMode::JsonSchema => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": schema.name, "schema": schema.schema, "strict": true},
                    });
                }
                SchemaMode::JsonObject => {
                    body["response_format"] = json!({"type": "json_object"});
                }
                SchemaMode::None => {}
            }
        }
        body
    }

    fn attempt(&self, body: &Value) -> Result<ChatResponse, BackendError> {
        let mut req = self.agent.post(&self.endpoint());
        if let Some(key) = &self.config.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        let mut resp = req.send_json(body).map_err(|e| match e {
            ureq::Error::Timeout(_) => BackendError::TimedOut(e.to_string()),
            e => BackendError::Unavailable(e.to_string()),
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::Timeout(_) => {
                    BackendError::TimedOut(format!("reading the answer: {e}"))
                }
                e => BackendError::Unavailable(format!("reading the answer: {e}")),
            })?;
        if status == 429 || status >= 500 {
            return Err(BackendError::Unavailable(format!(
                "HTTP {status}: {}",
                snippet(&text)
            )));
        }
        if status >= 400 {
            return Err(BackendError::Rejected(format!(
                "HTTP {status}: {}",
                snippet(&text)
            )));
        }
        parse_completion(&text, &self.config.model)
    }
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Read an OpenAI chat-completion answer.
pub fn parse_completion(text: &str, asked_model: &str) -> Result<ChatResponse, BackendError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| BackendError::BadAnswer(format!("not JSON ({e}): {}", snippet(text))))?;
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| BackendError::BadAnswer(format!("no choices: {}", snippet(text))))?;
    let content = choice
        .pointer("/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| BackendError::BadAnswer(format!("no message content: {}", snippet(text))))?;
    let finish = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("length") => FinishReason::Length,
        _ => FinishReason::Stop,
    };
    let usage = |k: &str| v.pointer(&format!("/usage/{k}")).and_then(Value::as_u64);
    Ok(ChatResponse {
        text: content.to_string(),
        tokens_in: usage("prompt_tokens").unwrap_or(0),
        tokens_out: usage("completion_tokens").unwrap_or(0),
        finish,
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(asked_model)
            .to_string(),
        timings: None,
    })
}

impl Backend for OpenAiBackend {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn identity(&self) -> String {
        self.config.url.clone()
    }

    fn constrains_output(&self) -> bool {
        self.config.schema_mode == SchemaMode::JsonSchema
    }

    fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, BackendError> {
        let body = self.body(request);
        let mut wait = self.config.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(&body) {
                Err(BackendError::Unavailable(e)) if attempt < self.config.retries => {
                    tracing::debug!("{}: {e}; retrying in {wait:?}", self.config.url);
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_answer_and_its_usage() {
        let r = parse_completion(
            r#"{"model":"qwen","choices":[{"message":{"role":"assistant","content":"{\"a\":1}"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":5}}"#,
            "asked",
        )
        .unwrap();
        assert_eq!(r.text, "{\"a\":1}");
        assert_eq!((r.tokens_in, r.tokens_out), (12, 5));
        assert_eq!(r.finish, FinishReason::Length);
        assert_eq!(r.model, "qwen");
    }

    #[test]
    fn garbage_is_a_bad_answer_not_a_panic() {
        for text in [
            "",
            "<html>",
            "{}",
            r#"{"choices":[]}"#,
            r#"{"choices":[{"message":{}}]}"#,
        ] {
            assert!(
                matches!(parse_completion(text, "m"), Err(BackendError::BadAnswer(_))),
                "{text}"
            );
        }
    }
}
