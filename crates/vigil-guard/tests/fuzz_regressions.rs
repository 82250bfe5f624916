//! No rule, EVTX file or JSON line may make vigil-guard panic, hang or blow up its memory.
//!
//! Inputs found by the fuzz targets in `fuzz/` (`evtx_read`, `json_input`, `sigma_rule`),
//! or written by hand for the shapes the fuzzers are slow to build (deep nesting, huge
//! numbers, modifier expansions), kept so they stay handled. Each input is read (or
//! loaded) to the end and every event is matched against a small rule set, on the test
//! harness's default 2 MiB thread.
//!
//! Minimized fuzzer artifacts live in `tests/fuzz/` and are all replayed by `artifacts`:
//! `evtx-*` (a whole `.evtx` file), `jsonl-*` (JSON lines), `json-*` (a JSON document),
//! `rule-*` (one rule file), each the raw input without the fuzz target's selector byte.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;
use vigil_guard::input::parse_json_document;
use vigil_guard::{Event, RuleSet, load_rules_from_strs, match_event, read_evtx, read_jsonl_from};

/// Far above what any of these inputs takes (milliseconds in a debug build): a hang
/// guard, not a benchmark.
const HANG: Duration = Duration::from_secs(60);

/// A few rules over the modifiers that rewrite values or compile to regexes.
fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |id: u32, logsource: &str, detection: &str| {
            format!(
                "title: Rule {id}\nid: 0f0f0f0f-0000-4000-8000-{id:012}\nlevel: high\n\
                 logsource: {logsource}\ndetection:\n{detection}"
            )
        };
        let docs = [
            rule(
                1,
                "{product: windows, category: process_creation}",
                "  sel:\n    CommandLine|windash|contains: ' -enc '\n    Image|endswith: '\\cmd.exe'\n  \
                 b64:\n    CommandLine|base64offset|contains: 'IEX ('\n  \
                 re:\n    ParentImage|re|i: '^c:\\\\windows\\\\.*'\n  condition: 1 of them\n",
            ),
            rule(
                2,
                "{product: windows, service: security}",
                "  sel:\n    EventID: [4624, 4688]\n    IpAddress|cidr: ['10.0.0.0/8', 'fe80::/10']\n  \
                 cmp:\n    LogonType|gte: 3\n  condition: sel or cmp\n",
            ),
            rule(
                3,
                "{category: fuzz}",
                "  keywords:\n    - 'mimikatz'\n    - 7045\n  \
                 exists:\n    a.b|exists: true\n  condition: keywords or exists\n",
            ),
        ];
        let docs: Vec<(PathBuf, String)> = docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| (PathBuf::from(format!("rule{i}.yml")), d))
            .collect();
        let (set, errors) = load_rules_from_strs(&docs);
        assert!(errors.is_empty(), "{errors:?}");
        set
    })
}

fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < HANG, "{name}: took {took:?}");
    out
}

/// Read an EVTX file given as bytes to the end and match every event.
fn check_evtx(name: &str, bytes: &[u8]) -> (usize, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{name}.evtx"));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .expect("write input");
    timed(name, || {
        let (mut events, mut errors) = (0, 0);
        for item in read_evtx(&path) {
            match item {
                Ok(event) => {
                    events += 1;
                    drop(match_event(rules(), &event));
                }
                Err(e) => {
                    errors += 1;
                    assert_eq!(e.file, path, "{name}: {e}");
                }
            }
        }
        (events, errors)
    })
}

/// Read JSON bytes both ways (lines and document) and match every event.
fn check_json(name: &str, bytes: &[u8]) {
    let file = Path::new("fuzz.json");
    timed(name, || {
        for event in read_jsonl_from(bytes, file).flatten() {
            drop(match_event(rules(), &event));
        }
        for event in parse_json_document(bytes, file).into_iter().flatten() {
            drop(match_event(rules(), &event));
        }
    });
}

/// Load one rule file and match what loaded against a few events.
fn check_rule(name: &str, yaml: &str) -> (usize, Vec<String>) {
    timed(name, || {
        let (set, errors) =
            load_rules_from_strs(&[(PathBuf::from(format!("{name}.yml")), yaml.to_string())]);
        for event in fixed_events() {
            drop(match_event(&set, event));
        }
        (set.len(), errors.iter().map(ToString::to_string).collect())
    })
}

fn fixed_events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let src = Arc::new(PathBuf::from("t.json"));
        vec![
            Event::from_json(
                Arc::clone(&src),
                1,
                json!({"Event": {"System": {"EventID": 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational"},
                    "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe",
                        "CommandLine": "cmd /c powershell -enc SQBFAFgAIAAoA http://x"}}}),
            ),
            Event::from_json(src, 2, json!({"message": "mimikatz", "a": {"b": 1}})),
        ]
    })
}

// ---------------------------------------------------------------------------------------
// EVTX
// ---------------------------------------------------------------------------------------

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// An EVTX file header (`ElfFile`) naming `chunks` chunks; checksums are not checked.
fn file_header(chunks: u16) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER];
    h[..8].copy_from_slice(b"ElfFile\0");
    h[16..24].copy_from_slice(&u64::from(chunks.saturating_sub(1)).to_le_bytes());
    h[24..32].copy_from_slice(&1u64.to_le_bytes());
    h[32..36].copy_from_slice(&128u32.to_le_bytes());
    h[36..38].copy_from_slice(&1u16.to_le_bytes());
    h[38..40].copy_from_slice(&3u16.to_le_bytes());
    h[40..42].copy_from_slice(&4096u16.to_le_bytes());
    h[42..44].copy_from_slice(&chunks.to_le_bytes());
    h
}

/// A chunk that says `ElfChnk` and is otherwise `fill`.
fn chunk(fill: u8) -> Vec<u8> {
    let mut c = vec![fill; CHUNK];
    c[..8].copy_from_slice(b"ElfChnk\0");
    c
}

#[test]
fn hostile_evtx_files_give_error_items() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("magic-only", b"ElfFile\0".to_vec()),
        ("header-only", file_header(1)),
        ("header-names-65535-chunks", file_header(u16::MAX)),
        ("ff-chunk", [file_header(1), chunk(0xff)].concat()),
        (
            "two-ff-chunks",
            [file_header(2), chunk(0xff), chunk(0xff)].concat(),
        ),
        (
            "truncated-ff-chunk",
            [file_header(2), chunk(0xff), chunk(0xff)[..700].to_vec()].concat(),
        ),
        (
            "truncated-in-chunk-header",
            [file_header(1), chunk(0)[..100].to_vec()].concat(),
        ),
        ("not-a-chunk", [file_header(1), vec![0x41; CHUNK]].concat()),
    ];
    for (name, bytes) in cases {
        let (_events, errors) = check_evtx(name, &bytes);
        assert!(errors > 0, "{name}: garbage read without an error item");
    }
    // Chunk headers whose record numbers, offsets and checksums all say the same number,
    // and a record magic after them: whatever they give, they give it without a panic.
    for v in [0u32, 1, 511, 512, 65535, 65536, u32::MAX] {
        let mut c = chunk(0);
        for off in (8..512).step_by(4) {
            c[off..off + 4].copy_from_slice(&v.to_le_bytes());
        }
        c[512..516].copy_from_slice(b"\x2a\x2a\x00\x00");
        check_evtx(&format!("chunk-header-{v}"), &[file_header(1), c].concat());
    }
    // An all-zero chunk is an unused one (preallocated in a live log), and a chunk header
    // of zeros holds no records: no events, and nothing to report.
    for (name, bytes) in [
        (
            "zero-chunk-none-in-header",
            [file_header(0), vec![0; CHUNK]].concat(),
        ),
        ("zero-chunk", [file_header(1), vec![0; CHUNK]].concat()),
        ("zero-chunk-with-magic", [file_header(1), chunk(0)].concat()),
    ] {
        assert_eq!(check_evtx(name, &bytes).0, 0, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

#[test]
fn hostile_json_gives_events_or_error_items() {
    let deep =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    let evtx_shaped =
        |system: &str, rest: &str| format!("{{\"Event\": {{\"System\": {system}{rest}}}}}\n");
    let cases: Vec<(&str, String)> = vec![
        ("deep-arrays", deep("[", "]", 100_000)),
        ("deep-objects", deep("{\"a\":", "}", 100_000)),
        ("deep-objects-under-limit", deep("{\"a\":", "}", 120)),
        ("deep-event-data", evtx_shaped("{\"EventID\": 1, \"Channel\": \"c\"}", &format!(", \"EventData\": {}", deep("{\"a\":", "}", 120)))),
        ("deep-system", evtx_shaped(&deep("{\"a\":", "}", 120), "")),
        ("huge-numbers", "{\"EventID\": 1e400, \"n\": -18446744073709551617, \"Channel\": 99999999999999999999999}\n".into()),
        ("string-event-id", evtx_shaped("{\"EventID\": \" 18446744073709551616 \", \"Channel\": \"Security\"}", "")),
        ("surrogates", "{\"a\": \"\\ud800\", \"\\udfff\": 1, \"Channel\": \"\\u0000\"}\n".into()),
        ("nul-and-control", "{\"a\u{0}\": \"\u{1}\", \"Image\": \"\\u0000cmd.exe\"}\n".into()),
        ("repeated-keys", evtx_shaped("{\"EventID\": 1, \"EventID\": \"x\", \"Channel\": \"a\", \"Channel\": 5}", ", \"EventData\": {\"Data\": 1, \"Data\": {\"#text\": [null, {}]}}, \"EventData\": null")),
        ("sections-out-of-order", "{\"Event\": {\"UserData\": {\"x\": 1}, \"EventData\": 5, \"System\": {\"EventID\": {\"#text\": {\"#text\": 4}}}}}\n".into()),
        ("odd-section-types", evtx_shaped("{\"Provider_attributes\": 3, \"TimeCreated\": {\"#attributes\": [1]}, \"Security\": {\"#text\": null}}", ", \"EventData\": \"text\", \"UserData\": [1, 2]")),
        ("escaped-keys", "{\"Ev\\u0065nt\": {\"Syst\\u0065m\": {\"EventID\": 1}, \"EventData\": {\"Im\\u0061ge\": \"x\"}}}\n".into()),
        ("many-fields", format!("{{{}\"z\": 0}}\n", (0..20_000).map(|i| format!("\"f{i}\": {i}, ")).collect::<String>())),
        ("long-line", format!("{{\"CommandLine\": \"{}\"}}\n", "-enc A".repeat(200_000))),
        ("arrays-of-scalars", "[1, \"two\", null, true, [[]], {}]\n".into()),
        ("not-json", "\u{feff}{\"a\": 1}\n\u{0}\n}{\n".into()),
    ];
    for (name, text) in cases {
        check_json(name, text.as_bytes());
    }
    check_json("invalid-utf8", b"{\"a\": \"\xff\xfe\"}\n{\"\xc0\": 1}\n");
}

/// Found by `json_input` (differential mode): the fast flattener of `{"Event": ..}` records
/// skipped `Event.#attributes` with `IgnoredAny`, which lets through invalid UTF-8 and lone
/// surrogate escapes, so a line the general path rejects became an event.
#[test]
fn fast_path_rejects_what_the_general_path_rejects() {
    let file = Arc::new(PathBuf::from("t.jsonl"));
    for line in [
        &b"{\"Event\": {\"#attributes\": \"\\ud800\", \"System\": {\"EventID\": 1}}}"[..],
        &b"{\"Event\": {\"#attributes\": \"\x9f\", \"System\": {}}}"[..],
        &b"{\"Event\": {\"#attributes\": {\"xmlns\": \"a\\udfffb\"}, \"System\": {}}}"[..],
        &b"{\"Event\": {\"#attributes\": {\"\\ud800\": 1}, \"System\": {}}}"[..],
        &b"{\"Event\": {\"#attributes\": [1, [\"\\udfff\"]], \"System\": {}}}"[..],
    ] {
        let text = String::from_utf8_lossy(line);
        assert!(
            serde_json::from_slice::<serde_json::Value>(line).is_err(),
            "{text}"
        );
        assert!(
            Event::from_json_slice(Arc::clone(&file), 1, line).is_err(),
            "{text}"
        );
        let items: Vec<_> = read_jsonl_from(line, file.as_path()).collect();
        assert!(matches!(items.as_slice(), [Err(_)]), "{text}: {items:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------

fn rule_with(detection: &str) -> String {
    format!(
        "title: Hostile\nid: 0f0f0f0f-0000-4000-8000-0000000000aa\n\
         logsource: {{product: windows, category: process_creation}}\ndetection:\n{detection}"
    )
}

#[test]
fn hostile_rules_load_or_are_rejected() {
    let sel = "  sel:\n    Image|endswith: x\n";
    let cases: Vec<(&str, String)> = vec![
        (
            "deep-parens",
            rule_with(&format!(
                "{sel}  condition: {}sel{}\n",
                "(".repeat(5000),
                ")".repeat(5000)
            )),
        ),
        (
            "not-chain-at-limit",
            rule_with(&format!(
                "{sel}  condition: {}sel\n",
                "not (".repeat(64) + &")".repeat(64)
            )),
        ),
        (
            "long-and",
            rule_with(&format!(
                "{sel}  condition: {}\n",
                vec!["sel"; 1000].join(" and ")
            )),
        ),
        (
            "deep-yaml-flow",
            format!(
                "title: t\ndetection: {}{}\n",
                "[".repeat(5000),
                "]".repeat(5000)
            ),
        ),
        (
            "deep-yaml-block",
            format!(
                "title: t\ndetection:\n{}",
                (0..3000)
                    .map(|i| format!("{}a{i}:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        (
            "many-selections",
            rule_with(&format!(
                "{}  condition: 1 of s* and all of them\n",
                (0..2000)
                    .map(|i| format!("  s{i}:\n    Image: v{i}\n"))
                    .collect::<String>()
            )),
        ),
        (
            "regex-too-big",
            rule_with("  sel:\n    Image|re: '(a{1000}){1000}'\n  condition: sel\n"),
        ),
        (
            "regex-backtracking",
            rule_with("  sel:\n    Image|re: '^(a+)+(?=b)\\1$'\n  condition: sel\n"),
        ),
        (
            "wildcards",
            rule_with(&format!(
                "  sel:\n    Image: '{}'\n  condition: sel\n",
                "*?".repeat(5000)
            )),
        ),
        (
            "bad-cidr",
            rule_with(
                "  sel:\n    Image|cidr: ['::/0', '0.0.0.0/0', '1.2.3.4/33', 'ffff::/129', 'a/b']\n  condition: sel\n",
            ),
        ),
        (
            "huge-number",
            rule_with("  sel:\n    ProcessId|gt: 1e400\n  condition: sel\n"),
        ),
        (
            "many-documents",
            rule_with(&format!("{sel}  condition: sel\n---\n")).repeat(300),
        ),
    ];
    for (name, yaml) in cases {
        check_rule(name, &yaml);
    }
}

/// rsigma bounds a condition's parentheses (64 levels) and length (64 KiB) but not a
/// chain of `not`, and its Pratt parser recurses once per `not`: 10,000 of them (a 40 KB
/// condition) overflow the stack of a 2 MiB thread (rayon's workers, the test harness's),
/// which aborts the process, so `catch_unwind` cannot contain it. Double-quoted YAML
/// escapes spell the same condition without the text containing `not`.
#[test]
fn long_not_chain_is_rejected_not_a_stack_overflow() {
    let chain = format!("{}sel", "not ".repeat(10_000));
    let escaped = format!("\"{}sel\"", "\\x6eot ".repeat(10_000));
    let through_parens = format!("{}sel{}", "not not not not (".repeat(60), ")".repeat(60));
    for (name, condition) in [
        ("plain", chain),
        ("escaped", escaped),
        ("parens", through_parens),
    ] {
        let yaml = rule_with(&format!(
            "  sel:\n    Image|endswith: x\n  condition: {condition}\n"
        ));
        let (loaded, errors) = check_rule(name, &yaml);
        assert_eq!(loaded, 0, "{name}");
        assert!(
            errors.iter().any(|e| e.contains("not")),
            "{name}: {errors:?}"
        );
    }
}

/// The `windash` modifier gives 5^n variants of a value with n dashes (rsigma allows up to
/// 8 per value: 390,625 variants), and nothing bounds their sum over a list of values:
/// 20 such values took 48 s and 3.9 GB to load in a release build, 200 exhaust memory.
/// (SigmaHQ's rules need at most 165 variants per rule.)
#[test]
fn windash_expansion_is_bounded() {
    let values: String = (0..20)
        .map(|i| format!("      - '-a-b-c-d-e-f-g-h{i}'\n"))
        .collect();
    let yaml = rule_with(&format!(
        "  sel:\n    CommandLine|windash|contains:\n{values}  condition: sel\n"
    ));
    check_rule("windash-many", &yaml);
}

/// `base64offset` turns a literal into three, each 4/3 as long; the prefilter's
/// Aho-Corasick automaton over three 25,000-byte needles was built as a DFA (the crate's
/// own choice for few patterns) in 49 s in a release build.
#[test]
fn long_base64offset_literal_loads_quickly() {
    let yaml = rule_with(&format!(
        "  sel:\n    CommandLine|base64offset|contains: '{}'\n  condition: sel\n",
        "A".repeat(19_000)
    ));
    check_rule("base64offset-long", &yaml);
}

// ---------------------------------------------------------------------------------------
// Minimized fuzzer artifacts
// ---------------------------------------------------------------------------------------

#[test]
fn artifacts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let bytes = std::fs::read(&path).expect("read artifact");
        if name.starts_with("evtx-") {
            check_evtx(&name, &bytes);
        } else if name.starts_with("jsonl-") || name.starts_with("json-") {
            check_json(&name, &bytes);
        } else if name.starts_with("rule-") {
            check_rule(&name, &String::from_utf8_lossy(&bytes));
        } else if name != "README.md" {
            panic!("{name}: unknown artifact kind (evtx-, jsonl-, json-, rule-)");
        }
    }
}
