//! The one interface every model sits behind.

use crate::chat::{ChatRequest, ChatResponse};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The provider could not be reached or did not answer in time: another may.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The provider gave no answer within its timeout: another may.
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The provider answered with an error or with something that is not an answer.
    #[error("bad answer: {0}")]
    BadAnswer(String),
    /// The request itself is wrong (too long for the context, a schema it cannot take).
    #[error("rejected: {0}")]
    Rejected(String),
}

/// A chat-completion backend: a local model or an HTTP endpoint.
pub trait Backend: Send + Sync {
    /// The model's name (file name or the endpoint's model id).
    fn model(&self) -> &str;

    /// What identifies the weights behind the answers: `sha256:<hex>` of a local file, or
    /// the endpoint URL.
    fn identity(&self) -> String;

    /// Whether `ChatRequest::schema` constrains the output (else it is only asked for).
    fn constrains_output(&self) -> bool;

    /// One completion.
    fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, BackendError>;
}
