//! Sigma correlations end to end: rules loaded from YAML, events matched, detections
//! correlated in event-time order.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use vigil_guard::{Alert, Event, LoadErrorKind, RuleSet, load_rules_from_strs, match_events};

const FAILED_LOGON: &str = "\
title: Failed logon
id: 0d6a2c1e-0000-4000-8000-000000000001
name: failed_logon
level: low
logsource: {product: windows, service: security}
detection:
  selection:
    EventID: 4625
  condition: selection
";

const BRUTE_FORCE: &str = "\
title: Brute force on one account
id: 0d6a2c1e-0000-4000-8000-0000000000b1
level: high
tags: [attack.credential-access, attack.t1110.001]
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    gte: 3
";

const SPRAY: &str = "\
title: Password spray from one address
id: 0d6a2c1e-0000-4000-8000-0000000000b2
level: high
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition:
    field: TargetUserName
    gte: 3
";

const RECON: &str = "\
title: Whoami
id: 0d6a2c1e-0000-4000-8000-000000000002
name: whoami
level: low
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
---
title: Net user
id: 0d6a2c1e-0000-4000-8000-000000000003
name: net_user
level: low
logsource: {product: windows, category: process_creation}
detection:
  selection:
    CommandLine|contains: 'net user'
  condition: selection
---
title: Recon burst on one host
id: 0d6a2c1e-0000-4000-8000-0000000000b3
level: medium
correlation:
  type: temporal_ordered
  rules: [whoami, net_user]
  group-by: [Computer]
  timespan: 1m
  generate: true
";

fn load(docs: &[(&str, &str)]) -> RuleSet {
    let docs: Vec<(PathBuf, String)> = docs
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let (set, errors) = load_rules_from_strs(&docs);
    assert!(errors.is_empty(), "{errors:?}");
    set
}

fn logon_failure(record: u64, time: &str, user: &str, ip: &str) -> Event {
    Event::from_json(
        Arc::new(PathBuf::from("security.jsonl")),
        record,
        json!({"Event": {"System": {"EventID": 4625, "Channel": "Security", "Computer": "dc01",
            "TimeCreated": {"#attributes": {"SystemTime": time}}},
            "EventData": {"TargetUserName": user, "IpAddress": ip}}}),
    )
}

fn process(record: u64, time: &str, host: &str, image: &str, cmd: &str) -> Event {
    Event::from_json(
        Arc::new(PathBuf::from("sysmon.jsonl")),
        record,
        json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": host, "TimeCreated": {"#attributes": {"SystemTime": time}}},
            "EventData": {"Image": image, "CommandLine": cmd}}}),
    )
}

fn titles(alerts: &[Alert]) -> Vec<String> {
    alerts.iter().map(|a| a.title.clone()).collect()
}

#[test]
fn event_count_fires_within_the_window_per_group() {
    let rules = load(&[("brute.yml", &format!("{FAILED_LOGON}---\n{BRUTE_FORCE}"))]);
    assert_eq!(rules.correlations().len(), 1);
    let events = vec![
        logon_failure(1, "2024-05-01T10:00:00Z", "admin", "10.0.0.5"),
        logon_failure(2, "2024-05-01T10:01:00Z", "admin", "10.0.0.5"),
        logon_failure(3, "2024-05-01T10:01:30Z", "bob", "10.0.0.5"),
        // Third failure for admin inside 5 minutes: fires.
        logon_failure(4, "2024-05-01T10:02:00Z", "admin", "10.0.0.5"),
        // carol: three failures, but 10 minutes apart.
        logon_failure(5, "2024-05-01T10:00:00Z", "carol", "10.0.0.6"),
        logon_failure(6, "2024-05-01T10:10:00Z", "carol", "10.0.0.6"),
        logon_failure(7, "2024-05-01T10:20:00Z", "carol", "10.0.0.6"),
    ];
    let alerts = match_events(&rules, events);
    assert_eq!(alerts.len(), 7);
    let mut correlator = rules.correlations().correlator();
    let fired = correlator.correlate(&alerts);
    assert_eq!(
        titles(&fired),
        vec!["Brute force on one account"],
        "{fired:?}"
    );
    let a = &fired[0];
    assert_eq!(a.record, 4, "the event that completed the count");
    assert_eq!(a.time.as_deref(), Some("2024-05-01T10:02:00Z"));
    assert_eq!(a.level, Some(vigil_core::Severity::High));
    assert_eq!(a.techniques(), vec!["T1110.001"]);
    assert!(
        a.matched
            .iter()
            .any(|m| m.field == "TargetUserName" && m.value == "admin")
    );
    assert!(
        a.matched
            .iter()
            .any(|m| m.field == "event_count" && m.value == "3")
    );
    assert_eq!(
        a.rule_path.as_deref(),
        Some(std::path::Path::new("brute.yml"))
    );
    let contributing: Vec<u64> = a.event["correlation"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"].as_u64().unwrap())
        .collect();
    assert_eq!(contributing, vec![1, 2, 4]);
    // `generate` is unset (false): the failed-logon alerts only feed the correlation.
    assert!(alerts.iter().all(|a| correlator.is_correlation_only(a)));
    assert!(!correlator.is_correlation_only(a));
}

#[test]
fn batch_order_does_not_matter_time_does() {
    let rules = load(&[("brute.yml", &format!("{FAILED_LOGON}---\n{BRUTE_FORCE}"))]);
    // Two files read in any order: the replay sorts by event time.
    let late = vec![logon_failure(
        9,
        "2024-05-01T10:04:00Z",
        "admin",
        "10.0.0.5",
    )];
    let early = vec![
        logon_failure(1, "2024-05-01T10:00:00Z", "admin", "10.0.0.5"),
        logon_failure(2, "2024-05-01T10:03:00Z", "admin", "10.0.0.5"),
    ];
    let mut alerts = match_events(&rules, late);
    alerts.extend(match_events(&rules, early));
    let fired = rules.correlations().correlator().correlate(&alerts);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].record, 9);

    // The same three failures spread over more than the timespan never fire.
    let spread = vec![
        logon_failure(1, "2024-05-01T10:00:00Z", "admin", "10.0.0.5"),
        logon_failure(2, "2024-05-01T10:03:00Z", "admin", "10.0.0.5"),
        logon_failure(3, "2024-05-01T10:06:00Z", "admin", "10.0.0.5"),
    ];
    let alerts = match_events(&rules, spread);
    assert!(
        rules
            .correlations()
            .correlator()
            .correlate(&alerts)
            .is_empty()
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let rules = load(&[("spray.yml", &format!("{FAILED_LOGON}---\n{SPRAY}"))]);
    let same_user = (1..=5)
        .map(|i| logon_failure(i, &format!("2024-05-01T10:0{i}:00Z"), "admin", "10.0.0.9"))
        .collect::<Vec<_>>();
    let alerts = match_events(&rules, same_user);
    assert!(
        rules
            .correlations()
            .correlator()
            .correlate(&alerts)
            .is_empty(),
        "one user five times is not a spray"
    );
    let users = ["alice", "bob", "carol"]
        .iter()
        .enumerate()
        .map(|(i, u)| {
            logon_failure(
                i as u64 + 1,
                &format!("2024-05-01T10:0{i}:00Z"),
                u,
                "10.0.0.9",
            )
        })
        .collect::<Vec<_>>();
    let alerts = match_events(&rules, users);
    let fired = rules.correlations().correlator().correlate(&alerts);
    assert_eq!(titles(&fired), vec!["Password spray from one address"]);
    assert!(
        fired[0]
            .matched
            .iter()
            .any(|m| m.field == "IpAddress" && m.value == "10.0.0.9")
    );
}

#[test]
fn temporal_ordered_needs_the_order_and_the_same_group() {
    let rules = load(&[("recon.yml", RECON)]);
    let whoami = "C:\\Windows\\System32\\whoami.exe";
    let net = "C:\\Windows\\System32\\net.exe";
    let stream = |events: Vec<Event>| {
        // Fed one event at a time, as a stream is.
        let mut c = rules.correlations().correlator();
        let mut fired = Vec::new();
        for e in events {
            fired.extend(c.observe(&vigil_guard::match_event(&rules, &e)));
        }
        fired
    };
    let in_order = stream(vec![
        process(1, "2024-05-01T10:00:00Z", "ws1", whoami, "whoami /all"),
        process(2, "2024-05-01T10:00:20Z", "ws1", net, "net user /domain"),
    ]);
    assert_eq!(titles(&in_order), vec!["Recon burst on one host"]);
    let reversed = stream(vec![
        process(1, "2024-05-01T10:00:00Z", "ws1", net, "net user /domain"),
        process(2, "2024-05-01T10:00:20Z", "ws1", whoami, "whoami /all"),
    ]);
    assert!(reversed.is_empty(), "{reversed:?}");
    let two_hosts = stream(vec![
        process(1, "2024-05-01T10:00:00Z", "ws1", whoami, "whoami /all"),
        process(2, "2024-05-01T10:00:20Z", "ws2", net, "net user /domain"),
    ]);
    assert!(two_hosts.is_empty(), "{two_hosts:?}");
    // `generate: true`: the base rules' own alerts are shown too.
    let c = rules.correlations().correlator();
    let base = vigil_guard::match_event(
        &rules,
        &process(1, "2024-05-01T10:00:00Z", "ws1", whoami, "whoami"),
    );
    assert_eq!(base.len(), 1);
    assert!(!c.is_correlation_only(&base[0]));
}

#[test]
fn events_without_a_time_are_counted_not_placed() {
    let rules = load(&[("brute.yml", &format!("{FAILED_LOGON}---\n{BRUTE_FORCE}"))]);
    let events: Vec<Event> = (1..=3)
        .map(|i| {
            Event::from_json(
                Arc::new(PathBuf::from("x.jsonl")),
                i,
                json!({"Channel": "Security", "EventID": 4625, "TargetUserName": "admin"}),
            )
        })
        .collect();
    let alerts = match_events(&rules, events);
    assert_eq!(alerts.len(), 3);
    let mut c = rules.correlations().correlator();
    assert!(c.correlate(&alerts).is_empty());
    assert_eq!(c.untimed(), 3);
}

#[test]
fn a_correlation_of_missing_rules_is_a_load_error() {
    let docs = vec![(PathBuf::from("orphan.yml"), BRUTE_FORCE.to_string())];
    let (set, errors) = load_rules_from_strs(&docs);
    assert_eq!(set.stats.correlations, 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, LoadErrorKind::Compile);
    assert!(
        errors[0].reason.contains("failed_logon"),
        "{}",
        errors[0].reason
    );
    let bad = "title: Bad\nid: 0d6a2c1e-0000-4000-8000-0000000000b9\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  timespan: forever\n  condition:\n    gte: 3\n";
    let docs = vec![
        (PathBuf::from("base.yml"), FAILED_LOGON.to_string()),
        (PathBuf::from("bad.yml"), bad.to_string()),
    ];
    let (_, errors) = load_rules_from_strs(&docs);
    assert!(
        errors
            .iter()
            .any(|e| e.path == std::path::Path::new("bad.yml")),
        "{errors:?}"
    );
}
