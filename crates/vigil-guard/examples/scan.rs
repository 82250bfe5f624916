//! Scan log files or folders with a rule set and print a summary: events, read errors,
//! alerts by level and by rule, throughput, and the CPU time of each phase.
//!
//! ```text
//! cargo run --release -p vigil-guard --example scan -- [OPTIONS] RULES_DIR[,RULES_DIR...] INPUT...
//! ```
//!
//! Options, to measure each step of the pipeline on its own:
//!
//! * `--mode parse`: EVTX only: parse each record and render it to JSON text with the
//!   `evtx` crate, nothing else (the parser's own limit; JSON inputs are read as in `read`);
//! * `--mode read` (or `--read-only`): read and flatten the events into the field maps
//!   rules are matched against, without matching them;
//! * `--mode match` (the default): read, flatten and match;
//! * `--alerts FILE`: write one line per alert (`source  record  rule id  level  title`),
//!   sorted, to compare the alerts of two builds;
//! * `--dump-jsonl FILE`: write every EVTX record as one line of the `evtx` crate's JSON
//!   (the shape of SigmaHQ's regression `.json` files), to measure the JSON lines path
//!   on the same events; nothing is matched.
//! * `--dump-flat FILE`: write every event as the flat field map rules are matched
//!   against, one JSON object per line with its number in `_n`, and `FILE.idx` with
//!   `n  source  record` per line: the input for another Sigma engine (the rsigma CLI) on
//!   exactly the fields Vigil matches, to compare detections side by side.
//!
//! CPU seconds (user + system, all threads) are read from `/proc/self/stat`; on a shared
//! machine they are steadier than wall time.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;

// As in the `vigil` binary (see there why).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use vigil_guard::{ScanOutcome, load_rules, read_events, scan_files};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Parse,
    Read,
    Match,
}

/// CPU seconds (user + system) this process has used so far, all threads.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    (ticks(11) + ticks(12)) / 100.0
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: scan [--mode parse|read|match] [--alerts FILE] [--dump-jsonl FILE] [--dump-flat FILE] RULES_DIR[,RULES_DIR...] INPUT..."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut mode = Mode::Match;
    let mut alerts_out: Option<PathBuf> = None;
    let mut dump: Option<PathBuf> = None;
    let mut dump_flat: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1).peekable();
    while let Some(a) = args.peek().cloned() {
        match a.as_str() {
            "--read-only" => mode = Mode::Read,
            "--mode" => {
                args.next();
                mode = match args.peek().map(String::as_str) {
                    Some("parse") => Mode::Parse,
                    Some("read") => Mode::Read,
                    Some("match") => Mode::Match,
                    _ => return usage(),
                };
            }
            "--alerts" => {
                args.next();
                alerts_out = args.peek().map(PathBuf::from);
            }
            "--dump-jsonl" => {
                args.next();
                dump = args.peek().map(PathBuf::from);
            }
            "--dump-flat" => {
                args.next();
                dump_flat = args.peek().map(PathBuf::from);
            }
            _ => break,
        }
        args.next();
    }
    let Some(rule_arg) = args.next() else {
        return usage();
    };
    let rule_dirs: Vec<PathBuf> = rule_arg.split(',').map(PathBuf::from).collect();
    let inputs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let files = collect_inputs(&inputs);

    if let Some(out) = dump {
        return dump_jsonl(&files, &out);
    }
    if let Some(out) = dump_flat {
        return match write_flat(&files, &out) {
            Ok(n) => {
                println!("{n} events written to {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot write {}: {e}", out.display());
                ExitCode::from(2)
            }
        };
    }

    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let (rules, load_errors) = if mode == Mode::Match {
        load_rules(&rule_dirs)
    } else {
        load_rules(&[])
    };
    let load_wall = t.elapsed().as_secs_f64();
    let load_cpu = cpu_seconds() - cpu0;
    println!(
        "rules: {} active of {} loaded ({} load problems) in {:.2}s wall, {:.2} CPU-s",
        rules.stats.active,
        rules.stats.loaded,
        load_errors.len(),
        load_wall,
        load_cpu,
    );

    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();

    let cpu1 = cpu_seconds();
    let t = Instant::now();
    let outcome = match mode {
        Mode::Parse => parse_only(&files),
        Mode::Read => read_only(&files),
        Mode::Match => scan_files(&rules, &files),
    };
    let secs = t.elapsed().as_secs_f64();
    let scan_cpu = cpu_seconds() - cpu1;
    let total_cpu = cpu_seconds() - cpu0;
    let mode_name = match mode {
        Mode::Parse => "parse",
        Mode::Read => "read",
        Mode::Match => "match",
    };
    println!(
        "mode: {mode_name}  files: {}  events: {}  read errors: {}  alerts: {}",
        files.len(),
        outcome.events,
        outcome.errors.len(),
        outcome.alerts.len()
    );
    let ev = outcome.events as f64;
    println!(
        "scan: wall {:.2}s  cpu {:.2}s  {:.0} events/s  {:.0} events/CPU-s  {:.1} MB/s",
        secs,
        scan_cpu,
        ev / secs,
        ev / scan_cpu,
        bytes as f64 / 1e6 / secs
    );
    println!(
        "with rule load: cpu {:.2}s  {:.0} events/CPU-s",
        total_cpu,
        ev / total_cpu
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
    if let Some(path) = alerts_out {
        let mut lines: Vec<String> = outcome
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.source.display(),
                    a.record,
                    a.rule_id.as_deref().unwrap_or("-"),
                    a.level.map(|l| l.as_str()).unwrap_or("-"),
                    a.title
                )
            })
            .collect();
        lines.sort();
        if let Err(e) = std::fs::write(&path, lines.join("\n") + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn collect_inputs(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for input in inputs {
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
    files
}

/// Read and flatten every event, matching nothing.
fn read_only(files: &[PathBuf]) -> ScanOutcome {
    let counts: Vec<(u64, Vec<vigil_guard::ReadError>)> = files
        .par_iter()
        .map(|f| {
            let mut n = 0;
            let mut errs = Vec::new();
            for item in read_events(f) {
                match item {
                    Ok(_) => n += 1,
                    Err(e) => errs.push(e),
                }
            }
            (n, errs)
        })
        .collect();
    let mut out = ScanOutcome::default();
    for (n, errs) in counts {
        out.events += n;
        out.errors.extend(errs);
    }
    out
}

/// EVTX: the `evtx` crate alone, each record rendered to JSON bytes (files in parallel).
fn parse_only(files: &[PathBuf]) -> ScanOutcome {
    let (evtx, other): (Vec<PathBuf>, Vec<PathBuf>) = files
        .iter()
        .cloned()
        .partition(|f| f.extension().is_some_and(|e| e == "evtx"));
    let counts: Vec<(u64, u64)> = evtx
        .par_iter()
        .map(|f| {
            let (mut n, mut bad) = (0, 0);
            for_each_record(f, |r| match r {
                Ok(_) => n += 1,
                Err(_) => bad += 1,
            });
            (n, bad)
        })
        .collect();
    let mut out = read_only(&other);
    for (n, bad) in counts {
        out.events += n;
        if bad > 0 {
            out.errors.push(vigil_guard::ReadError {
                file: PathBuf::new(),
                record: None,
                reason: format!("{bad} records failed"),
            });
        }
    }
    out
}

fn for_each_record(path: &Path, mut f: impl FnMut(Result<Vec<u8>, String>)) {
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = match evtx::EvtxParser::from_path(path) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => return f(Err(e.to_string())),
    };
    for record in parser.records_json_bytes() {
        f(record.map(|r| r.data).map_err(|e| e.to_string()));
    }
}

/// Write each EVTX record's JSON as one line.
/// See `--dump-flat`: the number of events written.
fn write_flat(files: &[PathBuf], out: &Path) -> std::io::Result<u64> {
    let mut flat = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut index_path = out.as_os_str().to_owned();
    index_path.push(".idx");
    let mut index = std::io::BufWriter::new(std::fs::File::create(index_path)?);
    let mut n = 0u64;
    for path in files {
        for event in read_events(path).filter_map(Result::ok) {
            n += 1;
            let mut value = event.fields.to_value();
            if let Some(map) = value.as_object_mut() {
                map.insert("_n".to_string(), n.into());
            }
            writeln!(flat, "{value}")?;
            writeln!(index, "{n}\t{}\t{}", event.source.display(), event.record)?;
        }
    }
    flat.flush()?;
    index.flush()?;
    Ok(n)
}

fn dump_jsonl(files: &[PathBuf], out: &Path) -> ExitCode {
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot create {}: {e}", out.display());
            return ExitCode::from(2);
        }
    };
    let mut w = std::io::BufWriter::new(file);
    let (mut n, mut bad) = (0u64, 0u64);
    let mut io_error = None;
    for path in files {
        for_each_record(path, |r| match r {
            Ok(bytes) => {
                n += 1;
                if let Err(e) = w.write_all(&bytes).and_then(|()| w.write_all(b"\n")) {
                    io_error.get_or_insert(e);
                }
            }
            Err(_) => bad += 1,
        });
    }
    if let Some(e) = io_error.or_else(|| w.flush().err()) {
        eprintln!("cannot write {}: {e}", out.display());
        return ExitCode::from(2);
    }
    println!(
        "{n} records written to {} ({bad} unreadable)",
        out.display()
    );
    ExitCode::SUCCESS
}
