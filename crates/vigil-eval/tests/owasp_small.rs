//! Scoring a hand-made corpus whose outcome is worked out by hand.

use vigil_eval::EvalError;
use vigil_eval::owasp::{self, MissKind};

const CSV: &str = "\
# test name, category, real vulnerability, cwe, Benchmark version: test
BenchmarkTest00001,sqli,true,89
BenchmarkTest00002,sqli,true,89
BenchmarkTest00003,sqli,false,89
BenchmarkTest00004,sqli,false,89
BenchmarkTest00005,cmdi,true,78
BenchmarkTest00006,cmdi,true,78
BenchmarkTest00007,cmdi,false,78
BenchmarkTest00008,pathtraver,true,22
BenchmarkTest00009,pathtraver,false,22
";

/// Two runs, in the styles of two different tools:
/// - run 1 (semgrep-like): CWE in rule tags `CWE-89: …`, rules found by `ruleId`;
///   CWE in `result.properties.cwe`, overriding the rule's.
/// - run 2 (CodeQL-like): rules in `tool.extensions`, found by `rule.index` +
///   `rule.toolComponent.index`, tags `external/cwe/cwe-077`; a rule with a CWE `relationship`;
///   a result with CWE `taxa`; a result with no CWE; a helper file; a result with no location.
///
/// By hand, test by test:
/// - 00001 sqli real, CWE-89 from `result.properties.cwe` → TP
/// - 00002 sqli real, CWE-564 (Hibernate SQLi, alias of 89) from rule tags → TP
/// - 00003 sqli safe, CWE-89 from rule tags → FP
/// - 00004 sqli safe, no result → TN
/// - 00005 cmdi real, only CWE-79 (result property beats the rule's CWE-78) → FN
/// - 00006 cmdi real, CWE-77 (alias of 78) from extension rule tags → TP
/// - 00007 cmdi safe, a result without any CWE → TN
/// - 00008 pathtraver real, CWE-23 (alias of 22) via rule relationship → TP
/// - 00009 pathtraver safe, CWE-36 (alias of 22) via result taxa → FP
const SARIF: &str = r#"{
  "version": "2.1.0",
  "runs": [
    {
      "tool": {"driver": {"name": "Semgrep", "rules": [
        {"id": "sqli", "properties": {"tags": ["security", "CWE-89: Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"]}},
        {"id": "hibernate", "properties": {"tags": ["OWASP-A03", "cwe-564: SQL Injection: Hibernate"]}},
        {"id": "cmdi", "properties": {"tags": ["CWE-078"]}}
      ]}},
      "results": [
        {"ruleId": "sqli", "properties": {"cwe": ["CWE-89"]},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/main/java/org/owasp/benchmark/testcode/BenchmarkTest00001.java"}}}]},
        {"ruleId": "hibernate",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///bench/BenchmarkTest00002.java"}}}]},
        {"ruleId": "sqli",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "BenchmarkTest00003.java"}}}]},
        {"ruleId": "cmdi", "properties": {"cwe": "CWE-79"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "BenchmarkTest00005.java"}}}]}
      ]
    },
    {
      "tool": {
        "driver": {"name": "CodeQL", "rules": []},
        "extensions": [
          {"name": "codeql/java-queries", "rules": [
            {"id": "java/command-line-injection", "properties": {"tags": ["security", "external/cwe/cwe-077", "external/cwe/cwe-078"]}},
            {"id": "java/path-injection", "relationships": [{"target": {"id": "23", "toolComponent": {"name": "CWE"}}, "kinds": ["superset"]}]},
            {"id": "java/no-cwe", "properties": {"tags": ["maintainability"]}}
          ]}
        ]
      },
      "taxonomies": [{"name": "CWE"}],
      "artifacts": [{"location": {"uri": "src/BenchmarkTest00008.java"}}],
      "results": [
        {"ruleId": "java/command-line-injection", "rule": {"id": "java/command-line-injection", "index": 0, "toolComponent": {"index": 0}},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "BenchmarkTest00006.java"}}}]},
        {"rule": {"id": "java/no-cwe", "index": 2, "toolComponent": {"index": 0}},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "BenchmarkTest00007.java"}}}]},
        {"rule": {"id": "java/path-injection", "index": 1, "toolComponent": {"index": 0}},
         "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}]},
        {"ruleId": "unknown", "taxa": [{"id": "36", "toolComponent": {"index": 0}}],
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "BenchmarkTest00009.java"}}}]},
        {"ruleId": "java/command-line-injection", "rule": {"index": 0, "toolComponent": {"index": 0}},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/main/java/org/owasp/benchmark/helpers/Utils.java"}}}]},
        {"ruleId": "java/command-line-injection", "message": {"text": "no location"}}
      ]
    }
  ]
}"#;

fn card() -> owasp::Scorecard {
    let expected = owasp::read_expected(CSV).unwrap();
    let results = owasp::read_sarif(SARIF).unwrap();
    owasp::score(&expected, &results)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn reads_cwes_from_every_place() {
    let results = owasp::read_sarif(SARIF).unwrap();
    let cwes = |stem: &str| results.by_stem.get(stem).cloned().unwrap_or_default();
    assert_eq!(cwes("BenchmarkTest00001"), vec![Some(89)]);
    assert_eq!(cwes("BenchmarkTest00002"), vec![Some(564)]);
    assert_eq!(cwes("BenchmarkTest00003"), vec![Some(89)]);
    assert_eq!(cwes("BenchmarkTest00005"), vec![Some(79)]);
    // First CWE tag wins (most specific first, as tools list them).
    assert_eq!(cwes("BenchmarkTest00006"), vec![Some(77)]);
    assert_eq!(cwes("BenchmarkTest00007"), vec![None]);
    assert_eq!(cwes("BenchmarkTest00008"), vec![Some(23)]);
    assert_eq!(cwes("BenchmarkTest00009"), vec![Some(36)]);
    assert_eq!(cwes("Utils"), vec![Some(77)]);
    assert_eq!(results.results_read, 10);
    assert_eq!(results.without_location, 1);
}

#[test]
fn counts_by_category_match_the_hand_count() {
    let card = card();
    let by_name = |name: &str| {
        card.categories
            .iter()
            .find(|c| c.category == name)
            .unwrap_or_else(|| panic!("no category {name}"))
    };
    let names: Vec<&str> = card
        .categories
        .iter()
        .map(|c| c.category.as_str())
        .collect();
    assert_eq!(names, ["cmdi", "pathtraver", "sqli"]);

    let sqli = by_name("sqli");
    assert_eq!((sqli.tp, sqli.fp, sqli.tn, sqli.fn_), (2, 1, 1, 0));
    assert_eq!(sqli.cwes, [89]);
    assert!(close(sqli.tpr, 1.0) && close(sqli.fpr, 0.5) && close(sqli.score, 0.5));

    let cmdi = by_name("cmdi");
    assert_eq!((cmdi.tp, cmdi.fp, cmdi.tn, cmdi.fn_), (1, 0, 1, 1));
    assert!(close(cmdi.tpr, 0.5) && close(cmdi.fpr, 0.0) && close(cmdi.score, 0.5));

    let path = by_name("pathtraver");
    assert_eq!((path.tp, path.fp, path.tn, path.fn_), (1, 1, 0, 0));
    assert!(close(path.tpr, 1.0) && close(path.fpr, 1.0) && close(path.score, 0.0));

    let o = &card.overall;
    assert_eq!((o.tp, o.fp, o.tn, o.fn_), (4, 2, 2, 1));
    assert!(close(o.tpr, 2.5 / 3.0), "{}", o.tpr);
    assert!(close(o.fpr, 1.5 / 3.0), "{}", o.fpr);
    assert!(close(o.score, 1.0 / 3.0), "{}", o.score);
}

#[test]
fn counts_unmatched_results_and_silent_cases() {
    let card = card();
    assert_eq!(card.cases, 9);
    assert_eq!(card.results_read, 10);
    // The helper file and the result without a location.
    assert_eq!(card.results_unmapped, 2);
    assert_eq!(card.results_without_cwe, 1);
    // Only 00004 has no result at all (00007 has one, without a CWE).
    assert_eq!(card.cases_without_results, 1);
}

#[test]
fn lists_misses_in_ground_truth_order() {
    let card = card();
    let misses: Vec<(&str, MissKind)> = card
        .misses
        .iter()
        .map(|m| (m.name.as_str(), m.kind))
        .collect();
    assert_eq!(
        misses,
        [
            ("BenchmarkTest00003", MissKind::FalsePositive),
            ("BenchmarkTest00005", MissKind::FalseNegative),
            ("BenchmarkTest00009", MissKind::FalsePositive),
        ]
    );
}

#[test]
fn json_shape() {
    let json = serde_json::to_value(card()).unwrap();
    assert_eq!(json["overall"]["fn"], 1);
    assert_eq!(json["categories"][2]["category"], "sqli");
    assert_eq!(json["categories"][2]["tp"], 2);
    assert_eq!(json["misses"][1]["kind"], "FN");
    assert_eq!(json["misses"][0]["kind"], "FP");
    assert_eq!(json["misses"][0]["name"], "BenchmarkTest00003");
    assert_eq!(json["results_unmapped"], 2);
}

#[test]
fn text_report() {
    let card = card();
    insta::assert_snapshot!("text", card.to_text());
    let with_misses = card.to_text_with_misses();
    assert!(with_misses.starts_with(&card.to_text()));
    insta::assert_snapshot!("text_with_misses", with_misses);
}

#[test]
fn unmatched_results_do_not_count() {
    let expected = owasp::read_expected("#\nBenchmarkTest00001,xss,false,79\n").unwrap();
    // Same CWE, but in a file whose stem is not exactly a test name.
    let sarif = r#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[
        {"properties":{"cwe":[79]},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"BenchmarkTest00001Helper.java"}}}]},
        {"properties":{"cwe":[79]},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"BenchmarkTest000010.java"}}}]}
    ]}]}"#;
    let card = owasp::score(&expected, &owasp::read_sarif(sarif).unwrap());
    assert_eq!(card.results_unmapped, 2);
    assert_eq!(card.cases_without_results, 1);
    assert_eq!(card.categories[0].tn, 1);
    assert_eq!(card.categories[0].fp, 0);
}

#[test]
fn cwe_format_variants_in_result_properties() {
    let expected = owasp::read_expected("#\nBenchmarkTest00001,sqli,true,89\n").unwrap();
    for cwe in [
        r#"["CWE-89"]"#,
        r#"["CWE-089"]"#,
        r#"[89]"#,
        r#""89""#,
        r#"89"#,
        r#""cwe-89: Improper Neutralization""#,
        r#"["not a cwe", "CWE-89"]"#,
    ] {
        let sarif = format!(
            r#"{{"runs":[{{"results":[{{"properties":{{"cwe":{cwe}}},
               "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"BenchmarkTest00001.java"}}}}}}]}}]}}]}}"#
        );
        let card = owasp::score(&expected, &owasp::read_sarif(&sarif).unwrap());
        assert_eq!(card.overall.tp, 1, "cwe = {cwe}");
    }
}

#[test]
fn alias_mapping() {
    let csv = "#\n\
        BenchmarkTest00001,cmdi,true,78\n\
        BenchmarkTest00002,sqli,true,89\n\
        BenchmarkTest00003,pathtraver,true,22\n\
        BenchmarkTest00004,pathtraver,true,22\n\
        BenchmarkTest00005,hash,true,328\n";
    let expected = owasp::read_expected(csv).unwrap();
    let result = |n: u32, cwe: u32| {
        format!(
            r#"{{"properties":{{"cwe":["CWE-{cwe}"]}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"BenchmarkTest0000{n}.java"}}}}}}]}}"#
        )
    };
    let results = [
        result(1, 77),
        result(2, 564),
        result(3, 23),
        result(4, 36),
        // 327 (broken crypto) is not 328 (weak hash): separate Benchmark categories.
        result(5, 327),
    ]
    .join(",");
    let sarif = format!(r#"{{"runs":[{{"results":[{results}]}}]}}"#);
    let card = owasp::score(&expected, &owasp::read_sarif(&sarif).unwrap());
    let tp: Vec<(&str, usize)> = card
        .categories
        .iter()
        .map(|c| (c.category.as_str(), c.tp))
        .collect();
    assert_eq!(
        tp,
        [("cmdi", 1), ("hash", 0), ("pathtraver", 2), ("sqli", 1)]
    );
}

#[test]
fn malformed_csv_row_is_an_error_with_its_line() {
    let err = owasp::read_expected(
        "# header\nBenchmarkTest00001,sqli,true,89\nBenchmarkTest00002,sqli,true\n",
    )
    .unwrap_err();
    match &err {
        EvalError::Csv { line, text, .. } => {
            assert_eq!(*line, 3);
            assert_eq!(text, "BenchmarkTest00002,sqli,true");
        }
        other => panic!("expected a CSV error, got {other:?}"),
    }
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn malformed_sarif_is_an_error_with_its_position() {
    let err = owasp::read_sarif("{\n  \"runs\": [\n    {\"results\": [}\n  ]\n}").unwrap_err();
    match &err {
        EvalError::SarifJson { line, column, .. } => {
            assert_eq!(*line, 3);
            assert_eq!(*column, 18);
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert!(err.to_string().contains("line 3"), "{err}");

    let err = owasp::read_sarif(r#"{"version": "2.1.0"}"#).unwrap_err();
    assert!(matches!(err, EvalError::SarifShape(_)), "{err:?}");
    let err = owasp::read_sarif("[]").unwrap_err();
    assert!(matches!(err, EvalError::SarifShape(_)), "{err:?}");
}

#[test]
fn empty_runs_are_fine() {
    let results =
        owasp::read_sarif(r#"{"runs":[{"tool":{"driver":{"name":"t"}}},{"results":[]}]}"#).unwrap();
    assert_eq!(results.results_read, 0);
    assert!(results.by_stem.is_empty());
}
