//! The one place tests and benchmarks find the shared corpora (OWASP Benchmark, SigmaHQ
//! rules and regression logs, EVTX attack samples, schemas): `$VIGIL_SHARED_DATA` when set,
//! else `../shared/data` beside the repository. They are read in place, never copied, and
//! a test whose corpus is missing says so and passes (a checkout without them still
//! builds and tests).

use std::path::{Path, PathBuf};

/// The shared data folder, whether or not it exists.
pub fn root() -> PathBuf {
    match std::env::var_os("VIGIL_SHARED_DATA").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// `rel` under the shared data folder; `None`, with a note on standard error, where it is
/// missing (the caller skips).
pub fn data(rel: &str) -> Option<PathBuf> {
    let path = root().join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("note: {} not found; skipped", path.display());
        None
    }
}

/// The SARIF 2.1.0 JSON schema, for tests that validate reports.
pub fn sarif_schema() -> Option<PathBuf> {
    data("schemas/sarif-schema-2.1.0.json")
}

/// Assert that `sarif` is valid SARIF 2.1.0 against the official schema; skipped, with a
/// note, where the schema is missing.
pub fn assert_valid_sarif(sarif: &serde_json::Value) {
    let Some(path) = sarif_schema() else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("the SARIF schema is readable");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_data_is_none_and_present_data_is_found() {
        assert!(data("no-such-corpus-here").is_none());
        // The repository itself sits beside `shared/`: `../../main`-style paths resolve
        // from the data root, so an existing path is found.
        if std::env::var_os("VIGIL_SHARED_DATA").is_none() {
            assert!(root().ends_with("shared/data"));
            let this_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
            let up = root().join("../..").join(
                this_crate
                    .strip_prefix(this_crate.ancestors().nth(3).expect("three levels up"))
                    .expect("prefix"),
            );
            assert!(up.join("Cargo.toml").is_file(), "{}", up.display());
        }
    }
}
