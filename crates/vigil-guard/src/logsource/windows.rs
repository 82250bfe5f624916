//! The Windows logsource and field mapping, kept as data in `pipelines/windows.yml`.
//!
//! The file is written in rsigma's pipeline format: for every Sigma `service` an
//! `add_condition` on `Channel`, for every `category` one on `Channel` and `EventID`, each
//! under a `logsource` rule condition. That is the standard way to state the mapping
//! (pySigma's windows and sysmon pipelines), and the rsigma CLI can load the same file
//! (`-p windows.yml`) for side-by-side runs.
//!
//! Vigil reads it **backwards**, from an event to its logsources, and routes each event to
//! the rules of those logsources ([`WindowsMapping::event_logsources`], used by
//! [`crate::rules`] and [`crate::matching`]). Why not apply it to the rules, as a pipeline is meant to be:
//!
//! * rsigma's `Engine::evaluate` ignores a rule's `logsource` entirely, so *something* must
//!   keep a Security rule off Sysmon events and a `process_creation` rule off everything
//!   that is not a process creation;
//! * compiled into the rules, the `Channel`/`EventID` conditions become the cheapest
//!   "necessary condition" rsigma's candidate index keys a rule on, and every Sysmon event
//!   then selects every Sysmon rule: measured on the 277 EVTX attack samples with all
//!   SigmaHQ rules, matching was about 10x slower than with routing, for the same alerts;
//! * routing also never relabels a rule, so rsigma's built-in `sysmon` pipeline problem
//!   (its `change_logsource` turns every Windows rule into a Sysmon rule) cannot occur.
//!
//! The same file carries `event_aliases` (a key rsigma ignores): fields that one source
//! (Security 4688) writes under other names than the Sysmon names the rules use. They are
//! added to the flattened event; a rule-side rename could not depend on the event.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use rsigma_eval::pipeline::conditions::RuleCondition;
use rsigma_eval::pipeline::transformations::Transformation;
use rsigma_eval::{Pipeline, parse_pipeline};
use rsigma_parser::{LogSource, SigmaValue};
use serde::Deserialize;
use serde_json::Value;

use crate::fields::{FieldRef, Fields};

/// The Windows pipeline shipped with Vigil.
pub const WINDOWS_PIPELINE_YAML: &str = include_str!("../../pipelines/windows.yml");

/// Why a mapping file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// rsigma rejected the pipeline part.
    #[error("pipeline: {0}")]
    Pipeline(String),
    /// The `event_aliases` part is malformed.
    #[error("event_aliases: {0}")]
    Aliases(String),
}

/// Event-side field aliases for one source (see `event_aliases` in the pipeline file).
#[derive(Debug, Clone, Deserialize)]
pub struct AliasRule {
    /// The `Channel` the event must have (case-insensitive).
    pub channel: String,
    /// The `EventID`s it applies to.
    pub event_ids: Vec<u64>,
    /// Sigma field name → the event's own field name.
    pub fields: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct AliasSection {
    #[serde(default)]
    event_aliases: Vec<AliasRule>,
}

/// Conditions one pipeline item adds, kept for reading the mapping backwards.
#[derive(Debug, Clone)]
struct Route {
    logsource: LogSource,
    channels: Vec<String>,
    event_ids: Vec<i64>,
}

/// The parsed Windows mapping: the rsigma pipeline plus the event-side aliases.
#[derive(Debug, Clone)]
pub struct WindowsMapping {
    pipeline: Pipeline,
    aliases: Vec<AliasRule>,
    routes: Vec<Route>,
    /// Lower-cased channel → indices into `routes`.
    by_channel: HashMap<String, Vec<usize>>,
    /// Lower-cased services and categories that have a route.
    services: HashSet<String>,
    categories: HashSet<String>,
}

impl WindowsMapping {
    /// Parse a mapping file (the format of `pipelines/windows.yml`).
    pub fn from_yaml(yaml: &str) -> Result<Self, MappingError> {
        let pipeline = parse_pipeline(yaml).map_err(|e| MappingError::Pipeline(e.to_string()))?;
        let section: AliasSection =
            yaml_serde::from_str(yaml).map_err(|e| MappingError::Aliases(e.to_string()))?;
        let routes = pipeline
            .transformations
            .iter()
            .filter_map(|item| {
                let Transformation::AddCondition {
                    conditions,
                    negated: false,
                    ..
                } = &item.transformation
                else {
                    return None;
                };
                let logsource = item
                    .rule_conditions
                    .iter()
                    .find_map(|c| match &c.condition {
                        RuleCondition::Logsource {
                            category,
                            product,
                            service,
                        } => Some(LogSource {
                            category: category.clone(),
                            product: product.clone(),
                            service: service.clone(),
                            ..LogSource::default()
                        }),
                        _ => None,
                    })?;
                let channels = conditions
                    .get("Channel")
                    .map(|vs| vs.iter().filter_map(value_string).collect())
                    .unwrap_or_default();
                let event_ids = conditions
                    .get("EventID")
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|v| match v {
                                SigmaValue::Integer(n) => Some(*n),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some(Route {
                    logsource,
                    channels,
                    event_ids,
                })
            })
            .collect::<Vec<Route>>();
        let mut by_channel: HashMap<String, Vec<usize>> = HashMap::new();
        let mut services = HashSet::new();
        let mut categories = HashSet::new();
        for (i, r) in routes.iter().enumerate() {
            for c in &r.channels {
                by_channel
                    .entry(c.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
            if let Some(s) = &r.logsource.service {
                services.insert(s.to_ascii_lowercase());
            }
            if let Some(c) = &r.logsource.category {
                categories.insert(c.to_ascii_lowercase());
            }
        }
        Ok(WindowsMapping {
            pipeline,
            aliases: section.event_aliases,
            routes,
            by_channel,
            services,
            categories,
        })
    }

    /// The mapping shipped with Vigil (`pipelines/windows.yml`, embedded at build time).
    pub fn builtin() -> &'static WindowsMapping {
        static BUILTIN: OnceLock<WindowsMapping> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // The file is part of the crate, not user input; `builtin_mapping_parses`
            // guards it.
            WindowsMapping::from_yaml(WINDOWS_PIPELINE_YAML)
                .unwrap_or_else(|e| panic!("embedded pipelines/windows.yml is invalid: {e}"))
        })
    }

    /// The rule-side rsigma pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The event-side alias rules.
    pub fn aliases(&self) -> &[AliasRule] {
        &self.aliases
    }

    /// Whether some event log channel carries a Windows rule's logsource.
    ///
    /// A rule whose service or category has no route (`file_access`, `file_rename`:
    /// ETW-only sources that no event log channel carries) can never be routed an event;
    /// the loader lists it instead of keeping it silently. Rules of other products, and
    /// Windows rules with neither service nor category, are always covered.
    pub fn covers(&self, logsource: &LogSource) -> bool {
        if !logsource
            .product
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("windows"))
        {
            return true;
        }
        let known = |v: &Option<String>, set: &HashSet<String>| {
            v.as_deref()
                .is_none_or(|v| set.contains(&v.to_ascii_lowercase()))
        };
        known(&logsource.service, &self.services) && known(&logsource.category, &self.categories)
    }

    /// Add the Sigma-name aliases the event's source calls for (only names it lacks).
    pub fn apply_aliases(&self, fields: &mut Fields) {
        if self.aliases.is_empty() {
            return;
        }
        let Some(event_id) = fields.get("EventID").and_then(field_u64) else {
            return;
        };
        let Some(channel) = fields.get("Channel").and_then(FieldRef::as_str) else {
            return;
        };
        let matching: Vec<&AliasRule> = self
            .aliases
            .iter()
            .filter(|r| r.event_ids.contains(&event_id) && r.channel.eq_ignore_ascii_case(channel))
            .collect();
        for rule in matching {
            for (sigma, native) in &rule.fields {
                if fields.contains_key(sigma) {
                    continue;
                }
                if let Some(v) = fields.get(native).map(FieldRef::to_value) {
                    fields.insert(sigma, v);
                }
            }
        }
    }

    /// Every channel the mapping routes, lower-cased, with the spellings it is written
    /// in and the EventIDs its routes name: the only values routing tells apart (an
    /// EventID no route names routes like an event without one).
    pub(crate) fn routed_channels(&self) -> Vec<(String, Vec<String>, Vec<u64>)> {
        let mut out: Vec<(String, Vec<String>, Vec<u64>)> = self
            .by_channel
            .iter()
            .map(|(lower, routes)| {
                let mut spellings = Vec::new();
                let mut ids = Vec::new();
                for &i in routes {
                    let r = &self.routes[i];
                    spellings.extend(
                        r.channels
                            .iter()
                            .filter(|c| c.to_ascii_lowercase() == *lower)
                            .cloned(),
                    );
                    ids.extend(r.event_ids.iter().map(|&e| e as u64));
                }
                spellings.sort();
                spellings.dedup();
                ids.sort_unstable();
                ids.dedup();
                (lower.clone(), spellings, ids)
            })
            .collect();
        out.sort();
        out
    }

    /// The logsources a Windows event belongs to, from its `Channel` and `EventID`: each
    /// combines the channel's service (if any) with one category (if any), all with
    /// `product: windows`. A Sysmon registry value change gives `sysmon/registry_set` and
    /// `sysmon/registry_event`; a Security 4688 gives `security/process_creation`; an
    /// event of an unmapped channel, or without one, gives a bare `windows`.
    pub fn event_logsources(&self, fields: &Value) -> Vec<LogSource> {
        let mut services: Vec<&str> = Vec::new();
        let mut categories: Vec<&str> = Vec::new();
        if let Some(channel) = fields.get("Channel").and_then(Value::as_str)
            && let Some(routes) = self.by_channel.get(&channel.to_ascii_lowercase())
        {
            let event_id = fields.get("EventID").and_then(value_u64);
            for &i in routes {
                let r = &self.routes[i];
                let id_ok = r.event_ids.is_empty()
                    || event_id.is_some_and(|id| r.event_ids.iter().any(|e| *e as u64 == id));
                if !id_ok {
                    continue;
                }
                if let Some(c) = r.logsource.category.as_deref() {
                    categories.push(c);
                } else if let Some(s) = r.logsource.service.as_deref() {
                    services.push(s);
                }
            }
        }
        let services: Vec<Option<&str>> = if services.is_empty() {
            vec![None]
        } else {
            services.into_iter().map(Some).collect()
        };
        let categories: Vec<Option<&str>> = if categories.is_empty() {
            vec![None]
        } else {
            categories.into_iter().map(Some).collect()
        };
        let mut out = Vec::with_capacity(services.len() * categories.len());
        for s in &services {
            for c in &categories {
                out.push(LogSource {
                    product: Some("windows".to_string()),
                    service: s.map(str::to_string),
                    category: c.map(str::to_string),
                    ..LogSource::default()
                });
            }
        }
        out
    }
}

fn value_string(v: &SigmaValue) -> Option<String> {
    match v {
        SigmaValue::String(s) => Some(s.original.clone()),
        _ => None,
    }
}

/// [`value_u64`] of a value of a flat map.
pub(crate) fn field_u64(v: FieldRef<'_>) -> Option<u64> {
    match v {
        FieldRef::Number(n) => n.as_u64(),
        FieldRef::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::matching::match_event;
    use crate::rules::load_rules_from_strs;
    use rsigma_eval::{Engine, JsonEvent};
    use rsigma_parser::parse_sigma_yaml;
    use serde_json::json;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn rule(logsource: &str, detection: &str) -> String {
        format!(
            "title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n{logsource}\ndetection:\n{detection}\n    condition: selection\nlevel: high\n"
        )
    }

    fn fires(rule: &str, record: Value) -> bool {
        let (set, errors) = load_rules_from_strs(&[(PathBuf::from("r.yml"), rule.to_string())]);
        assert!(errors.is_empty(), "{errors:?}");
        let event = Event::from_json(Arc::new(PathBuf::from("e.json")), 1, record);
        !match_event(&set, &event).is_empty()
    }

    fn sysmon(eid: u64, data: Value) -> Value {
        json!({"Event": {"System": {"EventID": eid, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}}, "EventData": data}})
    }

    fn names(m: &WindowsMapping, record: Value) -> Vec<String> {
        let flat = crate::event::flatten(record);
        m.event_logsources(&flat)
            .into_iter()
            .map(|l| {
                format!(
                    "{}/{}",
                    l.service.unwrap_or_default(),
                    l.category.unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn builtin_mapping_parses() {
        let m = WindowsMapping::from_yaml(WINDOWS_PIPELINE_YAML).expect("windows.yml parses");
        assert!(m.pipeline().transformations.len() > 60);
        assert_eq!(m.aliases().len(), 1);
    }

    #[test]
    fn event_logsources_read_the_mapping_backwards() {
        let m = WindowsMapping::builtin();
        let mut reg = names(m, sysmon(13, json!({})));
        reg.sort();
        assert_eq!(reg, vec!["sysmon/registry_event", "sysmon/registry_set"]);
        assert_eq!(
            names(m, sysmon(1, json!({}))),
            vec!["sysmon/process_creation"]
        );
        let sec = json!({"Event": {"System": {"EventID": 4688, "Channel": "security"}}});
        assert_eq!(names(m, sec), vec!["security/process_creation"]);
        let logon = json!({"Event": {"System": {"EventID": 4624, "Channel": "Security"}}});
        assert_eq!(names(m, logon), vec!["security/"]);
        let ps = json!({"Event": {"System": {"EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational"}}});
        assert_eq!(names(m, ps), vec!["powershell/ps_script"]);
        let unknown = json!({"Event": {"System": {"EventID": 1, "Channel": "Some/Other"}}});
        assert_eq!(names(m, unknown), vec!["/"]);
    }

    #[test]
    fn process_creation_needs_the_right_event_id_and_channel() {
        let r = rule(
            "    product: windows\n    category: process_creation",
            "    selection:\n        Image|endswith: '\\whoami.exe'",
        );
        assert!(fires(&r, sysmon(1, json!({"Image": "C:\\x\\whoami.exe"}))));
        // Same field on a Sysmon process termination: not a process creation.
        assert!(!fires(&r, sysmon(5, json!({"Image": "C:\\x\\whoami.exe"}))));
        // Same EventID on another channel.
        let other = json!({"Event": {"System": {"EventID": 1, "Channel": "Application"},
            "EventData": {"Image": "C:\\x\\whoami.exe"}}});
        assert!(!fires(&r, other));
    }

    #[test]
    fn security_4688_is_process_creation_with_renamed_fields() {
        let r = rule(
            "    product: windows\n    category: process_creation",
            "    selection:\n        Image|endswith: '\\whoami.exe'\n        ParentImage|endswith: '\\cmd.exe'\n        User: 'alice'",
        );
        let ev = json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"},
            "EventData": {"NewProcessName": "C:\\Windows\\System32\\whoami.exe",
                "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
                "SubjectUserName": "alice", "CommandLine": "whoami"}}});
        assert!(fires(&r, ev));
    }

    #[test]
    fn service_rules_stay_on_their_channel() {
        let r = rule(
            "    product: windows\n    service: security",
            "    selection:\n        EventID: 1",
        );
        // A Sysmon EventID 1 is not a Security event (rsigma's own sysmon pipeline
        // would relabel this rule as Sysmon).
        assert!(!fires(&r, sysmon(1, json!({"Image": "x"}))));
        let sec = json!({"Event": {"System": {"EventID": 1, "Channel": "Security"}}});
        assert!(fires(&r, sec));
    }

    #[test]
    fn registry_event_covers_all_sysmon_registry_ids() {
        let r = rule(
            "    product: windows\n    category: registry_event",
            "    selection:\n        TargetObject|contains: '\\Run\\'",
        );
        for id in [12, 13, 14] {
            assert!(fires(
                &r,
                sysmon(id, json!({"TargetObject": "HKLM\\Software\\Run\\x"}))
            ));
        }
        assert!(!fires(
            &r,
            sysmon(11, json!({"TargetObject": "HKLM\\Software\\Run\\x"}))
        ));
    }

    #[test]
    fn application_rules_match_unnamed_data() {
        let r = rule(
            "    product: windows\n    service: application",
            "    selection:\n        Provider_Name|contains: 'MSSQL'\n        EventID: 33205\n        Data|contains|all:\n            - 'object_name:xp_cmdshell'\n            - 'statement:EXEC'",
        );
        let ev = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "MSSQL$SQLEXPRESS"}},
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 33205},
            "Channel": "Application"},
            "EventData": {"Data": {"#text": ["object_name:xp_cmdshell", "statement:EXEC xp_cmdshell 'whoami'"]}}}});
        assert!(fires(&r, ev));
    }

    #[test]
    fn covers_flags_windows_logsources_without_a_channel() {
        let m = WindowsMapping::builtin();
        let ls = |service: Option<&str>, category: Option<&str>| LogSource {
            product: Some("windows".to_string()),
            service: service.map(str::to_string),
            category: category.map(str::to_string),
            ..LogSource::default()
        };
        assert!(!m.covers(&ls(None, Some("file_access"))));
        assert!(!m.covers(&ls(Some("no-such-service"), None)));
        assert!(m.covers(&ls(None, Some("process_creation"))));
        assert!(m.covers(&ls(Some("Security"), None)));
        assert!(m.covers(&ls(None, None)));
        let linux = LogSource {
            product: Some("linux".to_string()),
            category: Some("file_access".to_string()),
            ..LogSource::default()
        };
        assert!(m.covers(&linux));
    }

    #[test]
    fn file_also_works_as_an_rsigma_pipeline() {
        // What the rsigma CLI does with `-p windows.yml`: rule-side conditions.
        let yaml = rule(
            "    product: windows\n    service: security",
            "    selection:\n        EventID: 1",
        );
        let coll = parse_sigma_yaml(&yaml).expect("parses");
        let mut engine = Engine::new_with_pipeline(WindowsMapping::builtin().pipeline().clone());
        engine.add_collection(&coll).expect("compiles");
        let flat = crate::event::flatten(sysmon(1, json!({})));
        assert!(engine.evaluate(&JsonEvent::borrow(&flat)).is_empty());
        let flat = crate::event::flatten(
            json!({"Event": {"System": {"EventID": 1, "Channel": "Security"}}}),
        );
        assert_eq!(engine.evaluate(&JsonEvent::borrow(&flat)).len(), 1);
    }
}
