//! Inline suppressions: `// vigil: ignore[rule-id] reason` or `# vigil: ignore[a, b] reason`
//! in a comment on the finding's line, or alone on the line above it.
//!
//! Like Semgrep's `nosemgrep` and ruff's `noqa`, with ruff's check for suppressions that
//! no longer suppress anything. The comment must be a comment (`//`, `#`, `/* */`, or a
//! ` * ` line inside a block comment) and not inside a string literal on that line; a
//! string spanning several lines is not tracked.

use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use vigil_core::{Finding, InSourceSuppression, Location, Notice};

/// `vigil: ignore[ids] reason`, after a comment marker.
static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(//+|#+|/\*+|^\s*\*)\s*vigil:\s*ignore\[([^\]]*)\](.*)$")
        .expect("the suppression pattern compiles")
});

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The comment's line (1-based).
    pub line: u32,
    /// The comment's first column (1-based, in characters) and one past its last.
    pub start_column: u32,
    pub end_column: u32,
    /// The rule ids between the brackets.
    pub rules: Vec<String>,
    /// The text after the brackets.
    pub reason: String,
    /// The line whose findings it covers: its own when code comes before it, else the
    /// first line after it (and after any other suppression comments stacked under it).
    pub covers: u32,
}

/// What the run knows about a rule id named in a suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleStatus {
    /// Run in this scan: a suppression of it that matches nothing is reported unused.
    Enabled,
    /// A rule, but not run in this scan (turned off): nothing can be said.
    Disabled,
    /// No rule has this id.
    Unknown,
}

/// The suppression comments in one file's text.
pub fn parse(text: &str) -> Vec<Directive> {
    if !text.contains("vigil:") {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    // (index into `out`, directive alone on its line)
    let mut alone = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(caps) = DIRECTIVE.captures(line) else {
            continue;
        };
        let (Some(whole), Some(ids), Some(rest)) = (caps.get(0), caps.get(2), caps.get(3)) else {
            continue;
        };
        let marker_at = caps.get(1).map_or(whole.start(), |m| m.start());
        let before = &line[..marker_at];
        if in_string(before) {
            continue;
        }
        let rules: Vec<String> = ids
            .as_str()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let reason = rest
            .as_str()
            .trim()
            .trim_end_matches("*/")
            .trim()
            .trim_start_matches([':', '-', '—'])
            .trim()
            .to_owned();
        let n = i as u32 + 1;
        let start_column = before.chars().count() as u32 + 1;
        let code_before = before.trim_start().trim_start_matches('*').trim();
        alone.push(code_before.is_empty());
        out.push(Directive {
            line: n,
            start_column,
            end_column: line.chars().count() as u32 + 1,
            rules,
            reason,
            covers: n,
        });
    }
    // A comment alone on its line covers the next line that is not itself such a comment.
    let own_lines: std::collections::HashSet<u32> = out
        .iter()
        .zip(&alone)
        .filter(|(_, a)| **a)
        .map(|(d, _)| d.line)
        .collect();
    for (d, a) in out.iter_mut().zip(&alone) {
        if *a {
            let mut next = d.line + 1;
            while own_lines.contains(&next) {
                next += 1;
            }
            d.covers = next;
        }
    }
    out
}

/// Whether the end of `prefix` is inside a string literal opened on this line.
fn in_string(prefix: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in prefix.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' || c == '`' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// Marks the findings covered by a suppression comment in `sources` (each scanned file
/// and its text) and returns notices for comments that suppress nothing (`unused-suppression`)
/// or name no rule (`unknown-rule-suppression`). `status` says what each rule id is.
pub fn apply<'a>(
    findings: &mut [Finding],
    sources: impl IntoIterator<Item = (&'a Path, &'a str)>,
    status: &dyn Fn(&str) -> RuleStatus,
) -> Vec<Notice> {
    let mut by_file: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_file
            .entry(f.location.path.as_path())
            .or_default()
            .push(i);
    }
    // Findings are borrowed mutably below; keep the index lists owned.
    let by_file: HashMap<PathBuf, Vec<usize>> = by_file
        .into_iter()
        .map(|(p, v)| (p.to_path_buf(), v))
        .collect();
    let mut notices = Vec::new();
    for (path, text) in sources {
        let directives = parse(text);
        if directives.is_empty() {
            continue;
        }
        let here = by_file.get(path).map(Vec::as_slice).unwrap_or(&[]);
        for d in &directives {
            let location = Location {
                path: path.to_path_buf(),
                start_line: d.line,
                start_column: d.start_column,
                end_line: d.line,
                end_column: d.end_column,
            };
            if d.rules.is_empty() {
                notices.push(Notice {
                    kind: "unknown-rule-suppression".into(),
                    message: format!(
                        "{}:{}: `vigil: ignore[]` names no rule; write the rule ids between the brackets",
                        path.display(),
                        d.line
                    ),
                    location: Some(location.clone()),
                });
                continue;
            }
            for rule in &d.rules {
                match status(rule) {
                    RuleStatus::Unknown => {
                        notices.push(Notice {
                            kind: "unknown-rule-suppression".into(),
                            message: format!(
                                "{}:{}: `vigil: ignore[{rule}]`: there is no rule `{rule}` (see `vigil rules`)",
                                path.display(),
                                d.line
                            ),
                            location: Some(location.clone()),
                        });
                        continue;
                    }
                    RuleStatus::Disabled => continue,
                    RuleStatus::Enabled => {}
                }
                let mut used = false;
                for &i in here {
                    let f = &mut findings[i];
                    let span =
                        f.location.start_line..=f.location.end_line.max(f.location.start_line);
                    if f.rule_id == *rule && span.contains(&d.covers) {
                        used = true;
                        if f.suppression.is_none() {
                            f.suppression = Some(InSourceSuppression {
                                location: location.clone(),
                                justification: d.reason.clone(),
                            });
                        }
                    }
                }
                if !used {
                    notices.push(Notice {
                        kind: "unused-suppression".into(),
                        message: format!(
                            "{}:{}: unused suppression: no `{rule}` finding on line {}",
                            path.display(),
                            d.line,
                            d.covers
                        ),
                        location: Some(location.clone()),
                    });
                }
            }
        }
    }
    notices
}

/// [`apply`] over files read from disk. A file that cannot be read is passed over: it
/// could not have been analysed either, and the scan has already said so.
pub fn apply_files(
    findings: &mut [Finding],
    files: &[PathBuf],
    status: &dyn Fn(&str) -> RuleStatus,
) -> Vec<Notice> {
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let text = String::from_utf8_lossy(&bytes);
            // Most files have no suppression at all: keep only those that might.
            text.contains("vigil:")
                .then(|| (p.clone(), text.into_owned()))
        })
        .collect();
    apply(
        findings,
        texts.iter().map(|(p, t)| (p.as_path(), t.as_str())),
        status,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{Confidence, Severity};

    fn finding(rule: &str, line: u32) -> Finding {
        let at = Location {
            path: PathBuf::from("A.java"),
            start_line: line,
            start_column: 1,
            end_line: line,
            end_column: 10,
        };
        Finding {
            rule_id: rule.into(),
            cwe: vec![89],
            severity: Severity::High,
            confidence: Confidence::High,
            message: "m".into(),
            location: at,
            path: Vec::new(),
            snippet: String::new(),
            triage: None,
            suppression: None,
        }
    }

    fn status(id: &str) -> RuleStatus {
        match id {
            "java/sql-injection" | "java/xss" => RuleStatus::Enabled,
            "java/weak-random" => RuleStatus::Disabled,
            _ => RuleStatus::Unknown,
        }
    }

    #[test]
    fn parses_trailing_and_own_line_comments() {
        let text = "int a = 1;\n\
                    q.execute(sql); // vigil: ignore[java/sql-injection] checked by the caller\n\
                    \x20   # vigil: ignore[java/a, java/b] -- fixture\n\
                    \x20   /* vigil: ignore[java/c] why */\n\
                    run(x);\n\
                    String s = \"// vigil: ignore[java/d] not a comment\";\n\
                    \x20* vigil: ignore[java/e] in a block comment\n";
        let ds = parse(text);
        assert_eq!(ds.len(), 4, "{ds:#?}");
        assert_eq!(ds[0].line, 2);
        assert_eq!(ds[0].covers, 2);
        assert_eq!(ds[0].rules, vec!["java/sql-injection"]);
        assert_eq!(ds[0].reason, "checked by the caller");
        assert_eq!(ds[0].start_column, 17);
        assert_eq!(ds[1].rules, vec!["java/a", "java/b"]);
        assert_eq!(ds[1].reason, "fixture");
        // Stacked comments both cover the code line under them.
        assert_eq!(ds[1].covers, 5);
        assert_eq!(ds[2].covers, 5);
        assert_eq!(ds[2].reason, "why");
        assert_eq!(ds[3].rules, vec!["java/e"]);
        assert_eq!(ds[3].covers, 8);
    }

    #[test]
    fn a_marker_inside_a_string_is_not_a_comment() {
        assert!(parse("url = \"http://x\" + \"# vigil: ignore[a] no\"\n").is_empty());
        assert!(in_string("x = 'it\\'s "));
        assert!(!in_string("x = \"a\" + 'b' "));
        // After a closed string, a comment is a comment.
        assert_eq!(parse("x = \"#\"  # vigil: ignore[a] yes\n").len(), 1);
    }

    #[test]
    fn suppresses_matching_findings_and_reports_the_rest() {
        let text = "line1\n\
                    // vigil: ignore[java/sql-injection] reviewed\n\
                    stmt.execute(sql);\n\
                    out.print(x); // vigil: ignore[java/sql-injection, java/xss]\n\
                    // vigil: ignore[java/nope, java/weak-random] typo\n\
                    run();\n";
        let mut findings = vec![finding("java/sql-injection", 3), finding("java/xss", 4)];
        let notices = apply(&mut findings, [(Path::new("A.java"), text)], &status);
        let s = findings[0].suppression.as_ref().expect("suppressed");
        assert_eq!(s.justification, "reviewed");
        assert_eq!(s.location.start_line, 2);
        assert_eq!(
            findings[1]
                .suppression
                .as_ref()
                .map(|s| s.justification.as_str()),
            Some("")
        );
        let kinds: Vec<(&str, u32)> = notices
            .iter()
            .map(|n| {
                (
                    n.kind.as_str(),
                    n.location.as_ref().map_or(0, |l| l.start_line),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![("unused-suppression", 4), ("unknown-rule-suppression", 5)],
            "{notices:#?}"
        );
        assert!(
            notices[0]
                .message
                .contains("no `java/sql-injection` finding on line 4")
        );
        assert!(notices[1].message.contains("no rule `java/nope`"));
    }

    #[test]
    fn a_finding_in_another_file_is_not_suppressed() {
        let mut findings = vec![finding("java/xss", 1)];
        findings[0].location.path = PathBuf::from("B.java");
        let notices = apply(
            &mut findings,
            [(Path::new("A.java"), "x(); // vigil: ignore[java/xss]\n")],
            &status,
        );
        assert!(findings[0].suppression.is_none());
        assert_eq!(notices.len(), 1);
    }

    #[test]
    fn a_multi_line_finding_is_covered_on_any_of_its_lines() {
        let mut f = finding("java/xss", 1);
        f.location.end_line = 2;
        let mut findings = vec![f];
        apply(
            &mut findings,
            [(
                Path::new("A.java"),
                "out.print(\n  x); // vigil: ignore[java/xss] ok\n",
            )],
            &status,
        );
        assert!(findings[0].suppression.is_some());
    }
}
