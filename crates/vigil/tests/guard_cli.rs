//! `vigil guard` end to end: the built binary on real EVTX files, JSON lines, standard input
//! streams, output formats, filters, response playbooks and exit codes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vigil")
}

fn shared() -> PathBuf {
    vigil_testdata::root()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The rule cache of these tests: under the build's scratch folder, not the user's.
fn test_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("vigil-cache")
}

fn vigil(args: &[&str]) -> Run {
    vigil_with_cache(args, &test_cache())
}

fn vigil_with_cache(args: &[&str], cache: &Path) -> Run {
    let out = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env("VIGIL_CACHE_DIR", cache)
        .output()
        .expect("run vigil");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const WHOAMI_RULE: &str = r#"title: Whoami Execution
id: 11111111-2222-4333-8444-555555555555
status: test
level: high
tags:
    - attack.discovery
    - attack.t1033
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
"#;

const ENCODED_RULE: &str = r#"title: Encoded PowerShell
id: 66666666-2222-4333-8444-555555555555
status: test
level: medium
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|contains|windash: ' -enc '
    condition: selection
"#;

fn sysmon_line(record: u64, image: &str, cmd: &str, time: &str) -> String {
    serde_json::json!({"Event": {
        "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                   "Computer": "ws1", "EventRecordID": record,
                   "TimeCreated": {"#attributes": {"SystemTime": time}}},
        "EventData": {"Image": image, "CommandLine": cmd}}})
    .to_string()
}

/// The lines a child writes to `stdout`, as they come, on a channel.
fn lines_of(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("whoami.yml"), WHOAMI_RULE).expect("write rule");
    std::fs::write(dir.path().join("encoded.yml"), ENCODED_RULE).expect("write rule");
    dir
}

fn events_file(dir: &Path) -> PathBuf {
    let lines = [
        sysmon_line(
            3,
            "C:\\Windows\\System32\\whoami.exe",
            "whoami /all",
            "2026-11-27T10:00:03Z",
        ),
        sysmon_line(
            1,
            "C:\\Windows\\notepad.exe",
            "notepad",
            "2026-11-27T10:00:01Z",
        ),
        sysmon_line(
            2,
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "powershell /enc SQBFAFgA",
            "2026-11-27T10:00:02Z",
        ),
    ];
    let p = dir.join("events.jsonl");
    std::fs::write(&p, lines.join("\n") + "\nnot json at all\n").expect("write events");
    p
}

#[test]
fn real_evtx_files_give_alerts_with_the_matched_event() {
    let file =
        shared().join("evtx-attack-samples/Credential Access/4794_DSRM_password_change_t1098.evtx");
    if !file.exists() {
        eprintln!("skipped: {} not present", file.display());
        return;
    }
    let run = vigil(&["guard", file.to_str().expect("utf-8"), "--format", "jsonl"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let alerts: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let dsrm = alerts
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.contains("DSRM")))
        .unwrap_or_else(|| panic!("no DSRM alert in {alerts:#?}"));
    assert_eq!(dsrm["level"], "high");
    assert!(dsrm["rule_id"].is_string());
    assert!(dsrm["tags"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(dsrm["record"].as_u64().is_some_and(|r| r > 0));
    assert!(dsrm["time"].as_str().is_some_and(|t| t.starts_with("20")));
    assert!(
        dsrm["source"]
            .as_str()
            .is_some_and(|s| s.ends_with(".evtx"))
    );
    assert_eq!(dsrm["event"]["EventID"].to_string(), "4794");
}

#[test]
fn a_folder_of_evtx_files_is_scanned_with_a_summary() {
    let dir = shared().join("evtx-attack-samples/Lateral Movement");
    if !dir.exists() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let run = vigil(&["guard", dir.to_str().expect("utf-8"), "--min-level", "high"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.starts_with("Timestamp"), "{}", run.stdout);
    assert!(run.stderr.contains("by level:"), "{}", run.stderr);
    assert!(run.stderr.contains("ATT&CK techniques:"), "{}", run.stderr);
    // The timeline is sorted by event time.
    let times: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(
        !run.stdout.contains(" medium "),
        "--min-level high keeps medium out"
    );
}

#[test]
fn jsonl_input_in_every_format() {
    let rules = rules_dir();
    let data = tempfile::tempdir().expect("tempdir");
    let events = events_file(data.path());
    let r = rules.path().to_str().expect("utf-8");
    let e = events.to_str().expect("utf-8");

    let table = vigil(&["guard", e, "--rules", r, "--no-summary"]);
    assert_eq!(table.code, 1, "{}", table.stderr);
    let rows: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{}", table.stdout);
    // Sorted by event time, not by line: line 3 (10:00:02) before line 1 (10:00:03).
    assert!(
        rows[1].starts_with("2026-11-27T10:00:02Z     medium"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("Encoded PowerShell"), "{}", rows[1]);
    assert!(rows[1].ends_with("events.jsonl:3"), "{}", rows[1]);
    assert!(rows[2].contains("Whoami Execution"), "{}", rows[2]);
    assert!(rows[2].ends_with("events.jsonl:1"), "{}", rows[2]);
    // The bad line is reported with its line number, and the run went on.
    assert!(
        table.stderr.contains("events.jsonl record 4"),
        "{}",
        table.stderr
    );

    let csv = vigil(&["guard", e, "--rules", r, "--format", "csv"]);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("Timestamp,Level,RuleId,Rule,Computer,Channel,EventID,Source,Record,Tags,Matched")
    );
    let first = lines.next().expect("a row");
    assert!(
        first.starts_with("2026-11-27T10:00:02Z,medium,66666666-"),
        "{first}"
    );
    assert!(
        first.contains(",ws1,Microsoft-Windows-Sysmon/Operational,1,"),
        "{first}"
    );

    let jsonl = vigil(&[
        "guard",
        e,
        "--rules",
        r,
        "--format",
        "jsonl",
        "--min-level",
        "high",
    ]);
    let alerts: Vec<serde_json::Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["title"], "Whoami Execution");
    assert_eq!(alerts[0]["record"], 1, "JSON lines are numbered by line");
    assert_eq!(alerts[0]["tags"][1], "attack.t1033");
    assert_eq!(alerts[0]["event"]["CommandLine"], "whoami /all");
}

#[test]
fn filters_and_exit_codes() {
    let rules = rules_dir();
    let data = tempfile::tempdir().expect("tempdir");
    let events = events_file(data.path());
    let r = rules.path().to_str().expect("utf-8");
    let e = events.to_str().expect("utf-8");

    let none = vigil(&["guard", e, "--rules", r, "--min-level", "critical"]);
    assert_eq!(
        none.code, 0,
        "nothing at or above critical: {}",
        none.stdout
    );

    let only = vigil(&[
        "guard",
        e,
        "--rules",
        r,
        "--include-rule",
        "whoami",
        "--format",
        "jsonl",
    ]);
    assert_eq!(only.stdout.lines().count(), 1, "{}", only.stdout);
    let without = vigil(&[
        "guard",
        e,
        "--rules",
        r,
        "--exclude-rule",
        "WHOAMI",
        "--format",
        "jsonl",
    ]);
    assert_eq!(without.stdout.lines().count(), 1, "{}", without.stdout);
    assert!(without.stdout.contains("Encoded PowerShell"));
    let window = vigil(&[
        "guard",
        e,
        "--rules",
        r,
        "--format",
        "jsonl",
        "--from",
        "2026-11-27T10:00:03",
        "--to",
        "2026-11-28",
    ]);
    assert_eq!(window.stdout.lines().count(), 1, "{}", window.stdout);

    let missing = vigil(&["guard", e, "--rules", "/no/such/rules"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/no/such/rules"),
        "{}",
        missing.stderr
    );
    let no_input = vigil(&["guard", "/no/such/log.evtx", "--rules", r]);
    assert_eq!(no_input.code, 2, "{}", no_input.stderr);
}

#[test]
fn a_broken_rule_is_listed_and_the_rest_still_run() {
    let rules = rules_dir();
    std::fs::write(rules.path().join("broken.yml"), "title: [unclosed\n").expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    let events = events_file(data.path());
    let run = vigil(&[
        "guard",
        events.to_str().expect("utf-8"),
        "--rules",
        rules.path().to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(run.stderr.contains("did not load"), "{}", run.stderr);
}

#[test]
fn stdin_alerts_stream_out_before_eof_and_a_burst_loses_nothing() {
    let rules = rules_dir();
    let mut child = Command::new(bin())
        .env("VIGIL_CACHE_DIR", test_cache())
        .args(["guard", "-", "--format", "jsonl", "--stats", "--rules"])
        .arg(rules.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vigil");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let rx = lines_of(stdout);
    // One matching event, stdin still open: its alert must arrive.
    writeln!(
        stdin,
        "{}",
        sysmon_line(1, "C:\\x\\whoami.exe", "whoami", "2026-11-27T10:00:00Z")
    )
    .expect("write");
    stdin.flush().expect("flush");
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("an alert before end of input");
    assert!(first.contains("Whoami Execution"), "{first}");

    // A burst: every event is processed.
    let start = Instant::now();
    for i in 0..2000u64 {
        let img = if i % 100 == 0 {
            "C:\\x\\whoami.exe"
        } else {
            "C:\\x\\calc.exe"
        };
        writeln!(
            stdin,
            "{}",
            sysmon_line(i + 2, img, "x", "2026-11-27T10:00:01Z")
        )
        .expect("write");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let mut rest = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(5)) {
        rest.push(l);
    }
    assert_eq!(rest.len(), 20, "20 of the burst match");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(" 2001 events"),
        "events in == events processed: {stderr}"
    );
    assert!(
        stderr.contains("events per CPU-second after rule loading"),
        "{stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(120));
}

#[test]
fn playbooks_run_dry_by_default_and_write_the_audit_log() {
    let rules = rules_dir();
    let data = tempfile::tempdir().expect("tempdir");
    let events = events_file(data.path());
    let block = data.path().join("block.txt");
    let audit = data.path().join("audit.jsonl");
    let pb = data.path().join("pb.toml");
    std::fs::write(
        &pb,
        format!(
            "[[playbook]]\nname = \"block-host\"\nmatch = {{ min_level = \"high\" }}\n[[playbook.actions]]\ntype = \"blocklist\"\npath = {:?}\nvalue = \"{{event.Computer}}\"\n",
            block.display().to_string()
        ),
    )
    .expect("write playbook");
    let args = |respond: bool| {
        let mut v = vec![
            "guard".to_string(),
            events.display().to_string(),
            "--rules".into(),
            rules.path().display().to_string(),
            "--playbooks".into(),
            pb.display().to_string(),
            "--audit-log".into(),
            audit.display().to_string(),
        ];
        if respond {
            v.push("--respond".into());
        }
        v
    };
    let dry: Vec<String> = args(false);
    let run = vigil(&dry.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!block.exists(), "dry run must not act");
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_eq!(log.lines().count(), 1);
    assert!(log.contains("\"dry_run\""), "{log}");

    let live: Vec<String> = args(true);
    vigil(&live.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read_to_string(&block).expect("block list"),
        "ws1\n"
    );
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_eq!(log.lines().count(), 2, "append-only: {log}");
    assert!(
        log.lines().nth(1).is_some_and(|l| l.contains("\"done\"")),
        "{log}"
    );
}

const RECON_CORRELATION: &str = r#"title: Whoami then encoded PowerShell
id: 77777777-2222-4333-8444-555555555555
level: critical
tags:
    - attack.execution
correlation:
    type: temporal_ordered
    rules:
        - 11111111-2222-4333-8444-555555555555
        - 66666666-2222-4333-8444-555555555555
    group-by:
        - Computer
    timespan: 2m
"#;

#[test]
fn correlations_fire_in_files_and_streams_and_fold_their_base_alerts() {
    let rules = rules_dir();
    std::fs::write(rules.path().join("recon.yml"), RECON_CORRELATION).expect("write rule");
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = [
        sysmon_line(1, "C:\\x\\whoami.exe", "whoami", "2026-11-27T10:00:00Z"),
        sysmon_line(2, "C:\\x\\notepad.exe", "notepad", "2026-11-27T10:00:10Z"),
        sysmon_line(
            3,
            "C:\\x\\powershell.exe",
            "powershell -enc AAAA",
            "2026-11-27T10:00:30Z",
        ),
    ];
    let file = dir.path().join("events.jsonl");
    // Written newest first: the batch replay orders by event time.
    std::fs::write(&file, format!("{}\n{}\n{}\n", lines[2], lines[1], lines[0])).expect("write");
    let run = vigil(&[
        "guard",
        "--format",
        "jsonl",
        "--rules",
        rules.path().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let alerts: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    let titles: Vec<&str> = alerts
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    // `generate` unset: the two base rules only feed the correlation.
    assert_eq!(
        titles,
        vec!["Whoami then encoded PowerShell"],
        "{}",
        run.stdout
    );
    let a = &alerts[0];
    assert_eq!(a["level"], "critical");
    // The event that completed it: the PowerShell one, on line 1 of the file.
    assert_eq!(a["record"], 1);
    assert_eq!(a["event"]["Computer"], "ws1");
    assert_eq!(a["event"]["correlation"]["type"], "temporal_ordered");
    assert_eq!(
        a["event"]["correlation"]["events"].as_array().map(Vec::len),
        Some(2)
    );

    // The same events on standard input, in time order: the same correlation, as the
    // third event arrives.
    let mut child = Command::new(bin())
        .env("VIGIL_CACHE_DIR", test_cache())
        .args(["guard", "-", "--format", "jsonl", "--rules"])
        .arg(rules.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn vigil");
    let mut stdin = child.stdin.take().expect("stdin");
    for l in &lines {
        writeln!(stdin, "{l}").expect("write");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("Whoami then encoded PowerShell"),
        "{stdout}"
    );
}

#[test]
fn the_rule_cache_is_used_on_the_next_run_and_gives_the_same_alerts() {
    let rules = rules_dir();
    let logs = tempfile::tempdir().expect("tempdir");
    let events = events_file(logs.path());
    let cache = tempfile::tempdir().expect("tempdir");
    let args = [
        "guard",
        events.to_str().unwrap(),
        "--format",
        "jsonl",
        "--stats",
        "--rules",
        rules.path().to_str().unwrap(),
    ];
    let first = vigil_with_cache(&args, cache.path());
    let second = vigil_with_cache(&args, cache.path());
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first.stderr.contains("(0 of 2 files from the rule cache"),
        "{}",
        first.stderr
    );
    assert!(
        second.stderr.contains("(2 of 2 files from the rule cache"),
        "{}",
        second.stderr
    );
    assert!(!first.stdout.is_empty());
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second.code, first.code);

    // --no-cache reads and writes no cache.
    let unused = tempfile::tempdir().expect("tempdir");
    let mut uncached = args.to_vec();
    uncached.push("--no-cache");
    let run = vigil_with_cache(&uncached, unused.path());
    assert!(
        run.stderr.contains("(0 of 2 files from the rule cache"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, first.stdout);
    assert_eq!(std::fs::read_dir(unused.path()).unwrap().count(), 0);
}

/// A rule at `level` that fires on every Sysmon process creation.
fn any_process_rule(level: &str, n: u32) -> String {
    format!(
        "title: Any Process {level}\nid: 77777777-2222-4333-8444-55555555555{n}\nstatus: test\nlevel: {level}\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '.exe'\n    condition: selection\n"
    )
}

#[test]
fn every_level_is_loaded_and_the_default_shown_depends_on_the_view() {
    let rules = rules_dir();
    std::fs::write(rules.path().join("low.yml"), any_process_rule("low", 1)).unwrap();
    std::fs::write(
        rules.path().join("info.yml"),
        any_process_rule("informational", 2),
    )
    .unwrap();
    let data = tempfile::tempdir().expect("tempdir");
    let events = events_file(data.path());
    let (r, e) = (rules.path().to_str().unwrap(), events.to_str().unwrap());
    let titles = |args: &[&str]| -> Vec<String> {
        let run = vigil(&[&["guard", e, "--rules", r, "--format", "jsonl"], args].concat());
        let mut t: Vec<String> = run
            .stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["title"].as_str().unwrap().to_string()
            })
            .collect();
        t.sort();
        t.dedup();
        t
    };
    // JSON lines: low and up by default; informational only when asked for.
    assert_eq!(
        titles(&[]),
        ["Any Process low", "Encoded PowerShell", "Whoami Execution"]
    );
    assert_eq!(titles(&["--min-level", "info"]).len(), 4);
    // The table: medium and up by default.
    let table = vigil(&["guard", e, "--rules", r]);
    assert!(
        table.stdout.contains("Whoami Execution"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("Encoded PowerShell"));
    assert!(!table.stdout.contains("Any Process"), "{}", table.stdout);
    let table = vigil(&["guard", e, "--rules", r, "--min-level", "low"]);
    assert!(table.stdout.contains("Any Process low"));
}

/// The titles of the alerts `vigil guard` gives on a fixture of Linux logs, with
/// SigmaHQ's Linux rules.
fn linux_titles(file: &str) -> Option<Vec<String>> {
    let rules = shared().join("sigma/rules/linux");
    if !rules.is_dir() {
        eprintln!("note: {} missing; test skipped", rules.display());
        return None;
    }
    let input = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/linux")
        .join(file);
    let run = vigil(&[
        "guard",
        input.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "jsonl",
        "--min-level",
        "info",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
    let mut titles: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            let a: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(a["time"].is_string(), "every Linux alert has a time: {a}");
            a["title"].as_str().unwrap().to_string()
        })
        .collect();
    titles.sort();
    Some(titles)
}

#[test]
fn syslog_auditd_and_sysmon_for_linux_fire_the_sigmahq_linux_rules_of_their_logsource() {
    let Some(syslog) = linux_titles("auth.log") else {
        return;
    };
    assert_eq!(
        syslog,
        [
            "Modifying Crontab",
            "Privileged User Has Been Created",
            "Suspicious OpenSSH Daemon Error"
        ],
        "syslog"
    );
    let audit = linux_titles("audit.log").unwrap();
    assert_eq!(audit, ["Audio Capture", "Audio Capture"], "auditd");
    let sysmon = linux_titles("sysmon-linux.jsonl").unwrap();
    // Two process_creation rules and a keyword rule of the whole product; the `ls` line
    // fires nothing.
    assert_eq!(
        sysmon,
        [
            "File Deletion",
            "History File Deletion",
            "Linux Command History Tampering"
        ],
        "Sysmon for Linux"
    );
    // Windows rules never see Linux events, nor Linux rules Windows ones.
    let windows_rules = rules_dir();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/linux");
    let run = vigil(&[
        "guard",
        input.to_str().unwrap(),
        "--rules",
        windows_rules.path().to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The alerts of a JSON-lines run, without their `source` (the file's name, or `-` for
/// standard input), in output order.
fn alerts_without_source(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| {
            let mut a: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            a.as_object_mut().expect("an object").remove("source");
            a
        })
        .collect()
}

#[test]
fn a_file_standard_input_and_follow_give_the_same_alerts() {
    let rules = rules_dir();
    let r = rules.path().to_str().expect("utf-8");
    let data = tempfile::tempdir().expect("tempdir");
    let event = |record: u64, image: &str, cmd: &str, second: u32| -> serde_json::Value {
        let time = format!("2026-11-27T10:00:0{second}Z");
        serde_json::from_str(&sysmon_line(record, image, cmd, &time)).expect("JSON")
    };
    let whoami = "C:\\Windows\\System32\\whoami.exe";
    let powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
    // In time order, so that the file's timeline and the streams' arrival order agree.
    let lines = [
        event(1, whoami, "whoami /all", 1).to_string(),
        // One line holding an array: one event per member.
        serde_json::Value::Array(vec![
            event(2, whoami, "whoami", 2),
            event(3, "C:\\Windows\\notepad.exe", "notepad", 3),
            event(4, powershell, "powershell -enc SQBFAFgA", 4),
        ])
        .to_string(),
        "{not json at all".to_string(),
        String::new(),
        event(5, powershell, "powershell /enc AAAA", 5).to_string(),
    ];
    let text = lines.join("\n") + "\n";
    let file = data.path().join("events.jsonl");
    std::fs::write(&file, &text).expect("write events");
    let f = file.to_str().expect("utf-8");

    let whole = vigil(&["guard", f, "--rules", r, "--format", "jsonl"]);
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    let expected = alerts_without_source(&whole.stdout);
    let titles: Vec<&str> = expected
        .iter()
        .map(|a| a["title"].as_str().expect("title"))
        .collect();
    assert_eq!(
        titles,
        [
            "Whoami Execution",
            "Whoami Execution",
            "Encoded PowerShell",
            "Encoded PowerShell"
        ],
        "{}",
        whole.stdout
    );
    let records: Vec<u64> = expected
        .iter()
        .map(|a| a["record"].as_u64().expect("record"))
        .collect();
    assert_eq!(records, [1, 2, 2, 5], "numbered by line");
    assert!(
        whole.stderr.contains("record 3: invalid JSON"),
        "{}",
        whole.stderr
    );

    let mut child = Command::new(bin())
        .env("VIGIL_CACHE_DIR", test_cache())
        .args(["guard", "-", "--format", "jsonl", "--rules", r])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vigil");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).expect("write");
    drop(stdin);
    let piped = child.wait_with_output().expect("wait");
    let piped_err = String::from_utf8_lossy(&piped.stderr);
    assert_eq!(piped.status.code(), Some(1), "{piped_err}");
    assert_eq!(
        alerts_without_source(&String::from_utf8_lossy(&piped.stdout)),
        expected,
        "standard input"
    );
    assert!(
        piped_err.contains("- record 3: invalid JSON"),
        "{piped_err}"
    );

    let mut child = Command::new(bin())
        .env("VIGIL_CACHE_DIR", test_cache())
        .args(["guard", f, "--follow", "--format", "jsonl", "--rules", r])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vigil");
    let stdout = child.stdout.take().expect("stdout");
    let rx = lines_of(stdout);
    let mut followed = Vec::new();
    while followed.len() < expected.len() {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => followed.push(line),
            Err(_) => break,
        }
    }
    // Nothing more comes: the follower only waits for new lines.
    let extra = rx.recv_timeout(Duration::from_millis(500)).ok();
    child.kill().expect("stop the follower");
    child.wait().expect("wait");
    assert_eq!(extra, None, "more alerts than the file's");
    assert_eq!(
        alerts_without_source(&(followed.join("\n") + "\n")),
        expected,
        "--follow"
    );
}
