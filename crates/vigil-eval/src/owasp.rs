//! OWASP Benchmark scoring, the way OWASP BenchmarkUtils does it.
//!
//! 1. [`read_expected`] reads the ground truth (expected-results CSV).
//! 2. [`read_sarif`] reads any tool's SARIF 2.1.0 output into [`ToolResults`]: for each result, the
//!    file stem of its primary location and its CWE.
//! 3. [`score`] compares the two and returns a [`Scorecard`] (per category TP/FP/TN/FN, TPR, FPR,
//!    score = TPR − FPR, and their unweighted average over categories).
//!
//! ```
//! use vigil_eval::owasp;
//! let expected = owasp::read_expected("# header\nCaseA0001,sqli,true,89\n").unwrap();
//! let sarif = r#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[{
//!     "properties":{"cwe":["CWE-89"]},
//!     "locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/CaseA0001.java"}}}]}]}]}"#;
//! let card = owasp::score(&expected, &owasp::read_sarif(sarif).unwrap());
//! assert_eq!(card.categories[0].tp, 1);
//! assert_eq!(card.overall.score, 1.0);
//! ```

mod cwe;
mod expected;
mod sarif;
mod scorecard;

pub use cwe::{CWE_EQUIVALENCES, canonical_cwe, cwe_matches, parse_cwe};
pub use expected::{Case, Expected, read_expected, read_expected_file};
pub use sarif::{ToolResults, file_stem, read_sarif, read_sarif_file};
pub use scorecard::{CategoryScore, Miss, MissKind, Overall, Scorecard, score};
