//! Errors of the evaluation crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading a corpus' ground truth or a tool's output.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A row of the expected-results CSV could not be read.
    #[error("expected-results CSV, line {line}: {message}: {text:?}")]
    Csv {
        /// 1-based line number in the CSV text.
        line: usize,
        /// The offending line, as written.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// The expected-results CSV holds no test case at all.
    #[error("expected-results CSV holds no test case")]
    NoCases,
    /// The SARIF text is not valid JSON.
    #[error("SARIF is not valid JSON: {source}")]
    SarifJson {
        /// 1-based line of the error, as reported by serde_json.
        line: usize,
        /// 1-based column of the error, as reported by serde_json.
        column: usize,
        /// The underlying parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The SARIF text is JSON, but not shaped like a SARIF log.
    #[error("not a SARIF log: {0}")]
    SarifShape(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}
