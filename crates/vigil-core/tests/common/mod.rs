//! A small hand-built report shared by the report-writer tests.

use std::path::PathBuf;
use vigil_core::{Confidence, Finding, FlowStep, Location, Report, RuleMeta, Severity, Skipped};

/// A one-line span; paths are relative so that snapshots do not depend on the machine.
pub fn at(path: &str, line: u32, col: u32, end_col: u32) -> Location {
    Location {
        path: PathBuf::from(path),
        start_line: line,
        start_column: col,
        end_line: line,
        end_column: end_col,
    }
}

const LOGIN: &str = "src/main/java/org/example/LoginServlet.java";

/// Two rules, three findings (one taint finding with a three-step path), one skipped file.
pub fn sample_report() -> Report {
    let rules = vec![
        RuleMeta {
            id: "java.sqli-taint".into(),
            name: "SqlInjection".into(),
            cwe: vec![89],
            severity: Severity::High,
            short: "SQL query built from untrusted data".into(),
            help: "Request data reaches a SQL query without parameterisation, so an attacker \
                   can change the query.\n\nUse a PreparedStatement with bind parameters."
                .into(),
            tags: vec!["taint".into(), "java".into()],
            sanitizers: vec!["encodeForSQL".into()],
        },
        RuleMeta {
            id: "java.weak-hash".into(),
            name: "WeakHash".into(),
            cwe: vec![328, 327],
            severity: Severity::Medium,
            short: "Weak hash algorithm".into(),
            help: "MD5 and SHA-1 are broken for security purposes; use SHA-256 or better.".into(),
            tags: vec!["crypto".into(), "external/cwe/cwe-328".into()],
            sanitizers: Vec::new(),
        },
    ];
    let findings = vec![
        Finding {
            rule_id: "java.sqli-taint".into(),
            cwe: vec![89],
            severity: Severity::High,
            confidence: Confidence::High,
            message: "SQL query built from request parameter `id`".into(),
            location: at(LOGIN, 42, 9, 33),
            path: vec![
                FlowStep {
                    location: at(LOGIN, 30, 21, 49),
                    message: "source: request.getParameter(\"id\")".into(),
                },
                FlowStep {
                    location: at(LOGIN, 35, 22, 60),
                    message: "string concatenation into `sql`".into(),
                },
                FlowStep {
                    location: at(LOGIN, 42, 9, 33),
                    message: "sink: Statement.executeQuery(sql)".into(),
                },
            ],
            snippet: "ResultSet rs = stmt.executeQuery(sql);".into(),
            triage: None,
            suppression: None,
        },
        Finding {
            rule_id: "java.weak-hash".into(),
            cwe: vec![328, 327],
            severity: Severity::Medium,
            confidence: Confidence::Medium,
            message: "MD5 used for hashing".into(),
            location: at("src/main/java/org/example/Hashing.java", 17, 28, 59),
            path: vec![],
            snippet: "MessageDigest md = MessageDigest.getInstance(\"MD5\");".into(),
            triage: None,
            suppression: None,
        },
        Finding {
            rule_id: "java.weak-hash".into(),
            cwe: vec![328, 327],
            severity: Severity::Low,
            confidence: Confidence::Low,
            message: "SHA-1 used for a non-security checksum".into(),
            location: at(
                "src/main/java/org/example/legacy code/Token.java",
                8,
                24,
                56,
            ),
            path: vec![],
            snippet: "byte[] d = MessageDigest.getInstance(\"SHA1\").digest(b);".into(),
            triage: None,
            suppression: None,
        },
    ];
    Report {
        tool_version: "0.1.0-test".into(),
        rules,
        findings,
        skipped: vec![Skipped {
            path: PathBuf::from("src/main/webapp/static/app.min.js"),
            reason: "file larger than 1 MiB".into(),
        }],
        files_scanned: 12,
        lines_scanned: 3456,
        ..Default::default()
    }
}
