//! What a project decides about Vigil's findings, as opposed to what the analysis finds:
//!
//! - [`config`]: the project's `vigil.toml` (rules on and off, severities, excluded paths,
//!   entry points, extra rule folders, triage models), found upward from the scanned path;
//! - [`suppress`]: `vigil: ignore[rule-id] reason` comments in the scanned source;
//! - [`baseline`]: findings already known (a previous SARIF log), hidden from new reports;
//! - [`exclude`]: gitignore-like path globs;
//! - [`diff`]: the lines changed since a git base revision (`--diff`), read with `gix`.
//!
//! Nothing here analyses code: it reads findings and files and decides what is reported.

pub mod baseline;
pub mod config;
pub mod diff;
pub mod exclude;
pub mod suppress;

pub use baseline::Baseline;
pub use config::{Config, Entry};
pub use diff::ChangedLines;
pub use exclude::Excludes;
pub use suppress::{Directive, RuleStatus};

use std::path::PathBuf;

/// Why a policy input could not be used. Every variant names the file, and a line where
/// there is one, in the `FILE:LINE: message` form editors jump to.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Config {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}
