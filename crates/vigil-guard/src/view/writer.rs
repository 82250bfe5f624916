//! The alert writers: a table (a timeline for a responder), CSV and JSON lines (for other
//! tools), one alert at a time so that a stream's alerts flow out as they come.

use std::io::Write;

use vigil_core::{Alert, Severity};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Jsonl,
}

impl Format {
    /// The level shown by default: medium for the table (what a responder reads), low for
    /// CSV and JSON lines (what other tools read).
    pub fn default_min_level(self) -> Severity {
        match self {
            Format::Table => Severity::Medium,
            Format::Csv | Format::Jsonl => Severity::Low,
        }
    }
}

/// Writes alerts in one format.
#[derive(Debug, Clone, Copy)]
pub struct AlertWriter {
    format: Format,
    color: bool,
}

impl AlertWriter {
    /// A writer of `format`; `color` paints the table's levels.
    pub fn new(format: Format, color: bool) -> AlertWriter {
        AlertWriter { format, color }
    }

    /// The header line (none for JSON lines).
    pub fn header(&self, w: &mut dyn Write) -> std::io::Result<()> {
        match self.format {
            Format::Table => writeln!(
                w,
                "{:<24} {:<8} {:<16} {:<60} Source:Record",
                "Timestamp", "Level", "Computer", "Rule"
            ),
            Format::Csv => csv_row(
                w,
                &[
                    "Timestamp",
                    "Level",
                    "RuleId",
                    "Rule",
                    "Computer",
                    "Channel",
                    "EventID",
                    "Source",
                    "Record",
                    "Tags",
                    "Matched",
                ],
            ),
            Format::Jsonl => Ok(()),
        }
    }

    /// One alert.
    pub fn row(&self, w: &mut dyn Write, a: &Alert) -> std::io::Result<()> {
        let level = a.level.unwrap_or(Severity::Info);
        match self.format {
            Format::Table => {
                // Rule titles and log file names can come from an attacker too (a rule
                // pack or a collected host's file names).
                let title: String = clean(&a.title).chars().take(60).collect();
                let computer: String = clean(&a.field("Computer").unwrap_or_else(|| "-".into()))
                    .chars()
                    .take(16)
                    .collect();
                let level_text = format!("{:<8}", level.as_str());
                writeln!(
                    w,
                    "{:<24} {} {:<16} {:<60} {}:{}",
                    clean(a.time.as_deref().unwrap_or("-")),
                    paint(&level_text, level, self.color),
                    computer,
                    title,
                    clean(&a.source.display().to_string()),
                    a.record
                )
            }
            Format::Csv => {
                let matched: Vec<String> = a
                    .matched
                    .iter()
                    .map(|m| format!("{}={}", m.field, m.value))
                    .collect();
                let fields = [
                    a.time.clone().unwrap_or_default(),
                    level.as_str().to_string(),
                    a.rule_id.clone().unwrap_or_default(),
                    a.title.clone(),
                    a.field("Computer").unwrap_or_default(),
                    a.field("Channel").unwrap_or_default(),
                    a.field("EventID").unwrap_or_default(),
                    a.source.display().to_string(),
                    a.record.to_string(),
                    a.tags.join(" "),
                    matched.join(" | "),
                ];
                let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                csv_row(w, &refs)
            }
            Format::Jsonl => {
                serde_json::to_writer(&mut *w, a)?;
                writeln!(w)
            }
        }
    }
}

fn csv_row(w: &mut dyn Write, fields: &[&str]) -> std::io::Result<()> {
    // One writer per row keeps rows flowing out as they come (streaming).
    let mut c = csv::Writer::from_writer(Vec::new());
    c.write_record(fields)?;
    let bytes = c
        .into_inner()
        .map_err(|e| std::io::Error::other(format!("csv: {e}")))?;
    w.write_all(&bytes)
}

/// `text` in the colour of `level`, when `color`.
pub fn paint(text: &str, level: Severity, color: bool) -> String {
    use owo_colors::OwoColorize;
    if !color {
        return text.to_string();
    }
    match level {
        Severity::Critical => text.red().bold().to_string(),
        Severity::High => text.red().to_string(),
        Severity::Medium => text.yellow().to_string(),
        Severity::Low => text.blue().to_string(),
        Severity::Info => text.dimmed().to_string(),
    }
}

/// Event text shown on a terminal: control characters and bidirectional overrides from
/// the log are escaped (the same escaping as the hunt report's), so a hostile event can
/// neither move the cursor or change colours nor reorder what the analyst reads.
pub fn clean(s: &str) -> String {
    vigil_core::report::clean(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_escape_terminal_controls_and_bidi_overrides_from_the_event() {
        let event = serde_json::json!({"Computer": "WS\u{1b}[2J\u{202E}exe.1"});
        let alert = Alert {
            rule_id: None,
            title: "t\u{1b}]0;owned\u{7}".into(),
            level: Some(Severity::High),
            tags: vec![],
            rule_path: None,
            source: "logs/a\u{2066}.json".into(),
            record: 1,
            time: Some("2024\r-01".into()),
            matched: vec![],
            event: vigil_core::AlertEvent::from_json(
                serde_json::value::to_raw_value(&event).unwrap(),
            ),
        };
        let mut out = Vec::new();
        AlertWriter::new(Format::Table, false)
            .row(&mut out, &alert)
            .unwrap();
        let row = String::from_utf8(out).unwrap();
        for bad in ['\u{1b}', '\u{202E}', '\u{2066}', '\r', '\u{7}'] {
            assert!(!row.contains(bad), "{bad:?} in {row:?}");
        }
        assert!(row.contains("t\\u{1b}]0;owned\\u{7}"), "{row}");
    }
}
