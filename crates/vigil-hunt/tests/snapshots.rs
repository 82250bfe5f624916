//! Snapshots of the findings on a few fixtures and on the bundled Java example, so that a
//! change in a message, a location or a data-flow path shows up in review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test` and read the diff).
//!
//! Each finding is written as `rule line:col message`, then its path steps as
//! `file:line message`, with paths relative to the repository root.

mod common;

use common::{builtin_rules, render, repo_root, scan_paths};
use std::path::PathBuf;

fn snapshot_of(relative: &str) -> String {
    let path: PathBuf = repo_root().join(relative);
    assert!(path.exists(), "{} is missing", path.display());
    render(&scan_paths(&[path], &builtin_rules()))
}

#[test]
fn java_sql_injection_fixture() {
    insta::assert_snapshot!(
        "java_sql_injection_bad",
        snapshot_of("rules/java/fixtures/sql-injection.bad.java")
    );
}

#[test]
fn java_xss_fixture() {
    insta::assert_snapshot!(
        "java_xss_bad",
        snapshot_of("rules/java/fixtures/xss.bad.java")
    );
}

#[test]
fn python_sql_injection_fixture() {
    insta::assert_snapshot!(
        "python_sql_injection_bad",
        snapshot_of("rules/python/fixtures/sql-injection.bad.py")
    );
}

#[test]
fn python_unsafe_deserialization_fixture() {
    insta::assert_snapshot!(
        "python_unsafe_deserialization_bad",
        snapshot_of("rules/python/fixtures/unsafe-deserialization.bad.py")
    );
}

/// Taint that crosses files: servlet → DAO helper in another file.
#[test]
fn java_shop_example() {
    insta::assert_snapshot!("java_shop_example", snapshot_of("examples/java-shop"));
}

/// Taint that crosses modules: Flask view → `notes.db` helper.
#[test]
fn flask_notes_example() {
    insta::assert_snapshot!("flask_notes_example", snapshot_of("examples/flask-notes"));
}
