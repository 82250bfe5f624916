//! Standard input: JSON lines, read by the same reader as a JSON-lines file.

use std::io::BufReader;
use std::path::Path;

use super::jsonl::{JSONL_READ_BUFFER, JsonLineFormat, LineReader, read_jsonl_from};

/// JSON lines on standard input, labelled `-`. A line's events come out as soon as the
/// line is complete (a pipe's read returns what has arrived; it does not wait for the
/// buffer to fill).
pub fn read_stdin() -> LineReader<BufReader<std::io::Stdin>, JsonLineFormat> {
    read_jsonl_from(
        BufReader::with_capacity(JSONL_READ_BUFFER, std::io::stdin()),
        Path::new("-"),
    )
}
