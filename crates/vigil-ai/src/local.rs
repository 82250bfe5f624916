//! A local GGUF model behind a worker process.
//!
//! llama.cpp aborts its whole process on misuse or malformed input (`GGML_ASSERT`), so the
//! model never runs inside a scan: the scan talks to a worker process (`vigil
//! model-worker`, see the `vigil-llama` crate) over JSON lines on its standard input and
//! output, and starts a new one when it dies. The call that was in flight is tried once
//! more on the new worker; if that one dies too, the call fails and the scan goes on.
//!
//! The protocol, one JSON object per line:
//! * worker → client, once loaded: `{"ready": {"model": NAME, "n_ctx": N}}`, or
//!   `{"fatal": MESSAGE}` and exit;
//! * client → worker: `{"id": N, "request": ChatRequest}`;
//! * worker → client: `{"id": N, "ok": ChatResponse}` or
//!   `{"id": N, "error": {"kind": "rejected" | "bad_answer", "message": TEXT}}`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audit::sha256_file;
use crate::backend::{Backend, BackendError};
use crate::chat::{ChatRequest, ChatResponse};

/// A line the client sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerRequest {
    pub id: u64,
    pub request: ChatRequest,
}

/// A line the worker sends.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMessage {
    Ready {
        model: String,
        n_ctx: u32,
    },
    Fatal(String),
    #[serde(untagged)]
    Reply {
        id: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<ChatResponse>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<WorkerError>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerError {
    /// `rejected` (the request cannot be served) or `bad_answer`.
    pub kind: String,
    pub message: String,
}

/// How to start a worker.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Settings of a local model.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub model: PathBuf,
    pub context: u32,
    pub threads: u32,
    pub gpu_layers: u32,
    /// Longest a call may take before the worker is killed.
    pub timeout: Duration,
}

impl LocalConfig {
    /// The worker's arguments after the subcommand.
    pub fn worker_args(&self) -> Vec<String> {
        vec![
            "--model".into(),
            self.model.display().to_string(),
            "--context".into(),
            self.context.to_string(),
            "--threads".into(),
            self.threads.to_string(),
            "--gpu-layers".into(),
            self.gpu_layers.to_string(),
        ]
    }
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local model served by a restartable worker process.
pub struct LocalBackend {
    config: LocalConfig,
    command: WorkerCommand,
    name: String,
    worker: Mutex<(Option<Running>, u64)>,
    identity: OnceLock<String>,
    /// Workers started, the first one included.
    starts: Mutex<u64>,
}

impl LocalBackend {
    pub fn new(config: LocalConfig, command: WorkerCommand) -> LocalBackend {
        let name = config
            .model
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| config.model.display().to_string());
        LocalBackend {
            config,
            command,
            name,
            worker: Mutex::new((None, 0)),
            identity: OnceLock::new(),
            starts: Mutex::new(0),
        }
    }

    /// Workers started so far (1 + restarts).
    pub fn starts(&self) -> u64 {
        *self.starts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.config.model
    }

    fn start(&self) -> Result<Running, BackendError> {
        *self.starts.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let mut child = Command::new(&self.command.program)
            .args(&self.command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                BackendError::Unavailable(format!(
                    "cannot start the model worker {}: {e}",
                    self.command.program.display()
                ))
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running = Running {
            child,
            stdin,
            lines,
        };
        // Loading a model reads the whole file: allow for a slow disk.
        match read_message(
            &running.lines,
            self.config.timeout.max(Duration::from_secs(120)),
        )? {
            WorkerMessage::Ready { .. } => Ok(running),
            WorkerMessage::Fatal(m) => {
                let _ = running.child.wait();
                Err(BackendError::Rejected(format!("model worker: {m}")))
            }
            other => Err(BackendError::BadAnswer(format!(
                "model worker said {other:?} before it was ready"
            ))),
        }
    }

    fn exchange(
        &self,
        running: &mut Running,
        id: u64,
        request: &ChatRequest,
    ) -> Result<ChatResponse, NoAnswer> {
        let mut line = serde_json::to_string(&WorkerRequest {
            id,
            request: request.clone(),
        })
        .map_err(|e| BackendError::Rejected(e.to_string()))?;
        line.push('\n');
        running
            .stdin
            .write_all(line.as_bytes())
            .and_then(|_| running.stdin.flush())
            .map_err(|e| BackendError::Unavailable(format!("model worker died: {e}")))?;
        loop {
            match read_message(&running.lines, self.config.timeout)? {
                WorkerMessage::Reply {
                    id: got, ok, error, ..
                } if got == id => {
                    return match (ok, error) {
                        (Some(r), _) => Ok(r),
                        (None, Some(e)) if e.kind == "rejected" => {
                            Err(BackendError::Rejected(e.message).into())
                        }
                        (None, Some(e)) => Err(BackendError::BadAnswer(e.message).into()),
                        (None, None) => Err(BackendError::BadAnswer(
                            "model worker replied with neither answer nor error".into(),
                        )
                        .into()),
                    };
                }
                // A reply to an earlier call that timed out: not this one.
                _ => continue,
            }
        }
    }
}

/// Why a message from the worker could not be had: it ran out of time (the worker is
/// still busy with the call), or anything else.
enum NoAnswer {
    TimedOut(Duration),
    Failed(BackendError),
}

impl From<BackendError> for NoAnswer {
    fn from(e: BackendError) -> Self {
        NoAnswer::Failed(e)
    }
}

impl From<NoAnswer> for BackendError {
    fn from(e: NoAnswer) -> Self {
        match e {
            NoAnswer::TimedOut(after) => timed_out(after),
            NoAnswer::Failed(e) => e,
        }
    }
}

fn timed_out(after: Duration) -> BackendError {
    BackendError::TimedOut(format!(
        "model worker gave no answer in {}s",
        after.as_secs()
    ))
}

fn read_message(lines: &Receiver<String>, timeout: Duration) -> Result<WorkerMessage, NoAnswer> {
    match lines.recv_timeout(timeout) {
        Ok(line) => serde_json::from_str(&line).map_err(|e| {
            NoAnswer::Failed(BackendError::BadAnswer(format!(
                "model worker wrote a line that is not a message ({e})"
            )))
        }),
        Err(RecvTimeoutError::Timeout) => Err(NoAnswer::TimedOut(timeout)),
        Err(RecvTimeoutError::Disconnected) => Err(NoAnswer::Failed(BackendError::Unavailable(
            "model worker died".into(),
        ))),
    }
}

impl Backend for LocalBackend {
    fn model(&self) -> &str {
        &self.name
    }

    fn identity(&self) -> String {
        self.identity
            .get_or_init(|| {
                sha256_file(&self.config.model)
                    .unwrap_or_else(|e| format!("unreadable {}: {e}", self.config.model.display()))
            })
            .clone()
    }

    fn constrains_output(&self) -> bool {
        true
    }

    fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, BackendError> {
        let mut guard = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        let (slot, next_id) = &mut *guard;
        let mut last = None;
        // The call in flight gets one more try on a fresh worker if its worker dies. A
        // call that runs out of time is not tried again (it would only take as long),
        // but its worker is replaced, since it is still busy with it.
        for _ in 0..2 {
            if slot.is_none() {
                *slot = Some(self.start()?);
            }
            *next_id += 1;
            let running = slot.as_mut().expect("started above");
            match self.exchange(running, *next_id, request) {
                Ok(r) => return Ok(r),
                // Busy with the call, or gone: replaced either way.
                Err(
                    no_answer @ (NoAnswer::TimedOut(_)
                    | NoAnswer::Failed(BackendError::Unavailable(_))),
                ) => {
                    let timed_out = matches!(no_answer, NoAnswer::TimedOut(_));
                    let e = BackendError::from(no_answer);
                    tracing::warn!("local model worker: {e}; restarting it");
                    *slot = None; // killed on drop
                    if timed_out {
                        return Err(e);
                    }
                    last = Some(e);
                }
                Err(NoAnswer::Failed(e)) => return Err(e),
            }
        }
        Err(last.expect("set in the loop"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Message;

    /// A worker process that says it is ready and then runs `then` (a shell script).
    fn backend(then: &str) -> LocalBackend {
        let ready = r#"{"ready":{"model":"m","n_ctx":64}}"#;
        LocalBackend::new(
            LocalConfig {
                model: PathBuf::from("unused.gguf"),
                context: 64,
                threads: 1,
                gpu_layers: 0,
                timeout: Duration::from_secs(1),
            },
            WorkerCommand {
                program: PathBuf::from("sh"),
                args: vec!["-c".into(), format!("echo '{ready}'; {then}")],
            },
        )
    }

    fn call(b: &LocalBackend) -> BackendError {
        b.complete(&ChatRequest::new(vec![Message::user("hi")]))
            .expect_err("no answer")
    }

    #[test]
    fn a_call_that_times_out_is_not_tried_again() {
        let b = backend("sleep 30");
        let e = call(&b);
        assert!(
            matches!(&e, BackendError::TimedOut(m) if m.contains("no answer in 1s")),
            "{e}"
        );
        assert_eq!(b.starts(), 1, "not retried on a second worker");
        // The busy worker was replaced: the next call starts a fresh one.
        call(&b);
        assert_eq!(b.starts(), 2);
    }

    #[test]
    fn a_call_whose_worker_dies_is_tried_once_more() {
        let b = backend("read request; exit 1");
        let e = call(&b);
        assert!(
            matches!(&e, BackendError::Unavailable(m) if m.contains("died")),
            "{e}"
        );
        assert_eq!(b.starts(), 2, "one more try on a fresh worker");
    }
}
