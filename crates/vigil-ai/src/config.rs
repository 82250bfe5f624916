//! The providers file (TOML): which models answer which role, how, and within what budget.
//!
//! ```toml
//! audit_log = "vigil-models.jsonl"     # every call, appended
//! concurrency = 2                      # calls in flight at once
//!
//! [budget]                             # per run; unset = no limit
//! tokens = 2000000
//! cost = 10.0                          # in the currency of the prices below
//!
//! [[provider]]
//! name = "local"
//! kind = "local"                       # a GGUF file, run in a worker process
//! model = "/models/qwen2.5-7b-instruct-q4_k_m.gguf"
//! roles = ["triage", "investigate", "summarize"]
//! context = 8192
//! threads = 8
//!
//! [[provider]]
//! name = "lab"
//! kind = "openai"                      # any OpenAI-compatible endpoint
//! url = "http://10.0.0.5:8000/v1"
//! model = "Qwen/Qwen3-32B"
//! api_key_env = "LAB_API_KEY"          # the key is read from this variable
//! price_in = 0.2                       # per million tokens
//! price_out = 0.6
//! roles = ["triage"]
//!
//! [roles.triage]
//! mode = "failover"                    # or "ensemble": every provider answers, votes decide
//! vote = "majority"                    # or "unanimous"
//!
//! [calibration]                        # when a model's verdicts may suppress findings
//! min_precision = 0.95                 # of its false-positive calls in `vigil eval triage`
//! min_calls = 20                       # false-positive calls that precision rests on
//! # dir = "/var/lib/vigil/calibration" # default: $VIGIL_DATA_DIR, $XDG_DATA_HOME/vigil, ~/.local/share/vigil
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::openai::SchemaMode;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub budget: BudgetConfig,
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProviderConfig>,
    #[serde(default)]
    pub roles: BTreeMap<String, RoleConfig>,
    #[serde(default)]
    pub calibration: CalibrationConfig,
}

/// When a model has earned the right to suppress findings: a calibration record from
/// `vigil eval triage` whose false-positive calls were right often enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationConfig {
    /// Where calibration records are kept (default: the user's data folder).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Least precision of the model's false-positive calls (0-1).
    #[serde(default = "default_min_precision")]
    pub min_precision: f64,
    /// Fewest false-positive calls the precision may rest on.
    #[serde(default = "default_min_calls")]
    pub min_calls: u32,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            dir: None,
            min_precision: default_min_precision(),
            min_calls: default_min_calls(),
        }
    }
}

fn default_min_precision() -> f64 {
    0.95
}

fn default_min_calls() -> u32 {
    20
}

fn default_concurrency() -> usize {
    1
}

/// Limits of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Tokens in and out, all providers together.
    pub tokens: Option<u64>,
    /// Money, from each provider's prices.
    pub cost: Option<f64>,
}

/// One provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// `local`: the GGUF file. `openai`: the model id sent to the endpoint.
    pub model: String,
    /// `openai`: the base URL, up to `/v1`.
    #[serde(default)]
    pub url: Option<String>,
    /// `openai`: the environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Longest a call may take: default 120 s for endpoints, 600 s for local models
    /// (a CPU generating a long answer under load).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default)]
    pub schema: SchemaMode,
    /// Price per million input / output tokens.
    #[serde(default)]
    pub price_in: f64,
    #[serde(default)]
    pub price_out: f64,
    /// Roles this provider serves; empty = every role.
    #[serde(default)]
    pub roles: Vec<String>,
    /// `local`: context length in tokens.
    #[serde(default = "default_context")]
    pub context: u32,
    /// `local`: CPU threads (0 = all cores).
    #[serde(default)]
    pub threads: u32,
    /// `local`: layers offloaded to a GPU, where llama.cpp was built with one.
    #[serde(default)]
    pub gpu_layers: u32,
}

impl ProviderConfig {
    /// The timeout in seconds, with the default of its kind.
    pub fn timeout(&self) -> u64 {
        self.timeout_seconds.unwrap_or(match self.kind {
            ProviderKind::Local => 600,
            ProviderKind::Openai => 120,
        })
    }
}

fn default_retries() -> u32 {
    2
}

fn default_context() -> u32 {
    4096
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Local,
    Openai,
}

/// How a role uses its providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    #[serde(default)]
    pub mode: RoleMode,
    #[serde(default)]
    pub vote: Vote,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleMode {
    /// The first provider that answers, in file order.
    #[default]
    Failover,
    /// Every provider answers; `vote` decides.
    Ensemble,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    #[default]
    Majority,
    Unanimous,
}

/// A config error, with the file it is in.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl ModelsConfig {
    /// Read and check a providers file.
    pub fn load(path: &Path) -> Result<ModelsConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ModelsConfig::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse and check the text of a providers file.
    pub fn parse(text: &str) -> Result<ModelsConfig, String> {
        let c: ModelsConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check()?;
        Ok(c)
    }

    /// A one-provider config for a local GGUF file (`--model FILE.gguf`).
    pub fn local_model(path: &Path) -> ModelsConfig {
        ModelsConfig {
            concurrency: 1,
            providers: vec![ProviderConfig {
                name: "local".into(),
                kind: ProviderKind::Local,
                model: path.display().to_string(),
                url: None,
                api_key_env: None,
                timeout_seconds: None,
                retries: default_retries(),
                schema: SchemaMode::default(),
                price_in: 0.0,
                price_out: 0.0,
                roles: Vec::new(),
                context: default_context(),
                threads: 0,
                gpu_layers: 0,
            }],
            ..ModelsConfig::default()
        }
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            if !seen.insert(&p.name) {
                return Err(format!("provider `{}` is named twice", p.name));
            }
            if p.kind == ProviderKind::Openai && p.url.is_none() {
                return Err(format!(
                    "provider `{}`: kind = \"openai\" needs a url",
                    p.name
                ));
            }
            if p.price_in < 0.0 || p.price_out < 0.0 {
                return Err(format!("provider `{}`: a price is negative", p.name));
            }
        }
        if !(0.0..=1.0).contains(&self.calibration.min_precision) {
            return Err("calibration.min_precision must be between 0 and 1".into());
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        Ok(())
    }

    /// The providers of a role, in file order.
    pub fn providers_for<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a ProviderConfig> {
        self.providers
            .iter()
            .filter(move |p| p.roles.is_empty() || p.roles.iter().any(|r| r == role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let doc = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let c = ModelsConfig::parse(&doc).unwrap();
        assert_eq!(c.providers.len(), 2);
        assert_eq!(c.concurrency, 2);
        assert_eq!(c.budget.tokens, Some(2_000_000));
        assert_eq!(c.roles["triage"].mode, RoleMode::Failover);
        assert_eq!(c.calibration.min_precision, 0.95);
        assert_eq!(c.calibration.min_calls, 20);
        assert_eq!(c.calibration.dir, None);
        let names: Vec<&str> = c.providers_for("triage").map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["local", "lab"]);
        let names: Vec<&str> = c
            .providers_for("summarize")
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, vec!["local"]);
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expect) in [
            (
                "[[provider]]\nname='a'\nkind='openai'\nmodel='m'\n",
                "needs a url",
            ),
            (
                "[[provider]]\nname='a'\nkind='local'\nmodel='m'\n[[provider]]\nname='a'\nkind='local'\nmodel='n'\n",
                "named twice",
            ),
            (
                "[[provider]]\nname='a'\nkind='cloud'\nmodel='m'\n",
                "unknown variant",
            ),
            ("concurency = 2\n", "unknown field"),
            ("[calibration]\nmin_precision = 95\n", "between 0 and 1"),
            ("[calibration]\nmin_presicion = 0.9\n", "unknown field"),
        ] {
            let e = ModelsConfig::parse(text).unwrap_err();
            assert!(e.contains(expect), "{text}: {e}");
        }
    }
}
