//! End to end over real logs read in place from `../shared/data`: SigmaHQ rules fire on
//! their regression logs in EVTX and JSON form, and truncated or garbled copies of a real
//! EVTX file give error items naming the file, never a panic. Without the data the tests
//! print a note and pass.

mod common;

use common::data;

use std::path::{Path, PathBuf};

use vigil_guard::{Event, ReadError, load_rules, match_event, read_evtx, read_json};

fn split(items: impl Iterator<Item = Result<Event, ReadError>>) -> (Vec<Event>, Vec<ReadError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        match item {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e),
        }
    }
    (events, errors)
}

/// (rule file, regression folder, rule id): one Sysmon, one Security, one TaskScheduler.
const CASES: &[(&str, &str, &str)] = &[
    (
        "rules-threat-hunting/windows/image_load/image_load_win_werfaultsecure_dbgcore_dbghelp_load.yml",
        "regression_data/rules-threat-hunting/windows/image_load/image_load_win_werfaultsecure_dbgcore_dbghelp_load",
        "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b",
    ),
    (
        "rules/windows/builtin/security/win_security_susp_scheduled_task_delete_or_disable.yml",
        "regression_data/rules/windows/builtin/security/win_security_susp_scheduled_task_delete_or_disable",
        "7595ba94-cf3b-4471-aa03-4f6baa9e5fad",
    ),
    (
        "rules/windows/builtin/taskscheduler/win_taskscheduler_susp_schtasks_delete_or_disable.yml",
        "regression_data/rules/windows/builtin/taskscheduler/win_taskscheduler_susp_schtasks_delete_or_disable",
        "9e3cb244-bdb8-4632-8c90-6079c8f4f16d",
    ),
];

#[test]
fn sigmahq_rules_fire_on_their_regression_logs_in_both_forms() {
    let Some(sigma) = data("sigma") else { return };
    let rule_files: Vec<PathBuf> = CASES.iter().map(|(r, _, _)| sigma.join(r)).collect();
    let (rules, errors) = load_rules(&rule_files);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules.len(), CASES.len());
    for (_, dir, id) in CASES {
        let evtx = sigma.join(dir).join(format!("{id}.evtx"));
        let json = evtx.with_extension("json");
        for (form, (events, read_errors)) in [
            ("evtx", split(read_evtx(&evtx))),
            ("json", split(read_json(&json))),
        ] {
            assert!(read_errors.is_empty(), "{form} {id}: {read_errors:?}");
            let fired: Vec<String> = events
                .iter()
                .flat_map(|e| match_event(&rules, e))
                .filter_map(|a| a.rule_id)
                .collect();
            // Only the rule the log was written for fires: the channel conditions keep
            // the Security rule off the TaskScheduler log and the other way round.
            assert!(
                !fired.is_empty() && fired.iter().all(|f| f == id),
                "{form} {id}: fired {fired:?}"
            );
        }
    }
}

#[test]
fn evtx_and_json_forms_flatten_to_the_same_fields() {
    let Some(sigma) = data("sigma") else { return };
    let (_, dir, id) = CASES[0];
    let evtx = sigma.join(dir).join(format!("{id}.evtx"));
    let (from_evtx, _) = split(read_evtx(&evtx));
    let (from_json, _) = split(read_json(&evtx.with_extension("json")));
    assert_eq!(from_evtx.len(), from_json.len());
    for (a, b) in from_evtx.iter().zip(&from_json) {
        let (fa, fb) = (&a.fields, &b.fields);
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        // The regression JSON was rendered by another tool: GUIDs upper-case without
        // braces, and the time with one digit less. Everything else is identical.
        for (k, v) in fa.iter() {
            if !k.ends_with("Guid") && k != "TimeCreated_SystemTime" {
                assert_eq!(Some(v), fb.get(k), "{k}");
            }
        }
        assert_eq!(
            a.record,
            a.fields
                .get("EventRecordID")
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
        );
    }
}

/// The largest sample, so the cuts fall in several chunks.
fn big_sample() -> Option<PathBuf> {
    data("evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx")
}

#[test]
fn truncated_evtx_copies_report_errors_and_keep_what_they_can() {
    let Some(original) = big_sample() else { return };
    let bytes = std::fs::read(&original).expect("read sample");
    let (all, errors) = split(read_evtx(&original));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(all.len() > 100);
    let dir = tempfile::tempdir().expect("tempdir");
    for cut in [
        10,
        4096,
        4096 + 700,
        4096 + 65536 + 30_000,
        bytes.len() - 1000,
    ] {
        let path = dir.path().join(format!("cut_{cut}.evtx"));
        std::fs::write(&path, &bytes[..cut]).expect("write");
        let (events, errors) = split(read_evtx(&path));
        assert!(
            !errors.is_empty(),
            "cut at {cut}: a truncated file must be reported"
        );
        assert!(errors.iter().all(|e| e.file == path));
        assert!(events.len() <= all.len(), "cut at {cut}");
        // What was read before the cut is the original's first records.
        for (a, b) in events.iter().zip(&all) {
            assert_eq!(a.record, b.record);
        }
    }
    // A cut in the middle of the second chunk keeps the whole first chunk and the part
    // of the second before the cut.
    let path = dir
        .path()
        .join(format!("cut_{}.evtx", 4096 + 65536 + 30_000));
    let (events, _) = split(read_evtx(&path));
    let path = dir.path().join(format!("cut_{}.evtx", 4096 + 700));
    let (first_only, _) = split(read_evtx(&path));
    assert!(events.len() > first_only.len(), "{} events", events.len());
}

#[test]
fn unused_chunks_at_the_end_are_skipped_and_garbage_is_still_reported() {
    let Some(original) = big_sample() else { return };
    let bytes = std::fs::read(&original).expect("read sample");
    let records = |path: &Path| -> (Vec<u64>, Vec<ReadError>) {
        let (events, errors) = split(read_evtx(path));
        (events.iter().map(|e| e.record).collect(), errors)
    };
    let (want, errors) = records(&original);
    assert!(errors.is_empty(), "{errors:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 3 * 65536];
    let mut garbage = vec![0u8; 65536];
    garbage[1000] = 0x41;
    let write = |name: &str, parts: &[&[u8]]| {
        let path = dir.path().join(name);
        std::fs::write(&path, parts.concat()).expect("write");
        path
    };
    // Unused chunks as Windows leaves them: the same records, nothing to report.
    let (got, errors) = records(&write("padded.evtx", &[&bytes, &zeros]));
    assert_eq!(got, want);
    assert!(errors.is_empty(), "{errors:?}");
    // A chunk that is not all zeros, after the unused ones, is still a bad chunk.
    let (got, errors) = records(&write("garbage.evtx", &[&bytes, &zeros, &garbage]));
    assert_eq!(got, want);
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Unused chunks between used ones: the records of both used parts.
    let first_chunk_end = 4096 + 65536;
    let mut second = bytes[4096..first_chunk_end].to_vec();
    // The copy of the first chunk is a chunk of its own (the same records again).
    second.truncate(65536);
    let (got, errors) = records(&write(
        "gap.evtx",
        &[&bytes[..first_chunk_end], &zeros, &second],
    ));
    let (first, first_errors) = records(&write("first.evtx", &[&bytes[..first_chunk_end]]));
    assert_eq!(got.len(), 2 * first.len());
    // Both are shorter than their header says, and told so.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(first_errors.len(), 1, "{first_errors:?}");
    assert!(errors[0].reason.contains("truncated"), "{errors:?}");
}

#[test]
fn garbled_evtx_never_panics() {
    let Some(original) = big_sample() else { return };
    let bytes = std::fs::read(&original).expect("read sample");
    let dir = tempfile::tempdir().expect("tempdir");
    // A fixed pseudo-random sequence, so a failure reproduces.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..12 {
        let mut garbled = bytes.clone();
        let flips = 1 + (next() % 64) as usize;
        for _ in 0..flips {
            let at = 4096 + (next() as usize % (garbled.len() - 4096));
            garbled[at] = next() as u8;
        }
        let path = dir.path().join(format!("garbled_{round}.evtx"));
        std::fs::write(&path, &garbled).expect("write");
        let (events, errors) = split(read_evtx(&path));
        assert!(errors.iter().all(|e| e.file == path));
        assert!(events.len() + errors.len() > 0, "round {round}");
    }
}
