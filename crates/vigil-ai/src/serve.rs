//! `vigil serve`: an OpenAI-compatible HTTP server (`POST /v1/chat/completions`,
//! `GET /v1/models`) over the router, so that other tools use the operator's local model
//! through Vigil, with the same audit log and budget.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router as Http};
use serde_json::{Value, json};

use crate::backend::BackendError;
use crate::chat::{ChatRequest, FinishReason, JsonSchema, Message, Role};
use crate::router::{RouteError, Router};

/// The role served requests are routed as.
pub const SERVE_ROLE: &str = "serve";

struct Shared {
    router: Router,
    /// Bearer token clients must send, when set.
    api_key: Option<String>,
}

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": {"message": message.into(), "type": kind}})),
    )
        .into_response()
}

/// Read an OpenAI chat-completion request body.
pub fn parse_request(body: &Value) -> Result<ChatRequest, String> {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be an array")?;
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("system") | Some("developer") => Role::System,
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            other => return Err(format!("messages[{i}]: unknown role {other:?}")),
        };
        let content = match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            // Content parts: the text ones, joined.
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            Some(Value::Null) | None => String::new(),
            Some(_) => return Err(format!("messages[{i}]: content must be text")),
        };
        out.push(Message { role, content });
    }
    let mut r = ChatRequest::new(out);
    if let Some(n) = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
    {
        r.max_tokens = n.min(u32::MAX as u64) as u32;
    }
    if let Some(t) = body.get("temperature").and_then(Value::as_f64) {
        r.temperature = t as f32;
    }
    if let Some(p) = body.get("top_p").and_then(Value::as_f64) {
        r.top_p = p as f32;
    }
    r.seed = body.get("seed").and_then(Value::as_u64);
    r.stop = match body.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    r.schema = match body
        .pointer("/response_format/type")
        .and_then(Value::as_str)
    {
        Some("json_schema") => {
            let js = body
                .pointer("/response_format/json_schema")
                .ok_or("response_format.json_schema is missing")?;
            Some(JsonSchema {
                name: js
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .to_string(),
                schema: js
                    .get("schema")
                    .cloned()
                    .ok_or("json_schema.schema is missing")?,
            })
        }
        Some("json_object") => Some(JsonSchema {
            name: "json_object".into(),
            schema: json!({"type": "object"}),
        }),
        _ => None,
    };
    Ok(r)
}

async fn chat(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Json<Value>) -> Response {
    if let Some(key) = &s.api_key {
        let sent = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if sent != Some(key.as_str()) {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "bad or missing API key",
            );
        }
    }
    let request = match parse_request(&body.0) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", m),
    };
    let shared = s.clone();
    let answer =
        tokio::task::spawn_blocking(move || shared.router.complete(SERVE_ROLE, &request)).await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                e.to_string(),
            );
        }
    };
    match answer {
        Ok(a) => {
            let r = a.response;
            let created = chrono::Utc::now().timestamp();
            Json(json!({
                "id": format!("chatcmpl-vigil-{created}"),
                "object": "chat.completion",
                "created": created,
                "model": a.model,
                "system_fingerprint": a.identity,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": r.text},
                    "finish_reason": match r.finish { FinishReason::Stop => "stop", FinishReason::Length => "length" },
                }],
                "usage": {
                    "prompt_tokens": r.tokens_in,
                    "completion_tokens": r.tokens_out,
                    "total_tokens": r.tokens_in + r.tokens_out,
                },
            }))
            .into_response()
        }
        Err(RouteError::BudgetSpent) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "budget_exhausted",
            RouteError::BudgetSpent.to_string(),
        ),
        Err(RouteError::AllFailed(f))
            if f.iter()
                .all(|(_, e)| matches!(e, BackendError::Rejected(_))) =>
        {
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                RouteError::AllFailed(f).to_string(),
            )
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        ),
    }
}

async fn models(State(s): State<Arc<Shared>>) -> Json<Value> {
    let data: Vec<Value> = s
        .router
        .providers()
        .iter()
        .map(|p| json!({"id": p.backend.model(), "object": "model", "owned_by": p.name}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// The HTTP routes over a router.
pub fn app(router: Router, api_key: Option<String>) -> Http {
    Http::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .with_state(Arc::new(Shared { router, api_key }))
}

/// Serve until the process is stopped; `ready` is called with the bound address (port 0
/// picks a free one).
pub fn serve(
    addr: SocketAddr,
    router: Router,
    api_key: Option<String>,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        axum::serve(listener, app(router, api_key))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}
