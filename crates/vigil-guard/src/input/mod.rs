//! Inputs: where events come from, one file per format behind one trait.
//!
//! * [`evtx`]: Windows EVTX (the `evtx` crate, parallel over chunks);
//! * [`jsonl`]: line-oriented sources (JSON lines; a [`LineFormat`] parses each line, so
//!   another line format such as syslog reads the same way);
//! * [`json_document`]: one JSON object, an array of events, or documents one after
//!   another;
//! * [`stdin`] and [`follow`]: standard input and a growing file, read by the JSON-lines
//!   reader of files, line by line as they arrive.
//!
//! Every source is an [`EventSource`]: it yields `Result<Event, ReadError>`; a corrupt
//! chunk or record, or a line that is not JSON, is one error item naming the file and the
//! record or line, and reading goes on where the format allows it.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::event::Event;

pub mod evtx;
pub mod follow;
pub mod json_document;
pub mod jsonl;
pub mod stdin;
pub mod syslog;

pub use evtx::{EvtxReader, read_evtx};
pub use json_document::{parse_json_document, read_json};
pub use jsonl::{JsonLineFormat, LineEvents, LineFormat, LineReader, read_jsonl, read_jsonl_from};

/// A source of events (a file of any format, standard input, a followed file): events
/// in input order, and a [`ReadError`] for each record or line that could not be read.
pub trait EventSource: Iterator<Item = Result<Event, ReadError>> + Send {
    /// Bytes read so far, where the source counts them (streams, whose size is not known
    /// in advance); 0 otherwise.
    fn bytes_read(&self) -> u64 {
        0
    }
}

impl<S: EventSource + ?Sized> EventSource for Box<S> {
    fn bytes_read(&self) -> u64 {
        (**self).bytes_read()
    }
}

impl EventSource for std::vec::IntoIter<Result<Event, ReadError>> {}

/// What a run read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadCounts {
    /// Events read.
    pub events: u64,
    /// Bytes read (files: their size; streams: what came).
    pub bytes: u64,
    /// Records or lines that could not be read.
    pub read_errors: u64,
}

/// A record or line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}{}: {reason}", file.display(), record.map(|r| format!(" record {r}")).unwrap_or_default())]
pub struct ReadError {
    /// The file being read.
    pub file: PathBuf,
    /// EVTX: the record id (or none when a whole chunk or the file header is bad).
    /// JSON: the 1-based line number (JSON lines) or event position (JSON documents).
    pub record: Option<u64>,
    /// What went wrong.
    pub reason: String,
}

impl ReadError {
    /// An error at `file`, record or line `record`.
    pub fn new(file: &Path, record: Option<u64>, reason: impl Into<String>) -> Self {
        ReadError {
            file: file.to_path_buf(),
            record,
            reason: reason.into(),
        }
    }
}

/// The input formats Vigil reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Windows XML event log (binary `.evtx`).
    Evtx,
    /// One JSON value per line.
    JsonLines,
    /// One JSON document, an array of events, or documents written one after another.
    Json,
}

/// Guess a file's format from its name and, for `.json`, its first line.
pub fn detect_format(path: &Path) -> InputFormat {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "evtx" => InputFormat::Evtx,
        "jsonl" | "ndjson" => InputFormat::JsonLines,
        _ => {
            if has_evtx_magic(path) {
                InputFormat::Evtx
            } else if first_line_is_a_record(path) {
                InputFormat::JsonLines
            } else {
                InputFormat::Json
            }
        }
    }
}

fn has_evtx_magic(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"ElfFile\0")
}

/// True when the first non-empty line is a whole JSON object, or a syslog or auditd line:
/// the file is read line by line (see [`jsonl::JsonLineFormat`]).
fn first_line_is_a_record(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with(b"{") {
            return serde_json::from_slice::<Value>(trimmed).is_ok_and(|v| v.is_object());
        }
        return std::str::from_utf8(trimmed).is_ok_and(|l| syslog::parse_line(l).is_some());
    }
}

/// Read any supported file, choosing the reader by [`detect_format`].
pub fn read_events(path: &Path) -> Box<dyn EventSource> {
    match detect_format(path) {
        InputFormat::Evtx => Box::new(read_evtx(path)),
        InputFormat::JsonLines => read_jsonl(path),
        InputFormat::Json => Box::new(read_json(path)),
    }
}

/// Open one input of a run: `-` is JSON lines on standard input; with `follow`, a file
/// that is not EVTX is read as JSON lines as it grows (see [`follow`]); any other file by
/// its format. Streams and files go through the same readers, so the same lines give the
/// same events. Only a file to follow that cannot be opened is an error here; any other
/// problem is an error item of the source.
pub fn open_input(input: &Path, follow: bool) -> Result<Box<dyn EventSource>, ReadError> {
    if is_stdin(input) {
        return Ok(Box::new(stdin::read_stdin()));
    }
    if follow && detect_format(input) != InputFormat::Evtx {
        return follow::follow_jsonl(input);
    }
    Ok(read_events(input))
}

/// The files under the inputs of a batch run: files as given, folders walked (sorted by
/// name) for `.evtx`, `.json`, `.jsonl`, `.ndjson` and `.log`; and the inputs that do not
/// exist.
pub fn collect_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for i in inputs {
        if i.is_file() {
            files.push(i.clone());
        } else if i.is_dir() {
            for e in walkdir::WalkDir::new(i)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let p = e.path();
                let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
                if e.file_type().is_file()
                    && matches!(
                        ext.to_ascii_lowercase().as_str(),
                        "evtx" | "json" | "jsonl" | "ndjson" | "log"
                    )
                {
                    files.push(p.to_path_buf());
                }
            }
        } else {
            missing.push(i.clone());
        }
    }
    (files, missing)
}

/// Whether an input names standard input (`-`).
pub fn is_stdin(input: &Path) -> bool {
    input.as_os_str() == "-"
}

/// Whether an input is read as it arrives (standard input, or a followed file) rather
/// than as a whole file: its events are matched and its alerts passed on one by one.
pub fn is_stream(input: &Path, follow: bool) -> bool {
    is_stdin(input) || (follow && detect_format(input) != InputFormat::Evtx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_with(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        let mut f = File::create(&path).expect("create");
        f.write_all(content).expect("write");
        (dir, path)
    }

    #[test]
    fn bad_json_line_is_reported_and_skipped() {
        let (_d, path) = temp_with(
            "events.jsonl",
            b"{\"EventID\": 1, \"Image\": \"a\"}\n{not json\n\n{\"EventID\": 2}\n",
        );
        let items: Vec<_> = read_jsonl(&path).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().map(|e| e.record), Ok(1));
        let err = items[1].as_ref().expect_err("line 2 is bad");
        assert_eq!(err.record, Some(2));
        assert_eq!(err.file, path);
        assert!(err.reason.contains("invalid JSON"), "{}", err.reason);
        assert_eq!(items[2].as_ref().map(|e| e.record), Ok(4));
    }

    #[test]
    fn invalid_utf8_line_is_an_error_not_a_panic() {
        let (_d, path) = temp_with("x.jsonl", b"{\"a\": \"\xff\xfe\"}\n{\"b\": 1}\n");
        let items: Vec<_> = read_jsonl(&path).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_err());
        assert!(items[1].is_ok());
    }

    #[test]
    fn concatenated_documents_and_arrays() {
        let (_d, path) = temp_with(
            "doc.json",
            b"{\n  \"Event\": {\"System\": {\"EventID\": 1, \"Channel\": \"c\"}}\n}\n{\n \"x\": {\"y\": 2}\n}\n[{\"a\": 1}, {\"a\": 2}]",
        );
        let events: Vec<_> = read_json(&path).collect::<Result<_, _>>().expect("all ok");
        assert_eq!(events.len(), 4);
        assert_eq!(
            events[0].fields.get("EventID").map(|v| v.to_value()),
            Some(serde_json::json!(1))
        );
        assert_eq!(
            events[1].fields.get("x.y").map(|v| v.to_value()),
            Some(serde_json::json!(2))
        );
        assert_eq!(events[3].record, 4);
    }

    #[test]
    fn malformed_document_reports_line() {
        let (_d, path) = temp_with("bad.json", b"{\"a\": 1}\n{\"b\": \n");
        let items: Vec<_> = read_json(&path).collect();
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().expect_err("second document is cut");
        assert_eq!(err.record, Some(2));
        assert!(err.reason.contains("line"), "{}", err.reason);
    }

    #[test]
    fn missing_file_is_an_error_item() {
        let path = Path::new("/nonexistent/vigil/file.evtx");
        let items: Vec<_> = read_evtx(path).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
        let items: Vec<_> = read_jsonl(path).collect();
        assert!(items[0].is_err());
    }

    #[test]
    fn not_an_evtx_file_is_an_error_item() {
        let (_d, path) = temp_with("fake.evtx", b"this is not an event log at all");
        let items: Vec<_> = read_evtx(&path).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
    }

    #[test]
    fn detects_formats() {
        let (_d, lines) = temp_with("a.json", b"{\"a\": 1}\n{\"a\": 2}\n");
        assert_eq!(detect_format(&lines), InputFormat::JsonLines);
        let (_d2, doc) = temp_with("b.json", b"{\n \"a\": 1\n}\n");
        assert_eq!(detect_format(&doc), InputFormat::Json);
        let (_d3, arr) = temp_with("c.json", b"[{\"a\": 1}]");
        assert_eq!(detect_format(&arr), InputFormat::Json);
    }
}
