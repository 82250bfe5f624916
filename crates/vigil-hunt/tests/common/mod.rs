//! Helpers shared by the integration tests: where the repository and its fixtures are, and
//! how to scan one file with the built-in rules.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigil_core::{Report, Severity};
use vigil_hunt::rules::{Rule, RuleSet};
use vigil_hunt::{ScanOptions, scan};

/// The repository root (where `rules/` and `examples/` live).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize()
        .unwrap_or_else(|e| panic!("cannot resolve {}: {e}", here.display()))
}

/// The rules embedded in the library, as `vigil hunt` uses them by default.
pub fn builtin_rules() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        panic!("built-in rules did not load:\n{}", list.join("\n"))
    })
}

/// Scan options that keep every finding: `ScanOptions::default()` drops findings below
/// medium (the default `Severity`), which would hide the low-severity cookie rules.
pub fn keep_all() -> ScanOptions {
    ScanOptions {
        min_severity: Severity::Info,
        ..ScanOptions::default()
    }
}

/// Scan `paths` with `rules`, keeping findings of every severity.
pub fn scan_paths(paths: &[PathBuf], rules: &RuleSet) -> Report {
    scan(paths, rules, &keep_all()).0
}

/// The folder of a rule's language pack (`java`, `python`), from the rule's file name.
pub fn lang_dir(rule: &Rule) -> String {
    rule.file
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_else(|| panic!("rule {} has no language folder", rule.id))
        .to_owned()
}

/// The extensions of source files of a language pack; a fixture may use any of them
/// (JavaScript fixtures are `.js`, `.ts` or `.tsx`).
pub fn source_exts(lang_dir: &str) -> &'static [&'static str] {
    match lang_dir {
        "java" => &["java"],
        "python" => &["py"],
        "go" => &["go"],
        "javascript" => &["js", "ts", "tsx", "jsx", "mjs"],
        other => panic!("no source extension known for the `{other}` rule pack"),
    }
}

/// `rules/<lang>/fixtures/<name>.<kind>.<ext>` for a rule file `rules/<lang>/<name>.toml`:
/// the first extension of the language for which the file exists.
pub fn fixture(rule: &Rule, kind: &str) -> PathBuf {
    let lang = lang_dir(rule);
    let stem = rule
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_else(|| panic!("rule {} has no file name", rule.id));
    let dir = repo_root().join("rules").join(&lang).join("fixtures");
    let exts = source_exts(&lang);
    exts.iter()
        .map(|ext| dir.join(format!("{stem}.{kind}.{ext}")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(format!("{stem}.{kind}.{}", exts[0])))
}

/// `path` relative to the repository root, with `/` separators, for stable snapshots.
pub fn rel(path: &Path) -> String {
    let root = repo_root();
    let shown = path.strip_prefix(&root).unwrap_or(path);
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// One line per finding, `rule line:col message`, for assertion messages.
pub fn describe(report: &Report) -> String {
    if report.findings.is_empty() {
        return "  (no findings)".to_owned();
    }
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "  {} {}:{}:{} {}",
                f.rule_id,
                rel(&f.location.path),
                f.location.start_line,
                f.location.start_column,
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A report as snapshot text: each finding as `rule file:line:col message`, then its path
/// steps as `file:line message`, with paths relative to the repository root.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{} {}:{}:{} {}",
            f.rule_id,
            rel(&f.location.path),
            f.location.start_line,
            f.location.start_column,
            f.message
        );
        for step in &f.path {
            let _ = writeln!(
                out,
                "  {}:{} {}",
                rel(&step.location.path),
                step.location.start_line,
                step.message
            );
        }
    }
    let _ = write!(
        out,
        "findings: {}, files: {}, skipped: {}",
        report.findings.len(),
        report.files_scanned,
        report.skipped.len()
    );
    out
}
