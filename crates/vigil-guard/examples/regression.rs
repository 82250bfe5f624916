//! SigmaHQ regression check: load every SigmaHQ rule, then for every rule that has a
//! positive-detection log in `regression_data`, check that it fires on the log in both its
//! EVTX and its JSON form.
//!
//! ```text
//! cargo run --release -p vigil-guard --example regression -- [SIGMA_DIR] [--list-load-errors]
//! ```
//!
//! `SIGMA_DIR` defaults to `../shared/data/sigma` beside the workspace (a SigmaHQ checkout
//! with `rules*` folders and `regression_data/**/info.yml`). Exit code 0 when every
//! regression log fires its rule in both forms, 1 otherwise, 2 when the data is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use serde::Deserialize;
use vigil_guard::rsigma_eval::{JsonEvent, RuleFieldSet, compile_rule};
use vigil_guard::rsigma_parser::parse_sigma_file;
use vigil_guard::rules::group_errors;
use vigil_guard::{
    Event, LoadErrorKind, RuleSet, WindowsMapping, load_rules, read_evtx, read_json,
};

#[derive(Debug, Deserialize)]
struct Info {
    rule_metadata: Vec<RuleMeta>,
    #[serde(default)]
    regression_tests_info: Vec<TestInfo>,
}

#[derive(Debug, Deserialize)]
struct RuleMeta {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
struct TestInfo {
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    path: String,
    #[serde(default)]
    match_count: Option<usize>,
}

/// One regression case: a rule and a positive log in one form.
struct Case {
    rule_id: String,
    title: String,
    form: &'static str,
    log: PathBuf,
    expected: Option<usize>,
}

struct Outcome {
    hits: usize,
    events: usize,
    read_errors: Vec<String>,
    reason: Option<String>,
}

fn default_sigma_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sigma")
}

fn main() -> ExitCode {
    let mut sigma = None;
    let mut list_load_errors = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--list-load-errors" => list_load_errors = true,
            other => sigma = Some(PathBuf::from(other)),
        }
    }
    let sigma = sigma.unwrap_or_else(default_sigma_dir);
    let regression = sigma.join("regression_data");
    if !regression.is_dir() {
        eprintln!("no regression data at {}", regression.display());
        return ExitCode::from(2);
    }

    // ---- rules ----
    let mut rule_dirs: Vec<PathBuf> = match std::fs::read_dir(&sigma) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("rules"))
            })
            .collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", sigma.display());
            return ExitCode::from(2);
        }
    };
    rule_dirs.sort();
    let t = Instant::now();
    let (rules, errors) = load_rules(&rule_dirs);
    let load_time = t.elapsed();
    let s = &rules.stats;
    println!("== Rules ({})", dirs_label(&rule_dirs));
    println!("files            {}", s.files);
    println!("documents total  {}", s.total);
    println!("rules loaded     {}", s.loaded);
    println!(
        "rules compiled   {} ({:.2}% of loaded)",
        s.compiled,
        pct(s.compiled, s.loaded)
    );
    println!("failed           {}", s.failed);
    println!(
        "no event source  {} (compiled; Windows logsource with no event log channel)",
        s.no_event_source
    );
    println!("active           {}", s.active);
    println!(
        "correlations     {} (parsed, not evaluated)",
        s.correlations
    );
    println!("filters          {}", s.filters);
    println!("load time        {:.2?}", load_time);
    if !errors.is_empty() {
        println!("-- load problems by kind and reason");
        for ((kind, reason), n) in group_errors(&errors) {
            println!("{n:5}  {kind:?}: {reason}");
        }
        for e in &errors {
            let show = list_load_errors
                || matches!(
                    e.kind,
                    LoadErrorKind::Parse | LoadErrorKind::Compile | LoadErrorKind::Read
                );
            if show {
                println!("   {e}");
            }
        }
    }

    // ---- regression cases ----
    let mut cases = Vec::new();
    for entry in walkdir::WalkDir::new(&regression).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        if entry.file_name() != "info.yml" {
            continue;
        }
        let text = match std::fs::read_to_string(entry.path()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", entry.path().display());
                continue;
            }
        };
        let info: Info = match yaml_serde::from_str(&text) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{}: {e}", entry.path().display());
                continue;
            }
        };
        let Some(meta) = info.rule_metadata.first() else {
            continue;
        };
        for test in &info.regression_tests_info {
            if !test.name.to_ascii_lowercase().contains("positive") && !test.name.is_empty() {
                continue;
            }
            let evtx = sigma.join(&test.path);
            if test.kind == "evtx" || evtx.extension().is_some_and(|e| e == "evtx") {
                cases.push(Case {
                    rule_id: meta.id.clone(),
                    title: meta.title.clone(),
                    form: "evtx",
                    log: evtx.clone(),
                    expected: test.match_count,
                });
                cases.push(Case {
                    rule_id: meta.id.clone(),
                    title: meta.title.clone(),
                    form: "json",
                    log: evtx.with_extension("json"),
                    expected: test.match_count,
                });
            }
        }
    }

    let t = Instant::now();
    let outcomes: Vec<Outcome> = cases.par_iter().map(|c| run_case(&rules, c)).collect();
    let match_time = t.elapsed();

    println!();
    println!(
        "== Regression ({} rules with positive logs)",
        cases.len() / 2
    );
    let mut all_ok = true;
    for form in ["evtx", "json"] {
        let mut total = 0;
        let mut hit = 0;
        let mut count_mismatch = Vec::new();
        let mut misses = Vec::new();
        for (c, o) in cases.iter().zip(&outcomes) {
            if c.form != form {
                continue;
            }
            total += 1;
            if o.hits > 0 {
                hit += 1;
                if let Some(exp) = c.expected
                    && exp != o.hits
                {
                    count_mismatch.push(format!(
                        "{} [{}]: {} of {} events matched, info.yml says {exp}",
                        c.title, c.rule_id, o.hits, o.events
                    ));
                }
            } else {
                misses.push((c, o));
            }
        }
        all_ok &= hit == total;
        println!("{form:4}  {hit}/{total} fired  ({:.1}%)", pct(hit, total));
        let mut by_reason: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (c, o) in &misses {
            let reason = o.reason.clone().unwrap_or_else(|| "unknown".to_string());
            let cause = reason.split(':').next().unwrap_or("").to_string();
            let mut line = format!(
                "{} [{}] ({} events) {}: {reason}",
                c.title,
                c.rule_id,
                o.events,
                c.log.display()
            );
            if !o.read_errors.is_empty() {
                line.push_str(&format!(" read errors: {}", o.read_errors.join("; ")));
            }
            by_reason.entry(cause).or_default().push(line);
        }
        for (cause, lines) in by_reason {
            println!("   miss, {cause}: {}", lines.len());
            for l in lines {
                println!("      {l}");
            }
        }
        if !count_mismatch.is_empty() {
            println!(
                "   fired, but match count differs: {}",
                count_mismatch.len()
            );
            for l in count_mismatch {
                println!("      {l}");
            }
        }
    }
    println!("match time       {:.2?}", match_time);
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn dirs_label(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .filter_map(|d| d.file_name().and_then(|n| n.to_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn run_case(rules: &RuleSet, case: &Case) -> Outcome {
    let items: Vec<_> = if case.form == "evtx" {
        read_evtx(&case.log).collect()
    } else {
        read_json(&case.log).collect()
    };
    let mut events = Vec::new();
    let mut read_errors = Vec::new();
    for item in items {
        match item {
            Ok(e) => events.push(e),
            Err(e) => read_errors.push(e.to_string()),
        }
    }
    let hits = events
        .iter()
        .filter(|e| {
            vigil_guard::match_event(rules, e)
                .iter()
                .any(|a| a.rule_id.as_deref() == Some(case.rule_id.as_str()))
        })
        .count();
    let reason = (hits == 0).then(|| guess_reason(rules, case, &events));
    Outcome {
        hits,
        events: events.len(),
        read_errors,
        reason,
    }
}

/// Why a rule did not fire on its log, as best as can be told from outside the engine.
fn guess_reason(rules: &RuleSet, case: &Case, events: &[Event]) -> String {
    if events.is_empty() {
        return "no events read from the log".to_string();
    }
    let Some(info) = rules.get(&case.rule_id).or_else(|| {
        rules
            .inactive()
            .iter()
            .find(|r| r.id.as_deref() == Some(&case.rule_id))
    }) else {
        return "rule not loaded: not in the rule folders, or failed to parse/compile".to_string();
    };
    if rules.get(&case.rule_id).is_none() {
        return "rule inactive: its logsource has no event source in the Windows mapping"
            .to_string();
    }
    let collection = match parse_sigma_file(&info.path) {
        Ok(c) => c,
        Err(e) => return format!("cannot re-read rule: {e}"),
    };
    let Some(rule) = collection
        .rules
        .iter()
        .find(|r| r.id.as_deref() == Some(case.rule_id.as_str()))
    else {
        return "cannot re-read rule".to_string();
    };
    let mapping = WindowsMapping::builtin();
    let ls = |e: &Event| {
        mapping
            .event_logsources(&e.fields.to_value())
            .iter()
            .map(|l| {
                format!(
                    "{}/{}",
                    l.service.as_deref().unwrap_or(""),
                    l.category.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The bare detection, without routing: does it match?
    if let Ok(bare) = compile_rule(rule)
        && events.iter().any(|e| {
            vigil_guard::rsigma_eval::evaluate_rule(&bare, &JsonEvent::owned(e.fields.to_value()))
                .is_some()
        })
    {
        return format!(
            "logsource mapping: detection matches but channel/EventID conditions exclude the event (rule {:?}/{:?}, event {})",
            rule.logsource
                .category
                .as_deref()
                .or(rule.logsource.service.as_deref()),
            rule.logsource.product,
            ls(&events[0])
        );
    }
    let single = vigil_guard::rsigma_parser::SigmaCollection {
        rules: vec![rule.clone()],
        ..Default::default()
    };
    let fields = RuleFieldSet::collect(&single, &[], false);
    let missing: Vec<&str> = fields
        .names()
        .filter(|f| !f.is_empty())
        .filter(|f| events.iter().all(|e| e.fields.get(f).is_none()))
        .collect();
    if !missing.is_empty() {
        return format!(
            "field mapping: rule fields absent from the event: {} (event logsource {})",
            missing.join(", "),
            ls(&events[0])
        );
    }
    format!(
        "detection: all fields present but values do not match (event logsource {})",
        ls(&events[0])
    )
}
