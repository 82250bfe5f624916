//! Following a growing file, like `tail -f`: the file is read as JSON lines by the
//! reader of files, and at its end the reader waits for more instead of stopping.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::time::Duration;

use super::jsonl::{JSONL_READ_BUFFER, read_jsonl_from};
use super::{EventSource, ReadError};

/// How long to wait at the end of the file before looking again.
const POLL: Duration = Duration::from_millis(250);

/// A file whose end is never reached: a read at the end waits until more is written.
/// A line written in two parts is thus read whole, as the line reader reads on until
/// its line end.
pub struct GrowingFile {
    file: File,
    poll: Duration,
}

impl GrowingFile {
    /// Follow `file` from where it is, looking for more every `poll`.
    pub fn new(file: File, poll: Duration) -> Self {
        GrowingFile { file, poll }
    }
}

impl Read for GrowingFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.file.read(buf)? {
                0 => std::thread::sleep(self.poll),
                n => return Ok(n),
            }
        }
    }
}

/// Follow a JSON-lines file from its start until the process is stopped (see
/// [`GrowingFile`]). Unlike a file read whole, one that cannot be opened is an error:
/// there would be nothing to wait for.
pub fn follow_jsonl(path: &Path) -> Result<Box<dyn EventSource>, ReadError> {
    let f =
        File::open(path).map_err(|e| ReadError::new(path, None, format!("cannot read: {e}")))?;
    Ok(Box::new(read_jsonl_from(
        BufReader::with_capacity(JSONL_READ_BUFFER, GrowingFile::new(f, POLL)),
        path,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_line_written_in_two_parts_is_read_whole_and_reading_waits_for_more() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("growing.jsonl");
        let mut file = File::create(&path).expect("create");
        file.write_all(b"{\"EventID\": 1}\n{\"Event")
            .expect("write");
        file.flush().expect("flush");
        let reader = BufReader::new(GrowingFile::new(
            File::open(&path).expect("open"),
            Duration::from_millis(10),
        ));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for item in read_jsonl_from(reader, Path::new("growing.jsonl")) {
                if tx.send(item).is_err() {
                    break;
                }
            }
        });
        let wait = Duration::from_secs(10);
        let first = rx.recv_timeout(wait).expect("the first line");
        assert_eq!(first.map(|e| e.record), Ok(1));
        // The second line is not complete: nothing yet.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        file.write_all(b"ID\": 2}\n").expect("write");
        file.flush().expect("flush");
        let second = rx
            .recv_timeout(wait)
            .expect("the second line")
            .expect("an event");
        assert_eq!(second.record, 2);
        assert_eq!(
            second.fields.get("EventID").and_then(|v| v.as_u64()),
            Some(2)
        );
    }
}
