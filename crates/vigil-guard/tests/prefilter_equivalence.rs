//! The fast paths must not change what fires. Over real logs read in place from
//! `../shared/data` (SigmaHQ's regression logs in EVTX and JSON form, and the EVTX attack
//! samples) and every SigmaHQ rule:
//!
//! * the literal prefilter: every event gives the same rsigma results with the prefilter
//!   as with every rule of its logsources evaluated;
//! * the conversion while parsing: every EVTX record gives the same field map (keys in the
//!   same order) from `Event::from_json_slice` as from `Event::from_json` of the parsed
//!   value.
//!
//! Without the data the tests print a note and pass.

mod common;

use common::data;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_guard::matching::{evaluate, evaluate_unfiltered};
use vigil_guard::{Event, load_rules, read_events};

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
        })
        .collect();
    out.sort();
    out
}

fn fired(results: Vec<vigil_guard::rsigma_eval::EvaluationResult>) -> Vec<String> {
    let mut ids: Vec<String> = results
        .into_iter()
        .map(|r| {
            let rule = r.header.rule_id.as_deref().unwrap_or(&r.header.rule_title);
            format!("{rule} {:?}", r.as_detection().map(|d| &d.matched_fields))
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn prefilter_never_changes_what_fires() {
    let (Some(sigma), Some(samples)) = (data("sigma"), data("evtx-attack-samples")) else {
        return;
    };
    let rule_dirs = common::sigma_rule_dirs(&sigma);
    let (rules, _) = load_rules(&rule_dirs);
    assert!(rules.len() > 2000, "{:?}", rules.stats);
    let mut inputs = files(&sigma.join("regression_data"), &["evtx", "json"]);
    inputs.extend(files(&samples, &["evtx"]));
    let (mut events, mut fires) = (0usize, 0usize);
    for path in &inputs {
        for event in read_events(path).flatten() {
            let with = fired(evaluate(&rules, &event));
            let without = fired(evaluate_unfiltered(&rules, &event));
            assert_eq!(with, without, "{} record {}", path.display(), event.record);
            events += 1;
            fires += with.len();
        }
    }
    eprintln!("{events} events, {fires} rule matches, all identical");
    assert!(
        events > 8000 && fires > 1000,
        "{events} events, {fires} matches"
    );
}

#[test]
fn conversion_while_parsing_matches_the_value_path() {
    let (Some(sigma), Some(samples)) = (data("sigma"), data("evtx-attack-samples")) else {
        return;
    };
    let mut inputs = files(&sigma.join("regression_data"), &["evtx"]);
    inputs.extend(files(&samples, &["evtx"]));
    let file = Arc::new(PathBuf::from("x.evtx"));
    let mut records = 0;
    for path in &inputs {
        let Ok(parser) = evtx::EvtxParser::from_path(path) else {
            continue;
        };
        let mut parser = parser.with_configuration(evtx::ParserSettings::new().num_threads(1));
        for record in parser.records_json_bytes().flatten() {
            let json = &record.data;
            let value: serde_json::Value = serde_json::from_slice(json).expect("evtx JSON");
            let slow = Event::from_json(Arc::clone(&file), 1, value);
            let fast = Event::from_json_slice(Arc::clone(&file), 1, json).expect("parses");
            let keys = |e: &Event| -> Vec<String> { e.fields.keys().map(str::to_string).collect() };
            assert_eq!(keys(&fast), keys(&slow), "{}", path.display());
            assert_eq!(fast.fields, slow.fields, "{}", path.display());
            assert_eq!(
                fast.fields.to_value(),
                slow.fields.to_value(),
                "{}",
                path.display()
            );
            assert_eq!((&fast.time, fast.product), (&slow.time, slow.product));
            records += 1;
        }
    }
    assert!(records > 8000, "{records} records");
}
