//! Matching: events against a [`RuleSet`], producing [`Alert`]s.
//!
//! The rule evaluation is rsigma's ([`rsigma_eval::evaluate_rule`], what its `Engine`
//! runs for each candidate rule); the rule set holds the compiled rules grouped by rule
//! logsource (a *route*). A Windows event (an EVTX record, or any event with a `Channel`)
//! is routed by the Windows mapping: its channel and EventID give its logsources
//! (`sysmon/process_creation`, `security/`, ...), and it is evaluated by the rules whose
//! logsource is contained in one of them (each dimension unset or equal). An event whose
//! product is unknown (plain JSON without `Channel`) is evaluated by every rule, as rsigma
//! itself would.
//!
//! Of those rules, only the ones whose prefilter gate the event opens are evaluated: the
//! prefilter knows, for each rule, literals (or field values, numbers, fields) of which
//! the rule needs at least one to match, and finds those the event holds in one pass
//! (see `prefilter.rs` for why skipping the others never loses a detection).
//! [`evaluate_unfiltered`] evaluates every rule of the routes, for comparison.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rsigma_eval::{EvaluationResult, evaluate_rule};

use crate::event::Event;
use crate::input::{ReadError, read_events};
use crate::rules::{RuleSet, severity};

/// Alerts are the shared vocabulary of `vigil-core`, so that response, eval and triage
/// read them without depending on this crate.
pub use vigil_core::{Alert, AlertEvent, MatchedField};

/// The routes (rule logsources, indices into the rule set's route ranges) an event is
/// evaluated by: for a Windows event, those whose logsource is contained in one of the
/// event's logsources (each dimension unset or equal); for an event of unknown product,
/// every route.
pub fn routes_for<'a>(rules: &'a RuleSet, event: &Event) -> Cow<'a, [usize]> {
    rules.route_table.routes(&rules.routes, event)
}

/// Evaluate one event: the indices of the rules that fire and rsigma's results.
///
/// Only the rules of the event's routes are looked at, and of those only the ones whose
/// prefilter gate the event opens (see [`crate::prefilter`]); rsigma evaluates each.
fn evaluate_indexed(rules: &RuleSet, event: &Event) -> Vec<(usize, EvaluationResult)> {
    let json = &event.fields;
    let routes = routes_for(rules, event);
    let open = rules.prefilter.open_gates(&event.fields, &routes);
    let mut results = Vec::new();
    let mut later = crate::prefilter::LaterGates::default();
    let mut eval = |i: usize| {
        if let Some(r) = rules.compiled(i).and_then(|rule| evaluate_rule(rule, json)) {
            results.push((i, r));
        }
    };
    for &route in routes.iter() {
        let range = rules.route_ranges[route].clone();
        match &open {
            Some(open) => rules
                .prefilter
                .for_each_open(json, open, &mut later, range, &mut eval),
            // The event could not be scanned: evaluate every rule of the route.
            None => range.for_each(&mut eval),
        }
    }
    results
}

/// Evaluate one event against every rule of its routes, without the prefilter: what
/// the prefilter must never change (for tests and measurements).
pub fn evaluate_unfiltered(rules: &RuleSet, event: &Event) -> Vec<EvaluationResult> {
    let json = &event.fields;
    let mut results = Vec::new();
    for &route in routes_for(rules, event).iter() {
        for i in rules.route_ranges[route].clone() {
            results.extend(rules.compiled(i).and_then(|rule| evaluate_rule(rule, json)));
        }
    }
    results
}

/// Evaluate one event: the raw rsigma results.
pub fn evaluate(rules: &RuleSet, event: &Event) -> Vec<EvaluationResult> {
    evaluate_indexed(rules, event)
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// Match one event against the rules.
pub fn match_event(rules: &RuleSet, event: &Event) -> Vec<Alert> {
    let hits = evaluate_indexed(rules, event);
    if hits.is_empty() {
        return Vec::new();
    }
    // The event as JSON, built once and shared by all its alerts.
    let json = AlertEvent::from_json_unique_keys(event.fields.to_json());
    hits.into_iter()
        .map(|(i, r)| to_alert(rules, event, i, r, json.clone()))
        .collect()
}

fn to_alert(
    rules: &RuleSet,
    event: &Event,
    index: usize,
    result: EvaluationResult,
    json: AlertEvent,
) -> Alert {
    let h = &result.header;
    let info = rules.rules.get(index);
    let mut matched: Vec<MatchedField> = result
        .as_detection()
        .map(|d| {
            d.matched_fields
                .iter()
                .map(|m| MatchedField {
                    field: m.field.clone(),
                    value: match &m.value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    // rsigma lists them in the order of its detection map, which differs from run to
    // run: sorted, two runs over the same logs write the same alerts.
    matched.sort_by(|a, b| (&a.field, &a.value).cmp(&(&b.field, &b.value)));
    Alert {
        rule_id: h.rule_id.clone(),
        title: h.rule_title.clone(),
        level: severity(h.level),
        tags: h.tags.clone(),
        rule_path: info.map(|i| i.path.to_path_buf()),
        source: event.source.to_path_buf(),
        record: event.record,
        time: event.time.clone(),
        matched,
        event: json,
    }
}

/// Match a stream of events; read errors are not events and must be split off before.
pub fn match_events<I>(rules: &RuleSet, events: I) -> Vec<Alert>
where
    I: IntoIterator<Item = Event>,
{
    events
        .into_iter()
        .flat_map(|e| match_event(rules, &e))
        .collect()
}

/// What scanning a set of files gave.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Every alert, in file order then record order.
    pub alerts: Vec<Alert>,
    /// Records and lines that could not be read.
    pub errors: Vec<ReadError>,
    /// Events read and matched.
    pub events: u64,
}

/// Read and match files in parallel (rayon over files; EVTX chunks are parsed in parallel
/// within a file too). Each file's format is detected from its name and content.
pub fn scan_files(rules: &RuleSet, files: &[PathBuf]) -> ScanOutcome {
    let per_file: Vec<ScanOutcome> = files
        .par_iter()
        .map(|path| scan_file(rules, path))
        .collect();
    let mut out = ScanOutcome::default();
    for f in per_file {
        out.alerts.extend(f.alerts);
        out.errors.extend(f.errors);
        out.events += f.events;
    }
    out
}

/// Read and match one file.
pub fn scan_file(rules: &RuleSet, path: &Path) -> ScanOutcome {
    let mut out = ScanOutcome::default();
    for item in read_events(path) {
        match item {
            Ok(event) => {
                out.events += 1;
                out.alerts.extend(match_event(rules, &event));
            }
            Err(e) => out.errors.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load_rules_from_strs;
    use serde_json::json;
    use std::sync::Arc;

    fn rules() -> RuleSet {
        let docs = vec![
            (
                PathBuf::from("rules/whoami.yml"),
                "title: Whoami\nid: aaaaaaaa-0000-0000-0000-000000000001\nlevel: high\ntags: [attack.discovery, attack.t1033]\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\n".to_string(),
            ),
            (
                PathBuf::from("rules/linux.yml"),
                "title: Linux whoami\nid: aaaaaaaa-0000-0000-0000-000000000002\nlevel: low\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: 'whoami.exe'\n    condition: selection\n".to_string(),
            ),
            (
                PathBuf::from("rules/zeek.yml"),
                "title: Zeek negation\nid: aaaaaaaa-0000-0000-0000-000000000003\nlogsource:\n    product: zeek\n    service: rdp\ndetection:\n    selection:\n        id.orig_h|cidr: '10.0.0.0/8'\n    condition: not selection\n".to_string(),
            ),
            (
                PathBuf::from("rules/sql.yml"),
                "title: SQL keyword\nid: aaaaaaaa-0000-0000-0000-000000000004\nlogsource:\n    category: database\ndetection:\n    keywords:\n        - 'whoami'\n    condition: keywords\n".to_string(),
            ),
        ];
        let (set, errors) = load_rules_from_strs(&docs);
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    fn sysmon_event(image: &str) -> Event {
        Event::from_json(
            Arc::new(PathBuf::from("log.json")),
            7,
            json!({"Event": {"System": {"EventID": 1, "EventRecordID": 7,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00Z"}}},
                "EventData": {"Image": image}}}),
        )
    }

    #[test]
    fn alert_carries_rule_and_event() {
        let set = rules();
        let alerts = match_events(
            &set,
            vec![
                sysmon_event("C:\\Windows\\System32\\whoami.exe"),
                sysmon_event("C:\\Windows\\System32\\notepad.exe"),
            ],
        );
        // The Linux rule is not run on a Windows event even though its pattern matches,
        // nor the Zeek `not selection` rule that any foreign event would satisfy, nor the
        // database keyword rule: a Windows event log is not a database log.
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            a.rule_id.as_deref(),
            Some("aaaaaaaa-0000-0000-0000-000000000001")
        );
        assert_eq!(a.title, "Whoami");
        assert_eq!(a.level, Some(vigil_core::Severity::High));
        assert_eq!(a.techniques(), vec!["T1033"]);
        assert_eq!(a.rule_path.as_deref(), Some(Path::new("rules/whoami.yml")));
        assert_eq!(a.source, PathBuf::from("log.json"));
        assert_eq!(a.record, 7);
        assert_eq!(a.time.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(a.event["Image"], json!("C:\\Windows\\System32\\whoami.exe"));
        assert!(a.matched.iter().any(|m| m.field == "Image"));
    }

    #[test]
    fn matched_fields_come_in_the_same_order_every_time() {
        // Each rule's detections sit in a map of its own, with its own iteration order.
        let docs: Vec<(PathBuf, String)> = (0..8)
            .map(|n| {
                (
                    PathBuf::from(format!("rules/r{n}.yml")),
                    format!("title: R{n}\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel_a:\n        Image|endswith: '.exe'\n    sel_b:\n        CommandLine|contains: 'run'\n    sel_c:\n        User|contains: 'admin'\n    sel_d:\n        ParentImage|contains: 'explorer'\n    condition: all of sel_*\n"),
                )
            })
            .collect();
        let (set, errors) = load_rules_from_strs(&docs);
        assert!(errors.is_empty(), "{errors:?}");
        let mut event = sysmon_event("C:\\x.exe");
        event.fields.insert("CommandLine", json!("x run"));
        event.fields.insert("User", json!("admin"));
        event
            .fields
            .insert("ParentImage", json!("C:\\explorer.exe"));
        let alerts = match_events(&set, vec![event]);
        assert_eq!(alerts.len(), 8);
        for a in &alerts {
            let fields: Vec<&str> = a.matched.iter().map(|m| m.field.as_str()).collect();
            assert_eq!(
                fields,
                ["CommandLine", "Image", "ParentImage", "User"],
                "{}",
                a.title
            );
        }
    }

    #[test]
    fn event_of_unknown_product_meets_every_rule() {
        let set = rules();
        let plain = Event::from_json(
            Arc::new(PathBuf::from("plain.jsonl")),
            3,
            json!({"Image": "/usr/bin/whoami.exe", "message": "whoami"}),
        );
        let mut titles: Vec<String> = match_event(&set, &plain)
            .into_iter()
            .map(|a| a.title)
            .collect();
        titles.sort();
        // Without a Channel nothing says what log this is, so no rule is ruled out, as
        // with rsigma itself. The Windows rule needs `\whoami.exe`.
        assert_eq!(titles, vec!["Linux whoami", "SQL keyword", "Zeek negation"]);
    }
}
