//! The audit log: one JSON line per model call, appended, never rewritten.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339, UTC.
    pub time: String,
    pub provider: String,
    pub model: String,
    /// `sha256:<hex>` of local weights, or the endpoint URL.
    pub identity: String,
    /// `sha256:<hex>` of the prompt (every message, see `ChatRequest::prompt_text`).
    pub prompt_sha256: String,
    /// What the call was for (`triage`, `investigate`, `summarize`, `test`, ...).
    pub role: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub latency_ms: u64,
    /// `ok`, `error`, `skipped` (circuit open) or `budget` (not made: budget spent).
    pub outcome: String,
    /// The error, for a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `sha256:<hex>` of a text.
pub fn sha256_text(s: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(s.as_bytes())))
}

/// `sha256:<hex>` of a file, read in blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("sha256:{}", hex(&h.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An append-only JSONL file shared by every call of a run.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record (one `write` of a whole line, so concurrent writers interleave
    /// lines, not bytes).
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(line.as_bytes())?;
        f.flush()
    }
}

/// Totals of one provider and model in an audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditTotals {
    pub calls: u64,
    pub ok: u64,
    pub errors: u64,
    pub skipped: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub latency_ms: u64,
}

/// What `vigil models audit` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditSummary {
    /// (provider, model, identity) → totals.
    pub by_provider: BTreeMap<(String, String, String), AuditTotals>,
    /// Lines that are not audit records, with their line numbers.
    pub bad_lines: Vec<usize>,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Read an audit log and total it per provider.
pub fn summarize(path: &Path) -> std::io::Result<AuditSummary> {
    let mut s = AuditSummary::default();
    for (i, line) in BufReader::new(File::open(path)?).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(r) = serde_json::from_str::<AuditRecord>(&line) else {
            s.bad_lines.push(i + 1);
            continue;
        };
        if s.first.is_none() {
            s.first = Some(r.time.clone());
        }
        s.last = Some(r.time.clone());
        let t = s
            .by_provider
            .entry((r.provider, r.model, r.identity))
            .or_default();
        t.calls += 1;
        match r.outcome.as_str() {
            "ok" => t.ok += 1,
            "skipped" | "budget" => t.skipped += 1,
            _ => t.errors += 1,
        }
        t.tokens_in += r.tokens_in;
        t.tokens_out += r.tokens_out;
        t.latency_ms += r.latency_ms;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(provider: &str, outcome: &str) -> AuditRecord {
        AuditRecord {
            time: "2026-11-27T10:00:00Z".into(),
            provider: provider.into(),
            model: "m".into(),
            identity: "http://127.0.0.1:1/v1".into(),
            prompt_sha256: sha256_text("hello"),
            role: "triage".into(),
            tokens_in: 10,
            tokens_out: 3,
            latency_ms: 7,
            outcome: outcome.into(),
            error: None,
        }
    }

    #[test]
    fn appends_and_totals_per_provider() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit/calls.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(&record("a", "ok")).unwrap();
        log.append(&record("a", "error")).unwrap();
        log.append(&record("b", "ok")).unwrap();
        drop(log);
        // Reopened: appended, not truncated.
        AuditLog::open(&path)
            .unwrap()
            .append(&record("b", "skipped"))
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"not a record\n")
            .unwrap();
        let s = summarize(&path).unwrap();
        let a = &s.by_provider[&("a".into(), "m".into(), "http://127.0.0.1:1/v1".into())];
        assert_eq!((a.calls, a.ok, a.errors, a.tokens_in), (2, 1, 1, 20));
        let b = &s.by_provider[&("b".into(), "m".into(), "http://127.0.0.1:1/v1".into())];
        assert_eq!((b.calls, b.ok, b.skipped), (2, 1, 1));
        assert_eq!(s.bad_lines, vec![5]);
    }

    #[test]
    fn hashes_are_sha256() {
        assert_eq!(
            sha256_text("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
