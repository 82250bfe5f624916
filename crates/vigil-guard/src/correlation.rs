//! Sigma correlations: rules over the detections of other rules in a time window
//! (`event_count`, `value_count`, `temporal`, `temporal_ordered`, `value_sum`,
//! `value_avg`, `value_percentile`, `value_median`), evaluated by rsigma's
//! [`CorrelationEngine`].
//!
//! Detection is stateless and runs in parallel over files and chunks; correlation is
//! stateful and needs events in time order. So the two are split: a [`Correlator`] is fed
//! the detections (alerts) that matching produced, and replays the events behind the
//! alerts of referenced rules, in event-time order, through the correlation engine. Only
//! those events can move a correlation's state, so the replay gives what feeding every
//! event would, at the cost of the alerts only. A stream (stdin, `--follow`) is fed event
//! by event as it arrives instead.
//!
//! The detections passed to the engine are exactly the ones matching made (rsigma's own
//! engine would evaluate each referenced rule on every event, whatever its logsource).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult, JsonEvent,
    TimestampFallback,
};
use serde_json::{Value, json};

use crate::rules::correlations::{CorrelationSet, rule_key};
use crate::rules::severity;
use vigil_core::alert::parse_event_time;
use vigil_core::{Alert, AlertEvent, MatchedField};

/// Contributing events kept per correlation alert (the most recent ones).
const MAX_EVENTS_PER_ALERT: usize = 25;

/// The key alerts and rules are matched by: the rule id, else its title.
fn alert_key(a: &Alert) -> &str {
    a.rule_id.as_deref().unwrap_or(&a.title)
}

// Defined here rather than beside the set, so that the loader needs no correlator.
impl CorrelationSet {
    /// A correlator with empty state.
    pub fn correlator(&self) -> Correlator {
        let config = CorrelationConfig {
            // Times are read by the correlator from the event's time.
            timestamp_fallback: TimestampFallback::Skip,
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: MAX_EVENTS_PER_ALERT,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        // The engine evaluates its rules only to hand back their results; no bloom.
        engine.set_bloom_max_bytes(0);
        let mut rules_ok = HashSet::new();
        for rule in &self.rules {
            if engine.add_rule(rule).is_ok() {
                rules_ok.insert(rule_key(rule).to_string());
            }
        }
        let mut paths = HashMap::new();
        for (corr, path) in &self.correlations {
            if engine.add_correlation(corr).is_ok() {
                paths.insert(
                    corr.id.clone().unwrap_or_else(|| corr.title.clone()),
                    path.clone(),
                );
            }
        }
        Correlator {
            engine,
            set: self.clone(),
            paths,
            replayed: Vec::new(),
            untimed: 0,
        }
    }
}

/// Correlation state over one run (see the module docs).
pub struct Correlator {
    engine: CorrelationEngine,
    set: CorrelationSet,
    /// Correlation id (else title) → its file.
    paths: HashMap<String, Arc<PathBuf>>,
    /// Each replayed event: (source, record, time), indexed by the `_id` given to it.
    replayed: Vec<(PathBuf, u64, Option<String>)>,
    /// Events of referenced rules that had no readable time, so could not be placed.
    untimed: u64,
}

impl Correlator {
    /// Whether this alert's rule only feeds correlations (`generate: false`), so that it
    /// is not shown on its own.
    pub fn is_correlation_only(&self, alert: &Alert) -> bool {
        self.set.correlation_only.contains(alert_key(alert))
    }

    /// Events with detections of referenced rules but no readable event time: they
    /// could not be placed in time and did not count.
    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// Feed the alerts of one event (as matching returned them, before any filter), in
    /// arrival order; returns the correlation alerts this event completes.
    pub fn observe(&mut self, alerts: &[Alert]) -> Vec<Alert> {
        let fed: Vec<&Alert> = alerts
            .iter()
            .filter(|a| self.set.referenced.contains(alert_key(a)))
            .collect();
        let Some(first) = fed.first() else {
            return Vec::new();
        };
        let Some(ts) = first.time.as_deref().and_then(parse_event_time) else {
            self.untimed += 1;
            return Vec::new();
        };
        self.replay(&fed, ts)
    }

    /// Correlate the alerts of a whole batch (any order): events are replayed by event
    /// time, then file and record.
    pub fn correlate(&mut self, alerts: &[Alert]) -> Vec<Alert> {
        // The alerts of one event are adjacent in matching's output; group them.
        let mut events: Vec<(i64, Vec<&Alert>)> = Vec::new();
        let mut last: Option<(&PathBuf, u64)> = None;
        for a in alerts
            .iter()
            .filter(|a| self.set.referenced.contains(alert_key(a)))
        {
            let this = (&a.source, a.record);
            if last == Some(this)
                && let Some((_, group)) = events.last_mut()
            {
                group.push(a);
                continue;
            }
            last = Some(this);
            match a.time.as_deref().and_then(parse_event_time) {
                Some(ts) => events.push((ts, vec![a])),
                None => {
                    self.untimed += 1;
                    last = None;
                }
            }
        }
        events.sort_by(|(ta, a), (tb, b)| {
            (ta, &a[0].source, a[0].record).cmp(&(tb, &b[0].source, b[0].record))
        });
        let mut out = Vec::new();
        for (ts, group) in events {
            out.extend(self.replay(&group, ts));
        }
        out
    }

    fn replay(&mut self, alerts: &[&Alert], ts: i64) -> Vec<Alert> {
        let first = alerts[0];
        let mut event = first.event.value().clone();
        let index = self.replayed.len();
        if let Value::Object(map) = &mut event {
            // The id the engine keeps for each contributing event (see `EventRef`).
            map.insert("_id".into(), Value::from(index.to_string()));
        }
        self.replayed
            .push((first.source.clone(), first.record, first.time.clone()));
        let json = JsonEvent::borrow(&event);
        let matched: HashSet<&str> = alerts.iter().map(|a| alert_key(a)).collect();
        // Exactly the detections matching made on this event.
        let detections: Vec<EvaluationResult> = self
            .engine
            .evaluate(&json)
            .into_iter()
            .filter(|d| {
                matched.contains(d.header.rule_id.as_deref().unwrap_or(&d.header.rule_title))
            })
            .collect();
        self.engine
            .process_with_detections(&json, detections, ts)
            .into_iter()
            .filter_map(|r| self.to_alert(first, r))
            .collect()
    }

    fn to_alert(&self, trigger: &Alert, result: EvaluationResult) -> Option<Alert> {
        let body = result.as_correlation()?;
        let h = &result.header;
        let mut matched: Vec<MatchedField> = body
            .group_key
            .iter()
            .map(|(field, value)| MatchedField {
                field: field.clone(),
                value: value.clone(),
            })
            .collect();
        let kind = serde_json::to_value(body.correlation_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{:?}", body.correlation_type));
        matched.push(MatchedField {
            field: kind.clone(),
            value: number_text(body.aggregated_value),
        });
        let events: Vec<Value> = body
            .event_refs
            .iter()
            .flatten()
            .map(|r| {
                let known =
                    r.id.as_deref()
                        .and_then(|id| id.parse::<usize>().ok())
                        .and_then(|i| self.replayed.get(i));
                match known {
                    Some((source, record, time)) => json!({
                        "source": source.display().to_string(),
                        "record": record,
                        "time": time,
                    }),
                    None => json!({ "id": r.id, "timestamp": r.timestamp }),
                }
            })
            .collect();
        let key = h.rule_id.clone().unwrap_or_else(|| h.rule_title.clone());
        Some(Alert {
            rule_id: h.rule_id.clone(),
            title: h.rule_title.clone(),
            level: severity(h.level),
            tags: h.tags.clone(),
            rule_path: self.paths.get(&key).map(|p| p.to_path_buf()),
            source: trigger.source.to_path_buf(),
            record: trigger.record,
            time: trigger.time.clone(),
            matched,
            event: AlertEvent::from(json!({
                // The host of the event that completed it, for views grouped by host.
                "Computer": trigger.event.field("Computer"),
                "correlation": {
                    "type": kind,
                    "group": body
                        .group_key
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect::<serde_json::Map<_, _>>(),
                    "value": body.aggregated_value,
                    "timespan_seconds": body.timespan_secs,
                    "events": events,
                }
            })),
        })
    }
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
