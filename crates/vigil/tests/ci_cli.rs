//! End-to-end tests of `vigil hunt` in CI: inline suppressions, vigil.toml, baselines,
//! and `vigil rules` documentation.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

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
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
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
        .env_remove("VIGIL_CONFIG")
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

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(&path, text).expect("write file");
    path
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// A Flask view that runs a shell command built from the request (line 9), and an MD5
/// password hash (line 14).
const APP: &str = r#"import hashlib
import subprocess
from flask import Flask, request
app = Flask(__name__)

@app.route("/ping")
def ping():
    host = request.args.get("host")
    subprocess.run(f"ping -c 1 {host}", shell=True)
    return "ok"


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()
"#;

// ------------------------------------------------------------------ inline suppressions

#[test]
fn suppressed_findings_leave_the_text_report_and_the_exit_code_but_stay_in_sarif() {
    let dir = tempdir();
    let app = APP
        .replace(
            "    subprocess.run(",
            "    # vigil: ignore[python/command-injection] host is checked by the proxy\n    subprocess.run(",
        )
        .replace(
            "hexdigest()",
            "hexdigest()  # vigil: ignore[python/weak-hash] legacy, migrated on login",
        );
    write(dir.path(), "app.py", &app);

    let text = vigil_in(dir.path(), &["hunt", "app.py"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout.starts_with("0 findings in 1 file, ")
            && text
                .stdout
                .ends_with("; 0 skipped; 2 suppressed in the source\n"),
        "{text:?}"
    );
    assert!(!text.stderr.contains("warning"), "{text:?}");

    let json = vigil_in(dir.path(), &["hunt", "app.py", "-f", "json"]).json();
    assert_eq!(json["summary"]["suppressed_in_source"], 2);
    let list = findings(&json);
    assert_eq!(list.len(), 2, "{json:#}");
    assert_eq!(
        list[0]["suppression"]["justification"],
        "host is checked by the proxy"
    );
    assert_eq!(list[0]["suppression"]["location"]["start_line"], 9);

    let run = vigil_in(dir.path(), &["hunt", "app.py", "-f", "sarif"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sarif = run.json();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let cmd = results
        .iter()
        .find(|r| r["ruleId"] == "python/command-injection")
        .expect("kept in SARIF");
    assert_eq!(cmd["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        cmd["suppressions"][0]["justification"],
        "host is checked by the proxy"
    );
    assert_eq!(
        cmd["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    vigil_testdata::assert_valid_sarif(&sarif);
}

#[test]
fn unused_and_unknown_suppressions_are_reported() {
    let dir = tempdir();
    let app = APP
        .replace(
            "    host = request",
            "    # vigil: ignore[python/sql-injection] wrong rule for the line below\n    host = request",
        )
        .replace(
            "hexdigest()",
            "hexdigest()  # vigil: ignore[python/weak-hashes, python/weak-hash] checksum",
        );
    write(dir.path(), "app.py", &app);
    let run = vigil_in(dir.path(), &["hunt", "app.py", "-f", "json"]);
    // The command injection is not suppressed: a suppression of another rule is no use.
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "warning: app.py:8: unused suppression: no `python/sql-injection` finding on line 9"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "warning: app.py:15: `vigil: ignore[python/weak-hashes]`: there is no rule `python/weak-hashes`"
        ),
        "{run:?}"
    );
    let json = run.json();
    let kinds: Vec<&str> = json["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        vec!["unused-suppression", "unknown-rule-suppression"]
    );
    let list = findings(&json);
    let cmd = list
        .iter()
        .find(|f| f["rule_id"] == "python/command-injection")
        .expect("reported");
    assert!(cmd.get("suppression").is_none());
    let md5 = list
        .iter()
        .find(|f| f["rule_id"] == "python/weak-hash")
        .expect("kept");
    assert_eq!(md5["suppression"]["justification"], "checksum");

    let sarif = vigil_in(dir.path(), &["hunt", "app.py", "-f", "sarif"]).json();
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notes
            .iter()
            .any(|n| n["descriptor"]["id"] == "unused-suppression"
                && n["locations"][0]["physicalLocation"]["region"]["startLine"] == 8),
        "{notes:#?}"
    );
    vigil_testdata::assert_valid_sarif(&sarif);

    // Turned off: comments are plain comments.
    let off = vigil_in(
        dir.path(),
        &["hunt", "app.py", "-f", "json", "--no-inline-suppressions"],
    );
    assert!(!off.stderr.contains("warning"), "{off:?}");
    assert!(
        findings(&off.json())
            .iter()
            .all(|f| f.get("suppression").is_none())
    );
}

#[test]
fn a_suppression_of_a_rule_that_did_not_run_is_not_called_unused() {
    let dir = tempdir();
    write(
        dir.path(),
        "app.py",
        &APP.replace(
            "hexdigest()",
            "hexdigest()  # vigil: ignore[python/weak-hash] ok",
        ),
    );
    let run = vigil_in(
        dir.path(),
        &["hunt", "app.py", "--rule", "python/command-injection"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stderr.contains("warning"), "{run:?}");
}

// ------------------------------------------------------------------ vigil.toml

#[test]
fn project_config_selects_rules_severities_and_excluded_paths() {
    let dir = tempdir();
    write(dir.path(), "src/app.py", APP);
    write(dir.path(), "src/test/test_app.py", APP);
    write(dir.path(), "vendor/lib.py", APP);
    write(
        dir.path(),
        "vigil.toml",
        r#"# the project's settings
exclude = ["**/test/**", "vendor/"]

[rules]
disable = ["python/weak-hash"]
severity = { "python/command-injection" = "low" }
"#,
    );
    // Found upward from the scanned folder.
    let run = vigil_in(&dir.path().join("src"), &["hunt", ".", "-f", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let list = findings(&run.json());
    assert_eq!(list.len(), 1, "{run:?}");
    assert_eq!(list[0]["rule_id"], "python/command-injection");
    assert_eq!(list[0]["severity"], "low");
    assert_eq!(list[0]["location"]["path"], "./app.py");

    // From the top, the excluded folders stay out too.
    let top = vigil_in(dir.path(), &["hunt", ".", "-f", "json"]).json();
    assert_eq!(top["summary"]["files_scanned"], 1, "{top:#}");

    // Command-line flags win: --rule replaces [rules], --min-severity the file's.
    write(
        dir.path(),
        "vigil.toml",
        "min-severity = \"critical\"\n[rules]\ndisable = [\"python/command-injection\"]\n",
    );
    let run = vigil_in(
        dir.path(),
        &[
            "hunt",
            "src/app.py",
            "-f",
            "json",
            "--rule",
            "python/weak-hash",
            "--min-severity",
            "low",
        ],
    );
    let list = findings(&run.json());
    assert_eq!(list.len(), 1, "{run:?}");
    assert_eq!(list[0]["rule_id"], "python/weak-hash");
    let only_file = vigil_in(dir.path(), &["hunt", "src/app.py", "-f", "json"]);
    assert_eq!(
        only_file.code, 0,
        "critical only, and the one critical rule is off: {only_file:?}"
    );

    // --project-config names another file; --no-project-config ignores them all.
    write(
        dir.path(),
        "ci/strict.toml",
        "[rules]\nonly = [\"python/weak-hash\"]\n",
    );
    let named = vigil_in(
        dir.path(),
        &[
            "hunt",
            "src/app.py",
            "-f",
            "json",
            "--project-config",
            "ci/strict.toml",
        ],
    );
    let ids: Vec<Value> = findings(&named.json())
        .iter()
        .map(|f| f["rule_id"].clone())
        .collect();
    assert_eq!(ids, vec![Value::from("python/weak-hash")], "{named:?}");
    let none = vigil_in(
        dir.path(),
        &["hunt", "src/app.py", "-f", "json", "--no-project-config"],
    );
    assert_eq!(findings(&none.json()).len(), 2, "{none:?}");
}

#[test]
fn project_config_adds_rule_folders_and_triage_providers() {
    let dir = tempdir();
    write(dir.path(), "app.py", APP);
    write(
        dir.path(),
        "security/rules/python/hexdigest.toml",
        r#"id = "python/hexdigest"
name = "Hexdigest"
kind = "pattern"
cwe = [328]
severity = "low"
message = "a hex digest"

[[match]]
methods = ["hexdigest"]
"#,
    );
    write(
        dir.path(),
        "vigil.toml",
        "rule-folders = [\"security/rules\"]\n[rules]\nonly = [\"python/hexdigest\"]\n[triage]\nproviders = \"ci/models.toml\"\n",
    );
    let run = vigil_in(dir.path(), &["hunt", "app.py", "-f", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let list = findings(&run.json());
    assert_eq!(list.len(), 1, "{run:?}");
    assert_eq!(list[0]["rule_id"], "python/hexdigest");
    // --triage without --model/--config takes the providers file named in vigil.toml.
    let triage = vigil_in(dir.path(), &["hunt", "app.py", "--triage"]);
    assert_eq!(triage.code, 2, "{triage:?}");
    assert!(triage.stderr.contains("ci/models.toml"), "{triage:?}");
}

#[test]
fn project_config_errors_name_the_line() {
    let dir = tempdir();
    write(dir.path(), "app.py", APP);
    write(
        dir.path(),
        "vigil.toml",
        "entry = \"public\"\n\nexlude = [\"vendor/\"]\n",
    );
    let run = vigil_in(dir.path(), &["hunt", "app.py"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("vigil.toml:3: unknown field `exlude`, expected one of"),
        "{run:?}"
    );

    write(
        dir.path(),
        "vigil.toml",
        "[rules]\ndisable = [\n  \"python/weak-hash\",\n  \"python/no-such-rule\",\n]\n",
    );
    let run = vigil_in(dir.path(), &["hunt", "app.py"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("vigil.toml:4: unknown rule id `python/no-such-rule` in [rules] disable"),
        "{run:?}"
    );

    write(
        dir.path(),
        "vigil.toml",
        "[rules]\nseverity = { \"python/weak-hash\" = \"severe\" }\n",
    );
    let run = vigil_in(dir.path(), &["hunt", "app.py"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("vigil.toml:2: unknown variant `severe`"),
        "{run:?}"
    );
}

#[test]
fn exclude_flag_takes_folder_names_and_globs() {
    let dir = tempdir();
    write(dir.path(), "a/app.py", APP);
    write(dir.path(), "b/gen/app.py", APP);
    write(dir.path(), "c/app.py", APP);
    let run = vigil_in(
        dir.path(),
        &[
            "hunt",
            ".",
            "-f",
            "json",
            "--exclude",
            "a",
            "--exclude",
            "b/gen/**",
        ],
    );
    assert_eq!(run.json()["summary"]["files_scanned"], 1, "{run:?}");
}

// ------------------------------------------------------------------ baselines

#[test]
fn a_baseline_hides_old_findings_and_shows_new_ones() {
    let dir = tempdir();
    write(dir.path(), "app.py", APP);
    let first = vigil_in(
        dir.path(),
        &["hunt", ".", "--write-baseline", "baseline.sarif"],
    );
    assert_eq!(first.code, 1, "{first:?}");
    assert!(
        first
            .stderr
            .contains("wrote a baseline of 2 finding(s) to baseline.sarif"),
        "{first:?}"
    );
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("baseline.sarif")).expect("baseline written"),
    )
    .expect("SARIF");
    vigil_testdata::assert_valid_sarif(&baseline);

    // Unchanged code: nothing new, exit 0.
    let same = vigil_in(dir.path(), &["hunt", ".", "--baseline", "baseline.sarif"]);
    assert_eq!(same.code, 0, "{same:?}");
    assert!(
        same.stderr
            .contains("2 finding(s) already in the baseline baseline.sarif are not shown"),
        "{same:?}"
    );
    assert!(
        same.stdout.contains("0 findings") && same.stdout.contains("2 in the baseline, not shown"),
        "{same:?}"
    );

    // Lines added above the old code, and a new vulnerable function below it.
    let changed = format!(
        "\"\"\"The ping service.\"\"\"\n# comment\n{APP}\n\n@app.route(\"/lookup\")\ndef lookup():\n    name = request.args.get(\"name\")\n    subprocess.call(\"nslookup \" + name, shell=True)\n    return \"ok\"\n"
    );
    write(dir.path(), "app.py", &changed);
    let run = vigil_in(
        dir.path(),
        &["hunt", ".", "-f", "json", "--baseline", "baseline.sarif"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    let list = findings(&json);
    assert_eq!(list.len(), 1, "{json:#}");
    assert_eq!(list[0]["rule_id"], "python/command-injection");
    assert!(
        list[0]["snippet"]
            .as_str()
            .unwrap_or("")
            .contains("nslookup"),
        "{json:#}"
    );
    assert_eq!(json["summary"]["hidden"]["baseline"], 2);

    let sarif = vigil_in(
        dir.path(),
        &["hunt", ".", "-f", "sarif", "--baseline", "baseline.sarif"],
    )
    .json();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(sarif["runs"][0]["properties"]["hidden"]["baseline"], 2);
    vigil_testdata::assert_valid_sarif(&sarif);
}

#[test]
fn a_moved_function_keeps_its_fingerprint() {
    let dir = tempdir();
    write(dir.path(), "app.py", APP);
    let prints = |dir: &Path| -> Vec<(String, String, u64)> {
        let json = vigil_in(dir, &["hunt", "app.py", "-f", "json"]).json();
        let mut v: Vec<(String, String, u64)> = findings(&json)
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap_or_default().to_owned(),
                    f["fingerprint"].as_str().unwrap_or_default().to_owned(),
                    f["location"]["start_line"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = prints(dir.path());
    assert_eq!(before.len(), 2);
    // The view moves below the hash function, with new lines above everything.
    let (head, rest) = APP.split_at(APP.find("@app.route").expect("view"));
    let (view, hash) = rest.split_at(rest.find("\n\ndef hash_password").expect("hash"));
    let moved = format!(
        "# new header\n# more\n{head}{}\n\n\n{view}\n",
        hash.trim_start()
    );
    write(dir.path(), "app.py", &moved);
    let after = prints(dir.path());
    assert_eq!(after.len(), 2, "{moved}");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert_eq!(b.1, a.1, "fingerprint of {} changed when it moved", b.0);
        assert_ne!(b.2, a.2, "the finding did move");
    }
}

#[test]
fn a_bad_baseline_is_an_error() {
    let dir = tempdir();
    write(dir.path(), "app.py", APP);
    write(dir.path(), "b.sarif", "{ not json");
    let run = vigil_in(dir.path(), &["hunt", "app.py", "--baseline", "b.sarif"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("b.sarif:1: not a SARIF log"), "{run:?}");
    let run = vigil_in(
        dir.path(),
        &["hunt", "app.py", "--baseline", "missing.sarif"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.sarif: cannot read"), "{run:?}");
}

// ------------------------------------------------------------------ rule documentation

#[test]
fn rules_lists_hunt_and_guard_rules_apart() {
    let run = vigil_in(&repo_root(), &["rules"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("hunt rules ("), "{run:?}");
    assert!(run.stdout.contains("  java/sql-injection "), "{run:?}");
    let guard = run
        .stdout
        .lines()
        .find(|l| l.starts_with("guard rules (built-in Sigma, "))
        .expect("guard summary");
    assert!(guard.contains("--guard"), "{guard}");
    assert!(run.stdout.contains("  by level:   "), "{run:?}");
    assert!(run.stdout.contains(" windows"), "{run:?}");

    let all = vigil_in(&repo_root(), &["rules", "--guard"]);
    assert_eq!(all.code, 0, "{all:?}");
    let n: usize = guard
        .trim_start_matches("guard rules (built-in Sigma, ")
        .split(';')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert_eq!(all.stdout.lines().count(), n);
}

#[test]
fn a_reader_that_stops_early_is_no_error() {
    // `vigil rules --guard | head -1`: the pipe closes after the first line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["rules", "--guard"])
        .current_dir(repo_root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the vigil binary runs");
    let mut first = [0u8; 16];
    let mut out = child.stdout.take().expect("stdout");
    std::io::Read::read_exact(&mut out, &mut first).expect("some output");
    drop(out);
    let done = child.wait_with_output().expect("vigil ends");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{:?} {stderr}", done.status);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn rules_explain_prints_why_example_and_fix() {
    let run = vigil_in(&repo_root(), &["rules", "--explain", "java/sql-injection"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("# java/sql-injection: SqlInjection"),
        "{run:?}"
    );
    assert!(run.stdout.contains("**Why is this bad?**"), "{run:?}");
    assert!(run.stdout.contains("**Fix**"), "{run:?}");
    assert!(
        run.stdout.contains("// vigil: ignore[java/sql-injection]"),
        "{run:?}"
    );

    let unknown = vigil_in(&repo_root(), &["rules", "--explain", "sql-injection"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("did you mean"), "{unknown:?}");
}

#[test]
fn rules_explain_shows_a_guard_rule() {
    // The first rule `vigil rules --guard` lists, by id.
    let all = vigil_in(&repo_root(), &["rules", "--guard"]);
    let id = all
        .stdout
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .expect("a guard rule")
        .to_owned();
    let run = vigil_in(&repo_root(), &["rules", "--explain", &id]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("# "), "{run:?}");
    assert!(run.stdout.contains(&format!("| Id | {id} |")), "{run:?}");
    assert!(run.stdout.contains("| Level | "), "{run:?}");
}

/// `docs/rules/` is generated: it must be what `vigil rules --markdown` writes today.
/// After changing a rule, run `cargo run -p vigil -- rules --markdown docs/rules`.
#[test]
fn checked_in_rule_docs_match_the_generator() {
    let dir = tempdir();
    let run = vigil_in(
        &repo_root(),
        &["rules", "--markdown", &dir.path().display().to_string()],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let docs = repo_root().join("docs/rules");
    let mut generated = Vec::new();
    for entry in walk(dir.path()) {
        let rel = entry
            .strip_prefix(dir.path())
            .expect("inside")
            .to_path_buf();
        generated.push(rel.clone());
        let want = std::fs::read_to_string(&entry).expect("generated page");
        let have = std::fs::read_to_string(docs.join(&rel)).unwrap_or_default();
        assert!(
            have == want,
            "docs/rules/{} is out of date: run `cargo run -p vigil -- rules --markdown docs/rules`",
            rel.display()
        );
    }
    let mut checked_in: Vec<PathBuf> = walk(&docs)
        .into_iter()
        .map(|p| p.strip_prefix(&docs).expect("inside").to_path_buf())
        .collect();
    checked_in.sort();
    generated.sort();
    assert_eq!(
        checked_in, generated,
        "pages in docs/rules/ that no rule generates"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// ------------------------------------------------------------------ --diff

/// Runs `git` in `dir`; false when git is not installed (the test is then skipped).
fn git(dir: &Path, args: &[&str]) -> bool {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => false,
    }
}

#[test]
fn diff_reports_only_findings_on_lines_changed_since_the_merge_base() {
    let dir = tempdir();
    let d = dir.path();
    if !git(d, &["init", "-q", "-b", "main"]) {
        eprintln!("note: git not found; --diff test skipped");
        return;
    }
    write(d, "app.py", APP);
    write(d, "util.py", "def helper(x):\n    return x\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    // Committed on the branch: a new vulnerable view, below the old code.
    let changed = format!(
        "{APP}\n\n@app.route(\"/lookup\")\ndef lookup():\n    name = request.args.get(\"name\")\n    subprocess.call(\"nslookup \" + name, shell=True)\n    return \"ok\"\n"
    );
    write(d, "app.py", &changed);
    git(d, &["commit", "-q", "-am", "lookup"]);
    // main moves on after the branch point: its changes are not ours.
    git(d, &["checkout", "-q", "main"]);
    write(d, "other.py", "import hashlib\nhashlib.md5(b'x')\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "main moves"]);
    git(d, &["checkout", "-q", "feature"]);

    let run = vigil_in(d, &["hunt", ".", "-f", "json", "--diff", "main"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    let list = findings(&json);
    assert_eq!(list.len(), 1, "{json:#}");
    assert!(
        list[0]["snippet"]
            .as_str()
            .unwrap_or("")
            .contains("nslookup")
    );
    assert_eq!(json["summary"]["hidden"]["outside_diff"], 2, "{json:#}");
    assert!(
        run.stderr
            .contains("2 finding(s) outside the lines changed since"),
        "{run:?}"
    );

    // An uncommitted change to the old view's source line brings its finding in: the path
    // (source, steps, sink) counts, not only the sink.
    write(
        d,
        "app.py",
        &changed.replace(
            "request.args.get(\"host\")",
            "request.args.get(\"hostname\")",
        ),
    );
    let run = vigil_in(d, &["hunt", ".", "-f", "json", "--diff", "main"]);
    let list = findings(&run.json());
    assert_eq!(list.len(), 2, "{run:?}");

    let bad = vigil_in(d, &["hunt", ".", "--diff", "no-such-branch"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--diff no-such-branch"), "{bad:?}");
}

#[test]
fn diff_analyses_callers_of_changed_code_and_skips_unrelated_files() {
    let dir = tempdir();
    let d = dir.path();
    if !git(d, &["init", "-q", "-b", "main"]) {
        eprintln!("note: git not found; --diff test skipped");
        return;
    }
    let views = "from flask import Flask, request\nfrom db import find_user\napp = Flask(__name__)\n\n\n@app.route(\"/user\")\ndef user():\n    return find_user(request.args.get(\"name\"))\n";
    write(d, "views.py", views);
    write(
        d,
        "db.py",
        "import sqlite3\n\n\ndef find_user(name):\n    con = sqlite3.connect(\"app.db\")\n    return str(con.execute(\"SELECT * FROM users WHERE name = ?\", (name,)).fetchall())\n",
    );
    write(
        d,
        "report.py",
        "import hashlib\n\n\ndef digest(b):\n    return hashlib.md5(b).hexdigest()\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    // The change: the helper now builds its SQL from its argument. The request data comes
    // from the unchanged view, which must still be analysed from.
    write(
        d,
        "db.py",
        "import sqlite3\n\n\ndef find_user(name):\n    con = sqlite3.connect(\"app.db\")\n    return str(con.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\").fetchall())\n",
    );

    let run = vigil_in(d, &["hunt", ".", "-f", "json", "--diff", "HEAD"]);
    let json = run.json();
    let list = findings(&json);
    assert_eq!(list.len(), 1, "{json:#}");
    assert_eq!(list[0]["rule_id"], "python/sql-injection", "{json:#}");
    assert!(
        run.stderr.contains("analysed from 2 of 3 file(s)"),
        "{run:?}"
    );
    // The full scan sees the unrelated weak hash too, which the diff scan never analysed.
    let full = vigil_in(d, &["hunt", ".", "-f", "json"]);
    let all = findings(&full.json());
    assert_eq!(all.len(), 2, "{full:?}");
}
