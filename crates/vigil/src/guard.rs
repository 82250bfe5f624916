//! `vigil guard`: Sigma detection over event logs, as a timeline, CSV or JSON lines, with a
//! summary and optional bounded response.

use anyhow::{Context, Result};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};
use vigil_core::{Alert, Severity};
use vigil_guard::input::ReadCounts;
use vigil_guard::view::{AlertWriter, Filter, Format, Summary, clean};
use vigil_guard::{RuleCache, RuleSet};

/// The default rules, embedded at build time (see rules/sigma/README.md).
pub(crate) static DEFAULT_SIGMA: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/sigma");

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GuardFormat {
    Table,
    Csv,
    Jsonl,
}

impl From<GuardFormat> for Format {
    fn from(f: GuardFormat) -> Format {
        match f {
            GuardFormat::Table => Format::Table,
            GuardFormat::Csv => Format::Csv,
            GuardFormat::Jsonl => Format::Jsonl,
        }
    }
}

#[derive(clap::Args)]
pub struct GuardArgs {
    /// Event logs: EVTX files, JSON lines or JSON documents, folders of them, or `-` for
    /// JSON lines on standard input.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Sigma rule files or folders (repeatable; default: the built-in rules).
    #[arg(long)]
    rules: Vec<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    format: GuardFormat,
    /// Write alerts here instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Report alerts at or above this level; the exit code follows it too. Default:
    /// medium for the table (what a responder reads), low for CSV and JSON lines (what
    /// other tools read). Every rule is loaded whatever the level.
    #[arg(long)]
    min_level: Option<Severity>,
    /// Only events at or after this time (RFC 3339 or a prefix of it, e.g. 2026-11-27).
    #[arg(long)]
    from: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    to: Option<String>,
    /// Only rules whose id or title contains this (repeatable).
    #[arg(long = "include-rule")]
    include_rule: Vec<String>,
    /// Leave out rules whose id or title contains this (repeatable).
    #[arg(long = "exclude-rule")]
    exclude_rule: Vec<String>,
    /// Do not print the summary (counts by level, rule, computer, ATT&CK).
    #[arg(long)]
    no_summary: bool,
    /// Keep reading JSON-lines files (or standard input) for new events until interrupted.
    #[arg(long)]
    follow: bool,
    /// Response playbooks (TOML files or folders, repeatable). Dry run unless --respond.
    #[arg(long)]
    playbooks: Vec<PathBuf>,
    /// Act on playbooks (default: dry run, which only records what would be done).
    #[arg(long)]
    respond: bool,
    /// Append-only audit log of every response decision (JSON lines).
    #[arg(long, default_value = "vigil-audit.jsonl")]
    audit_log: PathBuf,
    /// Print rule-load time, events/s and MB/s to standard error.
    #[arg(long)]
    stats: bool,
    /// Parse and compile every rule file, without reading or writing the rule cache
    /// (in $VIGIL_CACHE_DIR, else $XDG_CACHE_HOME/vigil, else ~/.cache/vigil).
    #[arg(long)]
    no_cache: bool,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto")]
    color: String,
    /// Group the alerts into incidents (host, user, time window) and have a model
    /// summarise each, with the playbooks it recommends (needs --model or --config). On a
    /// stream, an incident is triaged once an alert more than the window later arrives,
    /// once the stream has been quiet for --incident-idle, or at the end of input.
    /// Nothing the model says is executed.
    #[arg(long)]
    triage: bool,
    /// Triage: alerts of one host and user further apart than this many minutes start a
    /// new incident.
    #[arg(long, default_value_t = 30)]
    incident_window: u32,
    /// Triage on a stream: after this many seconds without a new alert, the incidents
    /// still open are closed and triaged (0: only by event time and at the end).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    incident_idle: u64,
    /// Triage: write the incidents here as JSON lines (default: a readable list on
    /// standard error).
    #[arg(long, value_name = "FILE")]
    incidents: Option<PathBuf>,
    #[command(flatten)]
    models: crate::models::ModelArgs,
}

pub fn run(args: GuardArgs) -> Result<ExitCode> {
    let t_rules = Instant::now();
    let cache = (!args.no_cache).then(rule_cache).flatten();
    let (rules, load_errors) = load(&args.rules, cache.as_ref())?;
    let rules_time = t_rules.elapsed();
    let rules_cpu = process_cpu();
    for e in &load_errors {
        tracing::debug!("rule not loaded: {} ({e:?})", e.path.display());
    }
    if rules.is_empty() {
        anyhow::bail!("no Sigma rules loaded ({} errors)", load_errors.len());
    }
    if !load_errors.is_empty() {
        let failed = load_errors
            .iter()
            .filter(|e| !matches!(e.kind, vigil_guard::LoadErrorKind::NoEventSource))
            .count();
        if failed > 0 {
            eprintln!(
                "vigil: {failed} rule file(s) or rule(s) did not load; VIGIL_LOG=debug lists them"
            );
        }
    }

    let format: Format = args.format.into();
    let filter = Filter::new(
        args.min_level.unwrap_or(format.default_min_level()),
        args.from.as_deref(),
        args.to.as_deref(),
        &args.include_rule,
        &args.exclude_rule,
    );
    let streaming = args.inputs.iter().any(|p| vigil_guard::input::is_stdin(p)) || args.follow;
    // Made before the scan, so that a config mistake shows at once.
    let router = if args.triage {
        Some(args.models.router()?)
    } else {
        None
    };
    let mut playbook_names = Vec::new();
    let responder = if args.playbooks.is_empty() {
        None
    } else {
        let pbs = vigil_respond::load_playbooks(&args.playbooks)?;
        playbook_names = pbs.iter().map(|p| p.name.clone()).collect();
        Some(vigil_respond::Responder::new(
            pbs,
            vigil_respond::ResponderOptions {
                dry_run: !args.respond,
                audit_log: Some(args.audit_log.clone()),
            },
        ))
    };

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let view = AlertWriter::new(format, color);

    let started = Instant::now();
    let mut summary = Summary::default();
    let mut read = ReadCounts::default();
    let mut correlator = rules.correlations().correlator();
    if streaming {
        // Alerts are written as events arrive; nothing is buffered for sorting. With
        // --triage, incidents are grouped as alerts arrive and each closed one is
        // triaged on another thread, so that detection never waits for a model.
        view.header(&mut out)?;
        let window = i64::from(args.incident_window) * 60;
        // No idle close: a wait past `Instant`'s range, which `recv_timeout` makes a
        // plain `recv`.
        let idle = match args.incident_idle {
            0 => Duration::MAX,
            secs => Duration::from_secs(secs),
        };
        // Set after a scan error: the incidents still open are not worth the wait.
        let abandoned = AtomicBool::new(false);
        // Opened before the scan, so that a bad path shows at once.
        let writer = match &router {
            Some(_) => Some(IncidentWriter::new(args.incidents.as_deref())?),
            None => None,
        };
        std::thread::scope(|scope| -> Result<()> {
            // Alerts go to the triage thread, which groups them into incidents and
            // triages each as it closes: by event time, when the stream goes quiet (a
            // wall-clock wait it alone can keep), and at the end.
            let (to_triage, triage_queue) = std::sync::mpsc::channel::<Alert>();
            let abandoned = &abandoned;
            let triager = router.as_ref().zip(writer).map(|(router, mut writer)| {
                let playbooks = &playbook_names;
                scope.spawn(move || -> Result<()> {
                    let mut incidents = vigil_triage::guard::IncidentStream::new(window);
                    let mut triage = |closed: Vec<vigil_triage::guard::ClosedIncident>| {
                        for (incident, alerts) in closed {
                            for t in vigil_triage::guard::triage_incidents(
                                vec![incident],
                                &alerts,
                                router,
                                "triage",
                                playbooks,
                            ) {
                                writer.write(&t)?;
                            }
                        }
                        anyhow::Ok(())
                    };
                    loop {
                        match triage_queue.recv_timeout(idle) {
                            Ok(alert) => triage(incidents.push(alert))?,
                            Err(RecvTimeoutError::Timeout) => triage(incidents.close_all())?,
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    if !abandoned.load(Ordering::Relaxed) {
                        triage(incidents.finish())?;
                    }
                    writer.finish()
                })
            });
            let mut scanned = Ok(());
            let mut stream = vigil_guard::pipeline::Stream {
                rules: &rules,
                correlator: &mut correlator,
                filter: &filter,
                read: &mut read,
            };
            for input in &args.inputs {
                scanned = stream.scan_input(
                    input,
                    args.follow,
                    &mut |e| eprintln!("vigil: skipped {e}"),
                    &mut |alert| -> Result<()> {
                        respond(responder.as_ref(), &alert)?;
                        view.row(&mut out, &alert)?;
                        out.flush()?;
                        summary.add(&alert);
                        if triager.is_some() {
                            // The triage thread stops only on a write error, reported
                            // below.
                            let _ = to_triage.send(alert);
                        }
                        Ok(())
                    },
                );
                if scanned.is_err() {
                    break;
                }
            }
            if scanned.is_err() {
                abandoned.store(true, Ordering::Relaxed);
            }
            drop(to_triage);
            if let Some(t) = triager {
                t.join()
                    .map_err(|_| anyhow::anyhow!("the triage thread panicked"))??;
            }
            scanned
        })?;
    } else {
        let (files, missing) = vigil_guard::input::collect_files(&args.inputs);
        for m in &missing {
            eprintln!("vigil: no such file or folder: {}", m.display());
        }
        if files.is_empty() {
            anyhow::bail!("no event logs found in the given inputs");
        }
        let batch = vigil_guard::pipeline::scan_batch(&rules, &mut correlator, &files, &filter);
        read = batch.read;
        for e in batch.errors.iter().take(20) {
            eprintln!("vigil: skipped {e}");
        }
        if batch.errors.len() > 20 {
            eprintln!(
                "vigil: ... and {} more read errors",
                batch.errors.len() - 20
            );
        }
        let alerts = batch.alerts;
        view.header(&mut out)?;
        for a in &alerts {
            respond(responder.as_ref(), a)?;
            view.row(&mut out, a)?;
            summary.add(a);
        }
        if let Some(router) = &router {
            let incidents =
                vigil_triage::guard::group(&alerts, i64::from(args.incident_window) * 60);
            let triaged = vigil_triage::guard::triage_incidents(
                incidents,
                &alerts,
                router,
                "triage",
                &playbook_names,
            );
            let mut writer = IncidentWriter::new(args.incidents.as_deref())?;
            for t in &triaged {
                writer.write(t)?;
            }
            writer.finish()?;
        }
        // Freeing every alert's event one by one costs more than the process exit does.
        std::mem::forget(alerts);
    }
    out.flush()?;
    drop(out);
    let elapsed = started.elapsed();

    if correlator.untimed() > 0 {
        eprintln!(
            "vigil: {} event(s) matched rules that correlations use but have no readable time; not correlated",
            correlator.untimed()
        );
    }
    if !args.no_summary && args.format == GuardFormat::Table {
        let mut err = std::io::stderr().lock();
        summary.write(&mut err, &read, color)?;
    }
    if args.stats {
        let secs = elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "stats: {} rules loaded in {:.3}s ({} of {} files from the rule cache, {} rules compiled on first use); {} events, {:.1} MB in {:.3}s: {:.0} events/s, {:.2} MB/s; {} alerts; {} read errors",
            rules.len(),
            rules_time.as_secs_f64(),
            rules.stats.from_cache,
            rules.stats.files,
            rules.compiled_on_use(),
            read.events,
            read.bytes as f64 / 1e6,
            secs,
            read.events as f64 / secs,
            read.bytes as f64 / 1e6 / secs,
            summary.alerts,
            read.read_errors
        );
        if let (Some(load), Some(end)) = (rules_cpu, process_cpu()) {
            eprintln!("{}", cpu_stats(read.events, load, end));
        }
    }
    // Likewise the compiled rules and their automata.
    std::mem::forget(rules);
    Ok(if summary.alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn load(
    paths: &[PathBuf],
    cache: Option<&RuleCache>,
) -> Result<(RuleSet, Vec<vigil_guard::RuleLoadError>)> {
    if paths.is_empty() {
        let mut docs = Vec::new();
        collect_embedded(&DEFAULT_SIGMA, &mut docs);
        return Ok(match cache {
            Some(cache) => vigil_guard::load_rules_from_strs_cached(&docs, cache),
            None => vigil_guard::load_rules_from_strs(&docs),
        });
    }
    for p in paths {
        if !p.exists() {
            anyhow::bail!("no such rules file or folder: {}", p.display());
        }
    }
    Ok(match cache {
        Some(cache) => vigil_guard::load_rules_cached(paths, cache),
        None => vigil_guard::load_rules(paths),
    })
}

/// The rule cache, for this very build of the program: its version, and the identity of
/// its executable file, so that a rebuilt binary (whose parser or analysis may have
/// changed) never reads what another one cached. None when either is unknown.
fn rule_cache() -> Option<RuleCache> {
    let dir = RuleCache::default_dir()?;
    let exe = std::env::current_exe().and_then(std::fs::metadata).ok()?;
    let build = format!(
        "vigil {} {}",
        env!("CARGO_PKG_VERSION"),
        file_identity(&exe)?
    );
    Some(RuleCache::new(dir, build))
}

/// Size, device, inode and change time: the change time is set by the kernel whenever the
/// file is written or replaced, even where packaging pins the modification time.
#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    Some(format!(
        "{} {} {} {}.{}",
        meta.len(),
        meta.dev(),
        meta.ino(),
        meta.ctime(),
        meta.ctime_nsec()
    ))
}

#[cfg(not(unix))]
fn file_identity(meta: &std::fs::Metadata) -> Option<String> {
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{} {}", meta.len(), modified.as_nanos()))
}

fn collect_embedded(dir: &include_dir::Dir<'static>, out: &mut Vec<(PathBuf, String)>) {
    for f in dir.files() {
        if f.path().extension().and_then(|e| e.to_str()) == Some("yml") {
            out.push((
                Path::new("rules/sigma").join(f.path()),
                String::from_utf8_lossy(f.contents()).into_owned(),
            ));
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

fn respond(r: Option<&vigil_respond::Responder>, a: &Alert) -> Result<()> {
    if let Some(r) = r {
        r.respond(a)
            .context("cannot write the response audit log")?;
    }
    Ok(())
}

/// CPU time of the whole process so far (every thread, user and system), where the
/// platform reports it.
fn process_cpu() -> Option<Duration> {
    cpu_time::ProcessTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

/// The `--stats` line on CPU time: what throughput figures per CPU-second are measured in,
/// as the machine's other load does not change them the way it changes wall time.
fn cpu_stats(events: u64, load: Duration, end: Duration) -> String {
    let per_cpu_second = |cpu: Duration| events as f64 / cpu.as_secs_f64().max(1e-9);
    let scan = end.saturating_sub(load);
    format!(
        "stats: CPU {:.3}s loading rules, {:.3}s after (reading, matching, output): {:.0} events per CPU-second after rule loading, {:.0} in all",
        load.as_secs_f64(),
        scan.as_secs_f64(),
        per_cpu_second(scan),
        per_cpu_second(end),
    )
}

/// The incidents of `--triage`, written as each is triaged: JSON lines to a file, or a
/// readable list on standard error.
struct IncidentWriter {
    file: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    written: usize,
}

impl IncidentWriter {
    fn new(path: Option<&Path>) -> Result<Self> {
        let file = match path {
            Some(p) => Some((
                p.to_path_buf(),
                std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot write {}", p.display()))?,
                ),
            )),
            None => None,
        };
        Ok(IncidentWriter { file, written: 0 })
    }

    fn write(&mut self, t: &vigil_triage::guard::IncidentTriage) -> Result<()> {
        self.written += 1;
        if let Some((_, w)) = &mut self.file {
            serde_json::to_writer(&mut *w, t)?;
            w.write_all(b"\n")?;
            // A stream's incidents are read as they come.
            w.flush()?;
            return Ok(());
        }
        let mut e = std::io::stderr().lock();
        if self.written == 1 {
            writeln!(e, "\nincidents:")?;
        }
        let i = &t.incident;
        writeln!(
            e,
            "- {} ({} alerts, highest {}, {} to {})",
            i.id,
            i.alerts.len(),
            i.highest.map_or("-", |l| l.as_str()),
            i.first.as_deref().unwrap_or("?"),
            i.last.as_deref().unwrap_or("?")
        )?;
        if let Some(err) = &t.error {
            writeln!(e, "  no summary: {}", clean(err))?;
        } else {
            writeln!(
                e,
                "  {} [{}] by {} ({})",
                clean(&t.summary),
                t.severity,
                t.provider,
                t.model
            )?;
            if !t.attack_story.is_empty() {
                writeln!(e, "  story: {}", clean(&t.attack_story))?;
            }
            if !t.recommended_playbooks.is_empty() {
                writeln!(
                    e,
                    "  recommended playbooks (not run): {}",
                    t.recommended_playbooks.join(", ")
                )?;
            }
        }
        if let Some(p) = &t.policy {
            writeln!(e, "  policy: {}", clean(p))?;
        }
        for s in &i.steering {
            writeln!(e, "  injection attempt in {s}: {}", clean(&s.text))?;
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self.file {
            Some((path, mut w)) => {
                w.flush()?;
                eprintln!(
                    "vigil: {} incident(s) written to {}",
                    self.written,
                    path.display()
                );
            }
            None => eprintln!("{} incident(s)", self.written),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_stats_splits_rule_loading_from_the_rest() {
        let line = cpu_stats(
            1000,
            Duration::from_millis(500),
            Duration::from_millis(2500),
        );
        assert!(
            line.contains("CPU 0.500s loading rules, 2.000s after"),
            "{line}"
        );
        assert!(
            line.contains(": 500 events per CPU-second after rule loading, 400 in all"),
            "{line}"
        );
    }

    #[test]
    fn process_cpu_grows_with_work() {
        let before = process_cpu().expect("CPU time on this platform");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        assert!(process_cpu().expect("CPU time") > before);
    }
}
