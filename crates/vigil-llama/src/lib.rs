//! The local model worker (`vigil model-worker`): loads one GGUF file with llama.cpp and
//! answers chat requests read as JSON lines on standard input (the protocol is in
//! `vigil_ai::local`). It runs in its own process because llama.cpp aborts the process on
//! misuse or malformed input; the client restarts it.
//!
//! The prompt is the request's messages through the model's chat template, or, for a
//! file without one (a base model), a llama.cpp built-in template chosen by architecture.
//! It always starts with the BOS token where the vocabulary has one (without it small
//! models degenerate). A response schema becomes a GBNF grammar (llama.cpp's own
//! converter) that constrains sampling, so the answer parses.

use std::io::{BufRead, Write};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use vigil_ai::local::{WorkerError, WorkerMessage, WorkerRequest};
use vigil_ai::{ChatRequest, ChatResponse, FinishReason, Role, Timings};

/// What the worker is started with.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub model: PathBuf,
    pub context: u32,
    /// 0 = every core.
    pub threads: u32,
    pub gpu_layers: u32,
}

/// Prompt tokens handed to one decode call (llama.cpp splits it into micro-batches of
/// 512); as in llama-bench, so that a long prompt is not cut into many small calls.
const BATCH: usize = 2048;

/// A loaded model and its context.
pub struct Engine {
    // Field order: the context borrows the model, which needs the backend.
    ctx: LlamaContext<'static>,
    model: &'static LlamaModel,
    template: LlamaChatTemplate,
    name: String,
    _backend: &'static LlamaBackend,
}

fn threads(n: u32) -> i32 {
    if n > 0 {
        n as i32
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get() as i32)
    }
}

/// llama.cpp's built-in template for a model file that has none, by architecture.
fn builtin_template(model: &LlamaModel) -> &'static str {
    let arch = model
        .meta_val_str("general.architecture")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match arch.as_str() {
        a if a.starts_with("gemma") => "gemma",
        a if a.starts_with("llama") => "llama3",
        a if a.starts_with("glm") || a.starts_with("chatglm") => "chatglm4",
        a if a.starts_with("deepseek") => "deepseek3",
        a if a.starts_with("mistral") => "mistral-v7",
        a if a.starts_with("phi3") => "phi3",
        _ => "chatml",
    }
}

impl Engine {
    /// Load the model (once per process: the backend and model live as long as it).
    pub fn load(opts: &WorkerOptions) -> Result<Engine, String> {
        let mut backend = LlamaBackend::init().map_err(|e| format!("llama.cpp: {e}"))?;
        backend.void_logs();
        let backend: &'static LlamaBackend = Box::leak(Box::new(backend));
        if !opts.model.is_file() {
            return Err(format!("no model file at {}", opts.model.display()));
        }
        let params = LlamaModelParams::default().with_n_gpu_layers(opts.gpu_layers);
        let model = LlamaModel::load_from_file(backend, &opts.model, &params)
            .map_err(|e| format!("cannot load {}: {e}", opts.model.display()))?;
        let model: &'static LlamaModel = Box::leak(Box::new(model));
        let template = match model.chat_template(None) {
            Ok(t) => t,
            Err(_) => LlamaChatTemplate::new(builtin_template(model))
                .map_err(|e| format!("template: {e}"))?,
        };
        let n_ctx = opts.context.clamp(256, model.n_ctx_train().max(256));
        let ctx_params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(BATCH.min(n_ctx as usize) as u32)
            .with_n_threads(threads(opts.threads))
            .with_n_threads_batch(threads(opts.threads));
        let ctx = model
            .new_context(backend, ctx_params)
            .map_err(|e| format!("cannot make a context: {e}"))?;
        let name = opts
            .model
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Engine {
            ctx,
            model,
            template,
            name,
            _backend: backend,
        })
    }

    pub fn n_ctx(&self) -> u32 {
        self.ctx.n_ctx()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The prompt's tokens: the chat template applied, BOS first.
    pub fn prompt_tokens(
        &self,
        request: &ChatRequest,
    ) -> Result<Vec<llama_cpp_2::token::LlamaToken>, WorkerError> {
        let rejected = |message: String| WorkerError {
            kind: "rejected".into(),
            message,
        };
        let messages = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                LlamaChatMessage::new(role.into(), m.content.clone())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| rejected(format!("a message holds a NUL byte: {e}")))?;
        let prompt = self
            .model
            .apply_chat_template(&self.template, &messages, true)
            .map_err(|e| rejected(format!("chat template: {e}")))?;
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(prompt.as_bytes(), false, true);
        let bos = vocab.bos();
        if bos.0 >= 0 && tokens.first() != Some(&bos) {
            tokens.insert(0, bos);
        }
        Ok(tokens)
    }

    /// One completion.
    pub fn complete(&mut self, request: &ChatRequest) -> Result<ChatResponse, WorkerError> {
        let rejected = |message: String| WorkerError {
            kind: "rejected".into(),
            message,
        };
        let tokens = self.prompt_tokens(request)?;
        let n_ctx = self.ctx.n_ctx() as usize;
        let max_new = request.max_tokens.max(1) as usize;
        if tokens.len() + max_new > n_ctx {
            return Err(rejected(format!(
                "prompt of {} tokens plus {max_new} to generate exceeds the context of {n_ctx}",
                tokens.len()
            )));
        }
        let mut sampler = self.sampler(request)?;
        let mut grammar = self.grammar(request)?;
        let started = Instant::now();
        self.ctx.clear_kv_cache();
        let step = BATCH.min(n_ctx);
        let mut batch = LlamaBatch::new(step, 1);
        let last = tokens.len() - 1;
        for (chunk_no, chunk) in tokens.chunks(step).enumerate() {
            batch.clear();
            for (i, t) in chunk.iter().enumerate() {
                let pos = chunk_no * step + i;
                batch
                    .add(*t, pos as i32, &[0], pos == last)
                    .map_err(|e| rejected(format!("batch: {e}")))?;
            }
            self.ctx
                .decode(&mut batch)
                .map_err(|e| rejected(format!("decode: {e}")))?;
        }
        let prompt_done = Instant::now();
        let vocab = self.model.vocab();
        let mut out: Vec<u8> = Vec::new();
        let mut generated = 0usize;
        let mut finish = FinishReason::Length;
        let mut pos = tokens.len();
        let mut logits_at = batch.n_tokens() - 1;
        while generated < max_new {
            let token = match grammar.as_mut() {
                Some(grammar) => self.sample_constrained(&mut sampler, grammar, logits_at),
                None => sampler.sample(&self.ctx, logits_at),
            };
            generated += 1;
            if vocab.is_eog(token) && !request.ignore_eos {
                finish = FinishReason::Stop;
                break;
            }
            out.extend(vocab.token_to_piece(token, false, None));
            if let Some(cut) = stop_at(&out, &request.stop) {
                out.truncate(cut);
                finish = FinishReason::Stop;
                break;
            }
            batch.clear();
            batch
                .add(token, pos as i32, &[0], true)
                .map_err(|e| rejected(format!("batch: {e}")))?;
            pos += 1;
            self.ctx
                .decode(&mut batch)
                .map_err(|e| rejected(format!("decode: {e}")))?;
            logits_at = 0;
        }
        Ok(ChatResponse {
            text: String::from_utf8_lossy(&out).into_owned(),
            tokens_in: tokens.len() as u64,
            tokens_out: generated as u64,
            finish,
            model: self.name.clone(),
            timings: Some(Timings {
                prompt_ms: (prompt_done - started).as_secs_f64() * 1e3,
                generate_ms: prompt_done.elapsed().as_secs_f64() * 1e3,
            }),
        })
    }

    /// The grammar a response schema becomes (llama.cpp's converter), if any.
    fn grammar(&self, request: &ChatRequest) -> Result<Option<LlamaSampler>, WorkerError> {
        let Some(schema) = &request.schema else {
            return Ok(None);
        };
        let rejected = |message: String| WorkerError {
            kind: "rejected".into(),
            message,
        };
        let grammar = llama_cpp_2::json_schema_to_grammar(&schema.schema.to_string())
            .map_err(|e| rejected(format!("schema `{}` cannot be a grammar: {e}", schema.name)))?;
        LlamaSampler::grammar(self.model, &grammar, "root")
            .map(Some)
            .map_err(|e| rejected(format!("grammar: {e}")))
    }

    /// The sampling chain, without the grammar.
    fn sampler(&self, request: &ChatRequest) -> Result<LlamaSampler, WorkerError> {
        let chain = if request.temperature <= 0.0 {
            vec![LlamaSampler::greedy()]
        } else {
            vec![
                LlamaSampler::top_p(request.top_p.clamp(0.01, 1.0), 1),
                LlamaSampler::temp(request.temperature),
                LlamaSampler::dist(request.seed.unwrap_or(0) as u32),
            ]
        };
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// Sample a token the grammar allows, as llama.cpp's own `common_sampler` does: the
    /// token is drawn from the whole vocabulary first and only checked against the
    /// grammar, and only when the grammar rejects it is the grammar applied to every
    /// candidate and the token drawn again. Applying the grammar to all 262k candidates
    /// of a Gemma vocabulary costs ~40 ms a token here; checking one costs nothing, and
    /// the model mostly picks an allowed token. Greedy decoding gives the same tokens
    /// either way (the best token overall, when allowed, is the best allowed one).
    fn sample_constrained(
        &self,
        chain: &mut LlamaSampler,
        grammar: &mut LlamaSampler,
        logits_at: i32,
    ) -> LlamaToken {
        let mut candidates = self.ctx.token_data_array_ith(logits_at);
        chain.apply(&mut candidates);
        let mut token = candidates.selected_token();
        if let Some(t) = token {
            let mut single =
                LlamaTokenDataArray::new(vec![LlamaTokenData::new(t, 1.0, 0.0)], false);
            grammar.apply(&mut single);
            if single
                .data
                .first()
                .is_none_or(|d| d.logit() == f32::NEG_INFINITY)
            {
                token = None;
            }
        }
        let token = token.unwrap_or_else(|| {
            let mut candidates = self.ctx.token_data_array_ith(logits_at);
            grammar.apply(&mut candidates);
            chain.apply(&mut candidates);
            // With every token rejected the grammar has nowhere to go: end of generation.
            candidates
                .selected_token()
                .unwrap_or_else(|| self.model.vocab().eos())
        });
        grammar.accept(token);
        chain.accept(token);
        token
    }
}

/// Where the text must be cut for a stop string, if one appeared.
fn stop_at(out: &[u8], stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| out.windows(s.len()).position(|w| w == s.as_bytes()))
        .min()
}

fn send(out: &mut impl Write, m: &WorkerMessage) -> std::io::Result<()> {
    let mut line = serde_json::to_string(m).map_err(std::io::Error::other)?;
    line.push('\n');
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// The worker's main loop: load, say ready, answer each line until standard input ends.
pub fn run(opts: &WorkerOptions) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut engine = match Engine::load(opts) {
        Ok(e) => e,
        Err(m) => return send(&mut out, &WorkerMessage::Fatal(m)),
    };
    send(
        &mut out,
        &WorkerMessage::Ready {
            model: engine.name().to_string(),
            n_ctx: engine.n_ctx(),
        },
    )?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<WorkerRequest>(&line) {
            Ok(req) => {
                let result = engine.complete(&req.request);
                match result {
                    Ok(r) => WorkerMessage::Reply {
                        id: req.id,
                        ok: Some(r),
                        error: None,
                    },
                    Err(e) => WorkerMessage::Reply {
                        id: req.id,
                        ok: None,
                        error: Some(e),
                    },
                }
            }
            Err(e) => WorkerMessage::Reply {
                id: 0,
                ok: None,
                error: Some(WorkerError {
                    kind: "rejected".into(),
                    message: format!("not a request: {e}"),
                }),
            },
        };
        send(&mut out, &reply)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::stop_at;

    #[test]
    fn stop_strings_cut_at_the_first() {
        assert_eq!(
            stop_at(b"abc}\n\nmore", &["\n\n".into(), "}".into()]),
            Some(3)
        );
        assert_eq!(stop_at(b"abc", &["x".into(), String::new()]), None);
    }
}
