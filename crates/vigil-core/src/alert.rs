//! Alerts: detections over event streams (`vigil guard`), read by response, eval and triage.

use crate::Severity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// One rule matching one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's id (Sigma rules have a UUID; some have none).
    pub rule_id: Option<String>,
    pub title: String,
    pub level: Option<Severity>,
    /// Rule tags; ATT&CK tactics and techniques are `attack.*`.
    pub tags: Vec<String>,
    /// The rule file.
    pub rule_path: Option<PathBuf>,
    /// The log file (or `-` for standard input) the event came from.
    pub source: PathBuf,
    /// The event's record id (EVTX) or line / position (JSON).
    pub record: u64,
    /// The event time, as written in the event.
    pub time: Option<String>,
    /// The fields and values that matched.
    pub matched: Vec<MatchedField>,
    /// The matched event as a flat field map.
    pub event: AlertEvent,
}

/// The event an alert matched: a JSON object, shared by every alert on the same event.
///
/// It is kept as the JSON text JSONL output writes (built once per event, not once per
/// alert), and parsed into a [`Value`] only when a field is first read from it.
#[derive(Clone)]
pub struct AlertEvent(Arc<EventText>);

struct EventText {
    json: Box<RawValue>,
    value: OnceLock<Value>,
    /// No two entries of the object have the same name: a lookup in the text can stop
    /// at the first.
    unique_keys: bool,
}

impl AlertEvent {
    /// An event from its JSON text.
    pub fn from_json(json: Box<RawValue>) -> Self {
        Self::from_text(json, false)
    }

    /// An event from the JSON text of an object known to have no repeated names (as a
    /// map serializes): [`AlertEvent::field`] stops reading at the field.
    pub fn from_json_unique_keys(json: Box<RawValue>) -> Self {
        Self::from_text(json, true)
    }

    fn from_text(json: Box<RawValue>, unique_keys: bool) -> Self {
        AlertEvent(Arc::new(EventText {
            json,
            value: OnceLock::new(),
            unique_keys,
        }))
    }

    /// The event's JSON text.
    pub fn json(&self) -> &str {
        self.0.json.get()
    }

    /// The event as a JSON value (parsed on first use, then kept).
    pub fn value(&self) -> &Value {
        self.0
            .value
            .get_or_init(|| serde_json::from_str(self.0.json.get()).unwrap_or(Value::Null))
    }

    /// A top-level field of the event.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.value().get(name)
    }

    /// A top-level field of the event, read from the text when the event has not been
    /// parsed (the summary reads `Computer` of every alert: parsing all of each event for
    /// it cost more than writing the alerts).
    pub fn field(&self, name: &str) -> Option<Value> {
        match self.0.value.get() {
            Some(value) => value.get(name).cloned(),
            None => top_level_field(self.json(), name, self.0.unique_keys),
        }
    }
}

/// The value of the last top-level entry named `name` in a JSON object's text (what
/// parsing the whole object gives), skipping the other values without building them;
/// with `unique_keys`, of the first, and the rest is not read.
fn top_level_field(json: &str, name: &str, unique_keys: bool) -> Option<Value> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    struct IsKey<'a>(&'a str);
    impl<'de> DeserializeSeed<'de> for IsKey<'_> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl<'de> Visitor<'de> for IsKey<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
            Ok(key == self.0)
        }
    }

    /// Puts the value in `found`; with `first`, stops there (the parser then reports
    /// the object unfinished, which is not an error here).
    struct Find<'a> {
        name: &'a str,
        first: bool,
        found: &'a mut Option<Value>,
    }
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(is_key) = map.next_key_seed(IsKey(self.name))? {
                if is_key {
                    *self.found = Some(map.next_value()?);
                    if self.first {
                        return Ok(());
                    }
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }

    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let read = de.deserialize_map(Find {
        name,
        first: unique_keys,
        found: &mut found,
    });
    // A text that is not an object, or breaks off before the field, gives nothing.
    if read.is_err() && !(unique_keys && found.is_some()) {
        return None;
    }
    found
}

/// `event["Image"]`, as indexing the [`Value`] (`Null` when absent).
impl std::ops::Index<&str> for AlertEvent {
    type Output = Value;
    fn index(&self, name: &str) -> &Value {
        &self.value()[name]
    }
}

impl From<Value> for AlertEvent {
    fn from(value: Value) -> Self {
        // Any `Value` has a JSON text (non-finite numbers are not representable in one).
        let json = serde_json::value::to_raw_value(&value)
            .unwrap_or_else(|_| RawValue::from_string("null".to_string()).expect("valid JSON"));
        let text = EventText {
            json,
            value: OnceLock::from(value),
            unique_keys: true,
        };
        AlertEvent(Arc::new(text))
    }
}

impl Default for AlertEvent {
    fn default() -> Self {
        AlertEvent::from(Value::Null)
    }
}

impl PartialEq for AlertEvent {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.value() == other.value()
    }
}

impl fmt::Debug for AlertEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for AlertEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(s)
    }
}

impl<'de> Deserialize<'de> for AlertEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(AlertEvent::from_json)
    }
}

/// A field the rule matched on, and its value in the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedField {
    /// Field name (empty for keyword matches).
    pub field: String,
    /// The event's value.
    pub value: String,
}

impl Alert {
    /// The ATT&CK technique ids among the tags (`attack.t1059.001` → `T1059.001`).
    pub fn techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("attack."))
            .filter(|t| {
                t.strip_prefix('t')
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .map(|t| t.to_ascii_uppercase())
            .collect()
    }

    /// A field of the event, as text: `Computer`, `Image`, or a dotted path into nested JSON.
    pub fn field(&self, name: &str) -> Option<String> {
        let mut v = self.event.field(name);
        if v.is_none() && name.contains('.') {
            let mut cur = Some(self.event.value());
            for part in name.split('.') {
                cur = cur.and_then(|c| c.get(part));
            }
            v = cur.cloned();
        }
        match v? {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// Seconds since the epoch of an event time (as [`Alert::time`] holds it): RFC 3339 (`2019-03-19T23:34:25.123456Z`),
/// the same with a space or without a zone (read as UTC), or epoch seconds or
/// milliseconds.
pub fn parse_event_time(t: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    let t = t.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp());
    }
    let spaced = t.replacen(' ', "T", 1);
    if let Ok(d) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(d.timestamp());
    }
    let bare = spaced.trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(bare, f) {
            return Some(d.and_utc().timestamp());
        }
    }
    let n: f64 = t.parse().ok()?;
    // Past 10^11 seconds (year 5138) a number is milliseconds.
    let secs = if n.abs() >= 1e11 { n / 1000.0 } else { n };
    secs.is_finite().then_some(secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(event: serde_json::Value, tags: &[&str]) -> Alert {
        Alert {
            rule_id: Some("r1".into()),
            title: "t".into(),
            level: Some(Severity::High),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            rule_path: None,
            source: PathBuf::from("x.evtx"),
            record: 7,
            time: None,
            matched: Vec::new(),
            event: event.into(),
        }
    }

    #[test]
    fn techniques_are_read_from_attack_tags_only() {
        let a = alert(
            serde_json::json!({}),
            &[
                "attack.execution",
                "attack.t1059.001",
                "cve.2021-1",
                "attack.t1003",
            ],
        );
        assert_eq!(a.techniques(), vec!["T1059.001", "T1003"]);
    }

    #[test]
    fn fields_are_read_flat_or_dotted() {
        let a = alert(
            serde_json::json!({"Computer": "ws1", "EventID": 4688, "net": {"ip": "10.0.0.5"}}),
            &[],
        );
        assert_eq!(a.field("Computer").as_deref(), Some("ws1"));
        assert_eq!(a.field("EventID").as_deref(), Some("4688"));
        assert_eq!(a.field("net.ip").as_deref(), Some("10.0.0.5"));
        assert_eq!(a.field("missing"), None);
    }

    #[test]
    fn events_are_written_as_their_json_text_and_read_back() {
        let text = r#"{"Image":"C:\\x.exe","EventID":4688,"n":{"a":[1,null]}}"#;
        let mut a = alert(serde_json::json!({}), &["attack.t1003"]);
        a.event = AlertEvent::from_json(RawValue::from_string(text.to_string()).unwrap());
        let shared = a.clone();
        assert_eq!(shared.event.json(), text);
        assert_eq!(a.event.field("EventID"), Some(serde_json::json!(4688)));
        assert_eq!(a.field("Image").as_deref(), Some("C:\\x.exe"));
        assert_eq!(a.event.field("a"), None);
        // Read from the text, the last entry of a name wins, as when parsed.
        let twice = RawValue::from_string(r#"{"k":1,"x":{"k":2},"k":3}"#.into()).unwrap();
        let twice = AlertEvent::from_json(twice);
        assert_eq!(twice.field("k"), Some(serde_json::json!(3)));
        assert_eq!(twice["k"], serde_json::json!(3));
        let unique = RawValue::from_string(r#"{"k":1,"k":3}"#.into()).unwrap();
        let unique = AlertEvent::from_json_unique_keys(unique);
        assert_eq!(unique.field("k"), Some(serde_json::json!(1)));
        let not_object = AlertEvent::from_json(RawValue::from_string("[1]".into()).unwrap());
        assert_eq!(not_object.field("k"), None);
        assert_eq!(a.event["EventID"], serde_json::json!(4688));
        assert_eq!(a.field("n.a"), Some("[1,null]".to_string()));
        let line = serde_json::to_string(&a).unwrap();
        assert!(line.contains(&format!(r#""event":{text}"#)), "{line}");
        let back: Alert = serde_json::from_str(&line).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.event.json(), text);
        // Through a `Value` too (as eval reads alerts).
        let via_value: Alert = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(via_value.event.value(), a.event.value());
        assert_ne!(
            back,
            alert(serde_json::json!({"EventID": 4688}), &["attack.t1003"])
        );
    }

    #[test]
    fn event_times_in_the_shapes_logs_write() {
        let t = 1_553_038_465; // 2019-03-19T23:34:25Z
        assert_eq!(parse_event_time("2019-03-19T23:34:25.123456Z"), Some(t));
        assert_eq!(parse_event_time("2019-03-19 23:34:25.123"), Some(t));
        assert_eq!(parse_event_time("2019-03-19T23:34:25"), Some(t));
        assert_eq!(parse_event_time("2019-03-20T00:34:25+01:00"), Some(t));
        assert_eq!(parse_event_time("1553038465"), Some(t));
        assert_eq!(parse_event_time("1553038465123"), Some(t));
        assert_eq!(parse_event_time("yesterday"), None);
        assert_eq!(parse_event_time("NaN"), None);
    }
}
