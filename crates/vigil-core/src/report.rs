//! Report writers: SARIF 2.1.0, JSON, and colored text.
//!
//! All three writers take the same [`Report`] and never fail on odd data (missing rules,
//! zero line numbers, unreadable source files): they degrade to less detail instead.

use crate::{Finding, FlowStep, Hidden, Location, Notice, Report, RuleMeta, Severity};
use owo_colors::OwoColorize;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf, Prefix};

/// `$schema` of the SARIF log, the URL GitHub code scanning and most viewers expect.
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SARIF_VERSION: &str = "2.1.0";
/// Base id for relative artifact URIs; GitHub resolves it to the repository checkout.
const SRCROOT: &str = "%SRCROOT%";
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
/// Rules carry no precision of their own yet; GitHub only uses this for ordering.
const RULE_PRECISION: &str = "medium";

// ---------------------------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------------------------

/// Builds a SARIF 2.1.0 log (one run) that GitHub code scanning accepts.
pub fn to_sarif(report: &Report) -> Value {
    // First definition of a rule id wins; duplicates would confuse `ruleIndex`.
    let mut rules: Vec<&RuleMeta> = Vec::with_capacity(report.rules.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(report.rules.len());
    for rule in &report.rules {
        if !index.contains_key(rule.id.as_str()) {
            index.insert(rule.id.as_str(), rules.len());
            rules.push(rule);
        }
    }

    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule = index.get(f.rule_id.as_str()).map(|&i| (i, rules[i]));
            sarif_result(f, rule)
        })
        .collect();

    let mut driver = Map::new();
    driver.insert("name".into(), json!("vigil"));
    if !report.tool_version.is_empty() {
        driver.insert("version".into(), json!(report.tool_version));
    }
    if !INFORMATION_URI.is_empty() {
        driver.insert("informationUri".into(), json!(INFORMATION_URI));
    }
    driver.insert(
        "rules".into(),
        Value::Array(rules.iter().map(|r| sarif_rule(r)).collect()),
    );

    let mut notifications: Vec<Value> = report
        .skipped
        .iter()
        .map(|s| {
            json!({
                "level": "warning",
                "message": { "text": format!("{}: {}", s.path.display(), s.reason) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": artifact_location(&s.path) }
                }],
            })
        })
        .collect();
    notifications.extend(report.notices.iter().map(sarif_notice));

    let mut run = json!({
        "tool": { "driver": driver },
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
    });
    if !report.hidden.is_empty() {
        run["properties"] = json!({ "hidden": report.hidden });
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [run],
    })
}

/// A [`Notice`] as a SARIF `notification` (the kind is its descriptor id).
fn sarif_notice(n: &Notice) -> Value {
    let mut obj = json!({
        "level": "warning",
        "message": { "text": n.message },
        "descriptor": { "id": n.kind },
    });
    if let Some(loc) = &n.location {
        obj["locations"] = json!([{ "physicalLocation": physical_location(loc, None) }]);
    }
    obj
}

/// Writes [`to_sarif`] as pretty-printed JSON followed by a newline.
pub fn write_sarif(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_sarif(report))?;
    writeln!(w)
}

/// `reportingDescriptor` for one rule. CWE tags come first and in order, because
/// scorers such as OWASP BenchmarkUtils take the first tag that mentions a CWE.
fn sarif_rule(rule: &RuleMeta) -> Value {
    let mut tags: Vec<String> = Vec::with_capacity(1 + rule.cwe.len() + rule.tags.len());
    tags.push("security".to_owned());
    tags.extend(rule.cwe.iter().map(|c| format!("external/cwe/cwe-{c}")));
    for tag in &rule.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }

    let short = first_non_empty(&[&rule.short, &rule.name, &rule.id]);
    let full = first_non_empty(&[&rule.help, short]);

    let mut help_md = full.trim_end().to_owned();
    if !rule.cwe.is_empty() {
        help_md.push_str("\n\n#### References\n");
        for c in &rule.cwe {
            let _ = writeln!(help_md, "- [CWE-{c}]({})", cwe_url(*c));
        }
    }

    let mut obj = Map::new();
    obj.insert("id".into(), json!(rule.id));
    if !rule.name.is_empty() {
        obj.insert("name".into(), json!(rule.name));
    }
    obj.insert("shortDescription".into(), json!({ "text": short }));
    obj.insert("fullDescription".into(), json!({ "text": full }));
    obj.insert(
        "help".into(),
        json!({ "text": full, "markdown": help_md.trim_end() }),
    );
    if let Some(&c) = rule.cwe.first() {
        obj.insert("helpUri".into(), json!(cwe_url(c)));
    }
    obj.insert(
        "defaultConfiguration".into(),
        json!({ "level": rule.severity.sarif_level() }),
    );
    obj.insert(
        "properties".into(),
        json!({
            "tags": tags,
            "security-severity": rule.severity.security_severity(),
            "precision": RULE_PRECISION,
            "cwe": cwe_ids(&rule.cwe),
        }),
    );
    Value::Object(obj)
}

/// One SARIF `result`; `rule` is the rule's index and metadata when the report has it.
fn sarif_result(f: &Finding, rule: Option<(usize, &RuleMeta)>) -> Value {
    // A finding without CWEs of its own inherits its rule's.
    let cwe = match rule {
        Some((_, r)) if f.cwe.is_empty() => &r.cwe,
        _ => &f.cwe,
    };
    let message = if f.message.trim().is_empty() {
        rule.map_or(f.rule_id.as_str(), |(_, r)| {
            first_non_empty(&[&r.short, &r.id])
        })
    } else {
        f.message.as_str()
    };

    let mut obj = Map::new();
    obj.insert("ruleId".into(), json!(f.rule_id));
    if let Some((i, _)) = rule {
        obj.insert("ruleIndex".into(), json!(i));
    }
    obj.insert("level".into(), json!(f.severity.sarif_level()));
    obj.insert("message".into(), json!({ "text": message }));
    obj.insert(
        "locations".into(),
        json!([{ "physicalLocation": physical_location(&f.location, Some(&f.snippet)) }]),
    );
    obj.insert(
        "partialFingerprints".into(),
        json!({ "primaryLocationLineHash": f.fingerprint() }),
    );
    if !f.path.is_empty() {
        let steps: Vec<Value> = f.path.iter().map(thread_flow_location).collect();
        obj.insert(
            "codeFlows".into(),
            json!([{ "threadFlows": [{ "locations": steps }] }]),
        );
    }
    let mut props = json!({
        "cwe": cwe_ids(cwe),
        "confidence": f.confidence.as_str(),
        "severity": f.severity.as_str(),
    });
    let mut suppressions = Vec::new();
    if let Some(s) = &f.suppression {
        suppressions.push(json!({
            "kind": "inSource",
            "status": "accepted",
            "justification": s.justification,
            "location": { "physicalLocation": physical_location(&s.location, None) },
        }));
    }
    if let Some(t) = &f.triage {
        // The verdict and who gave it (provider, model, weights hash or endpoint).
        props["triage"] = serde_json::to_value(t).unwrap_or(Value::Null);
        if t.suppressed {
            suppressions.push(json!({
                "kind": "external",
                "status": "accepted",
                "justification": format!(
                    "AI triage: {} ({}% confidence) by {} ({}, {}): {}",
                    t.verdict.as_str(), t.confidence, t.provider, t.model, t.identity, t.reasoning
                ),
            }));
        }
    }
    if !suppressions.is_empty() {
        obj.insert("suppressions".into(), Value::Array(suppressions));
    }
    obj.insert("properties".into(), props);
    Value::Object(obj)
}

fn thread_flow_location(step: &FlowStep) -> Value {
    json!({
        "location": {
            "physicalLocation": physical_location(&step.location, None),
            "message": { "text": step.message },
        }
    })
}

/// `physicalLocation` with a region when the location has a usable line number.
fn physical_location(loc: &Location, snippet: Option<&str>) -> Value {
    let mut obj = Map::new();
    obj.insert("artifactLocation".into(), artifact_location(&loc.path));
    if let Some(mut region) = region(loc) {
        if let Some(text) = snippet.filter(|s| !s.is_empty()) {
            region.insert("snippet".into(), json!({ "text": text }));
        }
        obj.insert("region".into(), Value::Object(region));
    }
    Value::Object(obj)
}

/// SARIF `region`; fields that would be out of range (0, or an end before the start) are
/// left out rather than emitted, since GitHub rejects the whole upload for one bad region.
fn region(loc: &Location) -> Option<Map<String, Value>> {
    if loc.start_line == 0 {
        return None;
    }
    let mut r = Map::new();
    r.insert("startLine".into(), json!(loc.start_line));
    if loc.start_column >= 1 {
        r.insert("startColumn".into(), json!(loc.start_column));
    }
    if loc.end_line >= loc.start_line {
        r.insert("endLine".into(), json!(loc.end_line));
        let end_ok = loc.end_line > loc.start_line || loc.end_column >= loc.start_column;
        if loc.end_column >= 1 && end_ok {
            r.insert("endColumn".into(), json!(loc.end_column));
        }
    }
    Some(r)
}

/// `artifactLocation`: relative paths get `%SRCROOT%`, absolute ones become `file:` URIs.
fn artifact_location(path: &Path) -> Value {
    let (uri, relative) = path_to_uri(path);
    if relative {
        json!({ "uri": uri, "uriBaseId": SRCROOT })
    } else {
        json!({ "uri": uri })
    }
}

/// Converts a path into a URI reference with `/` separators and percent-encoded segments.
/// Returns the URI and whether it is relative. Absolute paths become `file:` URIs, because a
/// bare `C:\x` is not a valid URI and a `uriBaseId` may only accompany relative references.
pub(crate) fn path_to_uri(path: &Path) -> (String, bool) {
    let mut authority: Option<String> = None;
    let mut absolute = false;
    let mut segments: Vec<String> = Vec::new();
    for comp in path.components() {
        match comp {
            Component::Prefix(p) => {
                absolute = true;
                authority = Some(match p.kind() {
                    Prefix::Disk(d) | Prefix::VerbatimDisk(d) => format!("/{}:", d as char),
                    Prefix::UNC(server, share) | Prefix::VerbatimUNC(server, share) => {
                        format!(
                            "{}/{}",
                            encode_segment(&server.to_string_lossy()),
                            encode_segment(&share.to_string_lossy())
                        )
                    }
                    _ => format!("/{}", encode_segment(&p.as_os_str().to_string_lossy())),
                });
            }
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => segments.push("..".to_owned()),
            Component::Normal(s) => segments.push(encode_segment(&s.to_string_lossy())),
        }
    }
    let joined = segments.join("/");
    if absolute {
        // `file://` + authority (empty for local paths) + absolute path.
        (
            format!("file://{}/{joined}", authority.unwrap_or_default()),
            false,
        )
    } else {
        (joined, true)
    }
}

/// Percent-encodes one path segment, keeping RFC 3986 unreserved and most sub-delims.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn cwe_url(cwe: u32) -> String {
    format!("https://cwe.mitre.org/data/definitions/{cwe}.html")
}

fn cwe_ids(cwe: &[u32]) -> Vec<String> {
    cwe.iter().map(|c| format!("CWE-{c}")).collect()
}

fn first_non_empty<'a>(candidates: &[&'a str]) -> &'a str {
    candidates
        .iter()
        .copied()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Number of findings at each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    /// Counts `findings` by severity.
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Self::default();
        for f in findings {
            *c.slot(f.severity) += 1;
        }
        c
    }

    /// The count for one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn slot(&mut self, s: Severity) -> &mut usize {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }
}

const SEVERITIES_DESC: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

#[derive(Serialize)]
struct JsonReport<'a> {
    version: &'a str,
    summary: JsonSummary<'a>,
    findings: Vec<JsonFinding<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notices: &'a [Notice],
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    files_scanned: usize,
    lines_scanned: usize,
    findings: usize,
    skipped: usize,
    by_severity: SeverityCounts,
    /// Findings covered by a `vigil: ignore` comment (they are in `findings`).
    #[serde(skip_serializing_if = "is_zero")]
    suppressed_in_source: usize,
    /// Findings left out of `findings` by a baseline or a diff scope.
    #[serde(skip_serializing_if = "Hidden::is_empty")]
    hidden: &'a Hidden,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    cwe: Vec<String>,
    severity: Severity,
    confidence: crate::Confidence,
    message: &'a str,
    location: JsonLocation<'a>,
    snippet: &'a str,
    path: Vec<JsonStep<'a>>,
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<&'a crate::Triage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<JsonSuppression<'a>>,
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    location: JsonLocation<'a>,
    justification: &'a str,
}

/// Paths are written lossily so that a non-UTF-8 file name cannot fail the whole report.
#[derive(Serialize)]
struct JsonLocation<'a> {
    path: Cow<'a, str>,
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    location: JsonLocation<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    path: Cow<'a, str>,
    reason: &'a str,
}

impl<'a> From<&'a Location> for JsonLocation<'a> {
    fn from(l: &'a Location) -> Self {
        JsonLocation {
            path: l.path.to_string_lossy(),
            start_line: l.start_line,
            start_column: l.start_column,
            end_line: l.end_line,
            end_column: l.end_column,
        }
    }
}

/// Writes the report as a stable, pretty-printed JSON document (Vigil's own format).
pub fn write_json(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        version: &report.tool_version,
        summary: JsonSummary {
            files_scanned: report.files_scanned,
            lines_scanned: report.lines_scanned,
            findings: report.findings.len(),
            skipped: report.skipped.len(),
            by_severity: SeverityCounts::of(&report.findings),
            suppressed_in_source: report
                .findings
                .iter()
                .filter(|f| f.suppression.is_some())
                .count(),
            hidden: &report.hidden,
        },
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
                rule_id: &f.rule_id,
                cwe: cwe_ids(&f.cwe),
                severity: f.severity,
                confidence: f.confidence,
                message: &f.message,
                location: (&f.location).into(),
                snippet: &f.snippet,
                path: f
                    .path
                    .iter()
                    .map(|s| JsonStep {
                        location: (&s.location).into(),
                        message: &s.message,
                    })
                    .collect(),
                fingerprint: f.fingerprint(),
                triage: f.triage.as_ref(),
                suppression: f.suppression.as_ref().map(|s| JsonSuppression {
                    location: (&s.location).into(),
                    justification: &s.justification,
                }),
            })
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                path: s.path.to_string_lossy(),
                reason: &s.reason,
            })
            .collect(),
        notices: &report.notices,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// Options for [`write_text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Emit ANSI colors (severity, gutter, carets).
    pub color: bool,
    /// Print the numbered dataflow steps of taint findings.
    pub show_paths: bool,
}

/// Source files larger than this are not read for excerpts; the snippet is shown instead.
const MAX_SOURCE_BYTES: u64 = 8 * 1024 * 1024;
/// Longer source lines are shown as a window around the finding's column.
const MAX_LINE_CHARS: usize = 160;
const TAB_WIDTH: usize = 4;

/// Writes a human-readable report: one block per finding, then a summary and skipped files.
/// Findings suppressed in the source are only counted.
pub fn write_text(report: &Report, w: &mut dyn Write, opts: &TextOptions) -> io::Result<()> {
    let mut sources = SourceCache::default();
    for f in report.findings.iter().filter(|f| f.suppression.is_none()) {
        write_finding(w, f, opts, &mut sources)?;
        writeln!(w)?;
    }
    write_summary(w, report)
}

fn write_finding(
    w: &mut dyn Write,
    f: &Finding,
    opts: &TextOptions,
    sources: &mut SourceCache,
) -> io::Result<()> {
    let sev = f.severity.as_str().to_ascii_uppercase();
    let cwe = if f.cwe.is_empty() {
        String::new()
    } else {
        format!("  [{}]", cwe_ids(&f.cwe).join(", "))
    };
    writeln!(
        w,
        "{}  {}  {}{}  {}",
        clean(&f.location.to_string()),
        paint_severity(&sev, f.severity, opts.color),
        clean(&f.rule_id),
        cwe,
        clean(&f.message),
    )?;

    let gutter_width = f.location.start_line.to_string().len().max(4);
    let blank_gutter = paint_dim(&format!("{:>gutter_width$} |", ""), opts.color);
    match sources.line(&f.location.path, f.location.start_line, &f.snippet) {
        Some(line) => {
            let (text, carets) = render_with_carets(&line, &f.location);
            let gutter = format!("{:>gutter_width$} |", f.location.start_line);
            writeln!(w, "{} {}", paint_dim(&gutter, opts.color), text)?;
            writeln!(
                w,
                "{} {}",
                blank_gutter,
                paint_severity(&carets, f.severity, opts.color)
            )?;
        }
        None if !f.snippet.trim().is_empty() => {
            // The snippet is trimmed, so columns do not apply to it: no carets.
            let gutter = if f.location.start_line > 0 {
                format!("{:>gutter_width$} |", f.location.start_line)
            } else {
                format!("{:>gutter_width$} |", "")
            };
            let text = clean(f.snippet.trim());
            writeln!(w, "{} {}", paint_dim(&gutter, opts.color), text)?;
        }
        None => {}
    }

    if let Some(t) = &f.triage {
        let mut line = format!(
            "  triage: {} ({}%{}) by {} ({})",
            t.verdict.as_str(),
            t.confidence,
            if t.suppressed { ", suppressed" } else { "" },
            t.provider,
            t.model
        );
        if t.status != crate::TriageStatus::Answered {
            let _ = write!(line, "; {}", t.status.as_str());
        }
        if let Some(p) = &t.policy {
            let _ = write!(line, "; {p}");
        }
        writeln!(w, "{}", clean(&line))?;
        if !t.reasoning.is_empty() {
            writeln!(w, "  {}", clean(&t.reasoning))?;
        }
        for s in &t.injection_detected {
            writeln!(
                w,
                "  injection attempt at {}:{}: {}",
                clean(&s.path.display().to_string()),
                s.line,
                clean(&s.text)
            )?;
        }
    }
    if opts.show_paths {
        for (i, step) in f.path.iter().enumerate() {
            writeln!(
                w,
                "  {}. {}:{}  {}",
                i + 1,
                clean(&step.location.path.display().to_string()),
                step.location.start_line,
                clean(&step.message),
            )?;
        }
    }
    Ok(())
}

fn write_summary(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut counts = SeverityCounts::default();
    let mut n = 0;
    for f in report.findings.iter().filter(|f| f.suppression.is_none()) {
        *counts.slot(f.severity) += 1;
        n += 1;
    }
    let mut line = format!("{n} {}", plural(n, "finding", "findings"));
    let parts: Vec<String> = SEVERITIES_DESC
        .iter()
        .filter(|&&s| counts.get(s) > 0)
        .map(|&s| format!("{} {}", counts.get(s), s.as_str()))
        .collect();
    if !parts.is_empty() {
        let _ = write!(line, " ({})", parts.join(", "));
    }
    let _ = write!(
        line,
        " in {} {}, {} {}; {} skipped",
        report.files_scanned,
        plural(report.files_scanned, "file", "files"),
        report.lines_scanned,
        plural(report.lines_scanned, "line", "lines"),
        report.skipped.len(),
    );
    let suppressed = report.findings.len() - n;
    if suppressed > 0 {
        let _ = write!(line, "; {suppressed} suppressed in the source");
    }
    if report.hidden.baseline > 0 {
        let _ = write!(
            line,
            "; {} in the baseline, not shown",
            report.hidden.baseline
        );
    }
    if report.hidden.outside_diff > 0 {
        let _ = write!(
            line,
            "; {} outside the changed lines, not shown",
            report.hidden.outside_diff
        );
    }
    writeln!(w, "{line}")?;
    for s in &report.skipped {
        writeln!(
            w,
            "  skipped {}: {}",
            clean(&s.path.display().to_string()),
            clean(&s.reason)
        )?;
    }
    Ok(())
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn paint_severity(text: &str, sev: Severity, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    match sev {
        Severity::Critical | Severity::High => text.red().bold().to_string(),
        Severity::Medium => text.yellow().to_string(),
        Severity::Low => text.blue().to_string(),
        Severity::Info => text.dimmed().to_string(),
    }
}

fn paint_dim(text: &str, color: bool) -> String {
    if color {
        text.dimmed().to_string()
    } else {
        text.to_owned()
    }
}

/// Makes attacker-controlled text safe for a terminal: control characters (ANSI escapes,
/// carriage returns) and bidirectional overrides ("Trojan Source") are shown escaped.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if is_unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Renders one source line (tabs expanded, unsafe characters escaped, long lines windowed)
/// and the caret line under the location's columns, which are 1-based character columns.
fn render_with_carets(line: &str, loc: &Location) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let len = chars.len();
    let start = (loc.start_column.max(1) as usize - 1).min(len);
    let end = if loc.end_line > loc.start_line {
        len
    } else if loc.end_line == loc.start_line && loc.end_column > loc.start_column {
        (loc.end_column as usize - 1).min(len)
    } else {
        start + 1
    };
    let end = end.max(start + 1);

    // Window long lines (minified code) around the start of the span.
    let (lo, hi) = if len > MAX_LINE_CHARS {
        let lo = start.saturating_sub(MAX_LINE_CHARS / 4);
        (lo, (lo + MAX_LINE_CHARS).min(len))
    } else {
        (0, len)
    };

    let mut text = String::new();
    let mut width = 0usize; // display columns written so far
    let mut caret_from = None;
    let mut caret_to = None;
    if lo > 0 {
        text.push('…');
        width += 1;
    }
    for (i, &c) in chars.iter().enumerate().take(hi).skip(lo) {
        if i == start {
            caret_from = Some(width);
        }
        if i == end {
            caret_to = Some(width);
        }
        if c == '\t' {
            let n = TAB_WIDTH - (width % TAB_WIDTH);
            text.extend(std::iter::repeat_n(' ', n));
            width += n;
        } else if is_unsafe_char(c) {
            let escaped: String = c.escape_unicode().collect();
            width += escaped.chars().count();
            text.push_str(&escaped);
        } else {
            text.push(c);
            width += 1;
        }
    }
    if hi < len {
        text.push('…');
    }
    let from = caret_from.unwrap_or(width);
    let to = caret_to.unwrap_or(width).max(from + 1);
    let carets = format!("{}{}", " ".repeat(from), "^".repeat(to - from));
    (text.trim_end().to_owned(), carets)
}

/// Remembers the last source file read, since findings usually come grouped by file.
#[derive(Default)]
struct SourceCache {
    path: Option<PathBuf>,
    lines: Option<Vec<String>>,
}

impl SourceCache {
    /// The line `line_no` (1-based) of `path`, if the file is readable and still matches the
    /// finding's snippet (a file edited since the scan would show the wrong code).
    fn line(&mut self, path: &Path, line_no: u32, snippet: &str) -> Option<String> {
        if self.path.as_deref() != Some(path) {
            self.path = Some(path.to_path_buf());
            self.lines = read_lines(path);
        }
        let line = self
            .lines
            .as_ref()?
            .get((line_no as usize).checked_sub(1)?)?;
        let want = normalize_ws(snippet);
        if want.is_empty() || normalize_ws(line).contains(&want) {
            Some(line.clone())
        } else {
            None
        }
    }
}

fn read_lines(path: &Path) -> Option<Vec<String>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: u32, col: u32, end_line: u32, end_col: u32) -> Location {
        Location {
            path: PathBuf::from("a.java"),
            start_line: line,
            start_column: col,
            end_line,
            end_column: end_col,
        }
    }

    #[test]
    fn relative_uri_is_encoded_with_forward_slashes() {
        let (uri, rel) = path_to_uri(Path::new("src/my dir/Ünï#1.java"));
        assert!(rel);
        assert_eq!(uri, "src/my%20dir/%C3%9Cn%C3%AF%231.java");
        let (uri, rel) = path_to_uri(Path::new("./a/../b.py"));
        assert!(rel);
        assert_eq!(uri, "a/../b.py");
    }

    #[cfg(unix)]
    #[test]
    fn absolute_uri_is_a_file_uri() {
        let (uri, rel) = path_to_uri(Path::new("/home/me/my code/A.java"));
        assert!(!rel);
        assert_eq!(uri, "file:///home/me/my%20code/A.java");
    }

    #[cfg(windows)]
    #[test]
    fn windows_absolute_uri_is_a_file_uri() {
        let (uri, rel) = path_to_uri(Path::new(r"C:\src\my code\A.java"));
        assert!(!rel);
        assert_eq!(uri, "file:///C:/src/my%20code/A.java");
    }

    #[test]
    fn region_drops_out_of_range_fields() {
        assert!(region(&loc(0, 0, 0, 0)).is_none());
        let r = region(&loc(3, 0, 2, 0)).unwrap_or_default();
        assert_eq!(Value::Object(r), json!({ "startLine": 3 }));
        let r = region(&loc(3, 9, 3, 4)).unwrap_or_default();
        assert_eq!(
            Value::Object(r),
            json!({ "startLine": 3, "startColumn": 9, "endLine": 3 })
        );
    }

    #[test]
    fn carets_follow_tabs_and_span() {
        let (text, carets) = render_with_carets("\tx = run(cmd);", &loc(1, 6, 1, 14));
        assert_eq!(text, "    x = run(cmd);");
        assert_eq!(carets, "        ^^^^^^^^");
    }

    #[test]
    fn carets_on_multiline_span_run_to_end_of_line() {
        let (_, carets) = render_with_carets("call(a,", &loc(1, 1, 3, 2));
        assert_eq!(carets, "^^^^^^^");
    }

    #[test]
    fn long_lines_are_windowed() {
        let line = format!("{}TARGET{}", "a".repeat(500), "b".repeat(500));
        let (text, carets) = render_with_carets(&line, &loc(1, 501, 1, 507));
        assert!(text.starts_with('…') && text.ends_with('…'));
        assert!(text.chars().count() <= MAX_LINE_CHARS + 2);
        let at = carets.find('^').unwrap_or(usize::MAX);
        assert_eq!(text.chars().skip(at).take(6).collect::<String>(), "TARGET");
        assert_eq!(carets.trim_start(), "^^^^^^");
    }

    #[test]
    fn clean_escapes_terminal_controls_and_bidi() {
        assert_eq!(clean("ok"), "ok");
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("x\u{202E}y"), "x\\u{202e}y");
    }
}
