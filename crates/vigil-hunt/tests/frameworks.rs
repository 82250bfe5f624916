//! Web frameworks whose request data the rule library declares (Spring, JAX-RS, Django,
//! FastAPI, aiohttp, Tornado, Bottle, Go's net/http, gin and echo, Express, Koa, Fastify,
//! Next.js), and library mode (`--entry public`).
//!
//! Each fixture folder is a small app written the way the framework's documentation writes
//! one. A line marked `ruleid: RULE` must be reported by that rule; no other line may be
//! (lines marked `ok:` are the safe variants). The findings are also kept as insta snapshots.

mod common;

use common::{builtin_rules, keep_all, rel, render, repo_root};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use vigil_core::Report;
use vigil_hunt::{EntryPoints, ScanOptions, scan};

fn fixture_dir(parts: &[&str]) -> PathBuf {
    let mut dir = repo_root().join("crates/vigil-hunt/tests/fixtures");
    for p in parts {
        dir = dir.join(p);
    }
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

/// (file, line, rule) of every `ruleid:` marker under `dir`, in its sub-folders too (a Go
/// module's packages).
fn expected(dir: &Path) -> BTreeSet<(String, u32, String)> {
    let mut out = BTreeSet::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        if path.is_dir() {
            out.extend(expected(&path));
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        for (i, line) in text.lines().enumerate() {
            if let Some((_, rule)) = line.split_once("ruleid: ") {
                let rule = rule.split_whitespace().next().unwrap_or_default();
                // Rule ids name their language (`java/xss`); the legend line does not.
                if rule.contains('/') {
                    out.insert((rel(&path), i as u32 + 1, rule.to_string()));
                }
            }
        }
    }
    out
}

fn found(report: &Report) -> BTreeSet<(String, u32, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                rel(&f.location.path),
                f.location.start_line,
                f.rule_id.clone(),
            )
        })
        .collect()
}

fn scan_with(dir: &Path, opts: &ScanOptions) -> Report {
    scan(&[dir.to_path_buf()], &builtin_rules(), opts).0
}

/// The findings on a framework's fixture app are exactly its `ruleid:` lines.
fn check_framework(name: &str) -> String {
    let dir = fixture_dir(&["frameworks", name]);
    let report = scan_with(&dir, &keep_all());
    let want = expected(&dir);
    assert!(!want.is_empty(), "{name}: no `ruleid:` markers");
    let got = found(&report);
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{name}: missed {missed:#?}\nunexpected {extra:#?}"
    );
    render(&report)
}

#[test]
fn spring_mvc() {
    insta::assert_snapshot!("frameworks_spring", check_framework("spring"));
}

#[test]
fn jax_rs_javax_and_jakarta() {
    insta::assert_snapshot!("frameworks_jaxrs", check_framework("jaxrs"));
}

#[test]
fn django_and_rest_framework() {
    insta::assert_snapshot!("frameworks_django", check_framework("django"));
}

#[test]
fn fastapi() {
    insta::assert_snapshot!("frameworks_fastapi", check_framework("fastapi"));
}

#[test]
fn aiohttp() {
    insta::assert_snapshot!("frameworks_aiohttp", check_framework("aiohttp"));
}

#[test]
fn tornado() {
    insta::assert_snapshot!("frameworks_tornado", check_framework("tornado"));
}

#[test]
fn bottle() {
    insta::assert_snapshot!("frameworks_bottle", check_framework("bottle"));
}

#[test]
fn go_net_http_with_gorilla_mux() {
    insta::assert_snapshot!("frameworks_go_nethttp", check_framework("nethttp"));
}

#[test]
fn go_gin_with_gorm() {
    insta::assert_snapshot!("frameworks_go_gin", check_framework("gin"));
}

#[test]
fn go_echo() {
    insta::assert_snapshot!("frameworks_go_echo", check_framework("echo"));
}

/// A module with packages `api` and `store`: a handler in `api` passes a URL parameter to
/// `store.FindUser`, which builds the query; `api` calls a function of another of its files.
#[test]
fn go_module_flows_across_packages() {
    let report = check_framework("go-module");
    assert!(
        report.contains("store.go") && report.contains("FindUser"),
        "the SQL finding's path names the call into package store:\n{report}"
    );
    insta::assert_snapshot!("frameworks_go_module", report);
}

fn library_options() -> ScanOptions {
    ScanOptions {
        entry: EntryPoints::Public,
        ..keep_all()
    }
}

#[test]
fn library_mode_treats_public_parameters_as_attacker_data() {
    for lang in ["java", "python"] {
        let dir = fixture_dir(&["library", lang]);
        let report = scan_with(&dir, &library_options());
        assert_eq!(found(&report), expected(&dir), "{lang}");
        insta::assert_snapshot!(format!("library_{lang}"), render(&report));
    }
}

#[test]
fn library_findings_name_their_entry_point() {
    let report = scan_with(&fixture_dir(&["library", "java"]), &library_options());
    assert!(
        report.findings.iter().any(|f| f
            .message
            .contains("public entry point `UserRepository.exists`")),
        "{}",
        render(&report)
    );
    let report = scan_with(&fixture_dir(&["library", "python"]), &library_options());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.message.contains("public entry point") && f.message.contains("compress`")),
        "{}",
        render(&report)
    );
}

#[test]
fn library_mode_is_off_by_default() {
    for lang in ["java", "python"] {
        let report = scan_with(&fixture_dir(&["library", lang]), &keep_all());
        assert!(report.findings.is_empty(), "{lang}: {}", render(&report));
    }
}

#[test]
fn express_routes_and_a_required_helper() {
    insta::assert_snapshot!("frameworks_express", check_framework("express"));
}

#[test]
fn koa() {
    insta::assert_snapshot!("frameworks_koa", check_framework("koa"));
}

#[test]
fn fastify() {
    insta::assert_snapshot!("frameworks_fastify", check_framework("fastify"));
}

#[test]
fn nextjs_api_routes_route_handlers_and_a_client_component() {
    insta::assert_snapshot!("frameworks_nextjs", check_framework("nextjs"));
}

#[test]
fn typescript_express_with_es_module_imports() {
    insta::assert_snapshot!("frameworks_typescript", check_framework("typescript"));
}

#[test]
fn express_with_mongoose_and_sequelize_models() {
    insta::assert_snapshot!("frameworks_express_data", check_framework("express-data"));
}

#[test]
fn nestjs_controllers() {
    insta::assert_snapshot!("frameworks_nestjs", check_framework("nestjs"));
}

#[test]
fn npm_library_entry_functions_are_library_input() {
    insta::assert_snapshot!("frameworks_npm_library", check_framework("npm-library"));
}

#[test]
fn go_test_files_are_not_analysed_from_since_no_go_rule_reports_there() {
    // A copy of the net/http app with a test file beside it, the way `go test` wants it.
    let dir = std::env::temp_dir().join(format!("vigil-go-tests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp folder");
    let src = fixture_dir(&["frameworks", "nethttp"]);
    let mut copied = 0;
    for e in std::fs::read_dir(&src).expect("fixture").flatten() {
        if e.path().extension().is_some_and(|x| x == "go") {
            std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
            copied += 1;
        }
    }
    std::fs::write(
        dir.join("handlers_test.go"),
        "package main\n\nimport (\n\t\"net/http\"\n\t\"os/exec\"\n)\n\nfunc helper(w http.ResponseWriter, r *http.Request) {\n\texec.Command(\"sh\", \"-c\", r.FormValue(\"cmd\")).Run()\n}\n",
    )
    .expect("test file");
    let rules = builtin_rules();
    let (report, stats) = vigil_hunt::scan(std::slice::from_ref(&dir), &rules, &keep_all());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(report.files_scanned, copied + 1);
    assert_eq!(
        stats.analysed, copied,
        "the test file is parsed but not analysed from"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.location.path.ends_with("handlers_test.go")),
        "{:#?}",
        report.findings
    );
}
