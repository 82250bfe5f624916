//! What the guard's tests and benchmarks share: where the real data is.

use std::path::{Path, PathBuf};

/// `rel` under `../shared/data` (beside the repository), read in place; `None`, with a
/// note, where this checkout has no such data (the test or benchmark is skipped).
pub fn data(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("note: {} not found; skipped", p.display());
        None
    }
}
