//! What the guard's tests and benchmarks share: where the real data is.

use std::path::{Path, PathBuf};

/// `rel` under `../shared/data` (beside the repository), read in place; `None`, with a
/// note, where this checkout has no such data (the test or benchmark is skipped).
pub fn data(rel: &str) -> Option<PathBuf> {
    vigil_testdata::data(rel)
}

/// The SigmaHQ rule folders (`rules`, `rules-threat-hunting`, ...) of a SigmaHQ checkout.
#[allow(dead_code)] // not every test crate that includes this module uses it
pub fn sigma_rule_dirs(sigma: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(sigma)
        .expect("sigma folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rules"))
        })
        .collect()
}
