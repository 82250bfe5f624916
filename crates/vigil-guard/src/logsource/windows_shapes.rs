//! Windows events as collectors write them in JSON, renamed to the EVTX names.
//!
//! | shape | told by | system fields | event data |
//! |---|---|---|---|
//! | NXLog (`im_msvistalog`, `to_json()`) | `SourceName` + `EventID`, no `Provider_Name` | `SourceName`, `Hostname`, `RecordNumber`, ... | at the top level already |
//! | Winlogbeat 6 | `event_id` + `log_name` or `source_name` | `log_name`, `event_id`, `source_name`, `computer_name`, ... | `event_data.*`, `user_data.*` |
//! | Winlogbeat 7/8, Elastic Agent (ECS) | `winlog.channel`, `winlog.event_id` or `winlog.provider_name` | `winlog.*` | `winlog.event_data.*`, `winlog.user_data.*` |
//!
//! Fields are renamed in place (value and position stay), never over a field the event
//! already has under the rules' name; what no rule reads (`message`, ECS's `process.*`)
//! stays as it is. Besides the names:
//!
//! * `EventID` written as a string becomes a number, as in EVTX records;
//! * the level, which collectors write as a name (`Information`, `ERROR`,
//!   `AUDIT_SUCCESS`), becomes the EVTX `Level` number;
//! * unnamed `<Data>` values, which Winlogbeat names `param1`, `param2`, ..., become
//!   `Data` again (a string, or a list in their order), as the EVTX flattener gives them.
//!
//! Per channel, whatever the shape ([`fix_channel_fields`]):
//!
//! * Microsoft Defender names its fields with spaces (`Threat Name`, `Source Name`,
//!   `Process Name`); SigmaHQ's rules write them without (`ThreatName`, `SourceName`),
//!   except a few it writes with an underscore (`Feature_Name`);
//! * classic channels whose rules read the unnamed `Data` values (Windows PowerShell's
//!   400/600/800, Application, MSExchange Management) take `Data` from the rendered
//!   message when a collector kept only that (NXLog): it holds the same text, and more.

use serde_json::Value;

use crate::fields::{FieldRef, Fields};

/// A collector's JSON shape of a Windows event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsShape {
    /// NXLog's `im_msvistalog` through `to_json()`: flat, EventData at the top level.
    Nxlog,
    /// Winlogbeat 6.x: `log_name`, `event_id`, `event_data.*`.
    Winlogbeat6,
    /// Winlogbeat 7/8 and Elastic Agent: ECS, with the event under `winlog.*`.
    Ecs,
}

/// How one shape names what the rules read.
struct ShapeSpec {
    /// (rules' name, shape's name): renamed, where the event lacks the rules' name. For
    /// a name listed twice the first the event has wins.
    rename: &'static [(&'static str, &'static str)],
    /// (rules' name, shape's name): copied, for fields the shape keeps for other uses.
    copy: &'static [(&'static str, &'static str)],
    /// (prefix, container): the shape's event data fields are named `prefix + name`; a
    /// name already taken is kept as `container.name`, as the EVTX flattener does.
    data: &'static [(&'static str, &'static str)],
    /// The field that holds the level's name.
    level: Option<&'static str>,
    /// Unnamed `<Data>` values are written as `param1`, `param2`, ...
    params: bool,
    /// Where the event time is, in order of preference.
    time: &'static [&'static str],
}

const NXLOG: ShapeSpec = ShapeSpec {
    rename: &[
        ("Provider_Name", "SourceName"),
        ("Computer", "Hostname"),
        ("EventRecordID", "RecordNumber"),
        ("Execution_ProcessID", "ProcessID"),
        ("Execution_ThreadID", "ThreadID"),
        ("Security_UserID", "UserID"),
        ("Provider_Guid", "ProviderGuid"),
        ("Correlation_ActivityID", "ActivityID"),
        ("Correlation_RelatedActivityID", "RelatedActivityID"),
    ],
    copy: &[],
    data: &[],
    level: Some("EventType"),
    params: false,
    time: &["EventTime"],
};

const WINLOGBEAT6: ShapeSpec = ShapeSpec {
    rename: &[
        ("Channel", "log_name"),
        ("EventID", "event_id"),
        ("Provider_Name", "source_name"),
        ("Computer", "computer_name"),
        ("EventRecordID", "record_number"),
        ("Execution_ProcessID", "process_id"),
        ("Execution_ThreadID", "thread_id"),
        ("Security_UserID", "user.identifier"),
        ("Provider_Guid", "provider_guid"),
        ("Correlation_ActivityID", "activity_id"),
        ("Correlation_RelatedActivityID", "related_activity_id"),
        ("Version", "version"),
    ],
    copy: &[("Computer", "host.name")],
    data: &[("event_data.", "EventData"), ("user_data.", "UserData")],
    level: Some("level"),
    params: true,
    time: &["@timestamp"],
};

const ECS: ShapeSpec = ShapeSpec {
    rename: &[
        ("Channel", "winlog.channel"),
        ("EventID", "winlog.event_id"),
        ("Provider_Name", "winlog.provider_name"),
        ("Computer", "winlog.computer_name"),
        ("EventRecordID", "winlog.record_id"),
        ("Execution_ProcessID", "winlog.process.pid"),
        ("Execution_ThreadID", "winlog.process.thread.id"),
        ("Security_UserID", "winlog.user.identifier"),
        ("Provider_Guid", "winlog.provider_guid"),
        ("Correlation_ActivityID", "winlog.activity_id"),
        (
            "Correlation_RelatedActivityID",
            "winlog.related_activity_id",
        ),
        ("Version", "winlog.version"),
    ],
    // ECS's own copies of the same values: read only where `winlog.*` lacks them.
    copy: &[
        ("EventID", "event.code"),
        ("Provider_Name", "event.provider"),
        ("Computer", "host.name"),
    ],
    data: &[
        ("winlog.event_data.", "EventData"),
        ("winlog.user_data.", "UserData"),
    ],
    level: Some("log.level"),
    params: true,
    time: &["@timestamp"],
};

/// Level names as collectors write them (any case) → the EVTX `Level`. Security audit
/// events are level 0, which NXLog writes as `AUDIT_SUCCESS` / `AUDIT_FAILURE`.
const LEVELS: &[(&str, u64)] = &[
    ("information", 4),
    ("info", 4),
    ("audit_success", 0),
    ("audit_failure", 0),
    ("audit success", 0),
    ("audit failure", 0),
    ("warning", 3),
    ("error", 2),
    ("critical", 1),
    ("verbose", 5),
];

/// Defender's channel: its field names have spaces.
const DEFENDER_CHANNEL: &str = "Microsoft-Windows-Windows Defender/Operational";

/// Defender names SigmaHQ writes with an underscore instead of without the space.
const DEFENDER_NAMES: &[(&str, &str)] = &[("Feature Name", "Feature_Name")];

/// Channels whose rules read the unnamed `Data` values of classic events.
const CLASSIC_DATA_CHANNELS: &[&str] =
    &["Windows PowerShell", "Application", "MSExchange Management"];

/// Where collectors put the rendered message.
const MESSAGE_FIELDS: &[&str] = &["Message", "message"];

impl WindowsShape {
    /// Tell the shape of a flattened JSON event from a few of its keys; `None` for an
    /// event already named as the rules expect (it has `Provider_Name`) or not Windows.
    pub fn detect(fields: &Fields) -> Option<Self> {
        if fields.contains_key("Provider_Name") {
            return None;
        }
        if fields.contains_key("winlog.channel")
            || fields.contains_key("winlog.event_id")
            || fields.contains_key("winlog.provider_name")
        {
            return Some(WindowsShape::Ecs);
        }
        if fields.contains_key("event_id")
            && (fields.contains_key("log_name") || fields.contains_key("source_name"))
        {
            return Some(WindowsShape::Winlogbeat6);
        }
        if fields.contains_key("SourceName") && fields.contains_key("EventID") {
            return Some(WindowsShape::Nxlog);
        }
        None
    }

    fn spec(self) -> &'static ShapeSpec {
        match self {
            WindowsShape::Nxlog => &NXLOG,
            WindowsShape::Winlogbeat6 => &WINLOGBEAT6,
            WindowsShape::Ecs => &ECS,
        }
    }

    /// The fields that hold the event time in this shape, in order of preference.
    pub fn time_fields(self) -> &'static [&'static str] {
        self.spec().time
    }

    /// Rename an event of this shape to the rules' names (see the module doc).
    pub fn apply(self, fields: &mut Fields) {
        let spec = self.spec();
        for &(ours, theirs) in spec.rename {
            fields.rename(theirs, ours);
        }
        for &(ours, theirs) in spec.copy {
            if !fields.contains_key(ours)
                && let Some(v) = fields.get(theirs).map(FieldRef::to_value)
            {
                fields.insert(ours, v);
            }
        }
        for &(prefix, container) in spec.data {
            fields.strip_prefix(prefix, container);
        }
        if let Some(id) = fields
            .get("EventID")
            .and_then(FieldRef::as_str)
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            fields.insert("EventID", Value::from(id));
        }
        if let Some(level_field) = spec.level
            && !fields.contains_key("Level")
            && let Some(level) = fields
                .get(level_field)
                .and_then(FieldRef::as_str)
                .and_then(level_number)
        {
            fields.insert("Level", Value::from(level));
        }
        if spec.params && !fields.contains_key("Data") {
            unnamed_data_from_params(fields);
        }
    }
}

fn level_number(name: &str) -> Option<u64> {
    let name = name.trim();
    LEVELS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, level)| level)
}

/// `param1`, `param2`, ... (Winlogbeat's names for unnamed `<Data>` values; `param0` on
/// some paths, and gaps where it dropped an empty value) → `Data`, in their order.
fn unnamed_data_from_params(fields: &mut Fields) {
    let mut params: Vec<(u32, Value)> = fields
        .iter()
        .filter_map(|(name, v)| {
            let n = name.strip_prefix("param")?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((n.parse().ok()?, v.to_value()))
        })
        .collect();
    if params.is_empty() {
        return;
    }
    params.sort_by_key(|(n, _)| *n);
    let data = if params.len() == 1 {
        params.pop().map(|(_, v)| v).unwrap_or(Value::Null)
    } else {
        Value::Array(params.into_iter().map(|(_, v)| v).collect())
    };
    fields.insert("Data", data);
}

/// What a channel needs besides its shape's renames.
enum ChannelFix {
    Defender,
    ClassicData,
}

/// The per-channel fix-ups, for events of every shape, EVTX records included (see the
/// module doc). Costs one field lookup on events of other channels.
pub fn fix_channel_fields(fields: &mut Fields) {
    let fix = match fields.get("Channel").and_then(FieldRef::as_str) {
        Some(c) if c.eq_ignore_ascii_case(DEFENDER_CHANNEL) => ChannelFix::Defender,
        Some(c)
            if CLASSIC_DATA_CHANNELS
                .iter()
                .any(|k| c.eq_ignore_ascii_case(k)) =>
        {
            ChannelFix::ClassicData
        }
        _ => return,
    };
    match fix {
        ChannelFix::Defender => defender_names(fields),
        ChannelFix::ClassicData => {
            if fields.contains_key("Data") {
                return;
            }
            let message = MESSAGE_FIELDS
                .iter()
                .find_map(|m| fields.get(m).filter(|v| v.is_string()))
                .map(FieldRef::to_value);
            if let Some(message) = message {
                fields.insert("Data", message);
            }
        }
    }
}

/// `Threat Name` → `ThreatName` (or the spelling [`DEFENDER_NAMES`] gives).
fn defender_names(fields: &mut Fields) {
    let spaced: Vec<String> = fields
        .keys()
        .filter(|k| k.contains(' '))
        .map(str::to_string)
        .collect();
    for name in spaced {
        let to = DEFENDER_NAMES
            .iter()
            .find(|(theirs, _)| *theirs == name)
            .map_or_else(|| name.replace(' ', ""), |(_, ours)| ours.to_string());
        fields.rename(&name, &to);
    }
}

/// Shape a flattened JSON event that is not an EVTX record: detect its collector shape
/// and rename it (see [`WindowsShape::apply`]), then the per-channel fix-ups. Returns
/// the shape found, which tells where its time is.
pub fn shape_windows_json(fields: &mut Fields) -> Option<WindowsShape> {
    let shape = WindowsShape::detect(fields);
    if let Some(shape) = shape {
        shape.apply(fields);
    }
    fix_channel_fields(fields);
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        let Value::Object(map) = v else {
            panic!("test value is an object")
        };
        Fields::from_map(map)
    }

    fn shaped(v: Value) -> (Option<WindowsShape>, Value) {
        let mut f = fields(v);
        let shape = shape_windows_json(&mut f);
        (shape, f.to_value())
    }

    #[test]
    fn detects_each_shape_by_a_few_keys() {
        let detect = |v: Value| WindowsShape::detect(&fields(v));
        assert_eq!(
            detect(json!({"winlog.channel": "Security", "winlog.event_id": "4688"})),
            Some(WindowsShape::Ecs)
        );
        assert_eq!(
            detect(json!({"winlog.provider_name": "Microsoft-Windows-RPC"})),
            Some(WindowsShape::Ecs)
        );
        assert_eq!(
            detect(json!({"log_name": "Security", "event_id": 4688})),
            Some(WindowsShape::Winlogbeat6)
        );
        assert_eq!(
            detect(json!({"SourceName": "Microsoft-Windows-Sysmon", "EventID": 1, "Channel": "x"})),
            Some(WindowsShape::Nxlog)
        );
        // Already in the rules' names, or not a Windows event.
        assert_eq!(
            detect(json!({"Provider_Name": "P", "SourceName": "AMSI", "EventID": 1116})),
            None
        );
        assert_eq!(
            detect(json!({"Channel": "Security", "EventID": 4688})),
            None
        );
        assert_eq!(detect(json!({"event_id": 3, "message": "x"})), None);
        assert_eq!(detect(json!({"process.command_line": "whoami"})), None);
    }

    #[test]
    fn nxlog_system_fields_are_renamed() {
        let (shape, v) = shaped(json!({
            "EventTime": "2019-03-19 23:34:25", "Hostname": "WS1", "EventType": "INFO",
            "EventID": 1, "SourceName": "Microsoft-Windows-Sysmon", "RecordNumber": 7,
            "ProcessID": 1944, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Image": "C:\\Windows\\System32\\whoami.exe", "ProcessId": "6116",
            "Message": "Process Create:"
        }));
        assert_eq!(shape, Some(WindowsShape::Nxlog));
        assert_eq!(v["Provider_Name"], json!("Microsoft-Windows-Sysmon"));
        assert_eq!(v["Computer"], json!("WS1"));
        assert_eq!(v["EventRecordID"], json!(7));
        assert_eq!(v["Execution_ProcessID"], json!(1944));
        assert_eq!(v["ProcessId"], json!("6116"));
        assert_eq!(v["Level"], json!(4));
        assert!(v.get("SourceName").is_none() && v.get("Hostname").is_none());
        // A Sysmon event is not a classic one: its message is not `Data`.
        assert!(v.get("Data").is_none());
        assert_eq!(WindowsShape::Nxlog.time_fields(), ["EventTime"]);
    }

    #[test]
    fn winlogbeat6_event_data_is_lifted_and_params_become_data() {
        let (shape, v) = shaped(json!({
            "@timestamp": "2019-03-19T23:34:25.123Z", "log_name": "Windows PowerShell",
            "event_id": 400, "source_name": "PowerShell", "computer_name": "WS1",
            "record_number": "12", "level": "Information", "host.name": "collector",
            "event_data.param1": "Available", "event_data.param2": "None",
            "event_data.param3": "\tNewEngineState=Available\n\tHostName=ConsoleHost",
            "message": "Engine state is changed from None to Available."
        }));
        assert_eq!(shape, Some(WindowsShape::Winlogbeat6));
        assert_eq!(v["Channel"], json!("Windows PowerShell"));
        assert_eq!(v["EventID"], json!(400));
        assert_eq!(v["Computer"], json!("WS1"));
        assert_eq!(v["host.name"], json!("collector"));
        assert_eq!(
            v["Data"],
            json!([
                "Available",
                "None",
                "\tNewEngineState=Available\n\tHostName=ConsoleHost"
            ])
        );
        assert_eq!(v["param1"], json!("Available"));
    }

    #[test]
    fn ecs_is_renamed_and_string_event_id_becomes_a_number() {
        let (shape, v) = shaped(json!({
            "@timestamp": "2024-05-01T10:00:00.000Z", "event.code": "4688",
            "winlog.channel": "Security", "winlog.event_id": "4688",
            "winlog.provider_name": "Microsoft-Windows-Security-Auditing",
            "winlog.computer_name": "dc1.corp", "host.name": "dc1",
            "winlog.event_data.NewProcessName": "C:\\Windows\\System32\\whoami.exe",
            "winlog.event_data.Channel": "clash", "log.level": "information",
            "process.command_line": "whoami", "winlog.user_data.xml_name": "X"
        }));
        assert_eq!(shape, Some(WindowsShape::Ecs));
        assert_eq!(v["EventID"], json!(4688));
        assert_eq!(v["Channel"], json!("Security"));
        assert_eq!(v["Computer"], json!("dc1.corp"));
        assert_eq!(v["host.name"], json!("dc1"));
        assert_eq!(
            v["NewProcessName"],
            json!("C:\\Windows\\System32\\whoami.exe")
        );
        // An event data name that a system field has: kept as EVTX keeps it.
        assert_eq!(v["EventData.Channel"], json!("clash"));
        assert_eq!(v["process.command_line"], json!("whoami"));
        assert_eq!(v["Level"], json!(4));
        assert!(v.get("winlog.channel").is_none());
    }

    #[test]
    fn ecs_falls_back_on_its_own_copies() {
        let (_, v) = shaped(json!({
            "winlog.channel": "Security", "event.code": "4624", "host.name": "ws2"
        }));
        assert_eq!(v["EventID"], json!(4624));
        assert_eq!(v["Computer"], json!("ws2"));
        assert_eq!(v["event.code"], json!("4624"));
    }

    #[test]
    fn a_field_already_there_is_never_overwritten() {
        let (_, v) = shaped(json!({
            "winlog.channel": "Security", "Channel": "Mine", "winlog.event_id": 1,
            "winlog.event_data.Image": "theirs", "Image": "mine", "Level": 9,
            "log.level": "error"
        }));
        assert_eq!(v["Channel"], json!("Mine"));
        assert_eq!(v["winlog.channel"], json!("Security"));
        assert_eq!(v["Image"], json!("mine"));
        assert_eq!(v["EventData.Image"], json!("theirs"));
        assert_eq!(v["Level"], json!(9));
    }

    #[test]
    fn params_in_order_with_gaps_and_zero_based() {
        let (_, v) = shaped(json!({
            "winlog.channel": "Application", "winlog.event_id": 1,
            "winlog.event_data.param10": "j", "winlog.event_data.param2": "b",
            "winlog.event_data.param0": "a", "winlog.event_data.paramX": "not one",
        }));
        assert_eq!(v["Data"], json!(["a", "b", "j"]));
        let (_, v) = shaped(json!({
            "log_name": "Application", "event_id": 1, "event_data.param1": "only"
        }));
        assert_eq!(v["Data"], json!("only"));
    }

    #[test]
    fn defender_names_lose_their_spaces_in_every_shape() {
        for v in [
            json!({"Channel": DEFENDER_CHANNEL, "EventID": 1116, "Provider_Name": "P",
                "Threat Name": "EICAR", "Source Name": "AMSI", "Feature Name": "%%886"}),
            json!({"Channel": DEFENDER_CHANNEL, "EventID": 1116, "SourceName": "P",
                "Threat Name": "EICAR", "Source Name": "AMSI", "Feature Name": "%%886"}),
            json!({"winlog.channel": DEFENDER_CHANNEL, "winlog.event_id": "1116",
                "winlog.provider_name": "P", "winlog.event_data.Threat Name": "EICAR",
                "winlog.event_data.Source Name": "AMSI",
                "winlog.event_data.Feature Name": "%%886"}),
        ] {
            let (_, v) = shaped(v);
            assert_eq!(v["Provider_Name"], json!("P"), "{v}");
            assert_eq!(v["ThreatName"], json!("EICAR"), "{v}");
            assert_eq!(v["SourceName"], json!("AMSI"), "{v}");
            assert_eq!(v["Feature_Name"], json!("%%886"), "{v}");
            assert!(v.get("Threat Name").is_none(), "{v}");
        }
        // Other channels keep their names.
        let (_, v) = shaped(json!({"Channel": "Security", "Threat Name": "x"}));
        assert_eq!(v["Threat Name"], json!("x"));
    }

    #[test]
    fn classic_channels_take_data_from_the_message() {
        let (_, v) = shaped(json!({
            "SourceName": "PowerShell", "EventID": 400, "Channel": "Windows PowerShell",
            "Message": "Engine state is changed from None to Available. \r\n\r\nDetails: \r\n\tHostName=ConsoleHost"
        }));
        assert_eq!(v["Data"], v["Message"]);
        // Data already there (EVTX, or Winlogbeat's params) wins.
        let (_, v) = shaped(json!({
            "Channel": "Application", "EventID": 1, "Data": ["a"], "Message": "m"
        }));
        assert_eq!(v["Data"], json!(["a"]));
        let (_, v) = shaped(json!({"Channel": "Security", "EventID": 1, "Message": "m"}));
        assert!(v.get("Data").is_none());
    }

    #[test]
    fn level_names() {
        for (name, level) in [
            ("Information", 4),
            ("INFO", 4),
            ("AUDIT_SUCCESS", 0),
            ("Error", 2),
            ("critical", 1),
            ("Warning", 3),
            ("Verbose", 5),
        ] {
            assert_eq!(level_number(name), Some(level), "{name}");
        }
        assert_eq!(level_number("loud"), None);
    }
}
