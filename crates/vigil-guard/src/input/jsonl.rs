//! Line-oriented sources: a reader that splits lines (files, standard input, a followed
//! file alike) and a [`LineFormat`] that turns each line into events. JSON lines is the
//! format here; another (syslog) is a second [`LineFormat`] over the same reader.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{EventSource, ReadError};
use crate::event::Event;

/// Read buffer of a JSON-lines file: a few large reads rather than many 8 KiB ones.
pub(crate) const JSONL_READ_BUFFER: usize = 256 << 10;

/// Largest line buffer kept between lines.
const MAX_KEPT_LINE_BUFFER: usize = 1 << 20;

/// What one line gave.
pub enum LineEvents {
    /// One event, or the line's error.
    One(Result<Event, ReadError>),
    /// Several events (a JSON line holding an array).
    Many(Vec<Event>),
}

/// How a line-oriented source turns one line into events.
pub trait LineFormat: Send {
    /// Parse one line: `line` is trimmed and not empty; `line_no` is 1-based and numbers
    /// the events it gives.
    fn parse_line(&mut self, source: &Arc<PathBuf>, line_no: u64, line: &[u8]) -> LineEvents;
}

/// JSON lines: an object per line (flattened as it is parsed, see
/// [`Event::from_json_slice`]); a line holding an array gives one event per member, any
/// other JSON value one event. A line that is not JSON but a syslog or auditd line is
/// read as one (see [`super::syslog`]), so Linux logs, and streams that mix them with
/// JSON, go through the same reader; any other line is an error with its number.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLineFormat;

impl LineFormat for JsonLineFormat {
    fn parse_line(&mut self, source: &Arc<PathBuf>, line_no: u64, line: &[u8]) -> LineEvents {
        let invalid = |e: serde_json::Error| {
            ReadError::new(source, Some(line_no), format!("invalid JSON: {e}"))
        };
        if line.starts_with(b"{") {
            return LineEvents::One(
                Event::from_json_slice(Arc::clone(source), line_no, line).map_err(invalid),
            );
        }
        if !line.starts_with(b"[")
            && let Some(record) = std::str::from_utf8(line)
                .ok()
                .and_then(super::syslog::parse_line)
        {
            return LineEvents::One(Ok(Event::from_linux(
                Arc::clone(source),
                line_no,
                record.fields,
                record.time,
                record.source,
            )));
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Array(items)) => LineEvents::Many(
                items
                    .into_iter()
                    .map(|item| Event::from_json(Arc::clone(source), line_no, item))
                    .collect(),
            ),
            Ok(value) => LineEvents::One(Ok(Event::from_json(Arc::clone(source), line_no, value))),
            Err(e) => LineEvents::One(Err(invalid(e))),
        }
    }
}

/// Read a JSON lines file (see [`JsonLineFormat`]); the next line is read as usual
/// after a bad one.
pub fn read_jsonl(path: &Path) -> Box<dyn EventSource> {
    match File::open(path) {
        Ok(f) => Box::new(read_jsonl_from(
            BufReader::with_capacity(JSONL_READ_BUFFER, f),
            path,
        )),
        Err(e) => Box::new(vec![Err(ReadError::new(path, None, e.to_string()))].into_iter()),
    }
}

/// [`read_jsonl`] over any buffered reader (stdin, a socket, a followed file); `name`
/// labels the events.
pub fn read_jsonl_from<R: BufRead + Send>(reader: R, name: &Path) -> LineReader<R, JsonLineFormat> {
    LineReader::new(reader, name, JsonLineFormat)
}

/// The events of a line-oriented source, line by line: each line is read only when the
/// events before it are taken, so a stream's events come out as they arrive.
pub struct LineReader<R, P> {
    reader: R,
    format: P,
    file: Arc<PathBuf>,
    line_no: u64,
    bytes: u64,
    pending: VecDeque<Event>,
    done: bool,
    /// The line being read (kept between lines: its buffer is reused).
    line: Vec<u8>,
}

impl<R: BufRead, P: LineFormat> LineReader<R, P> {
    /// Read `reader` line by line with `format`; `name` labels the events.
    pub fn new(reader: R, name: &Path, format: P) -> Self {
        LineReader {
            reader,
            format,
            file: Arc::new(name.to_path_buf()),
            line_no: 0,
            bytes: 0,
            pending: VecDeque::new(),
            done: false,
            line: Vec::new(),
        }
    }

    fn next_with(&mut self, line: &mut Vec<u8>) -> Option<Result<Event, ReadError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            line.clear();
            self.line_no += 1;
            match self.reader.read_until(b'\n', line) {
                Ok(0) => {
                    self.done = true;
                    continue;
                }
                Ok(n) => self.bytes += n as u64,
                Err(e) => {
                    self.done = true;
                    return Some(Err(ReadError::new(
                        &self.file,
                        Some(self.line_no),
                        e.to_string(),
                    )));
                }
            }
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            match self.format.parse_line(&self.file, self.line_no, trimmed) {
                LineEvents::One(item) => return Some(item),
                LineEvents::Many(events) => self.pending.extend(events),
            }
        }
    }
}

impl<R: BufRead, P: LineFormat> Iterator for LineReader<R, P> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = std::mem::take(&mut self.line);
        let item = self.next_with(&mut line);
        // A huge line's buffer is not kept for the rest of the file.
        if line.capacity() <= MAX_KEPT_LINE_BUFFER {
            self.line = line;
        }
        item
    }
}

impl<R: BufRead + Send, P: LineFormat> EventSource for LineReader<R, P> {
    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}
