//! Windows EVTX (the `evtx` crate, parallel over chunks). Nothing in a file can make the
//! reader panic: the parser runs under `catch_unwind`, since a parser bug must cost one
//! chunk, not the run.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, IntoIterChunks, ParserSettings};
use rayon::prelude::*;

use super::{EventSource, ReadError};
use crate::event::Event;
use crate::fields::FieldRef;

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
                        if let Some(id) =
                            event.fields.get("EventRecordID").and_then(FieldRef::as_u64)
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

impl EventSource for EvtxReader {}
