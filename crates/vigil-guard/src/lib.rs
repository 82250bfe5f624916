//! `vigil-guard`: Sigma detection over Windows EVTX and JSON event logs.
//!
//! Sigma parsing, compiling and matching are rsigma's (`rsigma-parser`, `rsigma-eval`);
//! this crate is what sits around that engine. The modules, in the order data flows through them; each imports only modules before
//! it (and `vigil-core`):
//!
//! * [`fields`]: the flat field map an event is matched against;
//! * [`logsource`]: event shaping (the JSON shape a collector wrote a Windows event in:
//!   NXLog, Winlogbeat 6, ECS, renamed to the EVTX names the rules use) and the Windows
//!   logsource mapping (`pipelines/windows.yml`, in rsigma's pipeline format, read
//!   backwards to route each event to the rules of its logsources; plus event-side field
//!   aliases for Security 4688);
//! * [`event`]: flatten EVTX records and JSON into the field map Sigma rules expect;
//! * [`input`]: one [`EventSource`] per format (EVTX, parallel over chunks; JSON lines
//!   from files, standard input or a followed file; JSON documents), with per-record
//!   errors instead of panics;
//! * [`rules`]: load SigmaHQ-style rule folders into a [`RuleSet`] (routing, the literal
//!   prefilter, the rule cache, the correlation rules), listing every file or rule that
//!   did not load with its reason;
//! * [`matching`]: events → [`Alert`]s: each event is routed to the rules of its
//!   logsources, a literal prefilter (one Aho-Corasick pass over the event's values, see
//!   `prefilter.rs`) skips the rules that cannot match it, and rsigma evaluates the rest;
//!   plus parallel scans over files;
//! * [`correlation`]: Sigma correlation rules (counts, distinct values, temporal
//!   sequences over a time window) over the detections, in event-time order;
//! * [`view`]: what is shown: filters (level, time, rule), the timeline order, the
//!   table / CSV / JSON-lines writers and the summary;
//! * [`pipeline`]: the whole run, files as a batch and streams as they arrive.
//!
//! ```
//! use std::path::PathBuf;
//! use vigil_guard::{Event, load_rules_from_strs, match_events};
//!
//! let rule = "title: Whoami\nid: 5c4c7f0e-0000-4000-8000-000000000001\nlevel: medium\n\
//!     logsource: {product: windows, category: process_creation}\n\
//!     detection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\n";
//! let (rules, errors) = load_rules_from_strs(&[(PathBuf::from("whoami.yml"), rule.into())]);
//! assert!(errors.is_empty());
//! let record = serde_json::json!({"Event": {
//!     "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
//!     "EventData": {"Image": "C:\\Windows\\System32\\whoami.exe"}}});
//! let event = Event::from_json(PathBuf::from("sysmon.json").into(), 1, record);
//! let alerts = match_events(&rules, [event]);
//! assert_eq!(alerts[0].title, "Whoami");
//! ```

pub mod correlation;
pub mod event;
pub mod fields;
pub mod input;
pub mod logsource;
pub mod matching;
pub mod pipeline;
mod prefilter;
pub mod rules;
pub mod view;

pub use correlation::Correlator;
pub use event::{Event, flatten};
pub use fields::{FieldRef, Fields};
pub use input::{
    EventSource, InputFormat, ReadError, detect_format, open_input, read_events, read_evtx,
    read_json, read_jsonl, read_jsonl_from,
};
pub use logsource::WindowsMapping;
pub use matching::{
    Alert, MatchedField, ScanOutcome, match_event, match_events, scan_file, scan_files,
};
pub use prefilter::PrefilterStats;
pub use rules::cache::{MAX_CACHE_FILES, RuleCache};
pub use rules::correlations::CorrelationSet;
pub use rules::{
    LoadErrorKind, LoadStats, RuleInfo, RuleLoadError, RuleSet, load_rules, load_rules_cached,
    load_rules_from_strs, load_rules_from_strs_cached, load_rules_with,
};

pub use rsigma_eval;
pub use rsigma_parser;
