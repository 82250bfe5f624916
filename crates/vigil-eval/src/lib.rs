//! vigil-eval: scorecards for any tool's output on labelled corpora.
//!
//! [`owasp`] scores a SARIF file (from Vigil or any other tool) against an OWASP Benchmark
//! expected-results CSV, following the rules of OWASP BenchmarkUtils: a result counts for a
//! test case when its file stem is the test name and its CWE matches the expected CWE.

pub mod owasp;

mod error;

pub use error::EvalError;
