//! The SARIF writer's output validates against the official OASIS SARIF 2.1.0 schema,
//! and carries what GitHub code scanning and CWE scorers read.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use vigil_core::report::{to_sarif, write_sarif};

fn schema_path() -> PathBuf {
    vigil_testdata::root().join("schemas/sarif-schema-2.1.0.json")
}

/// The schema's `$ref`s are all local (`#/definitions/...`) and the crate is built without
/// its HTTP/file resolvers, so building the validator never touches the network.
fn validator() -> jsonschema::Validator {
    let path = schema_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read SARIF schema at {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("SARIF schema is valid JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("SARIF schema compiles")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let v = validator();
    let sarif = to_sarif(&common::sample_report());
    let errs = errors(&v, &sarif);
    assert!(errs.is_empty(), "SARIF is invalid:\n{}", errs.join("\n"));
}

#[test]
fn write_sarif_writes_the_same_document() {
    let report = common::sample_report();
    let mut buf = Vec::new();
    write_sarif(&report, &mut buf).expect("writing to a Vec cannot fail");
    let parsed: Value = serde_json::from_slice(&buf).expect("write_sarif emits JSON");
    assert_eq!(parsed, to_sarif(&report));
    assert!(buf.ends_with(b"}\n"));
}

#[test]
fn validator_rejects_broken_sarif() {
    let v = validator();
    let good = to_sarif(&common::sample_report());

    let mut no_version = good.clone();
    no_version
        .as_object_mut()
        .expect("top level is an object")
        .remove("version");
    assert!(
        !v.is_valid(&no_version),
        "a log without `version` must be rejected"
    );

    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(
        !v.is_valid(&bad_level),
        "an unknown `level` must be rejected"
    );

    let mut zero_line = good;
    zero_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!v.is_valid(&zero_line), "line 0 must be rejected");
}

#[test]
fn odd_inputs_still_validate() {
    let v = validator();
    let mut report = common::sample_report();
    // A finding whose rule is unknown, with no position and no CWE.
    let mut stray = report.findings[1].clone();
    stray.rule_id = "python.unknown-rule".into();
    stray.cwe.clear();
    stray.location = common::at("app/odd name#1.py", 0, 0, 0);
    report.findings.push(stray);
    // An absolute path, and a span whose end is before its start.
    let mut abs = report.findings[1].clone();
    abs.location = common::at("/tmp/checkout dir/A.java", 5, 20, 3);
    report.findings.push(abs);

    let sarif = to_sarif(&report);
    let errs = errors(&v, &sarif);
    assert!(errs.is_empty(), "SARIF is invalid:\n{}", errs.join("\n"));

    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let stray = &results[3];
    assert_eq!(stray["ruleId"], "python.unknown-rule");
    assert!(stray.get("ruleIndex").is_none());
    let phys = &stray["locations"][0]["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "app/odd%20name%231.py");
    assert!(phys.get("region").is_none());

    if cfg!(unix) {
        let art = &results[4]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(art["uri"], "file:///tmp/checkout%20dir/A.java");
        assert!(art.get("uriBaseId").is_none());
    }
    let region = &results[4]["locations"][0]["physicalLocation"]["region"];
    assert!(region.get("endColumn").is_none());
}

#[test]
fn github_and_scorer_fields_are_present() {
    let report = common::sample_report();
    let sarif = to_sarif(&report);
    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(run["tool"]["driver"]["name"], "vigil");
    assert_eq!(run["tool"]["driver"]["version"], "0.1.0-test");

    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    let hash = &rules[1];
    let tags: Vec<&str> = hash["properties"]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // CWE tags in order, most specific first, before any rule tag; no duplicates.
    assert_eq!(
        tags,
        [
            "security",
            "external/cwe/cwe-328",
            "external/cwe/cwe-327",
            "crypto"
        ]
    );
    assert_eq!(hash["properties"]["cwe"][0], "CWE-328");
    let sev: f64 = hash["properties"]["security-severity"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("security-severity is a number in a string");
    assert!((0.0..=10.0).contains(&sev));

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    for (r, f) in results.iter().zip(&report.findings) {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(
            r["partialFingerprints"]["primaryLocationLineHash"],
            f.fingerprint()
        );
        assert_eq!(r["properties"]["cwe"][0], format!("CWE-{}", f.cwe[0]));
    }
    let flow = &results[0]["codeFlows"][0]["threadFlows"][0]["locations"];
    assert_eq!(flow.as_array().map(Vec::len), Some(3));
    assert!(results[1].get("codeFlows").is_none());

    let notes = &run["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["level"], "warning");
    assert_eq!(
        notes[0]["message"]["text"],
        "src/main/webapp/static/app.min.js: file larger than 1 MiB"
    );
}

#[test]
fn triaged_findings_carry_verdict_and_provenance_and_stay_in_the_log() {
    let mut report = common::sample_report();
    let triage = |verdict, suppressed| vigil_core::Triage {
        verdict,
        confidence: 92,
        reasoning: "the value is a constant".into(),
        exploit: String::new(),
        fix: String::new(),
        suppressed,
        policy: None,
        provider: "local".into(),
        model: "gemma-3-270m-q4_k_m.gguf".into(),
        identity: "sha256:a5fd3b62".into(),
        dissent: Vec::new(),
        status: vigil_core::TriageStatus::Answered,
        reason: None,
        cited_steps: vec![1, 3],
        injection_detected: Vec::new(),
    };
    report.findings[0].triage = Some(triage(vigil_core::Verdict::FalsePositive, true));
    report.findings[1].triage = Some(triage(vigil_core::Verdict::TruePositive, false));
    let sarif = to_sarif(&report);
    let errs = errors(&validator(), &sarif);
    assert!(errs.is_empty(), "SARIF is invalid:\n{}", errs.join("\n"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len(), "nothing dropped");
    let first = &results[0];
    assert_eq!(first["suppressions"][0]["kind"], "external");
    assert!(
        first["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("sha256:a5fd3b62")
    );
    assert_eq!(first["properties"]["triage"]["verdict"], "false_positive");
    assert_eq!(
        first["properties"]["triage"]["model"],
        "gemma-3-270m-q4_k_m.gguf"
    );
    assert!(results[1].get("suppressions").is_none());
    assert_eq!(
        results[1]["properties"]["triage"]["verdict"],
        "true_positive"
    );
}

#[test]
fn in_source_suppressions_notices_and_hidden_counts_validate() {
    let mut report = common::sample_report();
    report.findings[1].suppression = Some(vigil_core::InSourceSuppression {
        location: common::at("src/main/java/org/example/Hashing.java", 16, 9, 60),
        justification: "legacy checksum, not a password hash".into(),
    });
    report.notices.push(vigil_core::Notice {
        kind: "unused-suppression".into(),
        message: "`vigil: ignore[java.xss]` matches no finding".into(),
        location: Some(common::at("src/A.java", 3, 5, 30)),
    });
    report.notices.push(vigil_core::Notice {
        kind: "baseline".into(),
        message: "2 findings in the baseline are not shown".into(),
        location: None,
    });
    report.hidden.baseline = 2;
    let sarif = to_sarif(&report);
    let errs = errors(&validator(), &sarif);
    assert!(errs.is_empty(), "SARIF is invalid:\n{}", errs.join("\n"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        report.findings.len(),
        "suppressed findings stay"
    );
    let s = &results[1]["suppressions"][0];
    assert_eq!(s["kind"], "inSource");
    assert_eq!(s["justification"], "legacy checksum, not a password hash");
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 16);
    assert!(results[0].get("suppressions").is_none());
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["descriptor"]["id"] == "unused-suppression"
                && n["locations"][0]["physicalLocation"]["region"]["startLine"] == 3)
    );
    assert_eq!(sarif["runs"][0]["properties"]["hidden"]["baseline"], 2);
}
