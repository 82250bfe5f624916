//! The correlation rules of a rule set, checked and kept at load time; the
//! [`crate::correlation::Correlator`] made from them runs them over the alerts.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use rsigma_eval::{CorrelationConfig, CorrelationEngine};
use rsigma_parser::{CorrelationRule, SigmaRule};

use super::errors::{LoadErrorKind, RuleLoadError};

/// The correlation rules of a rule set and the detection rules they reference; a fresh
/// [`crate::correlation::Correlator`] is made from it for each run.
#[derive(Debug, Clone, Default)]
pub struct CorrelationSet {
    /// Referenced detection rules (as parsed: compiled again by the engine).
    pub(crate) rules: Vec<SigmaRule>,
    pub(crate) correlations: Vec<(CorrelationRule, Arc<PathBuf>)>,
    /// Keys (`id`, else title) of the rules that only feed correlations
    /// (`generate: false`, Sigma's default): their own alerts are folded into the
    /// correlations'.
    pub(crate) correlation_only: HashSet<String>,
    /// Keys of every referenced rule.
    pub(crate) referenced: HashSet<String>,
}

pub(crate) fn rule_key(r: &SigmaRule) -> &str {
    r.id.as_deref().unwrap_or(&r.title)
}

impl CorrelationSet {
    /// Build from the parsed detection rules (all of them, with their files) and
    /// correlation rules (`active`: the rule set's keys of the rules it evaluates); a
    /// correlation that cannot be compiled, or that references a rule that is not
    /// loaded, is a load error.
    pub(crate) fn build(
        detection: &[(&SigmaRule, &Arc<PathBuf>)],
        active: &HashMap<String, usize>,
        correlations: Vec<(CorrelationRule, Arc<PathBuf>)>,
        errors: &mut Vec<RuleLoadError>,
    ) -> CorrelationSet {
        if correlations.is_empty() {
            return CorrelationSet::default();
        }
        let corr_names: HashSet<String> = correlations
            .iter()
            .flat_map(|(c, _)| c.id.iter().chain(c.name.iter()).cloned())
            .collect();
        let mut set = CorrelationSet::default();
        let mut kept = Vec::new();
        let mut wanted: HashSet<String> = HashSet::new();
        for (corr, path) in correlations {
            let label = match &corr.id {
                Some(id) => format!("{} [{id}]", corr.title),
                None => corr.title.clone(),
            };
            let error = |reason: String| RuleLoadError {
                path: path.to_path_buf(),
                rule: Some(label.clone()),
                kind: LoadErrorKind::Compile,
                reason,
            };
            let mut missing = Vec::new();
            for r in &corr.rules {
                if corr_names.contains(r) {
                    continue; // a chained correlation
                }
                let found: Vec<&SigmaRule> = detection
                    .iter()
                    .map(|(rule, _)| *rule)
                    .filter(|rule| rule.id.as_deref() == Some(r) || rule.name.as_deref() == Some(r))
                    .collect();
                let is_active = |rule: &&SigmaRule| {
                    active.contains_key(&super::keys::rule_key(rule.id.as_deref(), &rule.title))
                };
                if !found.iter().any(is_active) {
                    missing.push(r.clone());
                }
                for rule in found {
                    let key = rule_key(rule).to_string();
                    set.referenced.insert(key.clone());
                    if !corr.generate {
                        set.correlation_only.insert(key.clone());
                    }
                    if wanted.insert(key) {
                        set.rules.push(rule.clone());
                    }
                }
            }
            // Validate now, so that a bad correlation is listed at load time.
            let mut probe = CorrelationEngine::new(CorrelationConfig::default());
            if let Err(e) = probe.add_correlation(&corr) {
                errors.push(error(format!("correlation: {e}")));
                continue;
            }
            if !missing.is_empty() {
                errors.push(error(format!(
                    "correlation references rules that are not loaded or never evaluated: {}",
                    missing.join(", ")
                )));
            }
            kept.push((corr, path));
        }
        set.correlations = kept;
        set
    }

    /// Number of correlation rules.
    pub fn len(&self) -> usize {
        self.correlations.len()
    }

    /// True when there is no correlation rule.
    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }
}
