//! Snapshots of every `vigil guard` view over checked-in JSON inputs (JSON lines with a bad
//! line, and a JSON document) and over a real EVTX file, so that any change to the output a
//! responder reads shows up in review.

use std::process::Command;

fn guard(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("guard")
        .args(args)
        .env("NO_COLOR", "1")
        // The rule cache of these tests: under the build's scratch folder.
        .env(
            "VIGIL_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/vigil-cache"),
        )
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run vigil");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const EVENTS: &str = "tests/fixtures/guard/events.jsonl";
const DOC: &str = "tests/fixtures/guard/events.json";
const RULES: &str = "tests/fixtures/guard/rules";

#[test]
fn table_view_with_summary() {
    let (out, err) = guard(&[EVENTS, DOC, "--rules", RULES]);
    insta::assert_snapshot!("table", out);
    insta::assert_snapshot!("table_summary", err);
}

#[test]
fn csv_view() {
    let (out, _) = guard(&[EVENTS, DOC, "--rules", RULES, "--format", "csv"]);
    insta::assert_snapshot!("csv", out);
}

#[test]
fn jsonl_view() {
    let (out, _) = guard(&[EVENTS, "--rules", RULES, "--format", "jsonl"]);
    // One alert per line, each a full JSON object with the event.
    let pretty: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    insta::assert_json_snapshot!("jsonl", pretty);
}

#[test]
fn evtx_input_with_the_builtin_rules() {
    let rel = "evtx-attack-samples/Credential Access/4794_DSRM_password_change_t1098.evtx";
    let Some(file) = vigil_testdata::data(rel) else {
        return;
    };
    let (out, _) = guard(&[file.to_str().expect("UTF-8 path"), "--format", "csv"]);
    // The snapshot holds the file's path as given: from the data folder on, wherever it is.
    let out = out.replace(&file.display().to_string(), rel);
    insta::assert_snapshot!("evtx_csv", out);
}
