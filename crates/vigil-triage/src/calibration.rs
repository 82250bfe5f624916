//! Calibration: whether a model has earned the right to suppress findings.
//!
//! A model's "false positive" is only worth acting on if such calls of that model have
//! been right often enough on labelled cases. `vigil eval triage` measures it and writes
//! a [`Calibration`] record per model and weights (or endpoint); at triage time a
//! [`SuppressionPolicy`] reads the record and grants suppression only when the
//! precision of the model's false-positive calls, at the confidence that suppresses,
//! reaches the configured minimum over enough calls. Without a record a model's verdicts
//! annotate findings and never suppress them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The record format; a record of another version is not used.
pub const FORMAT_VERSION: u32 = 1;

/// What `vigil eval triage` measured of one model on one labelled corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub version: u32,
    /// The model's name and what identifies its weights (`sha256:...`) or endpoint.
    pub model: String,
    pub identity: String,
    /// When it was measured, RFC 3339 (UTC).
    pub measured: String,
    /// The labelled corpus: its expected-results file, cases and findings triaged.
    pub corpus: String,
    pub cases: usize,
    pub findings: usize,
    /// The model's false-positive calls by the confidence it gave: `[right, wrong]`,
    /// right when the finding was not a real vulnerability.
    pub false_positive_calls: BTreeMap<u8, [u32; 2]>,
    /// Every verdict against the labels (`"real -> true_positive"`: count), for readers.
    #[serde(default)]
    pub verdicts: BTreeMap<String, usize>,
}

impl Calibration {
    /// A new, empty record for a model.
    pub fn new(model: &str, identity: &str, corpus: &str, cases: usize) -> Calibration {
        Calibration {
            version: FORMAT_VERSION,
            model: model.to_string(),
            identity: identity.to_string(),
            measured: now_rfc3339(),
            corpus: corpus.to_string(),
            cases,
            findings: 0,
            false_positive_calls: BTreeMap::new(),
            verdicts: BTreeMap::new(),
        }
    }

    /// Count a false-positive call at `confidence`; `right` when the finding was not real.
    pub fn add_false_positive_call(&mut self, confidence: u8, right: bool) {
        let slot = self.false_positive_calls.entry(confidence).or_default();
        slot[usize::from(!right)] += 1;
    }

    /// False-positive calls at or above `confidence`: (all, right).
    pub fn calls_at(&self, confidence: u8) -> (u32, u32) {
        self.false_positive_calls
            .range(confidence..)
            .fold((0, 0), |(n, r), (_, [right, wrong])| {
                (n + right + wrong, r + right)
            })
    }

    /// Share of the false-positive calls at or above `confidence` that were right.
    pub fn precision_at(&self, confidence: u8) -> Option<f64> {
        let (n, right) = self.calls_at(confidence);
        (n > 0).then(|| f64::from(right) / f64::from(n))
    }
}

/// Whether a model's verdicts may suppress findings, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Grant {
    /// Calibrated: its false-positive calls were right often enough.
    Suppress { precision: f64, calls: u32 },
    /// Its verdicts annotate findings only; the reason says why.
    AnnotateOnly(String),
}

impl Grant {
    pub fn may_suppress(&self) -> bool {
        matches!(self, Grant::Suppress { .. })
    }

    /// One line for the terminal and for a finding's `policy`.
    pub fn describe(&self) -> String {
        match self {
            Grant::Suppress { precision, calls } => format!(
                "calibrated: {:.1}% of its {calls} false-positive calls were right",
                precision * 100.0
            ),
            Grant::AnnotateOnly(why) => format!("annotates only: {why}"),
        }
    }
}

/// Where calibration records live, one file per model and identity.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationStore {
    dir: PathBuf,
}

impl CalibrationStore {
    pub fn new(dir: impl Into<PathBuf>) -> CalibrationStore {
        CalibrationStore { dir: dir.into() }
    }

    /// `$VIGIL_DATA_DIR`, else `$XDG_DATA_HOME/vigil`, else `~/.local/share/vigil`; with
    /// `calibration/` under it. None when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = var("VIGIL_DATA_DIR")
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("vigil")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/vigil")))?;
        Some(base.join("calibration"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a model's record: a hash of its name and identity.
    pub fn path_of(&self, model: &str, identity: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(model.as_bytes());
        h.update([0]);
        h.update(identity.as_bytes());
        let hex: String = h.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("{hex}.json"))
    }

    /// The record of a model, if one was written; an error names the file.
    pub fn load(&self, model: &str, identity: &str) -> Result<Option<Calibration>, String> {
        let path = self.path_of(model, identity);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let c: Calibration =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if c.version != FORMAT_VERSION || c.model != model || c.identity != identity {
            return Err(format!(
                "{}: a record of another format or model",
                path.display()
            ));
        }
        Ok(Some(c))
    }

    /// Write a record (replacing the model's earlier one); its path.
    pub fn save(&self, c: &Calibration) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path_of(&c.model, &c.identity);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        serde_json::to_writer_pretty(&mut tmp, c)?;
        tmp.write_all(b"\n")?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(path)
    }
}

/// When a model's false-positive verdicts may suppress findings.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionPolicy {
    /// Where records are read; None: no model may suppress.
    pub store: Option<CalibrationStore>,
    /// Least share of right false-positive calls.
    pub min_precision: f64,
    /// Fewest false-positive calls that share may rest on.
    pub min_calls: u32,
}

impl Default for SuppressionPolicy {
    fn default() -> Self {
        SuppressionPolicy {
            store: CalibrationStore::default_dir().map(CalibrationStore::new),
            min_precision: 0.95,
            min_calls: 20,
        }
    }
}

impl SuppressionPolicy {
    /// A policy under which no model suppresses anything.
    pub fn annotate_only() -> SuppressionPolicy {
        SuppressionPolicy {
            store: None,
            ..SuppressionPolicy::default()
        }
    }

    /// Whether this model's false-positive verdicts at `suppress_at` may suppress.
    pub fn grant(&self, model: &str, identity: &str, suppress_at: u8) -> Grant {
        let Some(store) = &self.store else {
            return Grant::AnnotateOnly("no calibration folder is configured".into());
        };
        let c = match store.load(model, identity) {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Grant::AnnotateOnly(
                    "no calibration record for this model (`vigil eval triage` writes one)".into(),
                );
            }
            Err(e) => {
                return Grant::AnnotateOnly(format!("its calibration record is unusable: {e}"));
            }
        };
        let (calls, right) = c.calls_at(suppress_at);
        let precision = c.precision_at(suppress_at).unwrap_or(0.0);
        if calls < self.min_calls {
            return Grant::AnnotateOnly(format!(
                "its calibration on {} ({}) has {calls} false-positive calls at confidence >= {suppress_at}, fewer than the {} needed",
                c.corpus, c.measured, self.min_calls
            ));
        }
        if precision < self.min_precision {
            return Grant::AnnotateOnly(format!(
                "its false-positive calls at confidence >= {suppress_at} were right {:.1}% of the time ({right} of {calls} on {}, {}), below the {:.1}% needed",
                precision * 100.0,
                c.corpus,
                c.measured,
                self.min_precision * 100.0
            ));
        }
        Grant::Suppress { precision, calls }
    }
}

/// The time now, RFC 3339 in UTC, to the second.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(right: u32, wrong: u32, confidence: u8) -> Calibration {
        let mut c = Calibration::new("m.gguf", "sha256:ab", "expected.csv", 10);
        for _ in 0..right {
            c.add_false_positive_call(confidence, true);
        }
        for _ in 0..wrong {
            c.add_false_positive_call(confidence, false);
        }
        c
    }

    #[test]
    fn precision_counts_calls_at_or_above_the_confidence() {
        let mut c = record(9, 1, 90);
        c.add_false_positive_call(50, false);
        assert_eq!(c.calls_at(80), (10, 9));
        assert_eq!(c.calls_at(50), (11, 9));
        assert_eq!(c.calls_at(95), (0, 0));
        assert_eq!(c.precision_at(80), Some(0.9));
        assert_eq!(c.precision_at(95), None);
    }

    #[test]
    fn only_a_precise_enough_record_over_enough_calls_grants_suppression() {
        let dir = tempfile::tempdir().unwrap();
        let store = CalibrationStore::new(dir.path());
        let policy = SuppressionPolicy {
            store: Some(store.clone()),
            min_precision: 0.95,
            min_calls: 20,
        };
        let g = policy.grant("m.gguf", "sha256:ab", 80);
        assert!(!g.may_suppress());
        assert!(g.describe().contains("no calibration record"), "{g:?}");

        store.save(&record(30, 10, 90)).unwrap();
        let g = policy.grant("m.gguf", "sha256:ab", 80);
        assert!(!g.may_suppress());
        assert!(g.describe().contains("75.0%"), "{g:?}");

        store.save(&record(10, 0, 90)).unwrap();
        let g = policy.grant("m.gguf", "sha256:ab", 80);
        assert!(g.describe().contains("fewer than the 20"), "{g:?}");

        store.save(&record(40, 1, 90)).unwrap();
        assert!(policy.grant("m.gguf", "sha256:ab", 80).may_suppress());
        // Calls below the confidence that suppresses do not count.
        assert!(!policy.grant("m.gguf", "sha256:ab", 95).may_suppress());
        // Another model, or the same name with other weights, has no record.
        assert!(!policy.grant("m.gguf", "sha256:cd", 80).may_suppress());
        assert!(
            !SuppressionPolicy::annotate_only()
                .grant("m.gguf", "sha256:ab", 80)
                .may_suppress()
        );
    }

    #[test]
    fn a_damaged_record_annotates_only_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let store = CalibrationStore::new(dir.path());
        std::fs::write(store.path_of("m", "i"), "{not json").unwrap();
        let g = SuppressionPolicy {
            store: Some(store.clone()),
            ..SuppressionPolicy::default()
        }
        .grant("m", "i", 80);
        assert!(!g.may_suppress());
        assert!(
            g.describe()
                .contains(&store.path_of("m", "i").display().to_string())
        );
    }
}
