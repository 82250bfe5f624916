//! Rules and logs as users bring them from other tools: SigmaHQ keyword rules written with
//! `'|all'`, rules written against Winlogbeat/Elastic field names, and events exported from
//! Elasticsearch or OpenSearch.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use vigil_guard::{Event, RuleSet, load_rules, load_rules_from_strs, match_event, read_events};

fn repo_rule(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/sigma")
        .join(rel)
}

fn rules_from(yaml: &str) -> RuleSet {
    let (rules, errors) = load_rules_from_strs(&[(PathBuf::from("r.yml"), yaml.to_string())]);
    assert!(errors.is_empty(), "{errors:?}");
    rules
}

fn event(value: Value) -> Event {
    Event::from_json(Arc::new(PathBuf::from("e.json")), 1, value)
}

fn fired(rules: &RuleSet, event: &Event) -> Vec<String> {
    match_event(rules, event)
        .into_iter()
        .map(|a| a.title.clone())
        .collect()
}

#[test]
fn keyword_rules_with_all_need_every_keyword_anywhere_in_a_value() {
    // SigmaHQ's ProxyShell mailbox-export rule, as it ships.
    let path = repo_rule("windows/builtin/msexchange/win_exchange_proxyshell_mailbox_export.yml");
    let (rules, errors) = load_rules(&[path]);
    assert!(errors.is_empty(), "{errors:?}");
    let exchange = |data: &str| {
        event(
            json!({"Channel": "MSExchange Management", "Provider_Name": "MSExchange CmdletLogs",
            "EventID": 1, "Computer": "ex1", "Data": data}),
        )
    };
    let attack = exchange(
        r#"New-MailboxExportRequest -Mailbox admin@corp.local -FilePath "\\127.0.0.1\C$\inetpub\wwwroot\aspnet_client\shell.aspx""#,
    );
    assert_eq!(fired(&rules, &attack).len(), 1, "every keyword is there");
    // One keyword of the `|all` list missing (` -Mailbox `): no alert.
    let partial = exchange(
        r#"New-MailboxExportRequest -Identity x -FilePath "\\127.0.0.1\C$\inetpub\wwwroot\shell.aspx""#,
    );
    assert!(fired(&rules, &partial).is_empty());
}

#[test]
fn auditd_keyword_rule_with_all_fires_on_its_record() {
    let path = repo_rule("linux/auditd/execve/lnx_auditd_find_cred_in_files.yml");
    let (rules, errors) = load_rules(&[path]);
    assert!(errors.is_empty(), "{errors:?}");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        "type=EXECVE msg=audit(1700000000.123:42): argc=4 a0=\"grep\" a1=\"-r\" a2=\"password\" a3=\"/etc\"\n\
         type=EXECVE msg=audit(1700000001.123:43): argc=3 a0=\"grep\" a1=\"-r\" a2=\"/etc\"\n",
    )
    .unwrap();
    let events: Vec<Event> = read_events(&log).map(|e| e.expect("parses")).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(fired(&rules, &events[0]).len(), 1, "{:?}", events[0]);
    assert!(fired(&rules, &events[1]).is_empty());
}

#[test]
fn rules_in_collector_field_names_fire_on_every_shape() {
    let rules = rules_from(
        "title: whoami through cmd (ECS names)\nid: 5e0c4b8f-5d49-4c8d-9a4e-3f1d6a0b7c21\n\
         logsource: {product: windows, category: process_creation}\n\
         detection:\n  sel:\n    winlog.channel: Microsoft-Windows-Sysmon/Operational\n    \
         winlog.event_data.Image|endswith: '\\whoami.exe'\n    \
         event_data.ParentImage|endswith: '\\cmd.exe'\n  condition: sel\nlevel: medium\n",
    );
    let evtx = event(
        json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "ws1", "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}},
        "EventData": {"Image": "C:\\Windows\\System32\\whoami.exe",
                      "ParentImage": "C:\\Windows\\System32\\cmd.exe"}}}),
    );
    let ecs = event(
        json!({"@timestamp": "2024-05-01T10:00:00Z", "host": {"name": "ws1"},
        "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1",
                   "provider_name": "Microsoft-Windows-Sysmon", "computer_name": "ws1",
                   "event_data": {"Image": "C:\\Windows\\System32\\whoami.exe",
                                  "ParentImage": "C:\\Windows\\System32\\cmd.exe"}}}),
    );
    let other = event(
        json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "ws1"}, "EventData": {"Image": "C:\\Windows\\System32\\whoami.exe",
        "ParentImage": "C:\\Windows\\explorer.exe"}}}),
    );
    assert_eq!(fired(&rules, &evtx).len(), 1);
    assert_eq!(fired(&rules, &ecs).len(), 1);
    assert!(fired(&rules, &other).is_empty());
}

#[test]
fn elasticsearch_exports_are_read_as_the_events_they_hold() {
    let rules = rules_from(
        "title: log cleared\nid: 0c4b5e8f-1d49-4c8d-9a4e-3f1d6a0b7c22\n\
         logsource: {product: windows, service: security}\n\
         detection:\n  sel:\n    EventID: 1102\n    Provider_Name: Microsoft-Windows-Eventlog\n  \
         condition: sel\nlevel: high\n",
    );
    let hit = |id: &str, code: &str| {
        json!({"_index": ".ds-logs-system.security-default", "_id": id, "_score": 1.0,
            "_source": {"@timestamp": "2024-05-01T10:00:00.000Z", "host": {"name": "dc1"},
                "winlog": {"channel": "Security", "event_id": code,
                           "provider_name": "Microsoft-Windows-Eventlog", "computer_name": "dc1"}}})
    };
    let dir = tempfile::tempdir().unwrap();
    // elasticdump: one hit per line.
    let lines = dir.path().join("export.jsonl");
    std::fs::write(
        &lines,
        format!("{}\n{}\n", hit("a", "1102"), hit("b", "4624")),
    )
    .unwrap();
    // A saved search response: the hits under `hits.hits`.
    let response = dir.path().join("search.json");
    let doc = json!({"took": 3, "timed_out": false,
        "hits": {"total": {"value": 2}, "hits": [hit("a", "1102"), hit("b", "4624")]}});
    std::fs::write(&response, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    for file in [&lines, &response] {
        let events: Vec<Event> = read_events(file).map(|e| e.expect("parses")).collect();
        assert_eq!(events.len(), 2, "{}", file.display());
        let alerts = match_event(&rules, &events[0]);
        assert_eq!(alerts.len(), 1, "{}", file.display());
        assert_eq!(
            events[0].get("Computer").map(|c| c.to_value()),
            Some(json!("dc1"))
        );
        assert_eq!(alerts[0].time.as_deref(), Some("2024-05-01T10:00:00.000Z"));
        assert!(match_event(&rules, &events[1]).is_empty());
    }
}
