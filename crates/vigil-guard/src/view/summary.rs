//! The summary of a run: counts by level, rule, computer and ATT&CK tactic and
//! technique.

use std::collections::BTreeMap;
use std::io::Write;

use vigil_core::{Alert, Severity};

use super::writer::paint;
use crate::input::ReadCounts;

/// Counts of the alerts shown, for the summary and the exit code.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Alerts shown.
    pub alerts: u64,
    by_level: BTreeMap<Severity, u64>,
    by_rule: BTreeMap<String, u64>,
    by_computer: BTreeMap<String, u64>,
    by_tactic: BTreeMap<String, u64>,
    by_technique: BTreeMap<String, u64>,
}

impl Summary {
    /// Count one alert shown.
    pub fn add(&mut self, a: &Alert) {
        self.alerts += 1;
        *self
            .by_level
            .entry(a.level.unwrap_or(Severity::Info))
            .or_default() += 1;
        *self.by_rule.entry(a.title.clone()).or_default() += 1;
        *self
            .by_computer
            .entry(a.field("Computer").unwrap_or_else(|| "-".into()))
            .or_default() += 1;
        for t in &a.tags {
            if let Some(rest) = t.strip_prefix("attack.")
                && !rest.starts_with('t')
                && !rest.starts_with('g')
                && !rest.starts_with('s')
            {
                *self.by_tactic.entry(rest.to_string()).or_default() += 1;
            }
        }
        for t in a.techniques() {
            *self.by_technique.entry(t).or_default() += 1;
        }
    }

    /// Write the summary: totals, then the ten largest counts of each kind.
    pub fn write(&self, w: &mut dyn Write, read: &ReadCounts, color: bool) -> std::io::Result<()> {
        writeln!(w)?;
        writeln!(
            w,
            "{} alerts in {} events ({} read errors)",
            self.alerts, read.events, read.read_errors
        )?;
        if self.alerts == 0 {
            return Ok(());
        }
        let levels: Vec<String> = self
            .by_level
            .iter()
            .rev()
            .map(|(l, n)| format!("{} {n}", paint(l.as_str(), *l, color)))
            .collect();
        writeln!(w, "by level: {}", levels.join(", "))?;
        for (title, map) in [
            ("top rules", &self.by_rule),
            ("computers", &self.by_computer),
            ("ATT&CK tactics", &self.by_tactic),
            ("ATT&CK techniques", &self.by_technique),
        ] {
            if map.is_empty() {
                continue;
            }
            let mut v: Vec<(&String, &u64)> = map.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            writeln!(w, "{title}:")?;
            for (k, n) in v.iter().take(10) {
                writeln!(w, "  {n:>6}  {k}")?;
            }
            if v.len() > 10 {
                writeln!(w, "  ... {} more", v.len() - 10)?;
            }
        }
        Ok(())
    }
}
