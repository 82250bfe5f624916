//! The rule cache end to end: a load from the cache gives the same rules, load errors and
//! alerts as parsing (real SigmaHQ rules over real EVTX attack samples), compiles rules
//! only when first needed, parses a changed file again, leaves a broken or foreign cache
//! aside, and is not used for loads with correlations.

mod common;

use common::data;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use vigil_guard::{
    Event, MAX_CACHE_FILES, RuleCache, RuleSet, load_rules, load_rules_cached, match_event,
    read_events,
};

/// `source record rule-id level`, sorted: what must not change.
fn alerts(rules: &RuleSet, events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .flat_map(|e| match_event(rules, e))
        .map(|a| {
            format!(
                "{} {} {:?} {:?}",
                a.source.display(),
                a.record,
                a.rule_id,
                a.level
            )
        })
        .collect();
    out.sort();
    out
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn cached_load_gives_the_same_rules_errors_and_alerts_and_compiles_lazily() {
    let (Some(rules_dir), Some(logs)) = (
        data("sigma/rules/windows/builtin"),
        data("evtx-attack-samples"),
    ) else {
        return;
    };
    let events: Vec<Event> = walkdir::WalkDir::new(&logs)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
        .flat_map(|e| read_events(e.path()))
        .filter_map(Result::ok)
        .collect();
    assert!(events.len() > 5000, "{} events", events.len());
    let paths = [rules_dir];
    let (parsed, parsed_errors) = load_rules(&paths);
    let expected = alerts(&parsed, &events);
    assert!(expected.len() > 100, "{} alerts", expected.len());

    let dir = tempfile::tempdir().unwrap();
    let cache = RuleCache::new(dir.path(), "test build 1");
    let (cold, cold_errors) = load_rules_cached(&paths, &cache);
    assert_eq!(cold.stats.from_cache, 0);
    assert_eq!(cache_files(dir.path()).len(), 1, "the cache is written");

    let (warm, warm_errors) = load_rules_cached(&paths, &cache);
    assert_eq!(warm.stats.from_cache, warm.stats.files);
    assert_eq!(warm_errors, parsed_errors);
    assert_eq!(cold_errors, parsed_errors);
    let stats = |s: &RuleSet| {
        let mut s = s.stats.clone();
        s.from_cache = 0;
        s
    };
    assert_eq!(stats(&warm), stats(&parsed));
    let titles = |s: &RuleSet| {
        s.rules()
            .iter()
            .map(|r| r.title.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&warm), titles(&parsed));

    assert_eq!(
        warm.compiled_on_use(),
        0,
        "nothing is compiled before it is needed"
    );
    assert_eq!(alerts(&warm, &events), expected);
    assert_eq!(alerts(&cold, &events), expected);
    let compiled = warm.compiled_on_use();
    assert!(
        compiled > 0 && compiled < warm.len(),
        "{compiled} of {} rules compiled on use",
        warm.len()
    );
    assert_eq!(
        cold.compiled_on_use(),
        0,
        "a cold load compiled all at load"
    );

    // Another build does not read this one's cache.
    let other = RuleCache::new(dir.path(), "test build 2");
    let (fresh, _) = load_rules_cached(&paths, &other);
    assert_eq!(fresh.stats.from_cache, 0);
}

const WHOAMI: &str = "title: Whoami
id: 11111111-1111-1111-1111-111111111111
level: high
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
";

const NET: &str = "title: Net user
id: 22222222-2222-2222-2222-222222222222
level: medium
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\net.exe'
        CommandLine|contains: ' user '
    condition: selection
";

const BAD_REGEX: &str = "title: Broken regex
id: 33333333-3333-3333-3333-333333333333
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|re: '(unclosed'
    condition: selection
";

fn process(record: u64, image: &str, cmd: &str) -> Event {
    Event::from_json(
        Arc::new(PathBuf::from("sysmon.jsonl")),
        record,
        json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "ws1", "TimeCreated": {"#attributes": {"SystemTime": "2026-11-28T10:00:00Z"}}},
            "EventData": {"Image": image, "CommandLine": cmd}}}),
    )
}

fn fired(rules: &RuleSet, event: &Event) -> Vec<String> {
    match_event(rules, event)
        .into_iter()
        .map(|a| format!("{} {:?}", a.title, a.level))
        .collect()
}

/// A folder of rule files, and an empty cache for loading it.
struct Cached {
    rules: tempfile::TempDir,
    cache_dir: tempfile::TempDir,
    cache: RuleCache,
    /// The folder, as the rule paths to load.
    paths: [PathBuf; 1],
}

fn cached_folder(files: &[(&str, &str)]) -> Cached {
    let rules = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(rules.path().join(name), text).unwrap();
    }
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = RuleCache::new(cache_dir.path(), "test");
    let paths = [rules.path().to_path_buf()];
    Cached {
        rules,
        cache_dir,
        cache,
        paths,
    }
}

#[test]
fn a_changed_rule_file_is_parsed_again_and_compile_errors_are_kept() {
    let Cached {
        rules,
        cache_dir: _cache_dir,
        cache,
        paths,
    } = cached_folder(&[
        ("whoami.yml", WHOAMI),
        ("net.yml", NET),
        ("bad.yml", BAD_REGEX),
    ]);
    let (_, cold_errors) = load_rules_cached(&paths, &cache);
    assert_eq!(cold_errors.len(), 1, "{cold_errors:?}");
    let (warm, warm_errors) = load_rules_cached(&paths, &cache);
    assert_eq!(warm.stats.from_cache, 3);
    assert_eq!(
        warm_errors, cold_errors,
        "the compile error comes from the cache"
    );
    assert_eq!(
        fired(
            &warm,
            &process(1, "C:\\Windows\\System32\\whoami.exe", "whoami")
        ),
        ["Whoami Some(High)"]
    );

    let changed = WHOAMI
        .replace("level: high", "level: critical")
        .replace("whoami.exe", "hostname.exe");
    std::fs::write(rules.path().join("whoami.yml"), changed).unwrap();
    let (after, _) = load_rules_cached(&paths, &cache);
    assert_eq!(after.stats.from_cache, 2, "only the changed file is parsed");
    assert!(
        fired(
            &after,
            &process(2, "C:\\Windows\\System32\\whoami.exe", "whoami")
        )
        .is_empty()
    );
    assert_eq!(
        fired(
            &after,
            &process(3, "C:\\Windows\\System32\\HOSTNAME.EXE", "hostname")
        ),
        ["Whoami Some(Critical)"]
    );
    assert_eq!(
        fired(
            &after,
            &process(4, "C:\\Windows\\System32\\net.exe", "net user admin")
        ),
        ["Net user Some(Medium)"]
    );
}

#[test]
fn a_broken_cache_is_left_aside_and_a_bad_entry_costs_only_its_rule() {
    let Cached {
        rules: _rules,
        cache_dir,
        cache,
        paths,
    } = cached_folder(&[("whoami.yml", WHOAMI), ("net.yml", NET)]);
    load_rules_cached(&paths, &cache);
    let file = cache_files(cache_dir.path()).pop().unwrap();
    let good = std::fs::read(&file).unwrap();

    // Not a cache at all: parsed as if there were none, and written again.
    std::fs::write(&file, b"\x00garbage{").unwrap();
    let (set, errors) = load_rules_cached(&paths, &cache);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.stats.from_cache, 0);
    assert_eq!(set.len(), 2);
    let (set, _) = load_rules_cached(&paths, &cache);
    assert_eq!(set.stats.from_cache, 2, "the cache was written again");

    // A count no load gives (and that would overflow the totals): not this build's cache.
    let mut doc: serde_json::Value = serde_json::from_slice(&good).unwrap();
    doc["files"][0]["file"]["failed_docs"] = json!(u64::MAX);
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (set, errors) = load_rules_cached(&paths, &cache);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((set.stats.from_cache, set.stats.failed), (0, 0));

    // A well-formed cache whose rule is not a rule: that rule is not evaluated (and
    // reported), the other one is, nothing panics.
    let mut doc: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let mut broken = 0;
    for entry in doc["files"].as_array_mut().unwrap() {
        if entry["path"].as_str().unwrap().ends_with("whoami.yml") {
            entry["file"]["rules"][0]["Compiled"]["ir"] = json!({"not": "a rule"});
            broken += 1;
        }
    }
    assert_eq!(broken, 1);
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (set, _) = load_rules_cached(&paths, &cache);
    assert_eq!(set.stats.from_cache, 2);
    assert!(
        fired(
            &set,
            &process(1, "C:\\Windows\\System32\\whoami.exe", "whoami")
        )
        .is_empty()
    );
    assert_eq!(
        fired(
            &set,
            &process(2, "C:\\Windows\\System32\\net.exe", "net user admin")
        ),
        ["Net user Some(Medium)"]
    );
}

#[test]
fn loads_with_correlations_do_without_the_cache() {
    let correlation = "title: Whoami then net user
id: 44444444-4444-4444-4444-444444444444
correlation:
  type: temporal_ordered
  rules: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]
  group-by: [Computer]
  timespan: 1m
";
    let Cached {
        rules,
        cache_dir,
        cache,
        paths,
    } = cached_folder(&[
        ("whoami.yml", WHOAMI),
        ("net.yml", NET),
        ("correlation.yml", correlation),
    ]);
    for _ in 0..2 {
        let (set, errors) = load_rules_cached(&paths, &cache);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(set.stats.from_cache, 0);
        assert_eq!(set.correlations().len(), 1);
    }
    assert!(cache_files(cache_dir.path()).is_empty(), "nothing cached");

    // Entries cached before a file became a correlation are not used once it is one.
    let plain = BAD_REGEX.replace("33333333", "55555555");
    std::fs::write(rules.path().join("correlation.yml"), plain).unwrap();
    load_rules_cached(&paths, &cache);
    assert_eq!(load_rules_cached(&paths, &cache).0.stats.from_cache, 3);
    std::fs::write(rules.path().join("correlation.yml"), correlation).unwrap();
    let (set, errors) = load_rules_cached(&paths, &cache);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.stats.from_cache, 0);
    assert_eq!(set.correlations().len(), 1);
}

#[test]
fn a_file_named_twice_loads_as_without_the_cache() {
    let Cached {
        rules,
        cache_dir,
        cache,
        ..
    } = cached_folder(&[("whoami.yml", WHOAMI), ("net.yml", NET)]);
    let file = rules.path().join("whoami.yml");
    let paths = [file.clone(), rules.path().to_path_buf(), file];
    let (plain, plain_errors) = load_rules(&paths);
    for _ in 0..2 {
        let (set, errors) = load_rules_cached(&paths, &cache);
        assert_eq!(errors, plain_errors);
        assert_eq!(set.stats.loaded, plain.stats.loaded);
        assert_eq!(set.len(), plain.len());
    }
    let (set, _) = load_rules_cached(&paths, &cache);
    assert_eq!(set.stats.from_cache, 2, "each distinct file once");
    // ... and the cache is not written again for the file parsed twice.
    let before = written(cache_dir.path());
    load_rules_cached(&paths, &cache);
    assert_eq!(written(cache_dir.path()), before);
}

/// The cache file and when it was last replaced (a write renames a new file into place).
fn written(dir: &Path) -> (PathBuf, std::time::SystemTime, u64) {
    let file = cache_files(dir).pop().unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    (file, meta.modified().unwrap(), inode(&meta))
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

#[test]
fn a_rule_the_cache_cannot_give_back_is_parsed_every_time() {
    // JSON has no text for infinity: this rule's number cannot round-trip.
    let unbounded = "title: Any process id
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        ProcessId|lt: .inf
    condition: selection
";
    let Cached {
        rules: _rules,
        cache_dir,
        cache,
        paths,
    } = cached_folder(&[("unbounded.yml", unbounded), ("net.yml", NET)]);
    let event = Event::from_json(
        Arc::new(PathBuf::from("sysmon.jsonl")),
        1,
        json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
            "EventData": {"Image": "C:\\x\\a.exe", "ProcessId": 4242}}}),
    );
    let (cold, _) = load_rules_cached(&paths, &cache);
    assert_eq!(fired(&cold, &event), ["Any process id None"]);
    let before = written(cache_dir.path());
    for _ in 0..2 {
        let (warm, errors) = load_rules_cached(&paths, &cache);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warm.stats.from_cache, 1, "only the other file");
        assert_eq!(fired(&warm, &event), ["Any process id None"]);
    }
    assert_eq!(written(cache_dir.path()), before, "not written again");
}

#[test]
fn a_cache_entry_cannot_get_past_the_windash_bound() {
    let rule = "title: Encoded flag
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|windash|contains: ' -enc '
    condition: selection
";
    let Cached {
        rules: _rules,
        cache_dir,
        cache,
        paths,
    } = cached_folder(&[("enc.yml", rule)]);
    let (set, _) = load_rules_cached(&paths, &cache);
    let event = process(1, "C:\\x\\powershell.exe", "powershell /enc AAAA");
    assert_eq!(fired(&set, &event), ["Encoded flag None"]);

    // 40 dashes would be 5^40 strings: the entry is refused when the rule is compiled.
    let file = cache_files(cache_dir.path()).pop().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let dashes = format!(" {} ", "-".repeat(40));
    let tampered = text.replace("\" -enc \"", &format!("\"{dashes}\""));
    assert_ne!(tampered, text);
    std::fs::write(&file, tampered).unwrap();
    let (set, _) = load_rules_cached(&paths, &cache);
    assert_eq!(set.stats.from_cache, 1);
    assert!(fired(&set, &event).is_empty());
    assert_eq!(set.compiled_on_use(), 1, "tried once, refused");
}

#[test]
fn writing_a_cache_file_removes_old_ones_and_stale_temp_files() {
    let Cached {
        rules: _rules,
        cache_dir,
        cache,
        paths,
    } = cached_folder(&[("whoami.yml", WHOAMI)]);
    let dir = cache_dir.path();
    let now = std::time::SystemTime::now();
    let hour = std::time::Duration::from_secs(3600);
    let file_aged = |name: &str, age: std::time::Duration| {
        let path = dir.join(name);
        std::fs::write(&path, "{}").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(now - age).unwrap();
        path
    };
    // Other rule-path lists' caches, the first written most recently.
    let older: Vec<PathBuf> = (1..=10)
        .map(|i| file_aged(&format!("sigma-{i:016x}.json"), hour * i))
        .collect();
    let stale_temp = file_aged(".sigma-killed.tmp", hour * 2);
    let fresh_temp = file_aged(".sigma-writing.tmp", std::time::Duration::from_secs(60));
    let unrelated = file_aged("notes.txt", hour * 100);

    let (cold, _) = load_rules_cached(&paths, &cache);
    assert_eq!(cold.stats.from_cache, 0);
    for (n, path) in older.iter().enumerate() {
        assert_eq!(path.exists(), n + 1 < MAX_CACHE_FILES, "{}", path.display());
    }
    assert!(!stale_temp.exists());
    assert!(fresh_temp.exists() && unrelated.exists());
    let caches = cache_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .count();
    assert_eq!(caches, MAX_CACHE_FILES);
    // The file just written is among those kept.
    let (warm, _) = load_rules_cached(&paths, &cache);
    assert_eq!(warm.stats.from_cache, 1);
}
