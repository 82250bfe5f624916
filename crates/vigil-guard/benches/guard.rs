//! Throughput of the detection pipeline over real EVTX files, step by step, so that
//! changes can be compared (`cargo bench -p vigil-guard`; criterion keeps the previous
//! run and reports the change):
//!
//! * `read`: parse the EVTX file and flatten each record (no rules);
//! * `match`: the events, read beforehand, matched against all SigmaHQ Windows rules
//!   (routing, literal prefilter, rsigma);
//! * `match_unfiltered`: the same with every rule of the event's logsources evaluated,
//!   the cost the prefilter saves;
//! * `scan_file`: read and match, end to end;
//! * `load_rules`: loading and compiling the SigmaHQ Windows rules;
//! * `load_rules_cached`: the same from a warm rule cache (nothing compiled until used).
//!
//! The logs and rules are read in place from `../shared/data` (the EVTX attack samples
//! and SigmaHQ's `rules/windows`); without them the benchmarks print a note and do nothing.

#[path = "../tests/common/mod.rs"]
mod common;

use common::data;

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

// As in the `vigil` binary, so that the numbers are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use vigil_guard::matching::evaluate_unfiltered;
use vigil_guard::{
    Event, RuleCache, load_rules, load_rules_cached, match_event, read_evtx, scan_file,
};

/// A Sysmon log (process, file, registry and network events) and a Security log.
const FILES: &[&str] = &[
    "evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx",
    "evtx-attack-samples/Discovery/dicovery_4661_net_group_domain_admins_target.evtx",
];

const RULES: &str = "sigma/rules/windows";

fn read_all(path: &Path) -> Vec<Event> {
    read_evtx(path).filter_map(Result::ok).collect()
}

fn bench(c: &mut Criterion) {
    let Some(rules_dir) = data(RULES) else {
        return;
    };
    let (rules, _) = load_rules(std::slice::from_ref(&rules_dir));
    for rel in FILES {
        let Some(path) = data(rel) else {
            continue;
        };
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("log")
            .to_string();
        let events = read_all(&path);
        let mut group = c.benchmark_group(&name);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(5));
        group.bench_function("read", |b| b.iter(|| read_all(&path).len()));
        group.bench_function("match", |b| {
            b.iter(|| {
                events
                    .iter()
                    .map(|e| match_event(&rules, e).len())
                    .sum::<usize>()
            })
        });
        group.bench_function("scan_file", |b| {
            b.iter(|| scan_file(&rules, &path).alerts.len())
        });
        group.sample_size(10);
        group.bench_function("match_unfiltered", |b| {
            b.iter(|| {
                events
                    .iter()
                    .map(|e| evaluate_unfiltered(&rules, e).len())
                    .sum::<usize>()
            })
        });
        group.finish();
    }
    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("load_rules", |b| {
        b.iter(|| load_rules(std::slice::from_ref(&rules_dir)).0.len())
    });
    let cache_dir = tempfile::tempdir().expect("a temporary folder");
    let cache = RuleCache::new(cache_dir.path(), "bench");
    load_rules_cached(std::slice::from_ref(&rules_dir), &cache);
    group.bench_function("load_rules_cached", |b| {
        b.iter(|| {
            load_rules_cached(std::slice::from_ref(&rules_dir), &cache)
                .0
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
