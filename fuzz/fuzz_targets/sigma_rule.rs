//! Sigma rules are input too (a rule pack may come from anywhere): the bytes, decoded as
//! lossy UTF-8, are one rule file loaded through `vigil_guard::load_rules_from_strs`
//! (parse, pipeline, compile, routing), and whatever loaded is matched against a few
//! fixed events (a Sysmon process creation, a Security logon, a System event, plain
//! JSON), on a 2 MiB thread like the CLI's workers. Any panic, stack overflow, hang or
//! memory blow-up is a bug.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use vigil_guard::{Event, load_rules_from_strs, match_event};

fn events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let src = Arc::new(PathBuf::from("fuzz.json"));
        vec![
            Event::from_json(
                Arc::clone(&src),
                1,
                json!({"Event": {"System": {"EventID": 1, "EventRecordID": 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                    "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00Z"}}},
                    "EventData": {
                        "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                        "OriginalFileName": "PowerShell.EXE",
                        "CommandLine": "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA http://10.1.2.3/a",
                        "ParentImage": "C:\\Windows\\explorer.exe",
                        "User": "CORP\\alice",
                        "ProcessId": 4242,
                        "Hashes": "MD5=0123,SHA256=abcd"}}}),
            ),
            Event::from_json(
                Arc::clone(&src),
                2,
                json!({"Event": {"System": {"EventID": 4624, "EventRecordID": 2,
                    "Channel": "Security",
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}},
                    "EventData": {"LogonType": 10, "TargetUserName": "HOST$",
                        "SubjectUserName": "HOST$", "IpAddress": "192.168.1.20",
                        "IpPort": "49152"}}}),
            ),
            Event::from_json(
                Arc::clone(&src),
                3,
                json!({"Event": {"System": {"EventID": 7045, "Channel": "System"},
                    "EventData": {"Data": {"#text": ["svc", "C:\\mimikatz.exe", null]}}}}),
            ),
            Event::from_json(
                src,
                4,
                json!({"message": "whoami /all", "a": {"b": "x\ny"}, "n": 3.5,
                    "list": [1, "two", {"k": null}], "flag": true, "empty": ""}),
            ),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    common::on_worker_stack(|| {
        let (rules, errors) = load_rules_from_strs(&[(PathBuf::from("fuzz.yml"), text)]);
        for e in &errors {
            std::hint::black_box(e.to_string());
        }
        for event in events() {
            for alert in match_event(&rules, event) {
                std::hint::black_box((&alert.title, &alert.matched));
            }
        }
    });
});
