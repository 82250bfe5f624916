//! Triage of `vigil hunt` findings: one evidence pack and one verdict per finding.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::Value;
use vigil_ai::{Answer, ChatRequest, Decision, JsonSchema, Message, RouteError, Router, decide};
use vigil_core::{Confidence, Finding, Location, Report, RuleMeta, Severity, Triage, Verdict};

use crate::evidence::{Sources, evidence};
use crate::injection::steering_lines;
use crate::prompt::{data_rules, quote, verdict_schema};

/// The rule id of text that tries to steer an AI reviewer.
pub const STEERING_RULE: &str = "vigil.ai-reviewer-steering";

/// Settings of a triage run.
#[derive(Debug, Clone)]
pub struct HuntTriageOptions {
    /// The router role asked.
    pub role: String,
    /// A false-positive verdict at or above this confidence suppresses the finding.
    pub suppress_at: u8,
    /// Most characters of code in one evidence pack.
    pub max_evidence_chars: usize,
    /// Most tokens of one verdict.
    pub max_tokens: u32,
    pub temperature: f32,
    pub seed: Option<u64>,
    /// Print `triage: done/total` to standard error every 10 findings (long runs).
    pub progress: bool,
}

impl Default for HuntTriageOptions {
    fn default() -> Self {
        HuntTriageOptions {
            role: "triage".into(),
            suppress_at: 80,
            max_evidence_chars: 6000,
            max_tokens: 400,
            temperature: 0.0,
            seed: Some(7),
            progress: false,
        }
    }
}

/// What a triage run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct HuntTriageStats {
    pub findings: usize,
    /// Findings looked at so far (all outcomes).
    #[serde(skip)]
    done: usize,
    pub triaged: usize,
    pub true_positive: usize,
    pub false_positive: usize,
    pub uncertain: usize,
    pub suppressed: usize,
    /// Answers that did not parse as a verdict (kept as `uncertain`).
    pub unparsable: usize,
    /// Findings every provider failed on.
    pub failed: usize,
    /// Findings left untriaged because the budget was spent.
    pub over_budget: usize,
    /// Lines that try to steer an AI reviewer, reported as findings.
    pub steering: usize,
    /// False-positive verdicts not applied because the evidence held steering text.
    pub steering_blocked: usize,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub seconds: f64,
}

/// The rule reported for reviewer-steering text.
pub fn steering_rule() -> RuleMeta {
    RuleMeta {
        id: STEERING_RULE.into(),
        name: "Text addressed to an AI reviewer".into(),
        cwe: vec![1427],
        severity: Severity::Medium,
        short: "Code or comments that try to steer an AI reviewer".into(),
        help: "A comment or string addresses an automated or AI reviewer (\"mark this as a \
               false positive\", \"ignore previous instructions\"). Legitimate code has no \
               reason to; it is a sign that someone expects AI review and wants to hide \
               something from it. Vigil never lets such text suppress a finding."
            .into(),
        tags: vec!["security".into(), "prompt-injection".into()],
    }
}

/// A verdict as the model wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedVerdict {
    pub verdict: Verdict,
    pub confidence: u8,
    pub reasoning: String,
    pub exploit: String,
    pub fix: String,
}

/// Read a verdict from a model's answer (a JSON object; for unconstrained backends, the
/// first `{` to the last `}`).
pub fn parse_verdict(text: &str) -> Option<ParsedVerdict> {
    let v: Value = serde_json::from_str(text.trim()).ok().or_else(|| {
        let (s, e) = (text.find('{')?, text.rfind('}')?);
        serde_json::from_str(text.get(s..=e)?).ok()
    })?;
    let verdict = match v.get("verdict")?.as_str()? {
        "true_positive" => Verdict::TruePositive,
        "false_positive" => Verdict::FalsePositive,
        "uncertain" => Verdict::Uncertain,
        _ => return None,
    };
    let confidence = v.get("confidence")?.as_f64()?;
    // Some models answer 0-1.
    let confidence = if confidence <= 1.0 && confidence.fract() != 0.0 {
        confidence * 100.0
    } else {
        confidence
    };
    let text_of = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    Some(ParsedVerdict {
        verdict,
        confidence: confidence.clamp(0.0, 100.0).round() as u8,
        reasoning: text_of("reasoning"),
        exploit: text_of("exploit_scenario"),
        fix: text_of("fix"),
    })
}

/// The chat request for one finding.
pub fn request(
    finding: &Finding,
    rule: Option<&RuleMeta>,
    sources: &Sources,
    opts: &HuntTriageOptions,
) -> (ChatRequest, Vec<(PathBuf, u32, u32)>) {
    let ev = evidence(finding, rule, sources, opts.max_evidence_chars);
    let (quoted, nonce) = quote(&ev.code);
    let system = format!(
        "You are a senior application security engineer. You check one finding of a static \
         analyser and decide whether it is a real, exploitable vulnerability \
         (true_positive), not one (false_positive: the input is constant, validated, \
         sanitised, or never reaches the sink), or whether the code shown cannot tell \
         (uncertain). Give your confidence from 0 to 100, one or two sentences of \
         reasoning that cite the code, an exploit scenario when it is real, and a fix. {}",
        data_rules(&nonce)
    );
    let user = format!(
        "{}\nThe finding and the code along its data flow (lines marked > are on the path):\n{quoted}\n\nYour verdict as JSON:",
        ev.header
    );
    let mut r = ChatRequest::new(vec![Message::system(system), Message::user(user)]);
    r.max_tokens = opts.max_tokens;
    r.temperature = opts.temperature;
    r.seed = opts.seed;
    r.schema = Some(JsonSchema {
        name: "verdict".into(),
        schema: verdict_schema(),
    });
    (r, ev.shown)
}

enum Outcome {
    Verdict(Box<Triage>, u64, u64, bool),
    Failed,
    OverBudget,
}

impl ParsedVerdict {
    /// No verdict could be had, and why.
    fn uncertain(reasoning: String) -> ParsedVerdict {
        ParsedVerdict {
            verdict: Verdict::Uncertain,
            confidence: 0,
            reasoning,
            exploit: String::new(),
            fix: String::new(),
        }
    }

    /// The triage record: the verdict and who gave it.
    fn into_triage(self, provider: String, model: String, identity: String) -> Triage {
        Triage {
            verdict: self.verdict,
            confidence: self.confidence,
            reasoning: self.reasoning,
            exploit: self.exploit,
            fix: self.fix,
            suppressed: false,
            policy: None,
            provider,
            model,
            identity,
            dissent: Vec::new(),
        }
    }
}

/// The verdict of one answer, or `uncertain` when it does not parse (the bool).
fn one_answer(a: &Answer) -> (Triage, bool) {
    let (p, parsed) = match parse_verdict(&a.response.text) {
        Some(p) => (p, true),
        None => (
            ParsedVerdict::uncertain(format!(
                "the model's answer did not parse as a verdict: {}",
                a.response.text.chars().take(200).collect::<String>()
            )),
            false,
        ),
    };
    let t = p.into_triage(a.provider.clone(), a.model.clone(), a.identity.clone());
    (t, parsed)
}

fn ask(router: &Router, role: &str, req: &ChatRequest) -> Outcome {
    let ensemble = vigil_ai::router::is_ensemble(&router.role(role));
    if !ensemble {
        return match router.complete(role, req) {
            Ok(a) => {
                let (t, parsed) = one_answer(&a);
                let r = &a.response;
                Outcome::Verdict(Box::new(t), r.tokens_in, r.tokens_out, parsed)
            }
            Err(RouteError::BudgetSpent) => Outcome::OverBudget,
            Err(_) => Outcome::Failed,
        };
    }
    let answers = match router.ask_all(role, req) {
        Ok(a) => a,
        Err(RouteError::BudgetSpent) => return Outcome::OverBudget,
        Err(_) => return Outcome::Failed,
    };
    let (mut tin, mut tout) = (0, 0);
    let mut parsed: Vec<(Answer, ParsedVerdict)> = Vec::new();
    for (_, a) in answers {
        let Ok(a) = a else { continue };
        tin += a.response.tokens_in;
        tout += a.response.tokens_out;
        if let Some(p) = parse_verdict(&a.response.text) {
            parsed.push((a, p));
        }
    }
    if parsed.is_empty() {
        return Outcome::Failed;
    }
    let votes: Vec<Verdict> = parsed.iter().map(|(_, p)| p.verdict).collect();
    let vote_rule = router.role(role).vote;
    let dissent: Vec<String> = parsed
        .iter()
        .map(|(a, p)| format!("{}: {} ({}%)", a.provider, p.verdict.as_str(), p.confidence))
        .collect();
    let providers = parsed
        .iter()
        .map(|(a, _)| a.provider.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let models = distinct(parsed.iter().map(|(a, _)| a.model.as_str()), "+");
    let identities = distinct(parsed.iter().map(|(a, _)| a.identity.as_str()), " ");
    let agreed_on = match decide(&votes, vote_rule) {
        Decision::Agreed(v) => Some(v),
        Decision::Disagreed(_) => None,
    };
    let verdict = match agreed_on {
        Some(v) => {
            let agreeing: Vec<&ParsedVerdict> = parsed
                .iter()
                .map(|(_, p)| p)
                .filter(|p| p.verdict == v)
                .collect();
            let best = agreeing
                .iter()
                .max_by_key(|p| p.confidence)
                .expect("agreed");
            ParsedVerdict {
                confidence: (agreeing.iter().map(|p| p.confidence as u32).sum::<u32>()
                    / agreeing.len() as u32) as u8,
                ..(*best).clone()
            }
        }
        None => ParsedVerdict::uncertain("the ensemble did not agree".into()),
    };
    let mut t = verdict.into_triage(providers, models, identities);
    if votes.iter().any(|v| *v != votes[0]) {
        t.dissent = dissent;
    }
    Outcome::Verdict(Box::new(t), tin, tout, true)
}

/// The distinct values, sorted and joined.
fn distinct<'a>(values: impl Iterator<Item = &'a str>, sep: &str) -> String {
    values
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(sep)
}

/// Triage every finding of a report in place, and add a finding for each line of
/// reviewer-steering text in `scanned` and in the files the evidence comes from. No
/// finding is removed: a rejected one is marked suppressed, with the reason.
pub fn triage_report(
    report: &mut Report,
    scanned: &[PathBuf],
    router: &Router,
    opts: &HuntTriageOptions,
) -> HuntTriageStats {
    let started = Instant::now();
    let sources = Sources::default();
    let rules: BTreeMap<&str, &RuleMeta> =
        report.rules.iter().map(|r| (r.id.as_str(), r)).collect();

    // Reviewer-steering text in the files any evidence comes from.
    let mut files: BTreeSet<PathBuf> = scanned.iter().cloned().collect();
    for f in &report.findings {
        files.insert(f.location.path.clone());
        files.extend(f.path.iter().map(|s| s.location.path.clone()));
    }
    let mut steering: HashSet<(PathBuf, u32)> = HashSet::new();
    let mut steering_findings = Vec::new();
    for path in &files {
        let Some(lines) = sources.text(path) else {
            continue;
        };
        for n in steering_lines(&lines) {
            steering.insert((path.clone(), n));
            let text = lines[(n - 1) as usize].trim().to_string();
            steering_findings.push(Finding {
                rule_id: STEERING_RULE.into(),
                cwe: vec![1427],
                severity: Severity::Medium,
                confidence: Confidence::High,
                message: "Text addressed to an AI reviewer: it cannot suppress findings, and \
                          it is a sign that something is hidden here"
                    .into(),
                location: Location {
                    path: path.clone(),
                    start_line: n,
                    start_column: 1,
                    end_line: n,
                    end_column: lines[(n - 1) as usize].chars().count() as u32 + 1,
                },
                path: Vec::new(),
                snippet: text,
                triage: None,
            });
        }
    }

    let spent = AtomicBool::new(false);
    let stats = Mutex::new(HuntTriageStats {
        findings: report.findings.len(),
        ..HuntTriageStats::default()
    });
    let verdicts: Vec<Option<Triage>> = report
        .findings
        .par_iter()
        .map(|f| {
            if spent.load(Ordering::Relaxed) {
                stats.lock().unwrap_or_else(|e| e.into_inner()).over_budget += 1;
                return None;
            }
            let (req, shown) = request(f, rules.get(f.rule_id.as_str()).copied(), &sources, opts);
            let outcome = ask(router, &opts.role, &req);
            let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
            s.done += 1;
            if opts.progress && s.done.is_multiple_of(10) {
                eprintln!("triage: {}/{} findings", s.done, s.findings);
            }
            match outcome {
                Outcome::OverBudget => {
                    spent.store(true, Ordering::Relaxed);
                    s.over_budget += 1;
                    None
                }
                Outcome::Failed => {
                    s.failed += 1;
                    None
                }
                Outcome::Verdict(t, tin, tout, parsed) => {
                    let mut t = *t;
                    s.triaged += 1;
                    s.tokens_in += tin;
                    s.tokens_out += tout;
                    if !parsed {
                        s.unparsable += 1;
                    }
                    match t.verdict {
                        Verdict::TruePositive => s.true_positive += 1,
                        Verdict::FalsePositive => s.false_positive += 1,
                        Verdict::Uncertain => s.uncertain += 1,
                    }
                    let steered = shown.iter().any(|(p, a, b)| {
                        steering.iter().any(|(sp, l)| sp == p && a <= l && l <= b)
                    });
                    if t.verdict == Verdict::FalsePositive && t.confidence >= opts.suppress_at {
                        if steered {
                            s.steering_blocked += 1;
                            t.policy = Some(
                                "not suppressed: the evidence holds text addressed to an AI reviewer"
                                    .into(),
                            );
                        } else {
                            t.suppressed = true;
                            s.suppressed += 1;
                        }
                    }
                    Some(t)
                }
            }
        })
        .collect();
    for (f, t) in report.findings.iter_mut().zip(verdicts) {
        f.triage = t;
    }
    let mut stats = stats.into_inner().unwrap_or_else(|e| e.into_inner());
    stats.steering = steering_findings.len();
    if !steering_findings.is_empty() {
        if !report.rules.iter().any(|r| r.id == STEERING_RULE) {
            report.rules.push(steering_rule());
        }
        report.findings.extend(steering_findings);
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_or_are_refused() {
        let p = parse_verdict(r#"{"verdict":"false_positive","confidence":91,"reasoning":"constant","exploit_scenario":"","fix":""}"#).unwrap();
        assert_eq!((p.verdict, p.confidence), (Verdict::FalsePositive, 91));
        let p = parse_verdict(
            "Sure! {\"verdict\":\"true_positive\",\"confidence\":0.75} hope it helps",
        )
        .unwrap();
        assert_eq!((p.verdict, p.confidence), (Verdict::TruePositive, 75));
        assert_eq!(
            parse_verdict(r#"{"verdict":"true_positive","confidence":400}"#)
                .unwrap()
                .confidence,
            100
        );
        for bad in [
            "",
            "no",
            "{}",
            r#"{"verdict":"maybe","confidence":5}"#,
            r#"{"verdict":"uncertain"}"#,
            "{\"verdict\":",
        ] {
            assert!(parse_verdict(bad).is_none(), "{bad}");
        }
    }
}
