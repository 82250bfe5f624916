//! Event shaping: telling which shape a log record comes in, and renaming its fields to
//! the names the rules are written against.
//!
//! SigmaHQ's Windows rules name fields as the EVTX record does once flattened
//! (`Channel`, `EventID`, `Provider_Name`, `Computer`, and the `EventData` names at the
//! top level; see [`crate::event`]). Collectors write the same events under other names:
//! NXLog flat (`SourceName`, `Hostname`, `EventTime`), Winlogbeat 6 (`log_name`,
//! `event_id`, `event_data.*`), Winlogbeat 7/8 and Elastic Agent (ECS: `winlog.channel`,
//! `winlog.event_data.*`, `@timestamp`). [`windows_shapes`] tells these shapes apart by a
//! few keys of the flattened event and renames their fields in place, so that the same
//! rules fire on them as on the EVTX record, and names the field that holds the event
//! time.
//!
//! Shaping runs after flattening and before the Windows field aliases and routing
//! (which read `Channel` and `EventID`). An EVTX record is already in the rules' shape:
//! it only gets the per-channel fix-ups (Defender's names with spaces), one field lookup.

//!
//! [`windows`] is the Windows logsource mapping: which Sigma logsources an event of a
//! channel and EventID belongs to (routing), and the event-side field aliases. Other
//! families (Linux, cloud) get a module each beside it; none imports the event or
//! anything above it, so that shaping stays below flattening.

pub mod linux;
pub mod windows;
pub mod windows_shapes;

pub(crate) use windows::field_u64;
pub use windows::{AliasRule, MappingError, WINDOWS_PIPELINE_YAML, WindowsMapping};
pub use windows_shapes::{WindowsShape, fix_channel_fields, shape_windows_json};
