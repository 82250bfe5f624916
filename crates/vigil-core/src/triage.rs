//! A model's verdict on a finding, with its provenance: what every report carries after
//! `vigil hunt --triage`.

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
}
