//! Bounded, audited response to alerts: playbooks (data files) map alerts to actions.
//!
//! An action is an HTTP webhook with a JSON body, a line appended to a block-list file, or a
//! configured program run with arguments filled from event fields (never through a shell).
//! Every action has a rate limit and a de-duplication window, is retried a bounded number of
//! times, and every decision (sent, dry run, rate-limited, duplicate, failed) is appended to
//! an audit log. Nothing is acted on unless the caller turns dry-run off.

mod template;

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vigil_core::{Alert, Severity};

pub use template::render;

/// A playbook file: `[[playbook]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookFile {
    #[serde(default)]
    pub playbook: Vec<Playbook>,
}

/// Which alerts a playbook answers, and with what.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub name: String,
    #[serde(default, rename = "match")]
    pub when: Match,
    pub actions: Vec<Action>,
}

/// An alert matches when every given condition holds (all absent: every alert).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Rule ids; any of them.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Tags (`attack.t1059`, `attack.lateral_movement`); any of them, prefix match on `.`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Minimum level.
    #[serde(default)]
    pub min_level: Option<Severity>,
}

// No `deny_unknown_fields` here: serde cannot combine it with the flattened kind.
#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    /// Name used in the audit log; defaults to the kind.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub kind: ActionKind,
    /// At most `max` runs per `per_seconds`; further alerts are recorded as rate-limited.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Alerts with the same rendered key within this window run the action once.
    #[serde(default)]
    pub dedup_seconds: Option<u64>,
    /// Template for the de-duplication key; default: rule id and the rendered action.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// Extra attempts after a failure (bounded at 10).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Per-attempt timeout.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_retries() -> u32 {
    2
}

fn default_timeout() -> u64 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ActionKind {
    /// POST a JSON body (templated strings inside) to a URL.
    Webhook {
        url: String,
        #[serde(default)]
        body: Option<toml::Value>,
        #[serde(default)]
        headers: HashMap<String, String>,
    },
    /// Append one rendered line to a file (e.g. an IP or hash block list).
    Blocklist { path: PathBuf, value: String },
    /// Run a program directly (no shell) with rendered arguments.
    Command { program: PathBuf, args: Vec<String> },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub per_seconds: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Load playbooks from files and folders of `*.toml`.
pub fn load_playbooks(paths: &[PathBuf]) -> Result<Vec<Playbook>, PlaybookError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|source| PlaybookError::Io {
                path: p.clone(),
                source,
            })?;
            let mut inner: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().and_then(|e| e.to_str()) == Some("toml"))
                .collect();
            inner.sort();
            files.extend(inner);
        } else {
            files.push(p.clone());
        }
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| PlaybookError::Io {
            path: f.clone(),
            source,
        })?;
        let parsed: PlaybookFile = toml::from_str(&text).map_err(|e| PlaybookError::Invalid {
            path: f.clone(),
            message: e.to_string(),
        })?;
        for pb in &parsed.playbook {
            validate(pb).map_err(|message| PlaybookError::Invalid {
                path: f.clone(),
                message,
            })?;
        }
        out.extend(parsed.playbook);
    }
    Ok(out)
}

fn validate(pb: &Playbook) -> Result<(), String> {
    if pb.actions.is_empty() {
        return Err(format!("playbook `{}` has no actions", pb.name));
    }
    for a in &pb.actions {
        if let Some(r) = a.rate_limit
            && (r.max == 0 || r.per_seconds == 0)
        {
            return Err(format!(
                "playbook `{}`: rate_limit needs max > 0 and per_seconds > 0",
                pb.name
            ));
        }
        if let ActionKind::Webhook { url, .. } = &a.kind
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "playbook `{}`: webhook url must be http(s): {url}",
                pb.name
            ));
        }
        if let ActionKind::Command { program, .. } = &a.kind
            && !program.is_absolute()
        {
            return Err(format!(
                "playbook `{}`: command program must be an absolute path (no PATH lookup): {}",
                pb.name,
                program.display()
            ));
        }
    }
    Ok(())
}

impl Match {
    pub fn matches(&self, alert: &Alert) -> bool {
        if !self.rules.is_empty()
            && !alert
                .rule_id
                .as_ref()
                .is_some_and(|id| self.rules.iter().any(|r| r == id))
        {
            return false;
        }
        if !self.tags.is_empty()
            && !alert.tags.iter().any(|t| {
                self.tags.iter().any(|want| {
                    t.eq_ignore_ascii_case(want)
                        || t.to_ascii_lowercase()
                            .starts_with(&format!("{}.", want.to_ascii_lowercase()))
                })
            })
        {
            return false;
        }
        if let Some(min) = self.min_level
            && alert.level.is_none_or(|l| l < min)
        {
            return false;
        }
        true
    }
}

/// What happened to one action for one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Dry run: what would have been done.
    DryRun,
    Done,
    RateLimited,
    Duplicate,
    Failed,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub playbook: String,
    pub action: String,
    /// What was (or would be) done: URL, file and line, or the command line.
    pub what: String,
    /// Why: the alert's rule and title.
    pub rule_id: Option<String>,
    pub rule_title: String,
    /// Which event.
    pub source: PathBuf,
    pub record: u64,
    pub outcome: Outcome,
    pub attempts: u32,
    /// The result or the error of the last attempt.
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct ResponderOptions {
    /// Record what would be done, do nothing. The default.
    pub dry_run: bool,
    /// Append-only JSONL audit log.
    pub audit_log: Option<PathBuf>,
}

impl Default for ResponderOptions {
    fn default() -> Self {
        ResponderOptions {
            dry_run: true,
            audit_log: None,
        }
    }
}

/// Runs playbooks for alerts; shareable between threads.
pub struct Responder {
    playbooks: Vec<Playbook>,
    opts: ResponderOptions,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per (playbook, action index): times of recent runs.
    windows: HashMap<(usize, usize), VecDeque<Instant>>,
    /// Per (playbook, action index, key): when it last ran.
    seen: HashMap<(usize, usize, String), Instant>,
    /// Every record, in order (also written to the audit log).
    records: Vec<AuditRecord>,
}

impl Responder {
    pub fn new(playbooks: Vec<Playbook>, opts: ResponderOptions) -> Responder {
        Responder {
            playbooks,
            opts,
            state: Mutex::new(State::default()),
        }
    }

    /// Run every matching playbook's actions for `alert`; returns the audit records made.
    /// Errors of the audit log itself are returned: an unrecorded action must not pass silently.
    pub fn respond(&self, alert: &Alert) -> std::io::Result<Vec<AuditRecord>> {
        let mut out = Vec::new();
        for (pi, pb) in self.playbooks.iter().enumerate() {
            if !pb.when.matches(alert) {
                continue;
            }
            for (ai, action) in pb.actions.iter().enumerate() {
                let rec = self.run_action(pi, ai, pb, action, alert);
                self.append_audit(&rec)?;
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// All records made so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.state
            .lock()
            .map(|s| s.records.clone())
            .unwrap_or_default()
    }

    fn run_action(
        &self,
        pi: usize,
        ai: usize,
        pb: &Playbook,
        action: &Action,
        alert: &Alert,
    ) -> AuditRecord {
        let what = describe(&action.kind, alert);
        let mut rec = AuditRecord {
            time: now(),
            playbook: pb.name.clone(),
            action: action
                .name
                .clone()
                .unwrap_or_else(|| kind_name(&action.kind).to_string()),
            what: what.clone(),
            rule_id: alert.rule_id.clone(),
            rule_title: alert.title.clone(),
            source: alert.source.clone(),
            record: alert.record,
            outcome: Outcome::DryRun,
            attempts: 0,
            detail: String::new(),
        };
        // Rate limit and de-duplication are decided, and counted, before acting.
        {
            let Ok(mut st) = self.state.lock() else {
                rec.outcome = Outcome::Failed;
                rec.detail = "internal state poisoned".into();
                return rec;
            };
            let t = Instant::now();
            if let Some(window) = action.dedup_seconds {
                let key = match &action.dedup_key {
                    Some(k) => render(k, alert),
                    None => format!("{}|{what}", alert.rule_id.as_deref().unwrap_or("")),
                };
                let k = (pi, ai, key);
                if let Some(last) = st.seen.get(&k)
                    && t.duration_since(*last) < Duration::from_secs(window)
                {
                    rec.outcome = Outcome::Duplicate;
                    rec.detail = format!("same key within {window}s");
                    st.records.push(rec.clone());
                    return rec;
                }
                st.seen.insert(k, t);
            }
            if let Some(rl) = action.rate_limit {
                let q = st.windows.entry((pi, ai)).or_default();
                let per = Duration::from_secs(rl.per_seconds);
                while q.front().is_some_and(|f| t.duration_since(*f) >= per) {
                    q.pop_front();
                }
                if q.len() >= rl.max as usize {
                    rec.outcome = Outcome::RateLimited;
                    rec.detail = format!("{} per {}s reached", rl.max, rl.per_seconds);
                    st.records.push(rec.clone());
                    return rec;
                }
                q.push_back(t);
            }
        }
        if self.opts.dry_run {
            rec.detail = "dry run: pass --respond to act".into();
        } else {
            let attempts = action.retries.min(10) + 1;
            let timeout = Duration::from_secs(action.timeout_seconds.clamp(1, 300));
            for attempt in 1..=attempts {
                rec.attempts = attempt;
                match execute(&action.kind, alert, timeout) {
                    Ok(detail) => {
                        rec.outcome = Outcome::Done;
                        rec.detail = detail;
                        break;
                    }
                    Err(e) => {
                        rec.outcome = Outcome::Failed;
                        rec.detail = e;
                        if attempt < attempts {
                            // Bounded exponential backoff: 100 ms, 200 ms, 400 ms … at most 2 s.
                            let ms = (100u64 << (attempt - 1).min(5)).min(2000);
                            std::thread::sleep(Duration::from_millis(ms));
                        }
                    }
                }
            }
        }
        if let Ok(mut st) = self.state.lock() {
            st.records.push(rec.clone());
        }
        rec
    }

    fn append_audit(&self, rec: &AuditRecord) -> std::io::Result<()> {
        let Some(path) = &self.opts.audit_log else {
            return Ok(());
        };
        let line = serde_json::to_string(rec).map_err(std::io::Error::other)?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn kind_name(k: &ActionKind) -> &'static str {
    match k {
        ActionKind::Webhook { .. } => "webhook",
        ActionKind::Blocklist { .. } => "blocklist",
        ActionKind::Command { .. } => "command",
    }
}

fn describe(k: &ActionKind, alert: &Alert) -> String {
    match k {
        ActionKind::Webhook { url, .. } => format!("POST {url}"),
        ActionKind::Blocklist { path, value } => {
            format!(
                "append `{}` to {}",
                one_line(&render(value, alert)),
                path.display()
            )
        }
        ActionKind::Command { program, args } => {
            let rendered: Vec<String> = args
                .iter()
                .map(|a| format!("{:?}", render(a, alert)))
                .collect();
            format!("{} {}", program.display(), rendered.join(" "))
        }
    }
}

/// Block-list lines must stay one line, whatever an attacker put in the event.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn execute(k: &ActionKind, alert: &Alert, timeout: Duration) -> Result<String, String> {
    match k {
        ActionKind::Webhook { url, body, headers } => {
            let payload = match body {
                Some(b) => template::render_value(b, alert),
                None => serde_json::to_value(alert).map_err(|e| e.to_string())?,
            };
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .build()
                .into();
            let mut req = agent.post(url.as_str());
            for (k, v) in headers {
                req = req.header(k.as_str(), render(v, alert).as_str());
            }
            let resp = req.send_json(&payload).map_err(|e| format!("{url}: {e}"))?;
            let status = resp.status().as_u16();
            if (200..300).contains(&status) {
                Ok(format!("HTTP {status}"))
            } else {
                Err(format!("HTTP {status}"))
            }
        }
        ActionKind::Blocklist { path, value } => {
            let line = one_line(&render(value, alert));
            if line.trim().is_empty() {
                return Err("rendered value is empty".into());
            }
            append_line(path, &line).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(format!("appended `{line}`"))
        }
        ActionKind::Command { program, args } => {
            let rendered: Vec<String> = args.iter().map(|a| render(a, alert)).collect();
            run_command(program, &rendered, timeout)
        }
    }
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{line}")
}

/// Run without a shell, with a timeout; the child is killed when it runs over.
fn run_command(program: &Path, args: &[String], timeout: Duration) -> Result<String, String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text: String = stdout.chars().take(2000).collect();
    if out.status.success() {
        Ok(format!("exit 0: {}", text.trim_end()))
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{}: {}",
            out.status,
            stderr.chars().take(2000).collect::<String>().trim_end()
        ))
    }
}
