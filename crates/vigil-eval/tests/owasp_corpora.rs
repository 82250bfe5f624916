//! Scoring the development split of the real OWASP Benchmark ground truth (Java and Python)
//! with an empty and a perfect SARIF. Skipped, with a note, when the corpus is not there.

use std::collections::{BTreeMap, BTreeSet};

use vigil_eval::owasp::{self, Expected};

const JAVA: &str = "owasp-benchmark-java/expectedresults-dev.csv";
const PYTHON: &str = "owasp-benchmark-python/expectedresults-dev.csv";

fn load(rel: &str) -> Option<Expected> {
    let path = vigil_testdata::data(rel)?;
    let text = std::fs::read_to_string(&path).expect("ground truth readable");
    Some(owasp::read_expected(&text).expect("ground truth parses"))
}

fn check_empty(expected: &Expected) {
    let card = owasp::score(
        expected,
        &owasp::read_sarif(
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"none"}},"results":[]}]}"#,
        )
        .unwrap(),
    );
    let mut real_by_category: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &expected.cases {
        *real_by_category.entry(&case.category).or_default() += usize::from(case.real);
    }
    assert_eq!(card.categories.len(), real_by_category.len());
    for c in &card.categories {
        assert_eq!((c.tpr, c.fpr, c.score), (0.0, 0.0, 0.0), "{}", c.category);
        assert_eq!(
            c.tp + c.fn_,
            real_by_category[c.category.as_str()],
            "{}",
            c.category
        );
        assert_eq!(c.tp, 0);
        assert_eq!(c.fp, 0);
    }
    assert_eq!(
        (card.overall.tpr, card.overall.fpr, card.overall.score),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(card.cases_without_results, expected.cases.len());
    assert_eq!(card.results_read, 0);
    let real = expected.cases.iter().filter(|c| c.real).count();
    assert_eq!(card.misses.len(), real);
    assert_eq!(card.overall.fn_, real);
}

/// One result per real vulnerability, with its CWE on a rule (CodeQL-style tag, found by
/// `ruleIndex`), plus noise the scorer must ignore: helper-file results and CWE-less results.
fn perfect_sarif(expected: &Expected) -> String {
    let cwes: Vec<u32> = expected
        .cases
        .iter()
        .map(|c| c.cwe)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rules: Vec<String> = cwes
        .iter()
        .map(|cwe| {
            format!(r#"{{"id":"rule-{cwe}","properties":{{"tags":["security","external/cwe/cwe-{cwe:03}"]}}}}"#)
        })
        .collect();
    let location = |uri: &str| {
        format!(r#""locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{uri}"}}}}}}]"#)
    };
    let mut results = Vec::new();
    for case in expected.cases.iter().filter(|c| c.real) {
        let index = cwes.binary_search(&case.cwe).unwrap();
        let uri = format!(
            "src/main/java/org/owasp/benchmark/testcode/{}.java",
            case.name
        );
        results.push(format!(
            r#"{{"ruleId":"rule-{}","ruleIndex":{index},{}}}"#,
            case.cwe,
            location(&uri)
        ));
    }
    for case in expected.cases.iter().filter(|c| !c.real).take(5) {
        results.push(format!(
            r#"{{"message":{{"text":"no cwe"}},{}}}"#,
            location(&format!("{}.java", case.name))
        ));
    }
    results.push(format!(
        r#"{{"ruleIndex":0,{}}}"#,
        location("helpers/Utils.java")
    ));
    format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"oracle","rules":[{}]}}}},"results":[{}]}}]}}"#,
        rules.join(","),
        results.join(",")
    )
}

fn check_perfect(expected: &Expected) {
    let results = owasp::read_sarif(&perfect_sarif(expected)).unwrap();
    let card = owasp::score(expected, &results);
    for c in &card.categories {
        assert_eq!((c.tpr, c.fpr, c.score), (1.0, 0.0, 1.0), "{}", c.category);
        assert_eq!(c.fn_, 0);
        assert_eq!(c.fp, 0);
    }
    assert_eq!(card.overall.score, 1.0);
    assert!(card.misses.is_empty());
    assert_eq!(card.results_unmapped, 1);
    assert_eq!(card.results_without_cwe, 5);
    let real = expected.cases.iter().filter(|c| c.real).count();
    assert_eq!(card.results_read, real + 6);
    assert_eq!(card.overall.tp, real);
}

/// Flagging everything with the right CWE: TPR 1, FPR 1, score 0 everywhere.
fn check_everything_flagged(expected: &Expected) {
    let mut results = owasp::ToolResults::default();
    for case in &expected.cases {
        results.add(&format!("{}.py", case.name), Some(case.cwe));
    }
    let card = owasp::score(expected, &results);
    for c in &card.categories {
        assert_eq!((c.tpr, c.fpr, c.score), (1.0, 1.0, 0.0), "{}", c.category);
    }
    assert_eq!(
        card.misses.len(),
        expected.cases.iter().filter(|c| !c.real).count()
    );
}

#[test]
fn java_benchmark() {
    let Some(expected) = load(JAVA) else { return };
    assert_eq!(expected.cases.len(), 1370);
    check_empty(&expected);
    check_perfect(&expected);
    check_everything_flagged(&expected);
}

#[test]
fn python_benchmark() {
    let Some(expected) = load(PYTHON) else { return };
    assert_eq!(expected.cases.len(), 622);
    check_empty(&expected);
    check_perfect(&expected);
    check_everything_flagged(&expected);
}
