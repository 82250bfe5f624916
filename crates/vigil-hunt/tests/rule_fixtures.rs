//! Every rule ships with two fixtures beside it, ruff style:
//! `rules/<lang>/fixtures/<name>.bad.<ext>` is realistic code that must fire the rule of
//! `rules/<lang>/<name>.toml`, and `<name>.good.<ext>` is the safe variant that must not.
//!
//! The tests walk the built-in rule set, so a new rule is checked as soon as its TOML and its
//! two fixtures exist, and a rule without fixtures fails `every_rule_has_both_fixtures`.

mod common;

use common::{builtin_rules, describe, fixture, rel, scan_paths, source_exts};
use std::collections::BTreeSet;
use std::path::Path;
use vigil_hunt::rules::{Rule, RuleSet};

/// Bad fixtures that the engine does not report yet although the rule means to. They are
/// left out of `bad_fixtures_fire_their_rule` and each has an `#[ignore]`d test below that
/// says why; when the engine learns the case, delete the entry and the `#[ignore]`.
const KNOWN_MISSES: &[&str] = &[];

/// Good fixtures that the engine reports although the rule means not to (none today); same
/// arrangement as [`KNOWN_MISSES`].
const KNOWN_FALSE_POSITIVES: &[&str] = &[];

fn rule<'a>(rules: &'a RuleSet, id: &str) -> &'a Rule {
    rules
        .rules
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no built-in rule `{id}`"))
}

/// Scan one fixture; `None` when the result is as the rule intends, else what went wrong.
fn check(rules: &RuleSet, rule: &Rule, kind: &str) -> Option<String> {
    let path = fixture(rule, kind);
    if !path.is_file() {
        return Some(format!("{}: missing fixture {}", rule.id, rel(&path)));
    }
    let report = scan_paths(std::slice::from_ref(&path), rules);
    if !report.skipped.is_empty() || report.files_scanned != 1 {
        return Some(format!(
            "{}: {} was not analysed: {:?}",
            rule.id,
            rel(&path),
            report.skipped
        ));
    }
    let hits = report
        .findings
        .iter()
        .filter(|f| f.rule_id == rule.id)
        .count();
    let ok = match kind {
        "bad" => hits > 0,
        _ => hits == 0,
    };
    if ok {
        return None;
    }
    let want = if kind == "bad" {
        "at least one finding"
    } else {
        "no finding"
    };
    Some(format!(
        "{}: {} should have {want} of the rule; the scan found:\n{}",
        rule.id,
        rel(&path),
        describe(&report)
    ))
}

fn assert_fixture(id: &str, kind: &str) {
    let rules = builtin_rules();
    if let Some(problem) = check(&rules, rule(&rules, id), kind) {
        panic!("{problem}");
    }
}

fn check_all(kind: &str, skip: &[&str]) {
    let rules = builtin_rules();
    let problems: Vec<String> = rules
        .rules
        .iter()
        .filter(|r| !skip.contains(&r.id.as_str()))
        .filter_map(|r| check(&rules, r, kind))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} {kind} fixtures misbehave:\n\n{}",
        problems.len(),
        rules.rules.len(),
        problems.join("\n\n")
    );
}

#[test]
fn every_rule_has_both_fixtures() {
    let rules = builtin_rules();
    assert!(!rules.rules.is_empty(), "no built-in rules");
    let missing: Vec<String> = rules
        .rules
        .iter()
        .flat_map(|r| [fixture(r, "bad"), fixture(r, "good")].map(|p| (r, p)))
        .filter(|(_, p)| !p.is_file())
        .map(|(r, p)| format!("  {} needs {}", r.id, rel(&p)))
        .collect();
    assert!(
        missing.is_empty(),
        "every rule needs a bad and a good fixture beside it:\n{}",
        missing.join("\n")
    );
}

/// A fixture whose rule was renamed or removed would silently stop being tested.
#[test]
fn every_fixture_belongs_to_a_rule() {
    let rules = builtin_rules();
    let expected: BTreeSet<_> = rules
        .rules
        .iter()
        .flat_map(|r| [fixture(r, "bad"), fixture(r, "good")])
        .collect();
    let root = common::repo_root().join("rules");
    let mut strays = Vec::new();
    for lang in ["java", "python", "javascript", "go"] {
        let dir = root.join(lang).join("fixtures");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && !expected.contains(&path) {
                strays.push(format!("  {}", rel(&path)));
            }
        }
    }
    strays.sort();
    assert!(
        strays.is_empty(),
        "fixtures must be named `<rule file stem>.bad.<ext>` or `.good.<ext>`; these match no rule:\n{}",
        strays.join("\n")
    );
}

/// Fixtures are real code: they parse without syntax errors.
#[test]
fn fixtures_parse_cleanly() {
    let rules = builtin_rules();
    let mut problems = Vec::new();
    for r in &rules.rules {
        for kind in ["bad", "good"] {
            let path = fixture(r, kind);
            if !path.is_file() {
                continue; // reported by every_rule_has_both_fixtures
            }
            match vigil_code::parse_file(&path) {
                Ok(m) if m.syntax_errors.is_empty() => {}
                Ok(m) => problems.push(format!(
                    "  {}: syntax errors at {:?}",
                    rel(&path),
                    m.syntax_errors
                        .iter()
                        .map(|s| (s.start_line, s.start_col))
                        .collect::<Vec<_>>()
                )),
                Err(e) => problems.push(format!("  {}: {e}", rel(&path))),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn bad_fixtures_fire_their_rule() {
    check_all("bad", KNOWN_MISSES);
}

#[test]
fn good_fixtures_do_not_fire_their_rule() {
    check_all("good", KNOWN_FALSE_POSITIVES);
}

#[test]
fn known_gaps_name_existing_rules() {
    let rules = builtin_rules();
    for id in KNOWN_MISSES.iter().chain(KNOWN_FALSE_POSITIVES) {
        rule(&rules, id);
    }
}

/// The language of each fixture folder matches the extension the tests look for.
#[test]
fn fixture_extensions_are_scannable() {
    for lang in ["java", "python", "javascript", "go"] {
        for ext in source_exts(lang) {
            let probe = format!("x.bad.{ext}");
            assert!(
                vigil_code::Lang::from_path(Path::new(&probe)).is_some_and(|l| l.name() == lang),
                "{probe} is not recognised as {lang}"
            );
        }
    }
}

// ------------------------------------------------------------------ known engine gaps

#[test]
fn java_weak_random_bad_fixture_fires() {
    assert_fixture("java/weak-random", "bad");
}

#[test]
fn python_xxe_bad_fixture_fires() {
    assert_fixture("python/xxe", "bad");
}

// ------------------------------------------------------------------ one line per sink

/// A bad fixture may mark the lines where the rule must fire with a trailing comment
/// `// ruleid: <rule>` (Java) or `# ruleid: <rule>` (Python), as the framework fixtures do:
/// each marked line needs a finding of the rule, so a fixture that shows many sinks tests
/// every one of them, not just one.
#[test]
fn marked_lines_of_bad_fixtures_fire() {
    let rules = builtin_rules();
    let mut problems = Vec::new();
    for r in &rules.rules {
        let path = fixture(r, "bad");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let marker = format!("ruleid: {}", r.id);
        let marked: Vec<u32> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_end().ends_with(&marker))
            .map(|(i, _)| i as u32 + 1)
            .collect();
        if marked.is_empty() {
            continue;
        }
        let report = scan_paths(std::slice::from_ref(&path), &rules);
        let hit: BTreeSet<u32> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == r.id)
            .map(|f| f.location.start_line)
            .collect();
        let missed: Vec<u32> = marked.into_iter().filter(|l| !hit.contains(l)).collect();
        if !missed.is_empty() {
            problems.push(format!(
                "{}: {} lines {missed:?} are marked `ruleid` but do not fire; the scan found:\n{}",
                r.id,
                rel(&path),
                describe(&report)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
