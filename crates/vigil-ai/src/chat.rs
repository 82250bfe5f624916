//! The request and response of one chat completion, whatever the backend.

use serde::{Deserialize, Serialize};

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON schema the answer must follow (OpenAI's `response_format: json_schema`; a
/// grammar for local models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchema {
    /// A short name (letters, digits, `_`, `-`), as OpenAI-style servers require.
    pub name: String,
    pub schema: serde_json::Value,
}

/// One chat completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// 0 = greedy.
    pub temperature: f32,
    pub top_p: f32,
    /// Sampling seed, for runs that can be repeated.
    pub seed: Option<u64>,
    /// Generation stops before any of these strings.
    pub stop: Vec<String>,
    /// Constrain the answer to this schema where the backend can.
    pub schema: Option<JsonSchema>,
    /// Generate `max_tokens` even past end of text (benchmarks; local models only).
    #[serde(default)]
    pub ignore_eos: bool,
}

impl Default for ChatRequest {
    fn default() -> Self {
        ChatRequest {
            messages: Vec::new(),
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            seed: None,
            stop: Vec::new(),
            schema: None,
            ignore_eos: false,
        }
    }
}

impl ChatRequest {
    /// A request of these messages with default sampling.
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }

    /// Every message's text, for a prompt hash that names what was asked.
    pub fn prompt_text(&self) -> String {
        let mut s = String::new();
        for m in &self.messages {
            s.push_str(match m.role {
                Role::System => "system\n",
                Role::User => "user\n",
                Role::Assistant => "assistant\n",
            });
            s.push_str(&m.content);
            s.push('\n');
        }
        s
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End of text or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
}

/// What a backend answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub finish: FinishReason,
    /// The model that answered, as the backend names it.
    pub model: String,
    /// Where the backend measured them: time on the prompt and on generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
}

/// A backend's own timings of one call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Reading the prompt (prefill).
    pub prompt_ms: f64,
    /// Generating the answer.
    pub generate_ms: f64,
}
