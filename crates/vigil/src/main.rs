//! The `vigil` command line: argument parsing, progress, output and exit codes.
//! All analysis lives in the library crates.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use vigil_core::{Report, Severity, report};
use vigil_hunt::rules::RuleSet;

// mimalloc with transparent huge pages off: guard allocates per event, and this
// measured ~10% less CPU than glibc malloc for ~20 MB more peak memory (THP on cost
// more than it saved, in page zeroing).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod eval_triage;
mod guard;
mod models;
mod project;
mod rules_cmd;

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Vigil: find vulnerabilities in source code, detect attacks in event logs, and score security tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find vulnerabilities in source code (Java, Python, JavaScript/TypeScript, Go).
    Hunt(HuntArgs),
    /// Detect attacks in event logs with Sigma rules (EVTX, JSON lines, JSON, syslog, auditd).
    Guard(guard::GuardArgs),
    /// Score tools on labelled corpora.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// List the hunt and guard rules, explain one, or write their documentation pages.
    Rules(rules_cmd::RulesArgs),
    /// The model layer: list, probe and benchmark providers; summarise the audit log.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Serve the configured models over an OpenAI-compatible HTTP API on loopback.
    Serve(models::ServeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(clap::Args)]
struct HuntArgs {
    /// Files or folders to scan.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// A rules folder laid out like the repository's `rules/` (default: the built-in rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Only run these rule ids (repeatable; replaces `[rules]` of vigil.toml).
    #[arg(long = "rule")]
    only: Vec<String>,
    /// The project's settings file (default: the nearest `vigil.toml` upward from the first
    /// path). `--config` names the model providers file, as in `guard`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_project_config")]
    project_config: Option<PathBuf>,
    /// Do not look for a `vigil.toml`.
    #[arg(long)]
    no_project_config: bool,
    /// Report only findings that are not in this earlier SARIF log (matched by fingerprint,
    /// which survives code moving within its file).
    #[arg(long, value_name = "FILE.sarif")]
    baseline: Option<PathBuf>,
    /// Write all of this run's findings, as SARIF, to FILE: the next run's `--baseline`.
    #[arg(long, value_name = "FILE.sarif")]
    write_baseline: Option<PathBuf>,
    /// Do not honour `vigil: ignore[rule] reason` comments in the scanned code.
    #[arg(long)]
    no_inline_suppressions: bool,
    /// Report only findings whose source, steps or sink are on lines changed since the merge
    /// base of HEAD and BASE_REF (the worktree as it is, uncommitted changes included). The
    /// whole project is parsed, so flows through unchanged files are followed, but analysis
    /// starts only from the changed files and the files that may call into them.
    #[arg(long, value_name = "BASE_REF")]
    diff: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Report findings at or above this severity; the exit code follows it too
    /// [default: vigil.toml's `min-severity`, else low].
    #[arg(long)]
    min_severity: Option<Severity>,
    /// Skip these paths (repeatable): a folder name (`vendor`), or a glob from the working
    /// folder (`src/generated/**`, `**/test/**`). Added to vigil.toml's `exclude`.
    #[arg(long)]
    exclude: Vec<String>,
    /// Where attacker data enters: `requests` (web request data; for applications) or
    /// `public` (also every parameter of the public API; for libraries)
    /// [default: vigil.toml's `entry`, else requests].
    #[arg(long, value_enum)]
    entry: Option<Entry>,
    /// Print throughput (files/s, lines/s, MB/s) and phase timings to standard error.
    #[arg(long)]
    stats: bool,
    /// Text output: show the data-flow path of each finding.
    #[arg(long)]
    paths_detail: bool,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto")]
    color: String,
    /// Ask a model to confirm or reject each finding (needs --model or --config).
    #[arg(long)]
    triage: bool,
    /// Triage: a false-positive verdict at or above this confidence (0-100) marks the
    /// finding suppressed (it stays in every output) [default: 80].
    #[arg(long)]
    suppress_at: Option<u8>,
    #[command(flatten)]
    models: models::ModelArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Entry {
    Requests,
    Public,
}

impl From<vigil_policy::Entry> for Entry {
    fn from(e: vigil_policy::Entry) -> Self {
        match e {
            vigil_policy::Entry::Requests => Entry::Requests,
            vigil_policy::Entry::Public => Entry::Public,
        }
    }
}

impl From<Entry> for vigil_hunt::EntryPoints {
    fn from(e: Entry) -> Self {
        match e {
            Entry::Requests => vigil_hunt::EntryPoints::Requests,
            Entry::Public => vigil_hunt::EntryPoints::Public,
        }
    }
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Score any tool's SARIF against an OWASP Benchmark expected-results CSV.
    Owasp {
        /// The expected results (expected-results CSV).
        #[arg(long)]
        expected: PathBuf,
        /// The tool's SARIF output.
        results: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: EvalFormat,
        /// Also list every false negative and false positive.
        #[arg(long)]
        misses: bool,
    },
    /// Hunt with and without AI triage on a labelled corpus: scores, false positives
    /// removed, true positives lost, tokens, time per finding, run-to-run agreement.
    Triage(eval_triage::EvalTriageArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum EvalFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    tracing_subscriber::registry()
        .with(fmt)
        .with(log_filter(std::env::var("VIGIL_LOG").ok().as_deref()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => hunt(args),
        Command::Guard(args) => guard::run(args),
        Command::Eval(EvalCommand::Owasp {
            expected,
            results,
            format,
            misses,
        }) => eval_owasp(&expected, &results, format, misses),
        Command::Eval(EvalCommand::Triage(args)) => eval_triage::run(args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::Models(cmd) => models::models(cmd),
        Command::Serve(args) => models::serve(args),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`vigil rules | head`): nothing is wrong, as with ripgrep.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The log filter: `VIGIL_LOG` in `target=level,level` form (tracing's `Targets`
/// directives), else warnings, and errors only from the EVTX parser. (`EnvFilter` would
/// bring in `matchers`, whose `regex-automata` features make every regex of the process,
/// each Sigma rule's included, build a full DFA at load time.)
fn log_filter(directives: Option<&str>) -> tracing_subscriber::filter::Targets {
    const DEFAULT: &str = "warn,evtx=error";
    let default = || DEFAULT.parse().expect("the default log filter parses");
    match directives {
        Some(d) => d.parse().unwrap_or_else(|e| {
            eprintln!("vigil: VIGIL_LOG ignored ({e}); using {DEFAULT}");
            default()
        }),
        None => default(),
    }
}

fn load_rules(dir: Option<&PathBuf>) -> Result<RuleSet> {
    let loaded = match dir {
        Some(d) => RuleSet::load_dir(d),
        None => RuleSet::builtin(),
    };
    loaded.map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        anyhow::anyhow!("rules did not load:\n{}", list.join("\n"))
    })
}

fn hunt(mut args: HuntArgs) -> Result<ExitCode> {
    if let Some(j) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(j.max(1))
            .build_global()
            .context("cannot set the number of worker threads")?;
    }
    if args.paths.iter().all(|p| !p.exists()) {
        let list: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "nothing to scan: no such file or folder: {}",
            list.join(", ")
        );
    }
    let config = project::config(&args)?;
    let project::Rules {
        rules,
        known: known_rules,
    } = project::rules(&args, config.as_ref())?;
    if rules.rules.is_empty() {
        anyhow::bail!("no rules selected");
    }
    let min_severity = args
        .min_severity
        .or(config.as_ref().and_then(|c| c.min_severity))
        .unwrap_or(Severity::Low);
    let entry = args
        .entry
        .or(config.as_ref().and_then(|c| c.entry.map(Entry::from)))
        .unwrap_or(Entry::Requests);
    if let Some(c) = &config {
        // The project's triage models, when the command line names none.
        if args.models.model.is_none() && args.models.config.is_none() {
            args.models.model = c.triage.model.as_deref().map(|p| c.resolve(p));
            args.models.config = c.triage.providers.as_deref().map(|p| c.resolve(p));
        }
    }
    let suppress_at = args
        .suppress_at
        .or(config.as_ref().and_then(|c| c.triage.suppress_at))
        .unwrap_or(80);
    let mut opts = vigil_hunt::ScanOptions {
        // Every finding is kept until suppressions are matched, so that a suppression of a
        // finding below the threshold is not reported unused.
        min_severity: Severity::Info,
        exclude: args.exclude.clone(),
        entry: entry.into(),
        changed: None,
    };
    let started = Instant::now();
    let t0 = Instant::now();
    let (scanned, prop_files, skipped) = project::discover(&args, config.as_ref(), &opts)?;
    let discover_t = t0.elapsed();
    // Read the baseline and the diff scope before the analysis: a bad one fails fast.
    let baseline = match &args.baseline {
        Some(path) => Some(vigil_policy::Baseline::load(path)?),
        None => None,
    };
    let scope = match &args.diff {
        Some(base_ref) => {
            let cwd = std::env::current_dir().context("cannot read the working folder")?;
            Some(vigil_policy::ChangedLines::since(base_ref, &scanned, &cwd)?)
        }
        None => None,
    };
    if let Some(scope) = &scope {
        // Fast path: only the changed files and their possible callers are analysed from.
        opts.changed = Some(
            scanned
                .iter()
                .filter(|f| scope.changes_file(f))
                .cloned()
                .collect(),
        );
    }
    let (mut report, mut stats) = run_scan(&scanned, &prop_files, skipped, &rules, &opts)?;
    stats.discover = discover_t;
    if opts.changed.is_some() {
        eprintln!(
            "vigil: --diff: analysed from {} of {} file(s); the others cannot call into the changed ones",
            stats.analysed, report.files_scanned
        );
    }

    let inline = !args.no_inline_suppressions
        && config
            .as_ref()
            .and_then(|c| c.inline_suppressions)
            .unwrap_or(true);
    if inline {
        let enabled: std::collections::HashSet<&str> =
            rules.rules.iter().map(|r| r.id.as_str()).collect();
        let status = |id: &str| {
            if enabled.contains(id) {
                vigil_policy::RuleStatus::Enabled
            } else if known_rules.contains(id) {
                vigil_policy::RuleStatus::Disabled
            } else {
                vigil_policy::RuleStatus::Unknown
            }
        };
        let notices = vigil_policy::suppress::apply_files(&mut report.findings, &scanned, &status);
        report.notices.extend(notices);
    }
    report.findings.retain(|f| f.severity >= min_severity);

    if let Some(path) = &args.write_baseline {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        let mut base = report.clone();
        base.notices.clear();
        report::write_sarif(&base, &mut w)?;
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "vigil: wrote a baseline of {} finding(s) to {}",
            base.findings.len(),
            path.display()
        );
    }
    if let (Some(scope), Some(base_ref)) = (&scope, &args.diff) {
        let hidden = scope.apply(&mut report);
        eprintln!(
            "vigil: {hidden} finding(s) outside the lines changed since {} ({base_ref}) are not shown",
            scope.base
        );
    }
    if let Some(baseline) = &baseline {
        let hidden = baseline.apply(&mut report);
        eprintln!(
            "vigil: {hidden} finding(s) already in the baseline {} are not shown",
            baseline.path.display()
        );
    }
    let elapsed = started.elapsed();
    let triage = if args.triage {
        let (router, policy) = args.models.router_and_policy()?;
        // Findings suppressed in the source are not sent to a model.
        let (quiet, open): (Vec<_>, Vec<_>) = std::mem::take(&mut report.findings)
            .into_iter()
            .partition(|f| f.suppression.is_some());
        report.findings = open;
        let t = vigil_triage::triage_report(
            &mut report,
            &scanned,
            &router,
            &vigil_triage::HuntTriageOptions {
                suppress_at,
                policy,
                ..Default::default()
            },
        );
        report.findings.extend(quiet);
        report
            .findings
            .sort_by(|a, b| (&a.location, &a.rule_id).cmp(&(&b.location, &b.rule_id)));
        Some((t, router.budget()))
    } else {
        None
    };
    for n in &report.notices {
        eprintln!("warning: {}", report::clean(&n.message));
    }

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
    match args.format {
        Format::Text => report::write_text(
            &report,
            &mut out,
            &report::TextOptions {
                color,
                show_paths: args.paths_detail,
            },
        )?,
        Format::Json => report::write_json(&report, &mut out)?,
        Format::Sarif => report::write_sarif(&report, &mut out)?,
    }
    out.flush()?;
    drop(out);

    // The text report lists skipped files itself; other formats carry them inside the
    // report, so say once on standard error that some were skipped.
    for s in &report.skipped {
        tracing::debug!("skipped {}: {}", s.path.display(), s.reason);
    }
    if !matches!(args.format, Format::Text) && !report.skipped.is_empty() {
        eprintln!(
            "vigil: {} file(s) skipped or partly analysed; the report lists them with reasons",
            report.skipped.len()
        );
    }
    if let Some((t, budget)) = &triage {
        eprintln!(
            "triage: {} of {} findings: {} true positive, {} false positive ({} suppressed), {} uncertain; {} unparsable answers, {} citing no evidence, {} failed, {} timed out, {} over budget; {} lines of reviewer-steering text reported, {} findings flagged for it; {} tokens in, {} out, {:.1}s",
            t.triaged,
            t.findings,
            t.true_positive,
            t.false_positive,
            t.suppressed,
            t.uncertain,
            t.unparsable,
            t.uncited,
            t.failed,
            t.timed_out,
            t.over_budget,
            t.steering,
            t.injection_flagged,
            t.tokens_in,
            t.tokens_out,
            t.seconds
        );
        for m in &t.models {
            eprintln!(
                "triage: {} ({}): {} verdicts; {}{}",
                m.model,
                m.identity,
                m.verdicts,
                m.policy,
                if m.may_suppress {
                    ""
                } else {
                    ": its verdicts annotate findings and never suppress them"
                }
            );
        }
        if t.annotate_only > 0 {
            eprintln!(
                "triage: {} false-positive verdict(s) were not applied: the model has not passed a calibration (`vigil eval triage`)",
                t.annotate_only
            );
        }
        if budget.exhausted() {
            eprintln!(
                "vigil: the model budget was spent; {} finding(s) were not triaged and are reported as found",
                t.over_budget
            );
        }
    }
    if args.stats {
        print_stats(&report, &stats, elapsed);
    }
    Ok(exit_for(&report))
}

/// A progress bar on standard error, shown only on a terminal and for runs long enough to watch.
struct Bar(indicatif::ProgressBar);

impl vigil_hunt::Progress for Bar {
    fn start(&self, units: u64) {
        if std::io::stderr().is_terminal() && units > 400 {
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.0.set_length(units);
        }
    }
    fn tick(&self) {
        self.0.inc(1);
    }
}

fn run_scan(
    files: &[PathBuf],
    prop_files: &[PathBuf],
    skipped: Vec<vigil_core::Skipped>,
    rules: &RuleSet,
    opts: &vigil_hunt::ScanOptions,
) -> Result<(Report, vigil_hunt::ScanStats)> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("parsing and analysing");
    let progress = Bar(bar);
    let result = vigil_hunt::scan_discovered(files, prop_files, skipped, rules, opts, &progress);
    progress.0.finish_and_clear();
    Ok(result)
}

fn print_stats(report: &Report, stats: &vigil_hunt::ScanStats, elapsed: std::time::Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "stats: {} files, {} lines, {:.1} MB in {:.3}s: {:.0} files/s, {:.0} lines/s, {:.2} MB/s",
        report.files_scanned,
        report.lines_scanned,
        stats.bytes as f64 / 1e6,
        secs,
        report.files_scanned as f64 / secs,
        report.lines_scanned as f64 / secs,
        stats.bytes as f64 / 1e6 / secs
    );
    eprintln!(
        "stats: discover {:.3}s, parse+lower {:.3}s, analyse {:.3}s; {} findings, {} skipped",
        stats.discover.as_secs_f64(),
        stats.parse.as_secs_f64(),
        stats.analyse.as_secs_f64(),
        report.findings.len(),
        report.skipped.len()
    );
}

/// 1 when a finding is left that no comment in the source nor triage suppressed.
fn exit_for(report: &Report) -> ExitCode {
    if report.findings.iter().all(|f| f.is_suppressed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn eval_owasp(
    expected: &std::path::Path,
    results: &std::path::Path,
    format: EvalFormat,
    misses: bool,
) -> Result<ExitCode> {
    use vigil_eval::owasp;
    let exp = owasp::read_expected_file(expected)?;
    let res = owasp::read_sarif_file(results)?;
    let card = owasp::score(&exp, &res);
    match format {
        EvalFormat::Text => {
            let text = if misses {
                card.to_text_with_misses()
            } else {
                card.to_text()
            };
            print!("{text}");
        }
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&card)?),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn log_filter_defaults_to_warnings_and_quiet_evtx() {
        let f = log_filter(None);
        assert!(f.would_enable("vigil_guard::readers", &Level::WARN));
        assert!(!f.would_enable("vigil_guard::readers", &Level::INFO));
        assert!(!f.would_enable("evtx::evtx_chunk", &Level::WARN));
        assert!(f.would_enable("evtx::evtx_chunk", &Level::ERROR));
    }

    #[test]
    fn log_filter_reads_directives_and_falls_back_on_bad_ones() {
        let f = log_filter(Some("info,vigil_guard=debug"));
        assert!(f.would_enable("vigil_guard::rules", &Level::DEBUG));
        assert!(f.would_enable("vigil_hunt", &Level::INFO));
        assert!(!f.would_enable("vigil_hunt", &Level::DEBUG));
        let bad = log_filter(Some("vigil_guard=loud"));
        assert!(!bad.would_enable("vigil_guard", &Level::INFO));
        assert!(bad.would_enable("vigil_guard", &Level::WARN));
    }
}
