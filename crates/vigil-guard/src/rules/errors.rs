//! What did not load: a rule file or rule, with where and why.
//!
//! A leaf of [`crate::rules`]: the rule cache and the correlation set report in these
//! terms without depending on the loader.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What kind of problem a rule file or rule had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadErrorKind {
    /// The path could not be read (missing, not UTF-8, permissions).
    Read,
    /// A YAML document is not valid YAML or not a valid Sigma rule; it was skipped.
    Parse,
    /// A non-fatal parser remark on a file whose rules did load (bad `related`, ...).
    Warning,
    /// The rule parsed but the pipeline or compiler rejected it.
    Compile,
    /// A Windows rule whose logsource no event log channel carries (ETW-only sources
    /// such as `file_access`); compiled but not evaluated.
    NoEventSource,
}

/// One rule file or rule that did not load, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleLoadError {
    /// The rule file (or the path given, when it could not be read at all).
    pub path: PathBuf,
    /// The rule's title or id, when the problem is with one rule of the file.
    pub rule: Option<String>,
    /// The kind of problem.
    pub kind: LoadErrorKind,
    /// The parser's or compiler's message.
    pub reason: String,
}

impl std::fmt::Display for RuleLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(rule) = &self.rule {
            write!(f, " ({rule})")?;
        }
        write!(f, ": {:?}: {}", self.kind, self.reason)
    }
}
