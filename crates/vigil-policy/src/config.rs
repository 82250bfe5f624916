//! The project's `vigil.toml`: what `vigil hunt` runs and reports for this project.
//!
//! ```toml
//! exclude = ["**/test/**", "vendor/"]   # gitignore-like globs, relative to this file
//! entry = "public"                      # or "requests" (the default)
//! min-severity = "medium"
//! rule-folders = ["security/rules"]     # extra rule packs, relative to this file
//! inline-suppressions = true            # honour `vigil: ignore[..]` comments
//!
//! [rules]
//! disable = ["java/weak-random"]
//! only = ["java/sql-injection"]         # or `enable`: run only these
//! severity = { "java/weak-hash" = "low" }
//!
//! [triage]
//! providers = "models.toml"             # relative to this file
//! model = "models/small.gguf"
//! suppress-at = 90
//! ```
//!
//! It is found by walking up from the first scanned path (not above the git repository's
//! root), or named with `--project-config`. Unknown keys are errors with their line.
//! Command-line flags override the file.

use crate::PolicyError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;
use vigil_core::Severity;

/// The file name looked for.
pub const FILE_NAME: &str = "vigil.toml";

/// Where attacker data enters (see `vigil hunt --entry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    Requests,
    Public,
}

/// A project's `vigil.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Paths not scanned: globs relative to the file's folder.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub entry: Option<Entry>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Rule folders (laid out like `rules/`) added to the built-in rules.
    #[serde(default)]
    pub rule_folders: Vec<PathBuf>,
    /// Whether `vigil: ignore[..]` comments are honoured (default true).
    #[serde(default)]
    pub inline_suppressions: Option<bool>,
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub triage: TriageConfig,
    /// The file it was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// Its text, for line numbers in later errors.
    #[serde(skip)]
    text: String,
}

/// `[rules]`: which rules run, and at what severity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RulesConfig {
    /// Rules turned off.
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    /// When not empty, only these rules run (`enable` is the same key).
    #[serde(default, alias = "enable")]
    pub only: Vec<Spanned<String>>,
    /// Severity of a rule's findings, replacing the rule's own.
    #[serde(default)]
    pub severity: BTreeMap<Spanned<String>, Severity>,
}

/// `[triage]`: the models `--triage` uses when the command line names none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TriageConfig {
    /// A providers file (what `--config` names), relative to `vigil.toml`.
    #[serde(default)]
    pub providers: Option<PathBuf>,
    /// A local GGUF model (what `--model` names), relative to `vigil.toml`.
    #[serde(default)]
    pub model: Option<PathBuf>,
    /// What `--suppress-at` sets.
    #[serde(default)]
    pub suppress_at: Option<u8>,
}

impl Config {
    /// Parses a `vigil.toml` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, PolicyError> {
        let mut config: Config = toml::from_str(text).map_err(|e| PolicyError::Config {
            path: path.to_path_buf(),
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        config.path = path.to_path_buf();
        config.text = text.to_owned();
        Ok(config)
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Config, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// The nearest `vigil.toml` in `start`'s folder (or `start` itself, when a folder) or
    /// one of its parents, up to the root of the git repository holding it (a folder with
    /// `.git`); `None` when there is none.
    pub fn discover(start: &Path) -> Result<Option<Config>, PolicyError> {
        let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let first = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        for dir in first.into_iter().flat_map(Path::ancestors) {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate).map(Some);
            }
            if dir.join(".git").exists() {
                break;
            }
        }
        Ok(None)
    }

    /// The folder relative paths in the file are taken from.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// `p` taken relative to the file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir().join(p)
        }
    }

    /// The rule ids in `[rules]` that `exists` does not know, as errors with their line.
    pub fn unknown_rules(&self, exists: &dyn Fn(&str) -> bool) -> Vec<PolicyError> {
        let mut errors = Vec::new();
        let mut check = |id: &Spanned<String>, key: &str| {
            if !exists(id.get_ref()) {
                errors.push(PolicyError::Config {
                    path: self.path.clone(),
                    line: line_of(&self.text, id.span().start),
                    message: format!(
                        "unknown rule id `{}` in [rules] {key} (see `vigil rules`)",
                        id.get_ref()
                    ),
                });
            }
        };
        for id in &self.rules.disable {
            check(id, "disable");
        }
        for id in &self.rules.only {
            check(id, "only");
        }
        for id in self.rules.severity.keys() {
            check(id, "severity");
        }
        errors
    }

    /// Whether the rule runs, by `[rules] only` and `disable`.
    pub fn rule_enabled(&self, id: &str) -> bool {
        (self.rules.only.is_empty() || self.rules.only.iter().any(|o| o.get_ref() == id))
            && !self.rules.disable.iter().any(|d| d.get_ref() == id)
    }

    /// The severity `[rules] severity` gives the rule, if any.
    pub fn severity_of(&self, id: &str) -> Option<Severity> {
        self.rules
            .severity
            .iter()
            .find(|(k, _)| k.get_ref() == id)
            .map(|(_, s)| *s)
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
exclude = ["**/test/**", "vendor/"]
entry = "public"
min-severity = "medium"
rule-folders = ["security/rules"]

[rules]
disable = ["java/weak-random"]
enable = ["java/sql-injection", "java/weak-random"]
severity = { "java/sql-injection" = "critical" }

[triage]
providers = "models.toml"
suppress-at = 90
"#;

    #[test]
    fn every_key_parses() {
        let c = Config::parse(Path::new("/p/vigil.toml"), FULL).expect("valid");
        assert_eq!(c.exclude, vec!["**/test/**", "vendor/"]);
        assert_eq!(c.entry, Some(Entry::Public));
        assert_eq!(c.min_severity, Some(Severity::Medium));
        assert_eq!(
            c.resolve(&c.rule_folders[0]),
            Path::new("/p/security/rules")
        );
        assert!(c.rule_enabled("java/sql-injection"));
        assert!(!c.rule_enabled("java/weak-random"), "disable wins");
        assert!(!c.rule_enabled("java/xss"), "not in `enable`");
        assert_eq!(
            c.severity_of("java/sql-injection"),
            Some(Severity::Critical)
        );
        assert_eq!(c.severity_of("java/xss"), None);
        assert_eq!(c.triage.suppress_at, Some(90));
        assert_eq!(
            c.triage.providers.as_deref().map(|p| c.resolve(p)),
            Some(PathBuf::from("/p/models.toml"))
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let text = "entry = \"public\"\n\n[rules]\ndisable = []\ndisabled = [\"x\"]\n";
        let err = Config::parse(Path::new("vigil.toml"), text).expect_err("unknown key");
        let msg = err.to_string();
        assert!(
            msg.starts_with("vigil.toml:5: unknown field `disabled`"),
            "{msg}"
        );
        let err = Config::parse(Path::new("vigil.toml"), "exclud = []\n").expect_err("top");
        assert!(
            err.to_string()
                .starts_with("vigil.toml:1: unknown field `exclud`")
        );
        let err = Config::parse(Path::new("vigil.toml"), "\nmin-severity = \"huge\"\n")
            .expect_err("bad value");
        assert!(
            err.to_string()
                .starts_with("vigil.toml:2: unknown variant `huge`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_rule_ids_are_reported_with_their_line() {
        let c = Config::parse(Path::new("vigil.toml"), FULL).expect("valid");
        let errs = c.unknown_rules(&|id| id != "java/weak-random");
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "vigil.toml:8: unknown rule id `java/weak-random` in [rules] disable (see `vigil rules`)",
                "vigil.toml:9: unknown rule id `java/weak-random` in [rules] only (see `vigil rules`)",
            ]
        );
    }

    #[test]
    fn discovery_walks_up_from_the_scanned_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        std::fs::write(dir.path().join("vigil.toml"), "entry = \"public\"\n").expect("write");
        std::fs::write(dir.path().join("a/b/X.java"), "class X {}").expect("write");
        let c = Config::discover(&dir.path().join("a/b/X.java"))
            .expect("valid")
            .expect("found");
        assert_eq!(c.entry, Some(Entry::Public));
        assert!(c.path.ends_with("vigil.toml"));
        // Not above the repository's root.
        std::fs::create_dir_all(dir.path().join("a/.git")).expect("mkdir");
        assert!(
            Config::discover(&dir.path().join("a/b"))
                .expect("valid")
                .is_none()
        );
    }
}
