//! Baselines: the findings a project already knows about, so that a CI run reports only
//! new ones. A baseline is a SARIF log written by `vigil hunt --write-baseline` (or any
//! `-f sarif` run); findings are matched on their fingerprint
//! (`partialFingerprints.primaryLocationLineHash`: rule, file, sink line text, source),
//! which does not change when code moves up or down the file.

use crate::PolicyError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vigil_core::{Finding, Report};

/// The fingerprints of a baseline, each with how many findings carry it.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub path: PathBuf,
    counts: HashMap<String, usize>,
}

impl Baseline {
    /// Reads a SARIF log (or a Vigil JSON report) written earlier.
    pub fn load(path: &Path) -> Result<Baseline, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| PolicyError::Config {
            path: path.to_path_buf(),
            line: e.line(),
            message: format!("not a SARIF log: {e}"),
        })?;
        Self::from_document(path, &doc)
    }

    /// The fingerprints of a parsed SARIF log (`runs[].results[]`) or Vigil JSON report
    /// (`findings[].fingerprint`).
    pub fn from_document(path: &Path, doc: &Value) -> Result<Baseline, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut unprinted = 0;
        if let Some(runs) = doc.get("runs").and_then(Value::as_array) {
            for run in runs {
                let results = run.get("results").and_then(Value::as_array);
                for r in results.into_iter().flatten() {
                    match r
                        .pointer("/partialFingerprints/primaryLocationLineHash")
                        .and_then(Value::as_str)
                    {
                        Some(fp) => *counts.entry(fp.to_owned()).or_default() += 1,
                        None => unprinted += 1,
                    }
                }
            }
        } else if let Some(findings) = doc.get("findings").and_then(Value::as_array) {
            for f in findings {
                match f.get("fingerprint").and_then(Value::as_str) {
                    Some(fp) => *counts.entry(fp.to_owned()).or_default() += 1,
                    None => unprinted += 1,
                }
            }
        } else {
            return Err(invalid(
                "not a SARIF log (no `runs`) nor a Vigil JSON report (no `findings`)".into(),
            ));
        }
        if unprinted > 0 && counts.is_empty() {
            return Err(invalid(format!(
                "none of its {unprinted} results has a `primaryLocationLineHash` fingerprint; \
                 write baselines with `vigil hunt --write-baseline`"
            )));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            counts,
        })
    }

    /// The fingerprints of these findings (for a baseline built in memory).
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for f in findings {
            *counts.entry(f.fingerprint()).or_default() += 1;
        }
        Baseline {
            path: PathBuf::new(),
            counts,
        }
    }

    /// How many findings the baseline holds.
    pub fn len(&self) -> usize {
        self.counts.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Removes the findings the baseline already has and returns how many. A fingerprint
    /// that the baseline holds n times hides at most n findings: a second copy of old code
    /// is new.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let mut left = self.counts.clone();
        let before = findings.len();
        findings.retain(|f| match left.get_mut(&f.fingerprint()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        before - findings.len()
    }

    /// [`Baseline::filter`] on a report, counted in `report.hidden.baseline`.
    pub fn apply(&self, report: &mut Report) -> usize {
        let hidden = self.filter(&mut report.findings);
        report.hidden.baseline += hidden;
        hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{Confidence, Location, Severity};

    fn finding(line: u32, snippet: &str) -> Finding {
        Finding {
            rule_id: "java/sql-injection".into(),
            cwe: vec![89],
            severity: Severity::High,
            confidence: Confidence::High,
            message: "m".into(),
            location: Location {
                path: PathBuf::from("src/A.java"),
                start_line: line,
                start_column: 1,
                end_line: line,
                end_column: 9,
            },
            path: Vec::new(),
            snippet: snippet.into(),
            triage: None,
            suppression: None,
        }
    }

    #[test]
    fn a_sarif_baseline_hides_old_findings_even_when_they_moved() {
        let old = Report {
            findings: vec![finding(10, "st.execute(a);"), finding(20, "st.execute(b);")],
            ..Default::default()
        };
        let sarif = vigil_core::report::to_sarif(&old);
        let base = Baseline::from_document(Path::new("b.sarif"), &sarif).expect("baseline");
        assert_eq!(base.len(), 2);
        let mut now = vec![
            finding(14, "st.execute(a);"),
            finding(30, "st.execute(c);"),
            finding(24, "st.execute(b);"),
        ];
        assert_eq!(base.filter(&mut now), 2);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].snippet, "st.execute(c);");
    }

    #[test]
    fn a_fingerprint_hides_as_many_findings_as_the_baseline_had() {
        let base = Baseline::of(&[finding(1, "x(a);")]);
        let mut now = vec![finding(1, "x(a);"), finding(9, "x(a);")];
        assert_eq!(base.filter(&mut now), 1);
        assert_eq!(now.len(), 1);
    }

    #[test]
    fn json_reports_work_and_other_documents_are_refused() {
        let doc = serde_json::json!({ "findings": [{ "fingerprint": "abc" }] });
        assert_eq!(
            Baseline::from_document(Path::new("b.json"), &doc)
                .expect("json")
                .len(),
            1
        );
        let err = Baseline::from_document(Path::new("b.json"), &serde_json::json!({}))
            .expect_err("not a baseline");
        assert!(
            err.to_string().starts_with("b.json: not a SARIF log"),
            "{err}"
        );
        let foreign = serde_json::json!({ "runs": [{ "results": [{ "ruleId": "x" }] }] });
        let err = Baseline::from_document(Path::new("o.sarif"), &foreign).expect_err("no prints");
        assert!(err.to_string().contains("--write-baseline"), "{err}");
    }
}
