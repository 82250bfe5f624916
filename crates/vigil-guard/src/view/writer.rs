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
                let title: String = a.title.chars().take(60).collect();
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
                    a.source.display(),
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

/// Event text shown on a terminal: control characters from the log are escaped, so a
/// hostile event cannot move the cursor or change colours.
pub fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
