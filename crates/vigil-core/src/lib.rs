//! Shared vocabulary of Vigil: what a finding is, where it is, how bad and how sure,
//! and the writers that turn findings into reports (SARIF 2.1.0, JSON, text).
//!
//! Every other Vigil crate speaks these types; this crate depends on no other Vigil crate.

pub mod alert;
pub mod report;
pub mod triage;

pub use alert::{Alert, AlertEvent, MatchedField};
pub use triage::{InjectionSpan, Triage, TriageStatus, Verdict};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// How much harm a finding can do if it is real.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// SARIF `level` for this severity.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Info => "note",
            Severity::Low => "note",
            Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }

    /// GitHub code scanning reads `security-severity` as a CVSS-like number.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Info => "0.0",
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" | "note" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "warning" => Ok(Severity::Medium),
            "high" | "error" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// How sure the analysis is that the finding is real.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A span in a source file. Lines and columns are 1-based, as editors and SARIF count them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: PathBuf,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.path.display(),
            self.start_line,
            self.start_column
        )
    }
}

/// One step of the path that attacker data takes: where it is and what happens there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowStep {
    pub location: Location,
    pub message: String,
}

/// Static description of a rule, used for SARIF `tool.driver.rules` and for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub name: String,
    /// CWE numbers, most specific first: scorecards read only the first.
    pub cwe: Vec<u32>,
    pub severity: Severity,
    pub short: String,
    pub help: String,
    pub tags: Vec<String>,
    /// Names of the calls that make data safe for this rule (for triage evidence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sanitizers: Vec<String>,
}

/// A candidate vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub cwe: Vec<u32>,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    /// Where the harm happens (the sink, or the pattern match).
    pub location: Location,
    /// Source → steps → sink; empty for pattern findings.
    pub path: Vec<FlowStep>,
    /// The source line at `location`, trimmed, for reports and fingerprints.
    pub snippet: String,
    /// A model's verdict, after `--triage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<Triage>,
    /// A `vigil: ignore[..]` comment in the source that covers this finding. The finding
    /// stays in machine-readable reports (SARIF `suppressions`), and does not fail the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<InSourceSuppression>,
}

/// A suppression comment written in the scanned source, and why it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InSourceSuppression {
    /// Where the comment is (its line; the columns span the comment).
    pub location: Location,
    /// The text after the rule list, as written (may be empty).
    pub justification: String,
}

impl Finding {
    /// A fingerprint that survives code moving up or down the file: rule, file, and the
    /// normalised text of the sink line and of the source (the first step's message, which
    /// names the source and never a line number). The file is written with `/` separators
    /// and without `.` components, so `./src/A.java` and `src/A.java` are one file.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.rule_id.as_bytes());
        h.update([0]);
        h.update(normalised_path(&self.location.path).as_bytes());
        h.update([0]);
        let norm: String = self
            .snippet
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        h.update(norm.as_bytes());
        if let Some(first) = self.path.first() {
            h.update([0]);
            h.update(first.message.as_bytes());
        }
        let digest = h.finalize();
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Whether the finding is suppressed, in the source or by AI triage: it is still
    /// reported in JSON and SARIF, but does not fail the run.
    pub fn is_suppressed(&self) -> bool {
        self.suppression.is_some() || self.triage.as_ref().is_some_and(|t| t.suppressed)
    }
}

/// A path as the fingerprint sees it: `/`-separated, without `.` components.
fn normalised_path(path: &std::path::Path) -> String {
    use std::path::Component;
    let mut out = String::new();
    for c in path.components() {
        let part = match c {
            Component::CurDir => continue,
            Component::RootDir => {
                out.push('/');
                continue;
            }
            Component::Prefix(p) => p.as_os_str().to_string_lossy(),
            Component::ParentDir => "..".into(),
            Component::Normal(s) => s.to_string_lossy(),
        };
        if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(&part);
    }
    out
}

/// A file the run could not analyse, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Something the run wants the user to know that is not a finding: a suppression comment
/// that matched nothing, one that names no rule, a baseline that hid findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// A stable kind: `unused-suppression`, `unknown-rule-suppression`, `baseline`, ...
    pub kind: String,
    pub message: String,
    /// Where it is, when it is somewhere in the scanned code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Findings that a project's policy left out of the report, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hidden {
    /// Already in the baseline given with `--baseline`.
    #[serde(default)]
    pub baseline: usize,
    /// Outside the lines changed since the `--diff` base.
    #[serde(default)]
    pub outside_diff: usize,
}

impl Hidden {
    pub fn is_empty(&self) -> bool {
        self.baseline == 0 && self.outside_diff == 0
    }
}

/// Everything one run produced: findings, the rules that produced them, and what was skipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub tool_version: String,
    pub rules: Vec<RuleMeta>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub files_scanned: usize,
    pub lines_scanned: usize,
    /// Suppression comments that matched nothing, and the like (see [`Notice`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// Findings left out of the report by a baseline or a diff scope.
    #[serde(default, skip_serializing_if = "Hidden::is_empty")]
    pub hidden: Hidden,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, line: u32, snippet: &str) -> Finding {
        let at = |line| Location {
            path: PathBuf::from("src/Login.java"),
            start_line: line,
            start_column: 5,
            end_line: line,
            end_column: 20,
        };
        Finding {
            rule_id: rule.to_owned(),
            cwe: vec![89],
            severity: Severity::High,
            confidence: Confidence::High,
            message: "SQL built from request data".to_owned(),
            location: at(line),
            path: vec![FlowStep {
                location: at(line.saturating_sub(3)),
                message: "request.getParameter(\"id\")".to_owned(),
            }],
            snippet: snippet.to_owned(),
            triage: None,
            suppression: None,
        }
    }

    #[test]
    fn fingerprint_survives_moving_lines_and_reindenting() {
        let a = finding("java.sqli", 42, "stmt.executeQuery(sql);");
        let b = finding("java.sqli", 97, "stmt.executeQuery(sql);");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        // Re-indenting or re-spacing the line keeps it too: whitespace runs are normalised.
        let c = finding("java.sqli", 42, "\t  stmt.executeQuery(sql);  ");
        assert_eq!(a.fingerprint(), c.fingerprint());
        let d = finding("java.sqli", 42, "x = a  +  b;");
        let e = finding("java.sqli", 42, "x = a + b;");
        assert_eq!(d.fingerprint(), e.fingerprint());
    }

    #[test]
    fn fingerprint_changes_with_rule_file_or_code() {
        let a = finding("java.sqli", 42, "stmt.executeQuery(sql);");
        let other_rule = finding("java.sqli-hibernate", 42, "stmt.executeQuery(sql);");
        assert_ne!(a.fingerprint(), other_rule.fingerprint());
        let other_code = finding("java.sqli", 42, "stmt.execute(sql);");
        assert_ne!(a.fingerprint(), other_code.fingerprint());
        let mut other_file = a.clone();
        other_file.location.path = PathBuf::from("src/Admin.java");
        assert_ne!(a.fingerprint(), other_file.fingerprint());
        let mut other_source = a.clone();
        other_source.path[0].message = "request.getHeader(\"X-Id\")".to_owned();
        assert_ne!(a.fingerprint(), other_source.fingerprint());
    }

    #[test]
    fn fingerprint_ignores_dot_components_of_the_path() {
        let a = finding("java.sqli", 42, "stmt.executeQuery(sql);");
        let mut b = a.clone();
        b.location.path = PathBuf::from("./src/./Login.java");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(normalised_path(&PathBuf::from("/a/./b")), "/a/b");
    }
}
