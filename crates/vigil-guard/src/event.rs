//! The event model: one log record as the flat field map Sigma rules are written against.
//!
//! SigmaHQ's Windows rules name fields the way Windows event viewers and Sysmon show them:
//! `EventID`, `Channel`, `Provider_Name`, `Computer` from the `System` block and the
//! `EventData` names (`Image`, `CommandLine`, `TargetObject`, ...) all at the top level, and
//! `Data` for the unnamed `<Data>` values of classic (Application, PowerShell classic) events.
//! The `evtx` crate's JSON nests all of these under `Event.System` / `Event.EventData`, so
//! [`flatten_evtx`] lifts them up. Other JSON is flattened with dotted keys; Windows
//! events that collectors wrote (NXLog, Winlogbeat, ECS) are then renamed to the EVTX
//! names (see [`crate::logsource`]).
//!
//! The flat map is a [`Fields`]: the same map as a JSON object ([`Fields::to_value`]),
//! stored for cheap building and lookups, and read by rsigma through its `Event` trait.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::fields::Slot;
pub use crate::fields::{FieldRef, Fields};
use crate::logsource::linux::{LinuxSource, SYSMON_LINUX_CHANNEL, sysmon_category};
use crate::logsource::{WindowsMapping, WindowsShape, fix_channel_fields, shape_windows_json};

/// One log record, ready to match.
#[derive(Debug, Clone)]
pub struct Event {
    /// The file the record came from (shared between all records of a file).
    pub source: Arc<PathBuf>,
    /// EVTX: the record's `EventRecordID` (from `System`, else the record header). JSON lines: the 1-based line number. JSON
    /// documents: the 1-based position of the event in the file.
    pub record: u64,
    /// Event time as written in the record (`TimeCreated_SystemTime` for EVTX records;
    /// `EventTime` for NXLog's, `@timestamp` for Winlogbeat's and other JSON).
    pub time: Option<String>,
    /// The flat field map rules are matched against ([`Fields::to_value`] gives it as a
    /// JSON object).
    pub fields: Fields,
    /// The Sigma `product` the record belongs to, when its shape tells (`windows` for EVTX
    /// records, events with a `Channel`, and collectors' Windows events). Rules of other products are not evaluated on
    /// it; a rule such as `not selection` would otherwise fire on every foreign event.
    pub product: Option<&'static str>,
    /// Linux records: the kind of source, which gives their logsources (see
    /// [`crate::logsource::linux`]).
    pub linux: Option<LinuxSource>,
}

/// The product of a flattened JSON record, and its Linux source: Sysmon for Linux writes
/// EVTX-shaped records to its own channel; any other record with a `Channel` (or of a
/// Windows shape) is a Windows event.
fn product_of(windows_shape: bool, fields: &Fields) -> (Option<&'static str>, Option<LinuxSource>) {
    let channel = fields.get("Channel").and_then(FieldRef::as_str);
    if channel == Some(SYSMON_LINUX_CHANNEL) {
        let category = fields
            .get("EventID")
            .and_then(crate::logsource::windows::field_u64)
            .and_then(sysmon_category);
        return (Some("linux"), Some(LinuxSource::Sysmon(category)));
    }
    (
        (windows_shape || channel.is_some()).then_some("windows"),
        None,
    )
}

impl Event {
    /// Build an event from the fields of a syslog or auditd line (see
    /// `input::syslog`), its time and its kind.
    pub fn from_linux(
        source: Arc<PathBuf>,
        record: u64,
        fields: Map<String, Value>,
        time: Option<String>,
        linux: LinuxSource,
    ) -> Self {
        Event {
            source,
            record,
            time,
            fields: Fields::from_map(fields),
            product: Some("linux"),
            linux: Some(linux),
        }
    }

    /// Build an event from a record in any supported JSON shape (see [`flatten`]).
    pub fn from_json(source: Arc<PathBuf>, record: u64, value: Value) -> Self {
        let value = unwrap_search_hit(value);
        let windows = is_evtx_shape(&value);
        let (fields, shape) = flatten_shaped(value, WindowsMapping::builtin());
        let time = event_time(&fields, shape);
        let (product, linux) = product_of(windows || shape.is_some(), &fields);
        Event {
            source,
            record,
            time,
            fields,
            product,
            linux,
        }
    }

    /// Build an event from the JSON text of one record: the same event as
    /// [`Event::from_json`] of the parsed value, or the JSON parser's error.
    ///
    /// Records in the `evtx` crate's shape (`{"Event": {"System": .., "EventData": ..}}`,
    /// what the EVTX reader renders and what `evtx_dump` writes), and other objects
    /// (flat or nested: ECS, Sysmon for Linux, application logs), are flattened while
    /// they are parsed, without building the nested value first; anything else, and any
    /// record with an unusual layout (a repeated key, evtx sections out of order, an
    /// escaped key), takes the general path.
    pub fn from_json_slice(
        source: Arc<PathBuf>,
        record: u64,
        json: &[u8],
    ) -> Result<Self, serde_json::Error> {
        // One UTF-8 check of the whole text, cheaper than one per string; text that is
        // not UTF-8 is not JSON, and the general path reports it.
        let mapping = WindowsMapping::builtin();
        let flat = std::str::from_utf8(json).ok().and_then(|text| {
            fast::flatten_evtx_json(text, mapping)
                .map(|fields| (fields, true, None))
                .or_else(|| {
                    // A search hit takes the general path, which unwraps it.
                    if memchr::memmem::find(json, b"\"_source\"").is_some() {
                        return None;
                    }
                    fast::flatten_plain_json(text, mapping)
                        .map(|(fields, shape)| (fields, false, shape))
                })
        });
        if let Some((fields, evtx, shape)) = flat {
            // As `from_json` tells the product.
            let (product, linux) = product_of(evtx || shape.is_some(), &fields);
            return Ok(Event {
                source,
                record,
                time: event_time(&fields, shape),
                fields,
                product,
                linux,
            });
        }
        let value: Value = serde_json::from_slice(json)?;
        Ok(Event::from_json(source, record, value))
    }

    /// The value of a top-level field of the flat map.
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        self.fields.get(name)
    }
}

/// A document exported from Elasticsearch or OpenSearch (`elasticdump`, a search
/// response's `hits.hits[]`) wraps the indexed event in `_source`, beside `_index` and
/// `_id`: the event is `_source`, as Winlogbeat or Elastic Agent indexed it.
pub(crate) fn unwrap_search_hit(value: Value) -> Value {
    match value {
        Value::Object(mut map)
            if map.get("_source").is_some_and(Value::is_object)
                && (map.contains_key("_index") || map.contains_key("_id")) =>
        {
            map.remove("_source").unwrap_or_default()
        }
        other => other,
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
    // `Get-WinEvent | ConvertTo-Json`, Chainsaw's and other tools' flat exports; Splunk.
    "TimeCreated",
    "SystemTime",
    "_time",
];

/// The event time: where the collector's shape keeps it, else the first of
/// [`TIME_FIELDS`] the event has.
fn event_time(fields: &Fields, shape: Option<WindowsShape>) -> Option<String> {
    let shaped = shape.map_or(&[][..], WindowsShape::time_fields);
    shaped
        .iter()
        .chain(TIME_FIELDS)
        .find_map(|name| match fields.get(name) {
            Some(FieldRef::Str(s)) => Some(s.to_string()),
            Some(FieldRef::Number(n)) => Some(n.to_string()),
            _ => None,
        })
}

/// Flatten a record of any supported shape into the map rules are matched against.
///
/// * the `evtx` crate's shape (`{"Event": {"System": .., "EventData": ..}}`, or the inner
///   object without `Event`): see [`flatten_evtx`], then the Windows field aliases;
/// * any other object: nested objects become dotted keys (`{"a": {"b": 1}}` →
///   `{"a.b": 1}`); arrays stay as they are (rsigma matches any member); a Windows event
///   in a collector's shape then takes the EVTX names ([`crate::logsource`]);
/// * a non-object value becomes `{"value": ...}` so keyword rules can still see it.
pub fn flatten(value: Value) -> Value {
    flatten_with(value, WindowsMapping::builtin())
}

/// [`flatten`] with an explicit Windows mapping (for its event-side field aliases).
pub fn flatten_with(value: Value, mapping: &WindowsMapping) -> Value {
    flatten_fields(value, mapping).to_value()
}

/// [`flatten_with`], as the [`Fields`] an event holds.
pub fn flatten_fields(value: Value, mapping: &WindowsMapping) -> Fields {
    flatten_shaped(value, mapping).0
}

/// [`flatten_fields`], and the collector shape the record was renamed from (see
/// [`crate::logsource`]); EVTX records and JSON already in the rules' names have none.
fn flatten_shaped(value: Value, mapping: &WindowsMapping) -> (Fields, Option<WindowsShape>) {
    let mut map = match value {
        Value::Object(map) => map,
        other => {
            let mut f = Fields::with_capacity(1, 0);
            f.insert("value", other);
            return (f, None);
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
        fix_channel_fields(&mut flat);
        mapping.apply_aliases(&mut flat);
        return (flat, None);
    }
    if map.contains_key("System") && map.get("System").is_some_and(Value::is_object) {
        let mut flat = flatten_evtx(map);
        fix_channel_fields(&mut flat);
        mapping.apply_aliases(&mut flat);
        return (flat, None);
    }
    let mut flat = Fields::with_capacity(map.len(), 0);
    for (k, v) in map {
        flatten_dotted(&k, v, &mut flat, 0);
    }
    // Collectors' names to the rules' names, before the aliases (which read Channel and
    // EventID).
    let shape = shape_windows_json(&mut flat);
    mapping.apply_aliases(&mut flat);
    (flat, shape)
}

/// Nesting depth past which generic JSON is kept as it is (an attacker can nest deeply).
const MAX_DEPTH: usize = 32;

fn flatten_dotted(prefix: &str, value: Value, out: &mut Fields, depth: usize) {
    match value {
        Value::Object(inner) if depth < MAX_DEPTH && !inner.is_empty() => {
            for (k, v) in inner {
                flatten_dotted(&format!("{prefix}.{k}"), v, out, depth + 1);
            }
        }
        other => out.insert(prefix, other),
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
pub fn flatten_evtx(mut event: Map<String, Value>) -> Fields {
    let mut out = Fields::with_capacity(48, 1024);
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

fn flatten_user_data(user: Map<String, Value>, out: &mut Fields) {
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
                    let v = out.slot(v);
                    insert_data_field("UserData", &k, v, out);
                }
            }
            other => {
                let v = out.slot(other);
                insert_data_field("UserData", &wrapper, v, out);
            }
        }
    }
}

fn flatten_system(system: Map<String, Value>, out: &mut Fields) {
    for (name, value) in system {
        let value = out.slot(value);
        system_entry(&name, value, out);
    }
    normalize_event_id(out);
}

/// Insert `{name}_{attr}` for every non-null entry of an attribute object.
fn insert_attributes(name: &str, attrs: Map<String, Value>, out: &mut Fields) {
    for (attr, v) in attrs {
        if !v.is_null() {
            let v = out.slot(v);
            out.insert_joined(name, '_', &attr, v);
        }
    }
}

/// One entry of `System` (see [`flatten_evtx`]).
fn system_entry(name: &str, value: Slot, out: &mut Fields) {
    if let Some(base) = name.strip_suffix("_attributes") {
        // separate_json_attributes shape: {"Provider_attributes": {"Name": ..}}
        if let Slot::Nested(value) = value
            && let Value::Object(attrs) = *value
        {
            insert_attributes(base, attrs, out);
        }
        return;
    }
    match value {
        Slot::Null => {}
        Slot::Nested(nested) if nested.is_object() => {
            let Value::Object(mut inner) = *nested else {
                return;
            };
            if let Some(Value::Object(attrs)) = inner.remove("#attributes") {
                insert_attributes(name, attrs, out);
            }
            if let Some(text) = inner.remove("#text") {
                let text = out.slot(text);
                out.insert_slot(name, text);
            }
            insert_attributes(name, inner, out);
        }
        other => out.insert_slot(name, other),
    }
}

/// Windows writes EventID as a number; a JSON export may carry it as a string.
fn normalize_event_id(out: &mut Fields) {
    if let Some(FieldRef::Str(s)) = out.get("EventID")
        && let Ok(n) = s.trim().parse::<u64>()
    {
        out.insert_slot("EventID", Slot::Number(n.into()));
    }
}

fn flatten_event_data(container: &str, data: Value, out: &mut Fields) {
    match data {
        Value::Object(fields) => {
            for (k, v) in fields {
                let v = out.slot(v);
                event_data_entry(container, &k, v, out);
            }
        }
        Value::Null => {}
        // <EventData>text</EventData> or a bare list of values.
        other => {
            let v = out.slot(other);
            insert_unnamed_data(container, v, out);
        }
    }
}

/// One entry of `EventData` (see [`flatten_evtx`]).
fn event_data_entry(container: &str, name: &str, value: Slot, out: &mut Fields) {
    match name {
        "#attributes" => {}
        "Data" | "#text" => insert_unnamed_data(container, value, out),
        _ => insert_data_field(container, name, value, out),
    }
}

/// Unnamed `<Data>` values: `{"#text": [..]}`, `{"#text": ".."}`, a list or a string.
fn insert_unnamed_data(container: &str, value: Slot, out: &mut Fields) {
    let value = match value {
        Slot::Nested(nested) if nested.is_object() => {
            let Value::Object(mut inner) = *nested else {
                return;
            };
            match inner.remove("#text") {
                Some(text) => out.slot(text),
                None => Slot::Nested(Box::new(Value::Object(inner))),
            }
        }
        other => other,
    };
    if matches!(value, Slot::Null) {
        return;
    }
    insert_data_field(container, "Data", value, out);
}

fn insert_data_field(container: &str, name: &str, value: Slot, out: &mut Fields) {
    // A named value that itself carries attributes: {"#attributes": .., "#text": v}.
    let value = match value {
        Slot::Nested(nested)
            if nested
                .as_object()
                .is_some_and(|inner| inner.contains_key("#text")) =>
        {
            let Value::Object(mut inner) = *nested else {
                return;
            };
            let text = inner.remove("#text").unwrap_or(Value::Null);
            out.slot(text)
        }
        other => other,
    };
    if out.contains_key(name) {
        out.insert_joined(container, '.', name, value);
    } else {
        out.insert_slot(name, value);
    }
}

/// Flattening JSON records while parsing them (see [`Event::from_json_slice`]).
mod fast;

#[cfg(test)]
mod tests {
    use super::*;
    use rsigma_eval::{Event as RsigmaEvent, JsonEvent};
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
        let keys = |e: &Event| -> Vec<String> { e.fields.keys().map(str::to_string).collect() };
        assert_eq!(keys(&fast), keys(&slow), "{json}");
        assert_eq!(fast.fields, slow.fields, "{json}");
        assert_eq!(fast.time, slow.time, "{json}");
        assert_eq!(fast.product, slow.product, "{json}");
        fast::flatten_evtx_json(json, WindowsMapping::builtin()).is_some()
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
        // System elements in other layouts: the same map, whichever path is taken.
        for json in [
            r##"{"Event":{"System":{"EventID":{"#text":"4688","#attributes":{"Q":1}},"Channel":"Security"}}}"##,
            r##"{"Event":{"System":{"Execution":{"#attributes":{"ProcessID":1,"ThreadID":null},"Other":2},"Channel":"c"}}}"##,
            r##"{"Event":{"System":{"Execution":{"#attributes":{"A":1,"A":null}},"Execution_A":5}}}"##,
            r##"{"Event":{"System":{"Execution":{"#attributes":"x","#text":null},"Channel":"c"}}}"##,
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"a"}},"Provider_Name":"b","EventID":[1,2]}}}"##,
            r##"{"Event":{"System":{"T":{"#attributes":{"S":1.5e300}},"U":{},"V":{"#text":{"a":1}}}}}"##,
        ] {
            same_as_value_path(json);
        }
    }

    #[test]
    fn plain_fast_path_matches_value_path() {
        let plain = |json: &str| {
            same_as_value_path(json);
            fast::flatten_plain_json(json, WindowsMapping::builtin()).is_some()
        };
        let deep = |levels: usize| {
            let mut json = "1".to_string();
            for i in 0..levels {
                json = format!(r#"{{"k{i}":{json},"s{i}":"v"}}"#);
            }
            json
        };
        for json in [
            r#"{"Image":"C:\\x.exe","EventID":4688,"f":-1.5e300,"t":true,"n":null,"a":[1,{"b":2}]}"#,
            r#"{"process":{"command_line":"whoami","parent":{"name":"cmd.exe"}},"@timestamp":"2026-01-01T00:00:00Z"}"#,
            r#"{"a.b":1,"a":{"b":2,"c":{}},"e":{},"":{"x":"empty name"}}"#,
            r#"{"Channel":"Security","EventID":4624,"winlog":{"event_data":{"LogonType":3}}}"#,
            r#"{"u":"ünï \u00e9 \ud83d\ude00","x":"a\nb"}"#,
            r#"{"a":{"b":1},"a.b":2}"#,
            &deep(31),
            &deep(32),
            &deep(40),
        ] {
            assert!(plain(json), "{json}");
        }
        // The general path's: repeated or escaped names, the evtx shape.
        for json in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"x":{"y":1},"x":2}}"#,
            r#"{"\u0061":1}"#,
            r#"{"Event":"x","a":1}"#,
            r#"{"a":1,"System":{"EventID":1,"Channel":"Security"}}"#,
        ] {
            assert!(!plain(json), "{json}");
        }
        // Not an object, or more than one value.
        for json in ["[1,2]", "\"text\"", "{\"a\":1} x"] {
            assert!(fast::flatten_plain_json(json, WindowsMapping::builtin()).is_none());
        }
    }

    /// `Fields` reads, through rsigma's `Event` trait, as `JsonEvent` reads the same
    /// map as a JSON object.
    #[test]
    fn fields_read_as_json_event() {
        let value = json!({
            "Image": "C:\\x.exe", "EventID": 4688, "neg": -3, "big": u64::MAX, "f": 1.5,
            "yes": true, "none": null, "Data": ["a", {"k": "v", "n": 2}],
            "a": {"b": {"c": "deep"}, "list": [{"c": 1}, {"c": "two"}]},
            "a.b": "flat wins", "": {"x": "empty key"}, "u": "ünï", "e": {},
        });
        let map = value.as_object().cloned().expect("object");
        let fields = Fields::from_map(map);
        let json = JsonEvent::borrow(&value);
        for path in [
            "Image",
            "EventID",
            "neg",
            "big",
            "f",
            "yes",
            "none",
            "Data",
            "Data.k",
            "Data.n",
            "a",
            "a.b",
            "a.b.c",
            "a.list.c",
            "a.list[1].c",
            "a.list[-1].c",
            "a.list[5].c",
            ".x",
            "[0]",
            "missing",
            "missing.x",
            "a\\.b",
            "a..b",
            "u",
            "e",
            "e.x",
        ] {
            assert_eq!(fields.get_field(path), json.get_field(path), "{path}");
        }
        let mut a: Vec<String> = fields
            .all_string_values()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut b: Vec<String> = json
            .all_string_values()
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        let mut visited = Vec::new();
        fields.visit_string_values(&mut |s| visited.push(s.to_string()));
        visited.sort();
        assert_eq!(visited, a);
        for needle in ["deep", "v", "nothing", "ünï"] {
            assert_eq!(
                fields.any_string_value(&|s| s == needle),
                json.any_string_value(&|s| s == needle),
                "{needle}"
            );
        }
        assert_eq!(fields.field_keys(), json.field_keys());
        assert_eq!(fields.top_level_keys(), json.top_level_keys());
        assert_eq!(RsigmaEvent::to_json(&fields), value);
        assert_eq!(serde_json::to_value(&fields).expect("serializes"), value);
        let keys: Vec<&str> = fields.keys().collect();
        let want: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, want);
    }

    /// Many fields, replaced values, and names built in place keep `Map`'s order and
    /// values.
    #[test]
    fn fields_insert_like_a_map() {
        let mut fields = Fields::new();
        let mut map = Map::new();
        for i in 0..500 {
            let (k, v) = (format!("k{}", i % 300), json!(format!("v{i}")));
            fields.insert(&k, v.clone());
            map.insert(k, v);
        }
        fields.insert_joined("k1", '_', "x", Slot::Bool(true));
        map.insert("k1_x".to_string(), json!(true));
        assert_eq!(fields.len(), map.len());
        assert_eq!(fields.to_value(), Value::Object(map.clone()));
        // The JSON text alerts carry is the value's text, byte for byte.
        fields.insert("n", json!({"deep": [1.5, null, "\u{1b}"]}));
        map.insert("n".to_string(), json!({"deep": [1.5, null, "\u{1b}"]}));
        assert_eq!(
            fields.to_json().get(),
            serde_json::to_string(&Value::Object(map.clone())).unwrap()
        );
        assert!(fields.keys().eq(map.keys().map(String::as_str)));
        assert_eq!(fields.get("k299"), Some(FieldRef::Str("v299")));
        assert_eq!(fields.get("k0"), Some(FieldRef::Str("v300")));
        assert_eq!(fields.get("k300"), None);
    }

    /// Collectors' shapes get the rules' names, the Windows aliases and their own event
    /// time, on the fast path as on the value path.
    #[test]
    fn collector_shapes_are_shaped_on_both_paths() {
        let file = || Arc::new(PathBuf::from("c.json"));
        let nxlog = r#"{"EventTime":"2019-03-19 23:34:25","Hostname":"WS1","EventType":"INFO","EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2019-03-19 22:34:25.100","Image":"C:\\x.exe"}"#;
        let ecs = r#"{"@timestamp":"2024-05-01T10:00:00.000Z","event":{"code":"4688"},"winlog":{"channel":"Security","event_id":"4688","computer_name":"dc1","event_data":{"NewProcessName":"C:\\w.exe"}},"process":{"command_line":"w"}}"#;
        let wlb6 = r#"{"@timestamp":"2019-03-19T23:34:25.000Z","log_name":"Security","event_id":4688,"source_name":"Microsoft-Windows-Security-Auditing","event_data":{"NewProcessName":"C:\\w.exe"}}"#;
        for json in [nxlog, ecs, wlb6] {
            assert!(!same_as_value_path(json), "{json}");
            let ev = Event::from_json_slice(file(), 1, json.as_bytes()).expect("parses");
            assert_eq!(ev.product, Some("windows"), "{json}");
            assert!(
                ev.fields
                    .get("EventID")
                    .is_some_and(|v| v.as_u64().is_some())
            );
        }
        let ev = Event::from_json_slice(file(), 1, nxlog.as_bytes()).expect("parses");
        // The record's own time, not Sysmon's UtcTime.
        assert_eq!(ev.time.as_deref(), Some("2019-03-19 23:34:25"));
        assert_eq!(
            ev.get("Provider_Name"),
            Some(FieldRef::Str("Microsoft-Windows-Sysmon"))
        );
        let ev = Event::from_json_slice(file(), 1, ecs.as_bytes()).expect("parses");
        assert_eq!(ev.time.as_deref(), Some("2024-05-01T10:00:00.000Z"));
        // The 4688 aliases run on the renamed event.
        assert_eq!(ev.get("Image"), Some(FieldRef::Str("C:\\w.exe")));
        assert_eq!(ev.get("Computer"), Some(FieldRef::Str("dc1")));
        let ev = Event::from_json_slice(file(), 1, wlb6.as_bytes()).expect("parses");
        assert_eq!(ev.get("Image"), Some(FieldRef::Str("C:\\w.exe")));
        assert_eq!(ev.time.as_deref(), Some("2019-03-19T23:34:25.000Z"));
    }

    /// Renames keep every other name findable (the table's deletion), keep the order,
    /// and never take a name that is there.
    #[test]
    fn fields_rename_in_place() {
        let mut fields = Fields::new();
        let mut names: Vec<String> = Vec::new();
        for i in 0..200 {
            let k = format!("winlog.event_data.F{i}");
            fields.insert(&k, json!(i));
            names.push(k);
        }
        fields.insert("F7", json!("taken"));
        names.push("F7".to_string());
        assert!(fields.rename("winlog.event_data.F3", "Three"));
        names[3] = "Three".to_string();
        assert!(!fields.rename("winlog.event_data.F4", "F7"));
        assert!(!fields.rename("absent", "x"));
        assert_eq!(fields.strip_prefix("winlog.event_data.", "EventData"), 199);
        for (i, name) in names.iter_mut().enumerate().take(200) {
            if i == 7 {
                *name = "EventData.F7".to_string();
            } else if i != 3 {
                *name = format!("F{i}");
            }
        }
        assert!(fields.keys().eq(names.iter().map(String::as_str)));
        for (i, name) in names.iter().enumerate().take(200) {
            assert_eq!(
                fields.get(name),
                Some(FieldRef::Number(&i.into())),
                "{name}"
            );
            assert!(!fields.contains_key(&format!("winlog.event_data.F{i}")));
        }
        assert_eq!(fields.get("F7"), Some(FieldRef::Str("taken")));
        // A name whose rest is empty, or whose fallback is taken too, stays.
        fields.insert("p.", json!(1));
        fields.insert("p.F1", json!(2));
        fields.insert("EventData.F1", json!(3));
        assert_eq!(fields.strip_prefix("p.", "EventData"), 0);
        assert_eq!(fields.get("p.F1"), Some(FieldRef::Number(&2.into())));
        // Inserting after renames still finds and replaces.
        fields.insert("F10", json!("new"));
        assert_eq!(fields.get("F10"), Some(FieldRef::Str("new")));
        assert_eq!(fields.len(), names.len() + 3);
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
