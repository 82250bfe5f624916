//! A model's verdict on a finding, with its provenance: what every report carries after
//! `vigil hunt --triage`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the model decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    Uncertain,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::TruePositive => "true_positive",
            Verdict::FalsePositive => "false_positive",
            Verdict::Uncertain => "uncertain",
        }
    }
}

/// The triage of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub verdict: Verdict,
    /// 0-100, as the model gave it.
    pub confidence: u8,
    pub reasoning: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exploit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fix: String,
    /// Hidden from default views but kept in every output: rejected with high confidence.
    pub suppressed: bool,
    /// Why it was or was not suppressed, when a policy decided (for example: the evidence
    /// holds text that tries to steer the reviewer, so it cannot be suppressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Who answered: provider name(s), model, and the weights' hash or the endpoint.
    pub provider: String,
    pub model: String,
    pub identity: String,
    /// Ensembles: each provider's verdict, when they did not all agree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dissent: Vec<String>,
    /// How this record came about: a verdict, or why there is none.
    #[serde(default)]
    pub status: TriageStatus,
    /// Why there is no usable verdict (the provider's error, the budget, ...), when the
    /// status is not `answered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The data-flow steps (1-based) the answer cites as its evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cited_steps: Vec<u32>,
    /// Text in the evidence that addresses a reviewer or a model: the finding keeps its
    /// state whatever the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub injection_detected: Vec<InjectionSpan>,
}

impl Triage {
    /// A record with no verdict: `uncertain` at 0%, with the reason and whoever was asked.
    pub fn without_verdict(status: TriageStatus, reason: impl Into<String>) -> Triage {
        let reason = reason.into();
        Triage {
            verdict: Verdict::Uncertain,
            confidence: 0,
            reasoning: format!("no verdict: {reason}"),
            exploit: String::new(),
            fix: String::new(),
            suppressed: false,
            policy: None,
            provider: String::new(),
            model: String::new(),
            identity: String::new(),
            dissent: Vec::new(),
            status,
            reason: Some(reason),
            cited_steps: Vec::new(),
            injection_detected: Vec::new(),
        }
    }
}

/// How a triage record came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageStatus {
    /// The model answered with a verdict that cites the evidence.
    #[default]
    Answered,
    /// The answer did not parse as a verdict: kept as `uncertain`.
    Unparsable,
    /// The answer cited no step of the evidence: kept as `uncertain`.
    Uncited,
    /// Every provider asked failed.
    Failed,
    /// The provider gave no answer in time.
    TimedOut,
    /// The run's model budget was spent before this finding.
    OverBudget,
}

impl TriageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TriageStatus::Answered => "answered",
            TriageStatus::Unparsable => "unparsable",
            TriageStatus::Uncited => "uncited",
            TriageStatus::Failed => "failed",
            TriageStatus::TimedOut => "timed_out",
            TriageStatus::OverBudget => "over_budget",
        }
    }
}

/// One line of text, in a finding's evidence, that addresses a reviewer or a model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InjectionSpan {
    pub path: PathBuf,
    pub line: u32,
    /// The line as written (trimmed, at most 200 characters).
    pub text: String,
}
