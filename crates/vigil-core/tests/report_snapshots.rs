//! Snapshot tests of the three report formats for one small hand-built report.

mod common;

use vigil_core::report::{TextOptions, to_sarif, write_json, write_text};

fn text(report: &vigil_core::Report, opts: TextOptions) -> String {
    let mut buf = Vec::new();
    write_text(report, &mut buf, &opts).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("text output is UTF-8")
}

#[test]
fn text_report() {
    let out = text(
        &common::sample_report(),
        TextOptions {
            color: false,
            show_paths: true,
        },
    );
    assert!(!out.contains('\u{1b}'), "no color codes when color is off");
    insta::assert_snapshot!("text_report", out);
}

#[test]
fn text_report_without_paths_or_findings() {
    let mut report = common::sample_report();
    let out = text(&report, TextOptions::default());
    assert!(
        !out.contains("  1. "),
        "dataflow steps are hidden without show_paths"
    );

    report.findings.clear();
    report.skipped.clear();
    let out = text(&report, TextOptions::default());
    assert_eq!(out, "0 findings in 12 files, 3456 lines; 0 skipped\n");
}

#[test]
fn text_report_in_color() {
    use owo_colors::OwoColorize;
    let report = common::sample_report();
    let opts = |color| TextOptions {
        color,
        show_paths: true,
    };
    let colored = text(&report, opts(true));
    assert!(colored.contains(&"HIGH".red().bold().to_string()));
    assert!(colored.contains(&"MEDIUM".yellow().to_string()));
    assert!(colored.contains(&"LOW".blue().to_string()));
    // Color only adds escape codes: stripped of them, the text is the plain text.
    assert_eq!(strip_ansi(&colored), text(&report, opts(false)));
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn text_excerpt_comes_from_the_source_file_when_readable() {
    let dir = std::env::temp_dir().join(format!("vigil-core-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let file = dir.join("Run.java");
    std::fs::write(
        &file,
        "class Run {\n\tvoid go(String c) {\n\t\tRuntime.getRuntime().exec(c);\n\t}\n}\n",
    )
    .expect("write temp file");

    let mut report = common::sample_report();
    report.findings.truncate(1);
    report.findings[0].path.clear();
    report.findings[0].location = vigil_core::Location {
        path: file.clone(),
        start_line: 3,
        start_column: 3,
        end_line: 3,
        end_column: 31,
    };
    report.findings[0].snippet = "Runtime.getRuntime().exec(c);".into();
    let out = text(&report, TextOptions::default());

    // Tabs expand to 4 columns, and the carets sit under the call.
    assert!(
        out.contains("   3 |         Runtime.getRuntime().exec(c);\n"),
        "{out}"
    );
    assert!(
        out.contains("     |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
        "{out}"
    );

    // A file edited since the scan no longer matches the snippet: show the snippet instead.
    report.findings[0].snippet = "Runtime.getRuntime().exec(cmd);".into();
    let out = text(&report, TextOptions::default());
    assert!(
        out.contains("   3 | Runtime.getRuntime().exec(cmd);\n"),
        "{out}"
    );
    assert!(!out.contains('^'), "{out}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_output_escapes_terminal_controls_from_scanned_code() {
    let mut report = common::sample_report();
    report.findings[1].snippet = "x = 1; \u{1b}]0;pwned\u{7} \u{202E}evil".into();
    report.findings[1].message = "msg\r\u{1b}[2Jcleared".into();
    let out = text(&report, TextOptions::default());
    assert!(!out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{202E}'));
    assert!(out.contains("msg\\u{d}\\u{1b}[2Jcleared"), "{out}");
}

#[test]
fn sarif_report() {
    let sarif = to_sarif(&common::sample_report());
    // Sorted keys keep the snapshot stable whether or not serde_json's `preserve_order`
    // feature is switched on elsewhere in the workspace.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("sarif_report", sarif);
    });
}

#[test]
fn json_report() {
    let mut buf = Vec::new();
    write_json(&common::sample_report(), &mut buf).expect("writing to a Vec cannot fail");
    let out = String::from_utf8(buf).expect("JSON output is UTF-8");
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(parsed["summary"]["by_severity"]["high"], 1);
    insta::assert_snapshot!("json_report", out);
}

#[test]
fn text_report_counts_suppressed_and_hidden_findings_without_showing_them() {
    let mut report = common::sample_report();
    report.skipped.clear();
    report.findings[1].suppression = Some(vigil_core::InSourceSuppression {
        location: common::at("src/main/java/org/example/Hashing.java", 16, 9, 60),
        justification: "legacy checksum".into(),
    });
    report.hidden.baseline = 4;
    let out = text(&report, TextOptions::default());
    assert!(!out.contains("Hashing.java"), "{out}");
    assert!(out.contains("LoginServlet.java"), "{out}");
    assert!(
        out.ends_with(
            "2 findings (1 high, 1 low) in 12 files, 3456 lines; 0 skipped; \
             1 suppressed in the source; 4 in the baseline, not shown\n"
        ),
        "{out}"
    );
}

#[test]
fn json_report_keeps_suppressed_findings_and_lists_notices() {
    let mut report = common::sample_report();
    report.findings[1].suppression = Some(vigil_core::InSourceSuppression {
        location: common::at("src/main/java/org/example/Hashing.java", 16, 9, 60),
        justification: "legacy checksum".into(),
    });
    report.notices.push(vigil_core::Notice {
        kind: "unused-suppression".into(),
        message: "matches no finding".into(),
        location: None,
    });
    let mut buf = Vec::new();
    write_json(&report, &mut buf).expect("writing to a Vec cannot fail");
    let doc: serde_json::Value = serde_json::from_slice(&buf).expect("JSON");
    assert_eq!(doc["summary"]["findings"], 3);
    assert_eq!(doc["summary"]["suppressed_in_source"], 1);
    assert_eq!(
        doc["findings"][1]["suppression"]["justification"],
        "legacy checksum"
    );
    assert_eq!(
        doc["findings"][1]["suppression"]["location"]["start_line"],
        16
    );
    assert_eq!(doc["notices"][0]["kind"], "unused-suppression");
    assert!(doc["findings"][0].get("suppression").is_none());
}
