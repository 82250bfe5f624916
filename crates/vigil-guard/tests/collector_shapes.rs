//! The same Windows events, as collectors write them, fire the same rules.
//!
//! * Over real logs (read in place from `../shared/data`; skipped without them, or
//!   without `python3`): SigmaHQ's regression JSON events and the EVTX attack samples
//!   (rendered to the `evtx` crate's JSON here) are re-rendered by
//!   `scripts/render-shapes.py` into NXLog, Winlogbeat 6 and ECS (Winlogbeat 8) JSON
//!   lines in a temporary folder. With every SigmaHQ rule, each shape must give the same
//!   detections per rule as the original events, and the same channel, EventID,
//!   provider, computer and a time for every event; the prefilter must not change what
//!   fires on them either (checked on the Winlogbeat 6 shape). An event may differ only where the collector itself changes
//!   what there is to match, and then exactly as the original event changed the same way
//!   does: the rendered message it adds (keyword rules read it), and the empty values
//!   Winlogbeat drops (`StartModule: ''` can no longer match, `StartModule: null` now
//!   does). Those events are counted and printed.
//! * Over the small handwritten fixtures in `tests/fixtures/shapes/` and the built-in
//!   rules: one event of each kind per shape fires its rule, with its time.

mod common;

use common::data;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vigil_guard::event::FieldRef;
use vigil_guard::matching::{evaluate, evaluate_unfiltered};
use vigil_guard::rsigma_eval::EvaluationResult;
use vigil_guard::{Event, RuleSet, load_rules, match_event, read_jsonl};

const SHAPES: &[&str] = &["nxlog", "winlogbeat6", "ecs", "elastic"];

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    out.sort();
    out
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run the renderer; `None`, with a note, where there is no `python3`.
fn render(inputs: &[PathBuf], out: &Path) -> Option<()> {
    let script = repo_root().join("scripts/render-shapes.py");
    let run = Command::new("python3")
        .arg(&script)
        .arg("--out")
        .arg(out)
        .args(inputs)
        .output();
    match run {
        Err(e) => {
            eprintln!("note: cannot run python3 ({e}); skipped");
            None
        }
        Ok(o) => {
            assert!(
                o.status.success(),
                "render-shapes.py failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(())
        }
    }
}

/// Every EVTX record of the files as one line of the `evtx` crate's JSON (what the
/// reader flattens, and the shape of SigmaHQ's regression JSON files).
fn evtx_to_jsonl(inputs: &[PathBuf], out: &Path) -> usize {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).expect("temp file"));
    let mut n = 0;
    for path in inputs {
        let Ok(parser) = evtx::EvtxParser::from_path(path) else {
            continue;
        };
        let mut parser = parser.with_configuration(evtx::ParserSettings::new().num_threads(1));
        for record in parser.records_json_bytes().flatten() {
            w.write_all(&record.data).expect("write");
            w.write_all(b"\n").expect("write");
            n += 1;
        }
    }
    w.flush().expect("flush");
    n
}

fn events(path: &Path) -> Vec<Event> {
    read_jsonl(path)
        .map(|item| item.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The rules rsigma's results name, sorted.
fn rule_ids(results: Vec<EvaluationResult>) -> Vec<String> {
    let mut ids: Vec<String> = results
        .into_iter()
        .map(|r| r.header.rule_id.unwrap_or(r.header.rule_title))
        .collect();
    ids.sort();
    ids
}

/// The rules that fire on an event (what `match_event` makes alerts of), sorted.
fn fired(rules: &RuleSet, event: &Event) -> Vec<String> {
    rule_ids(evaluate(rules, event))
}

/// The original event as a collector of `shape` delivers it (see the module doc): with
/// the message it rendered, and for Winlogbeat without its empty values.
fn as_delivered(original: &Event, shaped: &Event, shape: &str) -> Event {
    let Value::Object(mut map) = original.fields.to_value() else {
        unreachable!("a field map is an object")
    };
    if shape != "nxlog" {
        map.retain(|_, v| !(v.is_null() || v.as_str() == Some("")));
    }
    for name in ["Message", "message"] {
        if let Some(m) = shaped.get(name) {
            map.insert(name.to_string(), m.to_value());
        }
    }
    Event::from_json(original.source.clone(), original.record, Value::Object(map))
}

/// What routing and the alert read of an event, as text.
fn identity(event: &Event) -> [String; 4] {
    let text = |name: &str| match event.get(name) {
        Some(FieldRef::Str(s)) => s.to_string(),
        Some(FieldRef::Number(n)) => n.to_string(),
        Some(other) => format!("{other:?}"),
        None => "-".to_string(),
    };
    [
        text("Channel"),
        text("EventID"),
        text("Provider_Name"),
        text("Computer"),
    ]
}

#[test]
fn every_collector_shape_fires_the_same_rules() {
    let (Some(sigma), Some(samples)) = (data("sigma"), data("evtx-attack-samples")) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut inputs = files(&sigma.join("regression_data"), "json");
    let dumped = tmp.path().join("attack-samples.jsonl");
    let records = evtx_to_jsonl(&files(&samples, "evtx"), &dumped);
    inputs.push(dumped);
    let out = tmp.path().join("shapes");
    if render(&inputs, &out).is_none() {
        return;
    }
    let (rules, _) = load_rules(&common::sigma_rule_dirs(&sigma));
    assert!(rules.len() > 2000, "{:?}", rules.stats);

    let original = events(&out.join("original.jsonl"));
    assert!(
        original.len() > records && records > 8000,
        "{}",
        original.len()
    );
    let baseline: Vec<Vec<String>> = original.iter().map(|e| fired(&rules, e)).collect();
    let count = |per_event: &[Vec<String>]| {
        let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
        for id in per_event.iter().flatten() {
            *by_rule.entry(id.clone()).or_default() += 1;
        }
        by_rule
    };
    let want = count(&baseline);
    let detections: usize = want.values().sum();
    eprintln!(
        "original: {} events, {detections} detections of {} rules",
        original.len(),
        want.len()
    );
    assert!(
        detections > 1000 && want.len() > 100,
        "{detections} detections"
    );

    let mut failures = Vec::new();
    for shape in SHAPES {
        let shaped = events(&out.join(format!("{shape}.jsonl")));
        assert_eq!(shaped.len(), original.len(), "{shape}");
        let mut per_event = Vec::with_capacity(shaped.len());
        let mut examples = Vec::new();
        let mut explained = 0;
        for (i, (event, orig)) in shaped.iter().zip(&original).enumerate() {
            let got = fired(&rules, event);
            // The prefilter keeps what fires on these shapes too: their values are
            // strings where EVTX has numbers, with LF line ends, and unnamed values
            // rebuilt from params. Checked on one shape, since their values are alike
            // (every rule evaluated on every event is the slow part of this test).
            if *shape == "winlogbeat6" {
                assert_eq!(
                    got,
                    rule_ids(evaluate_unfiltered(&rules, event)),
                    "{shape} line {}: the prefilter changed what fires",
                    i + 1
                );
            }
            if got != baseline[i] {
                let delivered = fired(&rules, &as_delivered(orig, event, shape));
                if got == delivered {
                    explained += 1;
                    eprintln!(
                        "  {shape} line {}: {:?} -> {got:?}, as the collector's own changes give",
                        i + 1,
                        baseline[i]
                    );
                } else if examples.len() < 5 {
                    examples.push(format!(
                        "  line {}: original {:?}, as delivered {delivered:?}, {shape} {got:?}",
                        i + 1,
                        baseline[i]
                    ));
                }
            }
            per_event.push(got);
            if identity(event) != identity(orig) && examples.len() < 5 {
                examples.push(format!(
                    "  line {}: original is {:?}, {shape} {:?}",
                    i + 1,
                    identity(orig),
                    identity(event)
                ));
            }
            if orig.time.is_some() && event.time.is_none() {
                failures.push(format!("{shape} line {}: no event time", i + 1));
            }
            assert_eq!(event.product, orig.product, "{shape} line {}", i + 1);
        }
        let got = count(&per_event);
        let total: usize = got.values().sum();
        let differ = per_event
            .iter()
            .zip(&baseline)
            .filter(|(a, b)| a != b)
            .count();
        eprintln!(
            "{shape}: {total} detections of {} rules; {differ} events differ, {explained} of \
             them as the collector's own changes give",
            got.len(),
        );
        if differ != explained || !examples.is_empty() {
            let mut diff = Vec::new();
            for id in want.keys().chain(got.keys()) {
                let (w, g) = (want.get(id), got.get(id));
                if w != g && !diff.iter().any(|d: &String| d.starts_with(id.as_str())) {
                    diff.push(format!("{id}: {w:?} -> {g:?}"));
                }
            }
            failures.push(format!(
                "{shape}: per-rule counts differ: {diff:?}\n{}",
                examples.join("\n")
            ));
        }
        // The collectors' own changes stay the exception.
        if explained * 100 > original.len() {
            failures.push(format!("{shape}: {explained} events differ"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Handwritten events of each shape (no corpus needed) against the built-in rules.
#[test]
fn handwritten_fixtures_fire_their_rules() {
    let rules_dir = repo_root().join("rules/sigma");
    let (rules, _) = load_rules(&[rules_dir]);
    assert!(rules.len() > 1000, "{:?}", rules.stats);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shapes");
    // Each fixture file holds the same four events, in this order.
    let expected: [(&str, &str); 4] = [
        // Sysmon 1: whoami /all
        (
            "c248c896-e412-4279-8c15-1c558067b6fa",
            "2024-05-01T10:00:01",
        ),
        // Security 4688: whoami /all, through the Sysmon-name aliases
        (
            "c248c896-e412-4279-8c15-1c558067b6fa",
            "2024-05-01T10:00:02",
        ),
        // Windows PowerShell 400: a PowerShell 2 engine (downgrade attack)
        (
            "6331d09b-4785-4c13-980f-f96661356249",
            "2024-05-01T10:00:03",
        ),
        // Defender 1116 from AMSI
        (
            "ea9bf0fa-edec-4fb8-8b78-b119f2528186",
            "2024-05-01T10:00:04",
        ),
    ];
    for shape in SHAPES {
        let evs = events(&fixtures.join(format!("{shape}.jsonl")));
        assert_eq!(evs.len(), expected.len(), "{shape}");
        for (event, (rule, when)) in evs.iter().zip(expected) {
            let alerts = match_event(&rules, event);
            let alert = alerts
                .iter()
                .find(|a| a.rule_id.as_deref() == Some(rule))
                .unwrap_or_else(|| {
                    panic!(
                        "{shape} record {}: {rule} did not fire; fired: {:?}",
                        event.record,
                        alerts.iter().map(|a| &a.rule_id).collect::<Vec<_>>()
                    )
                });
            // NXLog writes the time without the `T`.
            let time = alert.time.as_deref().map(|t| t.replacen(' ', "T", 1));
            assert!(
                time.is_some_and(|t| t.starts_with(when)),
                "{shape} record {}: time {:?}",
                event.record,
                alert.time
            );
            assert!(event.get("Computer").is_some(), "{shape}");
            assert!(event.get("Provider_Name").is_some(), "{shape}");
        }
    }
}
