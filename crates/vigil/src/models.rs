//! `vigil models` and `vigil serve`: the model layer on the command line. Local models
//! run in `vigil-model-worker` processes (crates/vigil-llama).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use vigil_ai::config::{ModelsConfig, ProviderKind};
use vigil_ai::{
    AuditLog, Backend, ChatRequest, JsonSchema, LocalBackend, LocalConfig, Message, OpenAiBackend,
    OpenAiConfig, Provider, Router, WorkerCommand,
};

/// Where models come from: one GGUF file, or a providers file.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ModelArgs {
    /// A local GGUF model: shortcut for a one-provider config.
    #[arg(long, value_name = "FILE.gguf")]
    pub model: Option<PathBuf>,
    /// The providers file (TOML); default: $VIGIL_CONFIG.
    #[arg(long, value_name = "FILE", env = "VIGIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Append every model call to this JSONL file (overrides the config's audit_log).
    #[arg(long, value_name = "FILE")]
    pub model_audit: Option<PathBuf>,
}

impl ModelArgs {
    /// The configuration these arguments name.
    pub fn config(&self) -> Result<ModelsConfig> {
        match (&self.model, &self.config) {
            (Some(m), _) => Ok(ModelsConfig::local_model(m)),
            (None, Some(c)) => Ok(ModelsConfig::load(c)?),
            (None, None) => {
                bail!("no model: give --model FILE.gguf or --config FILE (or set VIGIL_CONFIG)")
            }
        }
    }

    /// A router over the configured providers.
    pub fn router(&self) -> Result<Router> {
        Ok(self.router_and_policy()?.0)
    }

    /// A router over the configured providers, and when their verdicts may suppress
    /// findings (the `[calibration]` section).
    pub fn router_and_policy(&self) -> Result<(Router, vigil_triage::SuppressionPolicy)> {
        let config = self.config()?;
        let audit = self.model_audit.clone().or(config.audit_log.clone());
        let router = build_router(&config, audit.as_deref())?;
        let c = &config.calibration;
        let policy = vigil_triage::SuppressionPolicy {
            store: c
                .dir
                .clone()
                .or_else(vigil_triage::CalibrationStore::default_dir)
                .map(vigil_triage::CalibrationStore::new),
            min_precision: c.min_precision,
            min_calls: c.min_calls,
        };
        Ok((router, policy))
    }
}

/// The local model worker binary: `$VIGIL_MODEL_WORKER`, else `vigil-model-worker`
/// beside this binary, else where `scripts/build-model-worker.sh` puts it in this
/// checkout (`target/worker/release/`), else on the PATH.
pub fn worker_program() -> Result<PathBuf> {
    const NAME: &str = "vigil-model-worker";
    if let Some(p) = std::env::var_os("VIGIL_MODEL_WORKER") {
        return Ok(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        // target/<profile>/vigil, or target/<profile>/deps/<test> in tests.
        for base in [
            dir,
            dir.parent().unwrap_or(dir),
            dir.parent().and_then(Path::parent).unwrap_or(dir),
        ] {
            for candidate in [base.join(NAME), base.join("worker/release").join(NAME)] {
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            if dir.join(NAME).is_file() {
                return Ok(dir.join(NAME));
            }
        }
    }
    bail!(
        "local models need the model worker, {NAME}: build it with scripts/build-model-worker.sh \
         (needs cmake, clang and libclang-dev), or set VIGIL_MODEL_WORKER"
    )
}

fn worker_command(local: &LocalConfig) -> Result<WorkerCommand> {
    Ok(WorkerCommand {
        program: worker_program()?,
        args: local.worker_args(),
    })
}

/// Build a router from a config.
pub fn build_router(config: &ModelsConfig, audit: Option<&Path>) -> Result<Router> {
    let mut providers = Vec::new();
    for p in &config.providers {
        let backend: Box<dyn Backend> = match p.kind {
            ProviderKind::Local => {
                let local = LocalConfig {
                    model: PathBuf::from(&p.model),
                    context: p.context,
                    threads: p.threads,
                    gpu_layers: p.gpu_layers,
                    timeout: Duration::from_secs(p.timeout()),
                };
                if !local.model.is_file() {
                    bail!("provider `{}`: no model file at {}", p.name, p.model);
                }
                let command = worker_command(&local)?;
                Box::new(LocalBackend::new(local, command))
            }
            ProviderKind::Openai => {
                let api_key = match &p.api_key_env {
                    Some(var) => match std::env::var(var) {
                        Ok(k) => Some(k),
                        Err(_) => {
                            eprintln!(
                                "vigil: provider `{}`: ${var} is not set; calling without a key",
                                p.name
                            );
                            None
                        }
                    },
                    None => None,
                };
                Box::new(OpenAiBackend::new(OpenAiConfig {
                    url: p.url.clone().unwrap_or_default(),
                    model: p.model.clone(),
                    api_key,
                    timeout: Duration::from_secs(p.timeout()),
                    retries: p.retries,
                    backoff: Duration::from_millis(500),
                    schema_mode: p.schema,
                }))
            }
        };
        providers.push(
            Provider::new(p.name.clone(), backend)
                .with_roles(p.roles.clone())
                .with_prices(p.price_in, p.price_out),
        );
    }
    let mut router = Router::new(providers)
        .with_budget(config.budget.tokens, config.budget.cost)
        .with_concurrency(config.concurrency)
        .with_roles(config.roles.clone());
    if let Some(path) = audit {
        router = router.with_audit(
            AuditLog::open(path)
                .with_context(|| format!("cannot open the model audit log {}", path.display()))?,
        );
    }
    Ok(router)
}

#[derive(clap::Subcommand)]
pub enum ModelsCommand {
    /// The configured providers: kind, model, roles, and what identifies the weights.
    List(ModelArgs),
    /// Send each provider a short request that must answer in JSON; exit 1 if one fails.
    Test(ModelArgs),
    /// Tokens per second of each provider: prompt processing and generation.
    Bench {
        #[command(flatten)]
        models: ModelArgs,
        /// Prompt length to process, in tokens (about).
        #[arg(long, default_value_t = 512)]
        prompt_tokens: u32,
        /// Tokens to generate.
        #[arg(long, default_value_t = 128)]
        gen_tokens: u32,
        /// Runs of each measurement (the median is shown).
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Summarise a model audit log: calls, outcomes, tokens and latency per provider.
    Audit {
        /// The audit log (JSONL).
        log: PathBuf,
    },
}

pub fn models(cmd: ModelsCommand) -> Result<ExitCode> {
    match cmd {
        ModelsCommand::List(args) => list(&args),
        ModelsCommand::Test(args) => test(&args),
        ModelsCommand::Bench {
            models,
            prompt_tokens,
            gen_tokens,
            runs,
        } => bench(&models, prompt_tokens, gen_tokens, runs),
        ModelsCommand::Audit { log } => audit(&log),
    }
}

fn list(args: &ModelArgs) -> Result<ExitCode> {
    let config = args.config()?;
    let router = build_router(&config, None)?;
    for (p, c) in router.providers().iter().zip(&config.providers) {
        let roles = if c.roles.is_empty() {
            "all roles".to_string()
        } else {
            c.roles.join(", ")
        };
        println!(
            "{}\t{}\t{}\t{}\t{}",
            p.name,
            match c.kind {
                ProviderKind::Local => "local",
                ProviderKind::Openai => "openai",
            },
            p.backend.model(),
            roles,
            p.backend.identity()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A probe every backend must answer: a tiny object of a fixed shape.
fn probe() -> ChatRequest {
    let mut r = ChatRequest::new(vec![Message::user(
        "Answer with a JSON object whose field \"ok\" is true.",
    )]);
    r.max_tokens = 24;
    r.schema = Some(JsonSchema {
        name: "probe".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": false
        }),
    });
    r
}

fn test(args: &ModelArgs) -> Result<ExitCode> {
    let router = args.router()?;
    let mut failed = 0;
    for p in router.providers() {
        let start = Instant::now();
        match p.backend.complete(&probe()) {
            Ok(r) => {
                let parses = serde_json::from_str::<serde_json::Value>(&r.text)
                    .is_ok_and(|v| v.get("ok").is_some_and(|b| b.is_boolean()));
                println!(
                    "{}\tok\t{} ms\t{} tokens in, {} out\tJSON {}\t{:?}",
                    p.name,
                    start.elapsed().as_millis(),
                    r.tokens_in,
                    r.tokens_out,
                    if parses { "valid" } else { "INVALID" },
                    r.text
                );
                if !parses {
                    failed += 1;
                }
            }
            Err(e) => {
                println!("{}\tFAILED\t{e}", p.name);
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn bench(args: &ModelArgs, prompt_tokens: u32, gen_tokens: u32, runs: u32) -> Result<ExitCode> {
    let router = args.router()?;
    // About one token per short word in every tokenizer used here.
    let filler = "log ".repeat(prompt_tokens.max(1) as usize);
    for p in router.providers() {
        // Warm up (a local worker loads its model on the first call).
        let mut warm = ChatRequest::new(vec![Message::user("hi")]);
        warm.max_tokens = 1;
        if let Err(e) = p.backend.complete(&warm) {
            println!("{}\tFAILED\t{e}", p.name);
            continue;
        }
        let mut pp = Vec::new();
        let mut tg = Vec::new();
        let mut n_prompt = 0;
        for _ in 0..runs.max(1) {
            let mut r = ChatRequest::new(vec![Message::user(filler.clone())]);
            r.max_tokens = 1;
            let start = Instant::now();
            let a = p.backend.complete(&r)?;
            let secs = a
                .timings
                .map(|t| t.prompt_ms / 1e3)
                .unwrap_or_else(|| start.elapsed().as_secs_f64());
            n_prompt = a.tokens_in;
            pp.push(a.tokens_in as f64 / secs);

            let mut g = ChatRequest::new(vec![Message::user("Write a long story.")]);
            g.max_tokens = gen_tokens;
            g.ignore_eos = true;
            let start = Instant::now();
            let a = p.backend.complete(&g)?;
            let secs = a
                .timings
                .map(|t| t.generate_ms / 1e3)
                .unwrap_or_else(|| start.elapsed().as_secs_f64());
            tg.push(a.tokens_out as f64 / secs);
        }
        println!(
            "{}\t{}\tprompt {:.1} tokens/s ({n_prompt} tokens)\tgeneration {:.1} tokens/s ({gen_tokens} tokens)\tmedian of {runs}",
            p.name,
            p.backend.model(),
            median(pp),
            median(tg),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn audit(log: &Path) -> Result<ExitCode> {
    let s = vigil_ai::summarize(log).with_context(|| format!("cannot read {}", log.display()))?;
    if let (Some(first), Some(last)) = (&s.first, &s.last) {
        println!("calls from {first} to {last}");
    }
    println!(
        "provider\tmodel\tweights or endpoint\tcalls\tok\terrors\tskipped\ttokens in\ttokens out\tmean latency ms"
    );
    for ((provider, model, identity), t) in &s.by_provider {
        println!(
            "{provider}\t{model}\t{identity}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.0}",
            t.calls,
            t.ok,
            t.errors,
            t.skipped,
            t.tokens_in,
            t.tokens_out,
            t.latency_ms as f64 / t.calls.max(1) as f64
        );
    }
    if !s.bad_lines.is_empty() {
        eprintln!(
            "vigil: {} line(s) are not audit records: {:?}",
            s.bad_lines.len(),
            s.bad_lines
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub models: ModelArgs,
    /// Address to listen on (loopback unless --public).
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,
    /// Allow an address other than loopback.
    #[arg(long)]
    pub public: bool,
    /// Clients must send this variable's value as a Bearer token.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    if !args.listen.ip().is_loopback() && !args.public {
        bail!(
            "{} is not a loopback address; pass --public to serve beyond this machine",
            args.listen
        );
    }
    let api_key = match &args.api_key_env {
        Some(var) => Some(std::env::var(var).with_context(|| format!("${var} is not set"))?),
        None => None,
    };
    let router = args.models.router()?;
    vigil_ai::serve::serve(args.listen, router, api_key, |addr| {
        // Scripts wait for this line.
        eprintln!("vigil: serving http://{addr}/v1 (OpenAI-compatible)");
    })?;
    Ok(ExitCode::SUCCESS)
}
