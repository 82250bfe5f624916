//! Readers: Windows EVTX (the `evtx` crate, parallel over chunks), JSON lines, and JSON
//! documents (one object, an array of objects, or objects written one after another).
//!
//! Every reader yields `Result<Event, ReadError>`: a corrupt chunk or record, or a line that
//! is not JSON, is one error item naming the file and the record or line, and reading goes
//! on where the format allows it. Nothing in a file can make a reader panic: the EVTX
//! parser runs under `catch_unwind`, since a parser bug must cost one chunk, not the run.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, IntoIterChunks, ParserSettings};
use rayon::prelude::*;
use serde_json::Value;

use crate::event::Event;

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
    fn new(file: &Path, record: Option<u64>, reason: impl Into<String>) -> Self {
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
            } else if first_line_is_json(path) {
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

/// True when the first non-empty line is a whole JSON object: the file is JSON lines.
fn first_line_is_json(path: &Path) -> bool {
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
        return trimmed.starts_with(b"{")
            && serde_json::from_slice::<Value>(trimmed).is_ok_and(|v| v.is_object());
    }
}

/// Read any supported file, choosing the reader by [`detect_format`].
pub fn read_events(path: &Path) -> Box<dyn Iterator<Item = Result<Event, ReadError>> + Send> {
    match detect_format(path) {
        InputFormat::Evtx => Box::new(read_evtx(path)),
        InputFormat::JsonLines => Box::new(read_jsonl(path)),
        InputFormat::Json => Box::new(read_json(path)),
    }
}

// ---------------------------------------------------------------------------------------
// EVTX
// ---------------------------------------------------------------------------------------

/// Read a Windows EVTX file. Chunks are parsed in parallel on the rayon pool, a batch at a
/// time, and yielded in file order.
pub fn read_evtx(path: &Path) -> EvtxReader {
    let file = Arc::new(path.to_path_buf());
    let settings = Arc::new(ParserSettings::new().num_threads(1));
    let mut pending = VecDeque::new();
    let mut missing = None;
    let opened = match File::open(path) {
        Ok(f) => Some(TrimmedFile::new(f)),
        Err(e) => {
            pending.push_back(Err(ReadError::new(path, None, format!("cannot open: {e}"))));
            None
        }
    };
    // The file's length, read once: the trimmed view, and the checks for missing and cut
    // chunks, all go by it.
    let full = opened.as_ref().map_or(0, |f| f.full);
    let parsed = opened.map(|f| catch_unwind(AssertUnwindSafe(|| EvtxParser::from_read_seek(f))));
    let chunks = match parsed {
        None => None,
        Some(Ok(Ok(parser))) => {
            missing = missing_chunks(full, u64::from(parser.header().chunk_count));
            Some(parser.with_configuration((*settings).clone()).into_chunks())
        }
        Some(Ok(Err(e))) => {
            pending.push_back(Err(ReadError::new(path, None, error_chain(&e))));
            None
        }
        Some(Err(_)) => {
            pending.push_back(Err(ReadError::new(
                path,
                None,
                "EVTX parser panicked on the file header",
            )));
            None
        }
    };
    let tail = chunks.as_ref().and_then(|_| truncated_tail(full));
    EvtxReader {
        file,
        chunks,
        settings,
        pending,
        batch: (rayon::current_num_threads() * 2).max(2),
        tail,
        missing,
    }
}

/// An EVTX file as the parser reads it: without the chunks of zeros at its end. Windows
/// makes log files in advance, so a log often ends in hundreds of unused chunks, which the
/// parser would read and check byte by byte; here each is read once and checked a word
/// at a time. Any other trailing chunk (a partial one, one that is not all zeros) stays,
/// for the parser and the reader to report.
struct TrimmedFile {
    file: File,
    /// The file's whole length.
    full: u64,
    /// Where the parser's view of the file ends.
    len: u64,
    /// The parser's position in that view.
    pos: u64,
}

impl TrimmedFile {
    fn new(mut file: File) -> Self {
        use std::io::{Seek, SeekFrom};
        let full = file.metadata().map(|m| m.len()).unwrap_or(0);
        let len = used_length(&mut file, full).unwrap_or(full);
        // Back to the start, where `pos` says the parser is, whatever the check read last.
        let _ = file.seek(SeekFrom::Start(0));
        TrimmedFile {
            file,
            full,
            len,
            pos: 0,
        }
    }
}

/// `len` less the whole chunks of zeros at the end of the file.
fn used_length(file: &mut File, len: u64) -> std::io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let Some(body) = len.checked_sub(EVTX_FILE_HEADER_SIZE) else {
        return Ok(len);
    };
    if body % EVTX_CHUNK_SIZE != 0 {
        return Ok(len);
    }
    let mut end = len;
    let mut chunk = vec![0u8; EVTX_CHUNK_SIZE as usize];
    while end > EVTX_FILE_HEADER_SIZE {
        file.seek(SeekFrom::Start(end - EVTX_CHUNK_SIZE))?;
        file.read_exact(&mut chunk)?;
        // No early exit: the whole fold is done with vector instructions.
        if chunk.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            break;
        }
        end -= EVTX_CHUNK_SIZE;
    }
    Ok(end)
}

impl Read for TrimmedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for TrimmedFile {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range")
        })?;
        self.file.seek(SeekFrom::Start(pos))?;
        self.pos = pos;
        Ok(pos)
    }
}

/// The file header names more chunks than the file holds (a copy cut at a chunk boundary).
fn missing_chunks(len: u64, in_header: u64) -> Option<String> {
    let present = len
        .saturating_sub(EVTX_FILE_HEADER_SIZE)
        .div_ceil(EVTX_CHUNK_SIZE);
    (in_header > present).then(|| {
        format!("file truncated: its header names {in_header} chunks, the file holds {present}")
    })
}

const EVTX_FILE_HEADER_SIZE: u64 = 4096;
const EVTX_CHUNK_SIZE: u64 = 65536;
const EVTX_CHUNK_HEADER_SIZE: u64 = 512;

/// A last chunk cut short (a copy interrupted, a log carved from disk): its number, where
/// it starts, and how many bytes of it there are. The `evtx` crate skips such a chunk
/// without a word, so the reader parses what there is of it and says it was cut.
fn truncated_tail(len: u64) -> Option<(u64, u64, u64)> {
    let body = len.checked_sub(EVTX_FILE_HEADER_SIZE)?;
    let partial = body % EVTX_CHUNK_SIZE;
    (partial > 0).then(|| {
        let number = body / EVTX_CHUNK_SIZE;
        (
            number,
            EVTX_FILE_HEADER_SIZE + number * EVTX_CHUNK_SIZE,
            partial,
        )
    })
}

/// Parse what there is of a truncated last chunk (padded with zeros), and report the cut.
fn read_truncated_tail(
    file: &Arc<PathBuf>,
    settings: &Arc<ParserSettings>,
    (number, offset, partial): (u64, u64, u64),
) -> Vec<Result<Event, ReadError>> {
    use std::io::{Seek, SeekFrom};
    let mut out = Vec::new();
    let mut data = vec![0u8; EVTX_CHUNK_SIZE as usize];
    let read = File::open(file.as_path()).and_then(|mut f| {
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut data[..partial as usize])
    });
    if let Err(e) = read {
        out.push(Err(ReadError::new(
            file,
            None,
            format!("chunk {number}: {e}"),
        )));
        return out;
    }
    if partial >= EVTX_CHUNK_HEADER_SIZE
        && let Ok(mut chunk) = EvtxChunkData::new(data, false)
    {
        chunk.number = Some(number);
        out.extend(parse_chunk(file, chunk, settings));
    }
    out.push(Err(ReadError::new(
        file,
        None,
        format!(
            "file truncated: chunk {number} has {partial} of {EVTX_CHUNK_SIZE} bytes; records past the cut are lost"
        ),
    )));
    out
}

/// Iterator over the events of one EVTX file (see [`read_evtx`]).
pub struct EvtxReader {
    file: Arc<PathBuf>,
    chunks: Option<IntoIterChunks<TrimmedFile>>,
    settings: Arc<ParserSettings>,
    pending: VecDeque<Result<Event, ReadError>>,
    batch: usize,
    /// A truncated last chunk, read once the whole chunks are done.
    tail: Option<(u64, u64, u64)>,
    /// Chunks the header names that the file does not hold, reported last.
    missing: Option<String>,
}

impl Iterator for EvtxReader {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            let Some(chunks) = self.chunks.as_mut() else {
                let Some(tail) = self.tail.take() else {
                    let reason = self.missing.take()?;
                    return Some(Err(ReadError::new(&self.file, None, reason)));
                };
                let items = catch_unwind(AssertUnwindSafe(|| {
                    read_truncated_tail(&self.file, &self.settings, tail)
                }))
                .unwrap_or_else(|_| {
                    vec![Err(ReadError::new(
                        &self.file,
                        None,
                        "EVTX parser panicked on the truncated last chunk",
                    ))]
                });
                self.pending.extend(items);
                continue;
            };
            let mut batch = Vec::with_capacity(self.batch);
            let mut ended = false;
            while batch.len() < self.batch {
                match catch_unwind(AssertUnwindSafe(|| chunks.next())) {
                    Ok(Some(chunk)) => batch.push(chunk),
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(_) => {
                        batch.push(Err(EvtxError::CalculationError(
                            "EVTX parser panicked while reading a chunk; rest of file skipped"
                                .to_string(),
                        )));
                        ended = true;
                        break;
                    }
                }
            }
            if ended {
                self.chunks = None;
            }
            let file = &self.file;
            let settings = &self.settings;
            let parsed: Vec<Vec<Result<Event, ReadError>>> = batch
                .into_par_iter()
                .map(|chunk| match chunk {
                    Ok(data) => parse_chunk(file, data, settings),
                    Err(e) => vec![Err(ReadError::new(file, None, error_chain(&e)))],
                })
                .collect();
            self.pending.extend(parsed.into_iter().flatten());
        }
    }
}

fn parse_chunk(
    file: &Arc<PathBuf>,
    mut data: EvtxChunkData,
    settings: &Arc<ParserSettings>,
) -> Vec<Result<Event, ReadError>> {
    let number = data.number;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut out = Vec::new();
        let mut chunk = match data.parse(Arc::clone(settings)) {
            Ok(chunk) => chunk,
            Err(e) => {
                let where_ = number.map(|n| format!("chunk {n}: ")).unwrap_or_default();
                out.push(Err(ReadError::new(
                    file,
                    None,
                    format!("{where_}{}", error_chain(&e)),
                )));
                return out;
            }
        };
        for record in chunk.iter() {
            // JSON text, flattened as it is parsed (see `Event::from_json_slice`).
            let record = record.and_then(|r| r.into_json_bytes());
            out.push(match record {
                Ok(r) => match Event::from_json_slice(Arc::clone(file), r.event_record_id, &r.data)
                {
                    Ok(mut event) => {
                        // The id Event Viewer shows; it differs from the record header's in
                        // logs exported or re-written by other tools.
                        if let Some(id) = event
                            .fields
                            .get("EventRecordID")
                            .and_then(crate::event::FieldRef::as_u64)
                        {
                            event.record = id;
                        }
                        Ok(event)
                    }
                    Err(e) => Err(ReadError::new(
                        file,
                        Some(r.event_record_id),
                        format!("record rendered as invalid JSON: {e}"),
                    )),
                },
                Err(e) => Err(ReadError::new(file, record_id(&e), error_chain(&e))),
            });
        }
        out
    }));
    outcome.unwrap_or_else(|_| {
        let where_ = number.map(|n| format!(" {n}")).unwrap_or_default();
        vec![Err(ReadError::new(
            file,
            None,
            format!("EVTX parser panicked in chunk{where_}; chunk skipped"),
        ))]
    })
}

fn record_id(e: &EvtxError) -> Option<u64> {
    match e {
        EvtxError::FailedToParseRecord { record_id, .. } => Some(*record_id),
        _ => None,
    }
}

/// The error with its causes, `a: b: c`, so the reason names the actual fault.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(cause) = cur {
        let msg = cause.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = cause.source();
    }
    s
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

/// Read buffer of a JSON-lines file: a few large reads rather than many 8 KiB ones.
const JSONL_READ_BUFFER: usize = 256 << 10;

/// Read a JSON lines file: one event per line (a line holding an array gives one event per
/// member). A line that is not JSON is an error item with its line number; the next line
/// is read as usual.
pub fn read_jsonl(path: &Path) -> Box<dyn Iterator<Item = Result<Event, ReadError>> + Send> {
    match File::open(path) {
        Ok(f) => Box::new(read_jsonl_from(
            BufReader::with_capacity(JSONL_READ_BUFFER, f),
            path,
        )),
        Err(e) => Box::new(std::iter::once(Err(ReadError::new(
            path,
            None,
            e.to_string(),
        )))),
    }
}

/// [`read_jsonl`] over any buffered reader (stdin, a socket); `name` labels the events.
pub fn read_jsonl_from<R: BufRead + Send>(
    reader: R,
    name: &Path,
) -> impl Iterator<Item = Result<Event, ReadError>> + Send + use<R> {
    JsonLines {
        reader,
        file: Arc::new(name.to_path_buf()),
        line_no: 0,
        pending: VecDeque::new(),
        done: false,
        line: Vec::new(),
    }
}

struct JsonLines<R> {
    reader: R,
    file: Arc<PathBuf>,
    line_no: u64,
    pending: VecDeque<Result<Event, ReadError>>,
    done: bool,
    /// The line being read (kept between lines: its buffer is reused).
    line: Vec<u8>,
}

/// Largest line buffer kept between lines.
const MAX_KEPT_LINE_BUFFER: usize = 1 << 20;

impl<R: BufRead> Iterator for JsonLines<R> {
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

impl<R: BufRead> JsonLines<R> {
    fn next_with(&mut self, line: &mut Vec<u8>) -> Option<Result<Event, ReadError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
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
                Ok(_) => {}
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
            if trimmed.starts_with(b"{") {
                // One event: flattened as it is parsed (see `Event::from_json_slice`).
                let event = Event::from_json_slice(Arc::clone(&self.file), self.line_no, trimmed);
                return Some(event.map_err(|e| {
                    ReadError::new(&self.file, Some(self.line_no), format!("invalid JSON: {e}"))
                }));
            }
            match serde_json::from_slice::<Value>(trimmed) {
                Ok(Value::Array(items)) => {
                    for item in items {
                        self.pending.push_back(Ok(Event::from_json(
                            Arc::clone(&self.file),
                            self.line_no,
                            item,
                        )));
                    }
                }
                Ok(value) => {
                    return Some(Ok(Event::from_json(
                        Arc::clone(&self.file),
                        self.line_no,
                        value,
                    )));
                }
                Err(e) => {
                    return Some(Err(ReadError::new(
                        &self.file,
                        Some(self.line_no),
                        format!("invalid JSON: {e}"),
                    )));
                }
            }
        }
    }
}

/// Read a JSON document: one event object, an array of events, or several documents one
/// after another (the shape of SigmaHQ's regression `.json` files). Reading stops at the
/// first malformed document, which is an error item with its line number.
pub fn read_json(path: &Path) -> std::vec::IntoIter<Result<Event, ReadError>> {
    match std::fs::read(path) {
        Ok(bytes) => parse_json_document(&bytes, path).into_iter(),
        Err(e) => vec![Err(ReadError::new(path, None, e.to_string()))].into_iter(),
    }
}

/// [`read_json`] over bytes already in memory.
pub fn parse_json_document(bytes: &[u8], name: &Path) -> Vec<Result<Event, ReadError>> {
    let file = Arc::new(name.to_path_buf());
    let mut out = Vec::new();
    let mut position = 0u64;
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(Value::Array(items))) => {
                for item in items {
                    position += 1;
                    out.push(Ok(Event::from_json(Arc::clone(&file), position, item)));
                }
            }
            Some(Ok(value)) => {
                position += 1;
                out.push(Ok(Event::from_json(Arc::clone(&file), position, value)));
            }
            Some(Err(e)) => {
                let line = line_of(bytes, offset) + e.line().saturating_sub(1) as u64;
                out.push(Err(ReadError::new(
                    name,
                    Some(position + 1),
                    format!("invalid JSON at line {line}: {e}"),
                )));
                break;
            }
        }
    }
    out
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64
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
