//! `vigil eval triage`: hunt with and without AI triage on a labelled corpus, scored the
//! same way, with what triage cost and how repeatable its verdicts are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_core::{Report, TriageStatus, Verdict};
use vigil_eval::owasp::{self, Expected, ToolResults, cwe_matches, file_stem};
use vigil_triage::Calibration;

#[derive(clap::Args)]
pub struct EvalTriageArgs {
    /// The expected results (OWASP Benchmark CSV).
    #[arg(long)]
    pub expected: PathBuf,
    /// The corpus to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only this many test cases, spread evenly over the CSV (0 = all).
    #[arg(long, default_value_t = 0)]
    pub sample: usize,
    /// Triage runs (2 measures how often the verdicts agree between runs).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    #[arg(long, default_value_t = 80)]
    pub suppress_at: u8,
    /// Sampling temperature of the triage model (0 = greedy).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::EvalFormat,
    /// Do not write the calibration record of each model (by default one is written per
    /// model and weights, to the calibration folder of the config).
    #[arg(long)]
    pub no_calibration_record: bool,
    #[command(flatten)]
    pub models: crate::models::ModelArgs,
}

#[derive(Serialize)]
struct RunScore {
    score: f64,
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
    /// Verdicts against the labels: (label, verdict) → count.
    verdicts: BTreeMap<String, usize>,
    suppressed_real: usize,
    suppressed_fake: usize,
    /// False-positive verdicts at or above --suppress-at, which would suppress had the
    /// model been trusted: on real findings (lost) and on the others (removed).
    would_suppress_real: usize,
    would_suppress_fake: usize,
    tokens_in: u64,
    tokens_out: u64,
    seconds: f64,
    seconds_per_finding: f64,
    unparsable: usize,
    failed: usize,
}

#[derive(Serialize)]
struct EvalTriage {
    cases: usize,
    findings: usize,
    without: RunScore,
    with: Vec<RunScore>,
    /// Share of findings given the same verdict by runs 1 and 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement: Option<f64>,
    /// Per model: its false-positive calls and what the policy lets it do now.
    calibration: Vec<CalibrationSummary>,
}

#[derive(Serialize)]
struct CalibrationSummary {
    model: String,
    identity: String,
    /// False-positive calls at or above --suppress-at, and how many were right.
    calls: u32,
    right: u32,
    precision: Option<f64>,
    may_suppress: bool,
    policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<PathBuf>,
}

fn results_of(report: &Report, keep_suppressed: bool) -> ToolResults {
    let mut r = ToolResults::default();
    for f in &report.findings {
        if !keep_suppressed && f.triage.as_ref().is_some_and(|t| t.suppressed) {
            continue;
        }
        r.add(&f.location.path.to_string_lossy(), f.cwe.first().copied());
    }
    r
}

/// Whether a finding is on a really vulnerable case with the right CWE.
fn is_real(f: &vigil_core::Finding, cases: &BTreeMap<String, (bool, u32)>) -> Option<bool> {
    let stem = file_stem(f.location.path.to_str()?)?;
    let &(real, cwe) = cases.get(stem)?;
    Some(real && f.cwe.first().is_some_and(|&c| cwe_matches(cwe, c)))
}

fn score(exp: &Expected, report: &Report, keep_suppressed: bool) -> RunScore {
    let card = owasp::score(exp, &results_of(report, keep_suppressed));
    RunScore {
        score: card.overall.score,
        tp: card.overall.tp,
        fp: card.overall.fp,
        tn: card.overall.tn,
        fn_: card.overall.fn_,
        verdicts: BTreeMap::new(),
        suppressed_real: 0,
        suppressed_fake: 0,
        would_suppress_real: 0,
        would_suppress_fake: 0,
        tokens_in: 0,
        tokens_out: 0,
        seconds: 0.0,
        seconds_per_finding: 0.0,
        unparsable: 0,
        failed: 0,
    }
}

pub fn run(args: EvalTriageArgs) -> Result<ExitCode> {
    let mut exp = owasp::read_expected_file(&args.expected)?;
    if args.sample > 0 && args.sample < exp.cases.len() {
        let step = exp.cases.len() as f64 / args.sample as f64;
        exp.cases = (0..args.sample)
            .map(|i| exp.cases[(i as f64 * step) as usize].clone())
            .collect();
    }
    let cases: BTreeMap<String, (bool, u32)> = exp
        .cases
        .iter()
        .map(|c| (c.name.clone(), (c.real, c.cwe)))
        .collect();
    let rules = vigil_hunt::rules::RuleSet::builtin().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (mut report, _) = vigil_hunt::scan(&args.paths, &rules, &Default::default());
    // Only the sampled cases' findings.
    report.findings.retain(|f| {
        f.location
            .path
            .to_str()
            .and_then(file_stem)
            .is_some_and(|s| cases.contains_key(s))
    });
    let without = score(&exp, &report, true);
    let (router, policy) = args.models.router_and_policy()?;
    let mut with = Vec::new();
    let mut verdict_runs: Vec<Vec<Option<Verdict>>> = Vec::new();
    // Calibration records of this evaluation, per model and identity (all runs).
    let mut records: BTreeMap<(String, String), Calibration> = BTreeMap::new();
    let corpus = args.expected.display().to_string();
    for _ in 0..args.runs.max(1) {
        let mut r = report.clone();
        let started = Instant::now();
        let stats = vigil_triage::triage_report(
            &mut r,
            &[],
            &router,
            &vigil_triage::HuntTriageOptions {
                suppress_at: args.suppress_at,
                policy: policy.clone(),
                temperature: args.temperature,
                seed: if args.temperature > 0.0 {
                    None
                } else {
                    Some(7)
                },
                progress: true,
                ..Default::default()
            },
        );
        // Reviewer-steering findings are not part of the corpus' labels.
        r.findings
            .retain(|f| f.rule_id != vigil_triage::STEERING_RULE);
        let mut s = score(&exp, &r, false);
        for f in &r.findings {
            let label = match is_real(f, &cases) {
                Some(true) => "real",
                Some(false) => "not real",
                None => continue,
            };
            let verdict = f.triage.as_ref().map_or("none", |t| t.verdict.as_str());
            *s.verdicts
                .entry(format!("{label} -> {verdict}"))
                .or_default() += 1;
            if let Some(t) = f
                .triage
                .as_ref()
                .filter(|t| t.status == TriageStatus::Answered)
            {
                let c = records
                    .entry((t.model.clone(), t.identity.clone()))
                    .or_insert_with(|| {
                        Calibration::new(&t.model, &t.identity, &corpus, exp.cases.len())
                    });
                c.findings += 1;
                *c.verdicts
                    .entry(format!("{label} -> {}", t.verdict.as_str()))
                    .or_default() += 1;
                if t.verdict == Verdict::FalsePositive {
                    c.add_false_positive_call(t.confidence, label != "real");
                    if t.confidence >= args.suppress_at {
                        if label == "real" {
                            s.would_suppress_real += 1;
                        } else {
                            s.would_suppress_fake += 1;
                        }
                    }
                }
            }
            if f.triage.as_ref().is_some_and(|t| t.suppressed) {
                if label == "real" {
                    s.suppressed_real += 1;
                } else {
                    s.suppressed_fake += 1;
                }
            }
        }
        s.tokens_in = stats.tokens_in;
        s.tokens_out = stats.tokens_out;
        s.seconds = started.elapsed().as_secs_f64();
        s.seconds_per_finding = s.seconds / stats.findings.max(1) as f64;
        s.unparsable = stats.unparsable;
        s.failed = stats.failed;
        verdict_runs.push(
            r.findings
                .iter()
                .map(|f| f.triage.as_ref().map(|t| t.verdict))
                .collect(),
        );
        with.push(s);
    }
    let agreement = (verdict_runs.len() >= 2).then(|| {
        let (a, b) = (&verdict_runs[0], &verdict_runs[1]);
        let both: Vec<(Option<Verdict>, Option<Verdict>)> =
            a.iter().copied().zip(b.iter().copied()).collect();
        let same = both.iter().filter(|(x, y)| x.is_some() && x == y).count();
        same as f64 / both.len().max(1) as f64
    });
    let mut calibration = Vec::new();
    for ((model, identity), c) in records {
        let (calls, right) = c.calls_at(args.suppress_at);
        let record = match (&policy.store, args.no_calibration_record) {
            (Some(store), false) => Some(store.save(&c).with_context(|| {
                format!(
                    "cannot write the calibration record in {}",
                    store.dir().display()
                )
            })?),
            _ => None,
        };
        // What the policy makes of the record just written (or of the one before).
        let grant = policy.grant(&model, &identity, args.suppress_at);
        calibration.push(CalibrationSummary {
            model,
            identity,
            calls,
            right,
            precision: c.precision_at(args.suppress_at),
            may_suppress: grant.may_suppress(),
            policy: grant.describe(),
            record,
        });
    }
    let out = EvalTriage {
        cases: exp.cases.len(),
        findings: report.findings.len(),
        without,
        with,
        agreement,
        calibration,
    };
    match args.format {
        crate::EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        crate::EvalFormat::Text => print_text(&out),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(e: &EvalTriage) {
    println!("{} cases, {} findings", e.cases, e.findings);
    let w = &e.without;
    println!(
        "without triage: score {:.3}  TP {} FP {} TN {} FN {}",
        w.score, w.tp, w.fp, w.tn, w.fn_
    );
    for (i, s) in e.with.iter().enumerate() {
        println!(
            "with triage (run {}): score {:.3}  TP {} FP {} TN {} FN {}; false positives removed {} of {}, true positives lost {}",
            i + 1,
            s.score,
            s.tp,
            s.fp,
            s.tn,
            s.fn_,
            w.fp.saturating_sub(s.fp),
            w.fp,
            s.fn_.saturating_sub(w.fn_),
        );
        println!(
            "  {} tokens in, {} out; {:.1}s, {:.2}s per finding; {} unparsable, {} failed",
            s.tokens_in, s.tokens_out, s.seconds, s.seconds_per_finding, s.unparsable, s.failed
        );
        println!(
            "  had every confident false-positive verdict been applied: {} false positives removed, {} true positives lost",
            s.would_suppress_fake, s.would_suppress_real
        );
        let labels: BTreeSet<&String> = s.verdicts.keys().collect();
        for l in labels {
            println!("  {l}: {}", s.verdicts[l]);
        }
    }
    if let Some(a) = e.agreement {
        println!("run-to-run agreement of verdicts: {:.1}%", a * 100.0);
    }
    for c in &e.calibration {
        println!(
            "calibration: {} ({}): {} of {} false-positive calls right{}; {}",
            c.model,
            c.identity,
            c.right,
            c.calls,
            c.precision
                .map(|p| format!(" ({:.1}%)", p * 100.0))
                .unwrap_or_default(),
            c.policy
        );
        if let Some(r) = &c.record {
            println!("  record: {}", r.display());
        }
    }
}
