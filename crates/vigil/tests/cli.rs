//! End-to-end tests of the `vigil` binary: the bundled examples, the output formats, exit
//! codes, and how bad input (broken source, missing paths, broken rule packs) is reported.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root; the binary runs there so that reported paths read `examples/...`.
fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize()
        .unwrap_or_else(|e| panic!("cannot resolve {}: {e}", here.display()))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn vigil_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("VIGIL_LOG")
        // The rule cache of these tests: under the build's scratch folder.
        .env(
            "VIGIL_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/vigil-cache"),
        )
        .output()
        .expect("the vigil binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn vigil(args: &[&str]) -> Run {
    vigil_in(&repo_root(), args)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(&path, text).expect("write file");
    path
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"]
        .as_array()
        .expect("the JSON report has a findings array")
}

fn rule_ids(report: &Value) -> BTreeSet<String> {
    findings(report)
        .iter()
        .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
        .collect()
}

const JAVA_EXPECTED: &[&str] = &[
    "java/sql-injection",
    "java/xss",
    "java/command-injection",
    "java/path-traversal",
    "java/weak-hash",
];

const PYTHON_EXPECTED: &[&str] = &[
    "python/sql-injection",
    "python/xss",
    "python/command-injection",
    "python/unsafe-deserialization",
    "python/path-traversal",
    "python/weak-random",
    "python/insecure-cookie",
];

/// A vulnerable Flask view, for runs that need one finding next to bad input.
const VULNERABLE_PY: &str = r#"import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args["host"]
    subprocess.run("ping -c 1 " + host, shell=True)
    return "sent"
"#;

// ------------------------------------------------------------------ the bundled examples

#[test]
fn hunt_examples_text_reports_expected_rules_and_exits_1() {
    let run = vigil(&["hunt", "examples"]);
    assert_eq!(run.code, 1, "{run:?}");
    for id in JAVA_EXPECTED.iter().chain(PYTHON_EXPECTED) {
        assert!(run.stdout.contains(id), "`{id}` missing from:\n{run:?}");
    }
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour codes when piped:\n{run:?}"
    );
    let summary = run.stdout.lines().rev().find(|l| l.contains(" findings "));
    let summary = summary.unwrap_or_else(|| panic!("no summary line:\n{run:?}"));
    assert!(summary.contains("in 7 files"), "{summary}");
    assert!(summary.ends_with("0 skipped"), "{summary}");
}

#[test]
fn paths_detail_shows_the_flow_across_files() {
    let run = vigil(&["hunt", "examples/java-shop", "--paths-detail"]);
    assert_eq!(run.code, 1, "{run:?}");
    let dao = run
        .stdout
        .find("ProductDao.java:27:32  HIGH  java/sql-injection")
        .unwrap_or_else(|| panic!("no SQL injection in ProductDao:\n{run:?}"));
    let detail = &run.stdout[dao..];
    let steps: Vec<&str> = detail
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| {
            // Steps read `  1. file:line  message`; the snippet reads `  27 | code`.
            l.trim_start()
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    assert!(steps.len() >= 3, "{detail}");
    assert!(steps[0].contains("ProductServlet.java:"), "{steps:?}");
    assert!(steps.iter().any(|s| s.contains("passed to `searchByName`")));
    assert!(
        steps
            .last()
            .is_some_and(|s| s.contains("reaches `executeQuery`"))
    );
}

#[test]
fn json_report_has_summary_findings_and_cross_file_paths() {
    let run = vigil(&["hunt", "examples", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let list = findings(&report);
    assert_eq!(
        report["summary"]["findings"].as_u64(),
        Some(list.len() as u64)
    );
    assert_eq!(report["summary"]["files_scanned"].as_u64(), Some(7));
    assert_eq!(report["summary"]["skipped"].as_u64(), Some(0));
    let ids = rule_ids(&report);
    for id in JAVA_EXPECTED.iter().chain(PYTHON_EXPECTED) {
        assert!(ids.contains(*id), "`{id}` missing: {ids:?}");
    }
    for f in list {
        for key in [
            "rule_id", "severity", "message", "location", "snippet", "path",
        ] {
            assert!(!f[key].is_null(), "finding without `{key}`: {f}");
        }
    }
    // Taint that crosses files: the sink is in the helper, the source in the caller.
    let crosses = |sink_file: &str, source_file: &str, rule: &str| {
        list.iter().any(|f| {
            f["rule_id"] == rule
                && f["location"]["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(sink_file))
                && f["path"][0]["location"]["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(source_file))
        })
    };
    assert!(
        crosses(
            "ProductDao.java",
            "ProductServlet.java",
            "java/sql-injection"
        ),
        "no SQL injection from ProductServlet into ProductDao"
    );
    assert!(
        crosses("notes/db.py", "notes/app.py", "python/sql-injection"),
        "no SQL injection from app.py into db.py"
    );
}

/// The safe variants next to the vulnerable code in the examples stay quiet.
#[test]
fn safe_patterns_in_examples_are_not_reported() {
    let report = vigil(&["hunt", "examples", "--format", "json"]).json();
    let safe_snippets = [
        "Encode.forHtml(name)",
        "prepareStatement(\"SELECT name FROM products WHERE id = ?\")",
        "stmt.executeQuery())",
        "new SecureRandom()",
        "\"SELECT id, title, body FROM notes WHERE id = ?\"",
        "render_template_string(\"<h1>{{ title }}</h1>\"",
        "secure=True",
    ];
    let noisy: Vec<String> = findings(&report)
        .iter()
        .filter(|f| {
            let snippet = f["snippet"].as_str().unwrap_or("");
            safe_snippets.iter().any(|s| snippet.contains(s))
        })
        .map(|f| format!("{} at {}", f["rule_id"], f["location"]))
        .collect();
    assert!(noisy.is_empty(), "safe code reported: {noisy:#?}");
}

#[test]
fn send_from_directory_is_not_reported_as_xss() {
    let report = vigil(&["hunt", "examples/flask-notes", "--format", "json"]).json();
    let noisy: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| {
            f["snippet"]
                .as_str()
                .is_some_and(|s| s.contains("send_from_directory"))
        })
        .collect();
    assert!(noisy.is_empty(), "{noisy:#?}");
}

#[test]
fn sarif_output_file_is_sarif_2_1_0_with_code_flows() {
    let dir = tempdir();
    let out = dir.path().join("examples.sarif");
    let out_arg = out.to_str().expect("temporary path is UTF-8");
    let run = vigil(&["hunt", "examples", "--format", "sarif", "-o", out_arg]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.is_empty(),
        "-o writes the report to the file only:\n{run:?}"
    );
    let text = std::fs::read_to_string(&out).expect("the SARIF file was written");
    let sarif: Value = serde_json::from_str(&text).expect("the SARIF file is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array");
    assert!(!results.is_empty());
    let rule_kinds: Vec<(String, bool)> = results
        .iter()
        .map(|r| {
            let id = r["ruleId"].as_str().unwrap_or_default().to_owned();
            (id, r.get("codeFlows").is_some())
        })
        .collect();
    // Taint findings carry their path; pattern findings (weak hash) have none.
    for (id, has_flow) in &rule_kinds {
        let taint = !id.ends_with("weak-hash")
            && !id.ends_with("weak-random")
            && !id.ends_with("insecure-cookie");
        assert_eq!(*has_flow, taint, "{id}: codeFlows present = {has_flow}");
    }
    let sqli = results
        .iter()
        .find(|r| r["ruleId"] == "java/sql-injection")
        .expect("a java/sql-injection result");
    let steps = sqli["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("thread flow locations");
    assert!(steps.len() >= 3, "{sqli}");
    let uri = |i: usize| {
        steps[i]["location"]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(uri(0).ends_with("ProductServlet.java"), "{}", uri(0));
    assert!(uri(steps.len() - 1).ends_with("ProductDao.java"));
    vigil_testdata::assert_valid_sarif(&sarif);
}

#[test]
fn sarif_for_go_files_is_sarif_2_1_0() {
    let dir = tempdir();
    let out = dir.path().join("go.sarif");
    let out_arg = out.to_str().expect("temporary path is UTF-8");
    // Run from the fixtures folder: scanned from the repository root, both paths would sit
    // below a `tests` folder, which is test code where no Go rule reports.
    let run = vigil_in(
        &repo_root().join("crates/vigil-hunt/tests/fixtures/frameworks"),
        &[
            "hunt",
            "go-module",
            "../../../../../rules/go/fixtures/weak-hash.bad.go",
            "--format",
            "sarif",
            "-o",
            out_arg,
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let text = std::fs::read_to_string(&out).expect("the SARIF file was written");
    let sarif: Value = serde_json::from_str(&text).expect("the SARIF file is JSON");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array");
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    for id in ["go/sql-injection", "go/xss", "go/weak-hash"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // The cross-package flow ends in package store, and the weak hash has no flow.
    let sqli = results
        .iter()
        .find(|r| r["ruleId"] == "go/sql-injection")
        .expect("a go/sql-injection result");
    let steps = sqli["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("thread flow locations");
    let last = &steps[steps.len() - 1]["location"]["physicalLocation"]["artifactLocation"]["uri"];
    assert!(
        last.as_str().is_some_and(|u| u.ends_with("store/store.go")),
        "{last}"
    );
    vigil_testdata::assert_valid_sarif(&sarif);
}

// ------------------------------------------------------------------ filters and exit codes

#[test]
fn min_severity_critical_keeps_only_critical_findings() {
    let run = vigil(&[
        "hunt",
        "examples",
        "--format",
        "json",
        "--min-severity",
        "critical",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let list = findings(&report);
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|f| f["severity"] == "critical"),
        "{list:#?}"
    );
    let ids = rule_ids(&report);
    assert!(ids.contains("java/command-injection"), "{ids:?}");
    assert!(ids.contains("python/unsafe-deserialization"), "{ids:?}");
    assert!(!ids.contains("java/xss") && !ids.contains("python/insecure-cookie"));

    let text = vigil(&["hunt", "examples", "--min-severity", "critical"]);
    assert!(!text.stdout.contains("  HIGH  "), "{text:?}");
    assert!(text.stdout.contains("  CRITICAL  "), "{text:?}");
}

#[test]
fn exit_code_follows_min_severity() {
    let cookie = "rules/python/fixtures/insecure-cookie.bad.py";
    let low = vigil(&["hunt", cookie]);
    assert_eq!(
        low.code, 1,
        "the low-severity cookie finding counts by default: {low:?}"
    );
    let medium = vigil(&["hunt", cookie, "--min-severity", "medium"]);
    assert_eq!(medium.code, 0, "{medium:?}");
    assert!(medium.stdout.starts_with("0 findings"), "{medium:?}");
}

#[test]
fn clean_code_exits_0() {
    let run = vigil(&["hunt", "rules/java/fixtures/sql-injection.good.java"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("0 findings in 1 file, ") && run.stdout.ends_with("; 0 skipped\n"),
        "{run:?}"
    );
}

#[test]
fn rule_option_selects_rules() {
    let run = vigil(&[
        "hunt",
        "examples",
        "--format",
        "json",
        "--rule",
        "java/sql-injection",
        "--rule",
        "python/weak-random",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let ids = rule_ids(&run.json());
    let want: BTreeSet<String> = ["java/sql-injection", "python/weak-random"]
        .map(String::from)
        .into();
    assert_eq!(ids, want);

    let none = vigil(&["hunt", "examples", "--rule", "no/such-rule"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("no rules selected"), "{none:?}");
}

#[test]
fn rules_lists_every_rule_file() {
    let run = vigil(&["rules"]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut expected = 0;
    let packs = std::fs::read_dir(repo_root().join("rules")).expect("rules folder");
    let mut langs: Vec<String> = packs
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "sigma")
        .collect();
    langs.sort();
    for lang in &langs {
        let dir = repo_root().join("rules").join(lang);
        for entry in std::fs::read_dir(&dir).expect("rules folder").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".toml") && !name.starts_with('_') {
                expected += 1;
                let id = format!("{lang}/{}", name.trim_end_matches(".toml"));
                assert!(run.stdout.contains(&id), "`{id}` not listed:\n{run:?}");
            }
        }
    }
    // One line per hunt rule under the `hunt rules (N):` heading.
    let listed = run
        .stdout
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .count();
    assert!(
        run.stdout
            .starts_with(&format!("hunt rules ({expected}):\n")),
        "{run:?}"
    );
    assert_eq!(listed, expected, "{run:?}");
}

#[test]
fn stats_go_to_stderr() {
    let run = vigil(&[
        "hunt",
        "examples/flask-notes",
        "--stats",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    run.json(); // stdout is still only the report
    assert!(run.stderr.contains("stats: 3 files"), "{run:?}");
    assert!(run.stderr.contains("files/s"), "{run:?}");
}

// ------------------------------------------------------------------ bad input

#[test]
fn unparseable_java_file_is_skipped_and_the_run_goes_on() {
    let dir = tempdir();
    write(dir.path(), "Broken.java", "int x = ;\n");
    write(dir.path(), "app.py", VULNERABLE_PY);
    let run = vigil_in(dir.path(), &["hunt", "."]);
    assert_eq!(run.code, 1, "the other file is still analysed: {run:?}");
    assert!(run.stdout.contains("python/command-injection"), "{run:?}");
    assert!(run.stdout.contains("in 1 file"), "{run:?}");
    assert!(run.stdout.contains("; 1 skipped"), "{run:?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("skipped "))
        .unwrap_or_else(|| panic!("no skipped line:\n{run:?}"));
    assert!(
        line.contains("Broken.java") && line.contains("syntax error at 1:"),
        "{line}"
    );
    assert!(
        !run.stderr.contains("Broken.java"),
        "the text report names the file once, not again on stderr: {run:?}"
    );

    let json_run = vigil_in(dir.path(), &["hunt", ".", "--format", "json"]);
    assert!(
        json_run.stderr.contains("1 file(s) skipped"),
        "machine formats say on stderr that files were skipped: {json_run:?}"
    );
    let json = json_run.json();
    assert_eq!(json["summary"]["skipped"].as_u64(), Some(1));
}

#[test]
fn python_file_with_a_syntax_error_is_reported() {
    let dir = tempdir();
    write(dir.path(), "broken.py", "def broken(:\n    return ))\n");
    write(dir.path(), "app.py", VULNERABLE_PY);
    let run = vigil_in(dir.path(), &["hunt", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("python/command-injection"), "{run:?}");
    assert!(
        run.stdout.contains("broken.py") || run.stderr.contains("broken.py"),
        "the broken file is named somewhere: {run:?}"
    );
}

#[test]
fn nonexistent_path_is_reported() {
    let run = vigil(&["hunt", "examples/flask-notes", "does/not/exist.py"]);
    assert_eq!(run.code, 1, "the existing path is still scanned: {run:?}");
    assert!(
        run.stdout
            .contains("skipped does/not/exist.py: no such file or folder"),
        "{run:?}"
    );
    assert!(run.stdout.contains("; 1 skipped"), "{run:?}");

    let alone = vigil(&["hunt", "does/not/exist.py"]);
    assert_ne!(alone.code, 1, "no findings without input: {alone:?}");
    assert!(alone.stderr.contains("does/not/exist.py"), "{alone:?}");
}

#[test]
fn only_nonexistent_paths_exit_2() {
    let run = vigil(&["hunt", "does/not/exist.py"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn broken_rules_folder_exits_2_naming_the_file() {
    let dir = tempdir();
    write(
        dir.path(),
        "java/broken.toml",
        "id = \"java/broken\"\nname = [\n",
    );
    let rules = dir.path().to_str().expect("temporary path is UTF-8");
    let run = vigil(&["hunt", "examples", "--rules", rules]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "no report on a rule error: {run:?}");
    assert!(run.stderr.contains("rules did not load"), "{run:?}");
    assert!(run.stderr.contains("broken.toml"), "{run:?}");
    assert!(
        run.stderr.contains("line 2"),
        "the location is given: {run:?}"
    );

    let missing = vigil(&["hunt", "examples", "--rules", "no/such/rules"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("no/such/rules"), "{missing:?}");
}

#[test]
fn custom_rules_folder_is_used_instead_of_the_built_in_rules() {
    let dir = tempdir();
    let root = repo_root().join("rules/java");
    for name in ["_library.toml", "sql-injection.toml"] {
        let text = std::fs::read_to_string(root.join(name)).expect("read a built-in rule");
        write(dir.path(), &format!("java/{name}"), &text);
    }
    let rules = dir.path().to_str().expect("temporary path is UTF-8");
    let run = vigil(&["hunt", "examples", "--rules", rules, "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let ids = rule_ids(&run.json());
    assert_eq!(ids, BTreeSet::from(["java/sql-injection".to_owned()]));
}

// ------------------------------------------------------------------ eval

const BENCHMARK_SQLI: &str = r#"package org.owasp.benchmark.testcode;

import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

public class BenchmarkTest00001 extends HttpServlet {
    private Connection connection;

    @Override
    public void doPost(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        String param = request.getParameter("name");
        String sql = "SELECT * FROM users WHERE name = '" + param + "'";
        try {
            Statement statement = connection.createStatement();
            statement.execute(sql);
        } catch (java.sql.SQLException e) {
            throw new ServletException(e);
        }
    }
}
"#;

const BENCHMARK_SAFE: &str = r#"package org.owasp.benchmark.testcode;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

public class BenchmarkTest00002 extends HttpServlet {
    private Connection connection;

    @Override
    public void doPost(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        String param = request.getParameter("name");
        try {
            PreparedStatement statement =
                    connection.prepareStatement("SELECT * FROM users WHERE name = ?");
            statement.setString(1, param);
            statement.execute();
        } catch (java.sql.SQLException e) {
            throw new ServletException(e);
        }
    }
}
"#;

#[test]
fn eval_owasp_scores_a_hunt_sarif() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "src/BenchmarkTest00001.java", BENCHMARK_SQLI);
    write(d, "src/BenchmarkTest00002.java", BENCHMARK_SAFE);
    write(
        d,
        "expected.csv",
        "# test name, category, real vulnerability, cwe, Benchmark version: 1.2\n\
         BenchmarkTest00001,sqli,true,89\n\
         BenchmarkTest00002,sqli,false,89\n",
    );
    let hunt = vigil_in(d, &["hunt", "src", "--format", "sarif", "-o", "out.sarif"]);
    assert_eq!(hunt.code, 1, "{hunt:?}");

    let run = vigil_in(
        d,
        &["eval", "owasp", "--expected", "expected.csv", "out.sarif"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("Category"), "{run:?}");
    let row: Vec<&str> = run
        .stdout
        .lines()
        .find(|l| l.starts_with("sqli"))
        .unwrap_or_else(|| panic!("no sqli row:\n{run:?}"))
        .split_whitespace()
        .collect();
    // Category CWE TP FP TN FN TPR FPR Score
    assert_eq!(
        row,
        [
            "sqli", "89", "1", "0", "1", "0", "100.00%", "0.00%", "100.00%"
        ],
        "{run:?}"
    );
    assert!(run.stdout.contains("Average"), "{run:?}");

    let json = vigil_in(
        d,
        &[
            "eval",
            "owasp",
            "--expected",
            "expected.csv",
            "out.sarif",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.code, 0, "{json:?}");
    json.json();
}

#[test]
fn eval_owasp_reports_a_missing_sarif_file() {
    let dir = tempdir();
    write(
        dir.path(),
        "expected.csv",
        "BenchmarkTest00001,sqli,true,89\n",
    );
    let run = vigil_in(
        dir.path(),
        &[
            "eval",
            "owasp",
            "--expected",
            "expected.csv",
            "missing.sarif",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.sarif"), "{run:?}");
}

#[test]
fn sarif_of_javascript_and_typescript_is_sarif_2_1_0() {
    let dir = tempdir();
    let out = dir.path().join("js.sarif");
    let out_arg = out.to_str().expect("temporary path is UTF-8");
    let run = vigil(&[
        "hunt",
        "crates/vigil-hunt/tests/fixtures/frameworks/nextjs",
        "crates/vigil-hunt/tests/fixtures/frameworks/express",
        "--format",
        "sarif",
        "-o",
        out_arg,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let text = std::fs::read_to_string(&out).expect("the SARIF file was written");
    let sarif: Value = serde_json::from_str(&text).expect("the SARIF file is JSON");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array");
    let uris: Vec<&str> = results
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    for ext in [".js", ".ts", ".tsx"] {
        assert!(
            uris.iter().any(|u| u.ends_with(ext)),
            "no {ext} result: {uris:?}"
        );
    }
    assert!(
        results.iter().all(|r| r["ruleId"]
            .as_str()
            .is_some_and(|id| id.starts_with("javascript/"))),
        "{results:#?}"
    );
    vigil_testdata::assert_valid_sarif(&sarif);
}
