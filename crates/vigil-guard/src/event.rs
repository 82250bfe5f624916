//! The event model: one log record as the flat field map Sigma rules are written against.
//!
//! SigmaHQ's Windows rules name fields the way Windows event viewers and Sysmon show them:
//! `EventID`, `Channel`, `Provider_Name`, `Computer` from the `System` block and the
//! `EventData` names (`Image`, `CommandLine`, `TargetObject`, ...) all at the top level, and
//! `Data` for the unnamed `<Data>` values of classic (Application, PowerShell classic) events.
//! The `evtx` crate's JSON nests all of these under `Event.System` / `Event.EventData`, so
//! [`flatten_evtx`] lifts them up. Other JSON is flattened with dotted keys.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::mapping::WindowsMapping;

/// One log record, ready to match.
#[derive(Debug, Clone)]
pub struct Event {
    /// The file the record came from (shared between all records of a file).
    pub source: Arc<PathBuf>,
    /// EVTX: the record's `EventRecordID` (from `System`, else the record header). JSON lines: the 1-based line number. JSON
    /// documents: the 1-based position of the event in the file.
    pub record: u64,
    /// Event time as written in the record (`TimeCreated_SystemTime` for Windows events).
    pub time: Option<String>,
    /// The flat field map rules are matched against; always a JSON object.
    pub fields: Value,
    /// The Sigma `product` the record belongs to, when its shape tells (`windows` for EVTX
    /// records and events with a `Channel`). Rules of other products are not evaluated on
    /// it; a rule such as `not selection` would otherwise fire on every foreign event.
    pub product: Option<&'static str>,
}

impl Event {
    /// Build an event from a record in any supported JSON shape (see [`flatten`]).
    pub fn from_json(source: Arc<PathBuf>, record: u64, value: Value) -> Self {
        let windows = is_evtx_shape(&value);
        let fields = flatten(value);
        let time = event_time(&fields);
        let product = (windows || fields.get("Channel").is_some()).then_some("windows");
        Event {
            source,
            record,
            time,
            fields,
            product,
        }
    }

    /// Build an event from the JSON text of one record: the same event as
    /// [`Event::from_json`] of the parsed value, or the JSON parser's error.
    ///
    /// Records in the `evtx` crate's shape (`{"Event": {"System": .., "EventData": ..}}`,
    /// what the EVTX reader renders and what `evtx_dump` writes) are flattened while they
    /// are parsed, without building the nested value first; anything else, and any
    /// record of that shape with an unusual layout (a repeated key, sections out of
    /// order, an escaped key), takes the general path.
    pub fn from_json_slice(
        source: Arc<PathBuf>,
        record: u64,
        json: &[u8],
    ) -> Result<Self, serde_json::Error> {
        if let Some(fields) = fast::flatten_evtx_json(json, WindowsMapping::builtin()) {
            let time = event_time(&fields);
            return Ok(Event {
                source,
                record,
                time,
                fields,
                product: Some("windows"),
            });
        }
        let value: Value = serde_json::from_slice(json)?;
        Ok(Event::from_json(source, record, value))
    }

    /// The value of a top-level field of the flat map.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
}

/// The `evtx` crate's record shape: `{"Event": {"System": ..}}` or `{"System": ..}`.
fn is_evtx_shape(value: &Value) -> bool {
    let inner = value.get("Event").unwrap_or(value);
    inner.get("System").is_some_and(Value::is_object)
}

/// Field names tried, in order, for an event's time.
const TIME_FIELDS: &[&str] = &[
    "TimeCreated_SystemTime",
    "@timestamp",
    "timestamp",
    "UtcTime",
    "time",
    "EventTime",
];

fn event_time(fields: &Value) -> Option<String> {
    TIME_FIELDS.iter().find_map(|name| match fields.get(*name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Flatten a record of any supported shape into the map rules are matched against.
///
/// * the `evtx` crate's shape (`{"Event": {"System": .., "EventData": ..}}`, or the inner
///   object without `Event`): see [`flatten_evtx`], then the Windows field aliases;
/// * any other object: nested objects become dotted keys (`{"a": {"b": 1}}` →
///   `{"a.b": 1}`); arrays stay as they are (rsigma matches any member);
/// * a non-object value becomes `{"value": ...}` so keyword rules can still see it.
pub fn flatten(value: Value) -> Value {
    flatten_with(value, WindowsMapping::builtin())
}

/// [`flatten`] with an explicit Windows mapping (for its event-side field aliases).
pub fn flatten_with(value: Value, mapping: &WindowsMapping) -> Value {
    let mut map = match value {
        Value::Object(map) => map,
        other => {
            let mut m = Map::new();
            m.insert("value".to_string(), other);
            return Value::Object(m);
        }
    };
    let evtx_root = match map.remove("Event") {
        Some(Value::Object(inner)) if inner.contains_key("System") => Some(inner),
        Some(other) => {
            map.insert("Event".to_string(), other);
            None
        }
        None => None,
    };
    if let Some(inner) = evtx_root {
        let mut flat = flatten_evtx(inner);
        mapping.apply_aliases(&mut flat);
        return Value::Object(flat);
    }
    if map.contains_key("System") && map.get("System").is_some_and(Value::is_object) {
        let mut flat = flatten_evtx(map);
        mapping.apply_aliases(&mut flat);
        return Value::Object(flat);
    }
    let mut flat = Map::with_capacity(map.len());
    for (k, v) in map {
        flatten_dotted(&k, v, &mut flat, 0);
    }
    mapping.apply_aliases(&mut flat);
    Value::Object(flat)
}

/// Nesting depth past which generic JSON is kept as it is (an attacker can nest deeply).
const MAX_DEPTH: usize = 32;

fn flatten_dotted(prefix: &str, value: Value, out: &mut Map<String, Value>, depth: usize) {
    match value {
        Value::Object(inner) if depth < MAX_DEPTH && !inner.is_empty() => {
            for (k, v) in inner {
                flatten_dotted(&format!("{prefix}.{k}"), v, out, depth + 1);
            }
        }
        other => {
            out.insert(prefix.to_string(), other);
        }
    }
}

/// Flatten the inside of an `evtx` crate record (`System`, `EventData`, `UserData`, ...).
///
/// * `System`: scalars keep their name; an element with attributes gives `Name_Attr` per
///   attribute (`Provider_Name`, `TimeCreated_SystemTime`, `Security_UserID`,
///   `Execution_ProcessID`) and its text under its own name (`EventID` from
///   `{"#attributes": {"Qualifiers": ..}, "#text": 4688}`). Both the default and the
///   `separate_json_attributes` shapes (`Provider_attributes`) are read.
/// * `EventData`: named values go to the top level; unnamed `<Data>` values become `Data`
///   (a string, or an array that rsigma matches member by member, so `Data|contains|all`
///   finds needles spread over several values); `Binary` is kept.
/// * `UserData`: the fields of its single wrapper element go to the top level.
///
/// A field never overwrites one already taken from `System`; the later one is kept as
/// `EventData.Name` / `UserData.Name` instead.
pub fn flatten_evtx(mut event: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(48);
    if let Some(Value::Object(system)) = event.remove("System") {
        flatten_system(system, &mut out);
    }
    if let Some(data) = event.remove("EventData") {
        flatten_event_data("EventData", data, &mut out);
    }
    if let Some(Value::Object(user)) = event.remove("UserData") {
        flatten_user_data(user, &mut out);
    }
    for (k, v) in event {
        if k == "#attributes" {
            continue;
        }
        // RenderingInfo, ProcessingErrorData, DebugData: rare; keep them reachable.
        flatten_dotted(&k, v, &mut out, 0);
    }
    out
}

fn flatten_user_data(user: Map<String, Value>, out: &mut Map<String, Value>) {
    for (wrapper, inner) in user {
        if wrapper == "#attributes" {
            continue;
        }
        match inner {
            Value::Object(fields) => {
                for (k, v) in fields {
                    if k == "#attributes" {
                        continue;
                    }
                    insert_data_field("UserData", k, v, out);
                }
            }
            other => insert_data_field("UserData", wrapper, other, out),
        }
    }
}

fn flatten_system(system: Map<String, Value>, out: &mut Map<String, Value>) {
    for (name, value) in system {
        system_entry(name, value, out);
    }
    normalize_event_id(out);
}

/// One entry of `System` (see [`flatten_evtx`]).
fn system_entry(name: String, value: Value, out: &mut Map<String, Value>) {
    if let Some(base) = name.strip_suffix("_attributes") {
        // separate_json_attributes shape: {"Provider_attributes": {"Name": ..}}
        if let Value::Object(attrs) = value {
            for (attr, v) in attrs {
                if !v.is_null() {
                    out.insert(format!("{base}_{attr}"), v);
                }
            }
        }
        return;
    }
    match value {
        Value::Null => {}
        Value::Object(mut inner) => {
            if let Some(Value::Object(attrs)) = inner.remove("#attributes") {
                for (attr, v) in attrs {
                    if !v.is_null() {
                        out.insert(format!("{name}_{attr}"), v);
                    }
                }
            }
            if let Some(text) = inner.remove("#text") {
                out.insert(name.clone(), text);
            }
            for (k, v) in inner {
                if !v.is_null() {
                    out.insert(format!("{name}_{k}"), v);
                }
            }
        }
        other => {
            out.insert(name, other);
        }
    }
}

/// Windows writes EventID as a number; a JSON export may carry it as a string.
fn normalize_event_id(out: &mut Map<String, Value>) {
    if let Some(Value::String(s)) = out.get("EventID")
        && let Ok(n) = s.trim().parse::<u64>()
    {
        out.insert("EventID".to_string(), Value::from(n));
    }
}

fn flatten_event_data(container: &str, data: Value, out: &mut Map<String, Value>) {
    match data {
        Value::Object(fields) => {
            for (k, v) in fields {
                event_data_entry(container, k, v, out);
            }
        }
        Value::Null => {}
        // <EventData>text</EventData> or a bare list of values.
        other => insert_unnamed_data(container, other, out),
    }
}

/// One entry of `EventData` (see [`flatten_evtx`]).
fn event_data_entry(container: &str, name: String, value: Value, out: &mut Map<String, Value>) {
    match name.as_str() {
        "#attributes" => {}
        "Data" | "#text" => insert_unnamed_data(container, value, out),
        _ => insert_data_field(container, name, value, out),
    }
}

/// Unnamed `<Data>` values: `{"#text": [..]}`, `{"#text": ".."}`, a list or a string.
fn insert_unnamed_data(container: &str, value: Value, out: &mut Map<String, Value>) {
    let value = match value {
        Value::Object(mut inner) => match inner.remove("#text") {
            Some(text) => text,
            None => Value::Object(inner),
        },
        other => other,
    };
    if value.is_null() {
        return;
    }
    insert_data_field(container, "Data".to_string(), value, out);
}

fn insert_data_field(container: &str, name: String, value: Value, out: &mut Map<String, Value>) {
    // A named value that itself carries attributes: {"#attributes": .., "#text": v}.
    let value = match value {
        Value::Object(mut inner) if inner.contains_key("#text") => {
            inner.remove("#text").unwrap_or(Value::Null)
        }
        other => other,
    };
    if out.contains_key(&name) {
        out.insert(format!("{container}.{name}"), value);
    } else {
        out.insert(name, value);
    }
}

/// Flattening the `evtx` crate's JSON while parsing it (see [`Event::from_json_slice`]).
///
/// Each section is handled by the same per-entry code as [`flatten_evtx`], in the same
/// order, so the result is the same map; the parse gives up (and the caller takes the
/// general path) on any layout where the two could differ.
mod fast {
    use std::fmt;

    use serde::Deserializer as _;
    use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
    use serde_json::{Map, Value};

    use super::{event_data_entry, flatten_user_data, normalize_event_id, system_entry};
    use crate::mapping::WindowsMapping;

    /// Sections past this many entries take the general path (the duplicate check is
    /// quadratic).
    const MAX_SECTION_ENTRIES: usize = 256;

    /// The flat field map of an `{"Event": {"System": ..}}` record, or `None`.
    pub(super) fn flatten_evtx_json(json: &[u8], mapping: &WindowsMapping) -> Option<Value> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let mut out = Map::with_capacity(48);
        de.deserialize_map(Record { out: &mut out }).ok()?;
        de.end().ok()?;
        mapping.apply_aliases(&mut out);
        Some(Value::Object(out))
    }

    fn give_up<E: de::Error>() -> E {
        E::custom("not the plain evtx record shape")
    }

    /// Records a key of a section, failing on a repeat.
    struct Seen<'de>(Vec<&'de str>);

    impl<'de> Seen<'de> {
        fn add<E: de::Error>(&mut self, key: &'de str) -> Result<(), E> {
            if self.0.len() >= MAX_SECTION_ENTRIES || self.0.contains(&key) {
                return Err(give_up());
            }
            self.0.push(key);
            Ok(())
        }
    }

    /// The top level: exactly one key, `Event`.
    struct Record<'a> {
        out: &'a mut Map<String, Value>,
    }

    impl<'de> Visitor<'de> for Record<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an evtx record")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            match map.next_key::<&'de str>()? {
                Some("Event") => map.next_value_seed(EventSeed { out: self.out })?,
                _ => return Err(give_up()),
            }
            match map.next_key::<&'de str>()? {
                None => Ok(()),
                Some(_) => Err(give_up()),
            }
        }
    }

    struct EventSeed<'a> {
        out: &'a mut Map<String, Value>,
    }

    impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    /// Where the `Event` object is: `flatten_evtx` handles `System`, then `EventData`,
    /// then `UserData`, whatever their order in the text; the stream must meet them so.
    #[derive(PartialEq, PartialOrd)]
    enum Stage {
        Start,
        System,
        EventData,
        UserData,
    }

    impl<'de> Visitor<'de> for EventSeed<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an evtx Event object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut stage = Stage::Start;
            while let Some(key) = map.next_key::<&'de str>()? {
                match key {
                    "#attributes" => {
                        // Parsed, not skipped: `IgnoredAny` lets through invalid UTF-8
                        // and lone surrogate escapes that the general path rejects.
                        map.next_value::<Value>()?;
                    }
                    "System" if stage == Stage::Start => {
                        map.next_value_seed(Section {
                            out: self.out,
                            kind: SectionKind::System,
                        })?;
                        normalize_event_id(self.out);
                        stage = Stage::System;
                    }
                    "EventData" if stage == Stage::System => {
                        map.next_value_seed(Section {
                            out: self.out,
                            kind: SectionKind::EventData,
                        })?;
                        stage = Stage::EventData;
                    }
                    "UserData" if stage == Stage::System || stage == Stage::EventData => {
                        if let Value::Object(user) = map.next_value::<Value>()? {
                            flatten_user_data(user, self.out);
                        }
                        stage = Stage::UserData;
                    }
                    // No System first, a repeated section, or another section
                    // (RenderingInfo, ...): the general path.
                    _ => return Err(give_up()),
                }
            }
            if stage == Stage::Start {
                return Err(give_up());
            }
            Ok(())
        }
    }

    #[derive(Clone, Copy)]
    enum SectionKind {
        System,
        EventData,
    }

    /// `System` or `EventData`, entry by entry.
    struct Section<'a> {
        out: &'a mut Map<String, Value>,
        kind: SectionKind,
    }

    impl<'de> DeserializeSeed<'de> for Section<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Section<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an evtx record section")
        }

        /// `"EventData": null` (an event without data): nothing to add.
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            match self.kind {
                SectionKind::EventData => Ok(()),
                SectionKind::System => Err(give_up()),
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = Seen(Vec::with_capacity(32));
            while let Some(key) = map.next_key::<&'de str>()? {
                seen.add(key)?;
                let value: Value = map.next_value()?;
                match self.kind {
                    SectionKind::System => system_entry(key.to_string(), value, self.out),
                    SectionKind::EventData => {
                        event_data_entry("EventData", key.to_string(), value, self.out)
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_sysmon_record() {
        let raw = json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}},
                "EventID": 1,
                "TimeCreated": {"#attributes": {"SystemTime": "2025-11-27T07:40:10.165324Z"}},
                "EventRecordID": 571146,
                "Correlation": null,
                "Execution": {"#attributes": {"ProcessID": 3544, "ThreadID": 4272}},
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "host1",
                "Security": {"#attributes": {"UserID": "S-1-5-18"}}
            },
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami", "ProcessId": 4460}
        }});
        let flat = flatten(raw);
        assert_eq!(flat["EventID"], json!(1));
        assert_eq!(
            flat["Channel"],
            json!("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(flat["Provider_Name"], json!("Microsoft-Windows-Sysmon"));
        assert_eq!(flat["Provider_Guid"], json!("{5770}"));
        assert_eq!(flat["Computer"], json!("host1"));
        assert_eq!(flat["Security_UserID"], json!("S-1-5-18"));
        assert_eq!(flat["Execution_ProcessID"], json!(3544));
        assert_eq!(
            flat["TimeCreated_SystemTime"],
            json!("2025-11-27T07:40:10.165324Z")
        );
        assert_eq!(flat["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(flat["ProcessId"], json!(4460));
        assert!(flat.get("Correlation").is_none());
        assert!(flat.get("Event").is_none());
    }

    #[test]
    fn event_id_with_qualifiers_and_unnamed_data() {
        let raw = json!({"Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "MSSQLSERVER"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 33205},
                "Channel": "Application"
            },
            "EventData": {"Data": {"#text": ["audit_schema_version:1", "object_name:xp_cmdshell statement:EXEC xp_cmdshell 'whoami'"]}, "Binary": "00AA"}
        }});
        let flat = flatten(raw);
        assert_eq!(flat["EventID"], json!(33205));
        assert_eq!(flat["EventID_Qualifiers"], json!(16384));
        assert_eq!(
            flat["Data"],
            json!([
                "audit_schema_version:1",
                "object_name:xp_cmdshell statement:EXEC xp_cmdshell 'whoami'"
            ])
        );
        assert_eq!(flat["Binary"], json!("00AA"));
    }

    #[test]
    fn single_unnamed_data_is_a_string() {
        let raw = json!({"Event": {"System": {"EventID": 216, "Channel": "Application"},
            "EventData": {"Data": {"#text": "C:\\ntds.dit"}}}});
        assert_eq!(flatten(raw)["Data"], json!("C:\\ntds.dit"));
    }

    #[test]
    fn separate_attributes_shape() {
        let raw = json!({"Event": {"System": {
            "Provider_attributes": {"Name": "Microsoft-Windows-Security-Auditing"},
            "EventID": 4624,
            "EventID_attributes": {"Qualifiers": 0},
            "TimeCreated_attributes": {"SystemTime": "2020-01-01T00:00:00Z"},
            "Channel": "Security"}}});
        let flat = flatten(raw);
        assert_eq!(
            flat["Provider_Name"],
            json!("Microsoft-Windows-Security-Auditing")
        );
        assert_eq!(
            flat["TimeCreated_SystemTime"],
            json!("2020-01-01T00:00:00Z")
        );
        assert_eq!(flat["EventID"], json!(4624));
    }

    #[test]
    fn user_data_fields_are_lifted_without_clobbering_system() {
        let raw = json!({"Event": {"System": {"EventID": 104, "Channel": "System"},
            "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "x"},
                "SubjectUserName": "bob", "Channel": "Security"}}}});
        let flat = flatten(raw);
        assert_eq!(flat["SubjectUserName"], json!("bob"));
        assert_eq!(flat["Channel"], json!("System"));
        assert_eq!(flat["UserData.Channel"], json!("Security"));
    }

    #[test]
    fn generic_json_is_flattened_with_dots() {
        let raw = json!({"a": {"b": 1, "c": {"d": "x"}}, "list": [1, {"k": 2}], "top": true});
        let flat = flatten(raw);
        assert_eq!(flat["a.b"], json!(1));
        assert_eq!(flat["a.c.d"], json!("x"));
        assert_eq!(flat["list"], json!([1, {"k": 2}]));
        assert_eq!(flat["top"], json!(true));
    }

    #[test]
    fn string_event_id_becomes_number() {
        let raw = json!({"Event": {"System": {"EventID": "4688", "Channel": "Security"}}});
        assert_eq!(flatten(raw)["EventID"], json!(4688));
    }

    #[test]
    fn non_object_is_wrapped() {
        assert_eq!(flatten(json!("hello")), json!({"value": "hello"}));
    }

    #[test]
    fn event_time_is_taken_from_system() {
        let ev = Event::from_json(
            Arc::new(PathBuf::from("x.json")),
            1,
            json!({"Event": {"System": {"EventID": 1, "Channel": "c",
                "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}}}}),
        );
        assert_eq!(ev.time.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(ev.product, Some("windows"));
    }

    #[test]
    fn etw_record_without_channel_is_still_windows() {
        let ev = Event::from_json(
            Arc::new(PathBuf::from("x.evtx")),
            4,
            json!({"Event": {"System": {"EventID": 6, "Provider": {"#attributes": {"Name": "Microsoft-Windows-RPC"}}},
                "EventData": {"InterfaceUuid": "{4f32}"}}}),
        );
        assert_eq!(ev.product, Some("windows"));
        let plain = Event::from_json(Arc::new(PathBuf::from("x.json")), 1, json!({"a": 1}));
        assert_eq!(plain.product, None);
    }

    /// `from_json_slice` gives what `from_json` of the parsed value gives, key order
    /// included, whether or not it takes the fast path.
    fn same_as_value_path(json: &str) -> bool {
        let file = Arc::new(PathBuf::from("t.json"));
        let slow = Event::from_json(
            Arc::clone(&file),
            1,
            serde_json::from_str(json).expect("test JSON parses"),
        );
        let fast = Event::from_json_slice(file, 1, json.as_bytes()).expect("parses");
        let keys = |e: &Event| -> Vec<String> {
            e.fields
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(keys(&fast), keys(&slow), "{json}");
        assert_eq!(fast.fields, slow.fields, "{json}");
        assert_eq!(fast.time, slow.time, "{json}");
        assert_eq!(fast.product, slow.product, "{json}");
        fast::flatten_evtx_json(json.as_bytes(), WindowsMapping::builtin()).is_some()
    }

    #[test]
    fn fast_path_matches_value_path() {
        let sysmon = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770}"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25Z"}},"EventRecordID":6575,"Correlation":null,"Execution":{"#attributes":{"ProcessID":1912,"ThreadID":996}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"IEWIN7","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"Image":"C:\\x.exe","CommandLine":"x","Channel":"clash"}}}"##;
        assert!(same_as_value_path(sysmon));
        let security_4688 = r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":""},"#text":"4688"},"Channel":"Security"},"EventData":{"NewProcessName":"C:\\w.exe","SubjectUserName":"a"}}}"##;
        assert!(same_as_value_path(security_4688));
        let classic = r##"{"Event":{"System":{"EventID":33205,"Channel":"Application"},"EventData":{"Data":{"#text":["a","b"]},"Binary":"00"}}}"##;
        assert!(same_as_value_path(classic));
        let user_data = r##"{"Event":{"System":{"EventID":104,"Channel":"System"},"EventData":null,"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"x"},"SubjectUserName":"bob","Channel":"Security"}}}}"##;
        assert!(same_as_value_path(user_data));
        let separate = r##"{"Event":{"System":{"Provider_attributes":{"Name":"P"},"EventID":4624,"Channel":"Security"}}}"##;
        assert!(same_as_value_path(separate));
    }

    #[test]
    fn unusual_layouts_take_the_general_path() {
        for json in [
            // A repeated key in a section, a repeated section.
            r##"{"Event":{"System":{"EventID":1,"EventID":2,"Channel":"Security"}}}"##,
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"a"}},"Provider":{"#attributes":{"Guid":"b"}}}}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":{"A":1,"A":2}}}"##,
            r##"{"Event":{"System":{"EventID":1},"System":{"EventID":2}}}"##,
            // Sections out of order, or other sections.
            r##"{"Event":{"EventData":{"A":1},"System":{"EventID":1,"Channel":"Security"}}}"##,
            r##"{"Event":{"System":{"EventID":1},"UserData":{"W":{"A":1}},"EventData":{"A":2}}}"##,
            r##"{"Event":{"System":{"EventID":1},"RenderingInfo":{"Message":"m"}}}"##,
            // Not the record shape.
            r##"{"Event":{"EventData":{"A":1}}}"##,
            r##"{"Event":{"System":"text"}}"##,
            r##"{"Event":{"System":{"EventID":1}},"Other":1}"##,
            r##"{"System":{"EventID":1,"Channel":"Security"}}"##,
            r##"{"Image":"x","Event":{"System":{}}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":"text"}}"##,
            // An escaped key.
            r##"{"Event":{"System":{"Event\u0049D":1}}}"##,
        ] {
            assert!(!same_as_value_path(json), "{json}");
        }
        let bad =
            Event::from_json_slice(Arc::new(PathBuf::from("b")), 1, br#"{"Event":{"System":"#);
        assert!(bad.is_err());
    }
}
