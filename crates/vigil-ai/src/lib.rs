//! `vigil-ai`: the one layer every model call goes through.
//!
//! * [`backend`]: the [`Backend`] trait, chat completion with output constrained to a
//!   JSON schema where the backend can;
//! * [`openai`]: any OpenAI-compatible endpoint (`/v1/chat/completions`);
//! * [`local`]: a local GGUF model, run by llama.cpp in a worker process that is
//!   restarted when it dies (llama.cpp aborts the process on malformed input);
//! * [`router`]: providers per role, ordered failover behind circuit breakers, ensembles
//!   with a vote, a token and money budget, a concurrency limit;
//! * [`audit`]: one JSON line per call (provider, model, weights hash or URL, prompt
//!   hash, tokens, latency, outcome);
//! * [`config`]: the providers file.
//!
//! Nothing here opens a network connection unless a provider in the config is an HTTP
//! endpoint.

pub mod audit;
pub mod backend;
pub mod chat;
pub mod config;
pub mod local;
pub mod openai;
pub mod router;
pub mod serve;

pub use audit::{AuditLog, AuditRecord, AuditSummary, summarize};
pub use backend::{Backend, BackendError};
pub use chat::{ChatRequest, ChatResponse, FinishReason, JsonSchema, Message, Role, Timings};
pub use config::{ModelsConfig, ProviderConfig, ProviderKind, RoleConfig, RoleMode, Vote};
pub use local::{LocalBackend, LocalConfig, WorkerCommand};
pub use openai::{OpenAiBackend, OpenAiConfig, SchemaMode};
pub use router::{Answer, BudgetReport, Decision, Provider, RouteError, Router, decide};
