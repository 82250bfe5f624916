//! Scan log files or folders with a rule set and print a summary: events, read errors,
//! alerts by level and by rule, and throughput.
//!
//! ```text
//! cargo run --release -p vigil-guard --example scan -- [--read-only] RULES_DIR[,RULES_DIR...] INPUT...
//! ```
//!
//! `--read-only` reads and flattens the events without matching them, to separate the cost
//! of ingestion from the cost of rule evaluation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use vigil_guard::{load_rules, scan_files};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let read_only = args.next_if(|a| a == "--read-only").is_some();
    let Some(rule_arg) = args.next() else {
        eprintln!("usage: scan RULES_DIR[,RULES_DIR...] INPUT...");
        return ExitCode::from(2);
    };
    let rule_dirs: Vec<PathBuf> = rule_arg.split(',').map(PathBuf::from).collect();
    let inputs: Vec<PathBuf> = args.map(PathBuf::from).collect();

    let t = Instant::now();
    let (rules, load_errors) = load_rules(&rule_dirs);
    println!(
        "rules: {} active of {} loaded ({} load problems) in {:.2?}",
        rules.stats.active,
        rules.stats.loaded,
        load_errors.len(),
        t.elapsed()
    );

    let mut files = Vec::new();
    for input in &inputs {
        if input.is_dir() {
            for e in walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                let p = e.path();
                if e.file_type().is_file()
                    && p.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| matches!(x, "evtx" | "json" | "jsonl" | "ndjson"))
                {
                    files.push(e.into_path());
                }
            }
        } else {
            files.push(input.clone());
        }
    }
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();

    let t = Instant::now();
    let outcome = if read_only {
        use rayon::prelude::*;
        let counts: Vec<(u64, Vec<vigil_guard::ReadError>)> = files
            .par_iter()
            .map(|f| {
                let mut n = 0;
                let mut errs = Vec::new();
                for item in vigil_guard::read_events(f) {
                    match item {
                        Ok(_) => n += 1,
                        Err(e) => errs.push(e),
                    }
                }
                (n, errs)
            })
            .collect();
        let mut out = vigil_guard::ScanOutcome::default();
        for (n, errs) in counts {
            out.events += n;
            out.errors.extend(errs);
        }
        out
    } else {
        scan_files(&rules, &files)
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "files: {}  events: {}  read errors: {}  alerts: {}",
        files.len(),
        outcome.events,
        outcome.errors.len(),
        outcome.alerts.len()
    );
    println!(
        "wall {:.2}s  {:.0} events/s  {:.1} MB/s",
        secs,
        outcome.events as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    for e in outcome.errors.iter().take(10) {
        println!("  read error: {e}");
    }
    let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for a in &outcome.alerts {
        *by_level
            .entry(a.level.map(|l| l.as_str().to_string()).unwrap_or_default())
            .or_default() += 1;
        *by_rule.entry(a.title.clone()).or_default() += 1;
    }
    println!("by level: {by_level:?}");
    let mut top: Vec<_> = by_rule.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("rules fired: {}", top.len());
    for (title, n) in top.iter().take(25) {
        println!("{n:6}  {title}");
    }
    ExitCode::SUCCESS
}
