//! Which alerts are shown: by level, event time and rule, and in what order.

use vigil_core::{Alert, Severity};

/// The alerts a run shows.
#[derive(Debug, Clone)]
pub struct Filter {
    min_level: Severity,
    /// Normalized (see [`normalize_time`]).
    from: Option<String>,
    to: Option<String>,
    /// Lower-cased.
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filter {
    /// Alerts at or above `min_level`, of events at or after `from` and before `to` (RFC
    /// 3339 or a prefix of it), of rules whose id or title contains one of `include` (when
    /// any is given) and none of `exclude`, ignoring case.
    pub fn new(
        min_level: Severity,
        from: Option<&str>,
        to: Option<&str>,
        include: &[String],
        exclude: &[String],
    ) -> Filter {
        Filter {
            min_level,
            from: from.map(normalize_time),
            to: to.map(normalize_time),
            include: include.iter().map(|s| s.to_lowercase()).collect(),
            exclude: exclude.iter().map(|s| s.to_lowercase()).collect(),
        }
    }

    /// Whether the alert is shown.
    pub fn keeps(&self, a: &Alert) -> bool {
        if a.level.unwrap_or(Severity::Info) < self.min_level {
            return false;
        }
        let names = format!(
            "{}\u{1}{}",
            a.rule_id.as_deref().unwrap_or("").to_lowercase(),
            a.title.to_lowercase()
        );
        if !self.include.is_empty() && !self.include.iter().any(|i| names.contains(i.as_str())) {
            return false;
        }
        if self.exclude.iter().any(|x| names.contains(x.as_str())) {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let t = time_key(a);
        if let Some(from) = &self.from
            && (t.is_empty() || t.as_str() < from.as_str())
        {
            return false;
        }
        if let Some(to) = &self.to
            && (t.is_empty() || t.as_str() >= to.as_str())
        {
            return false;
        }
        true
    }
}

/// Event times compare as text once written the same way: `2026-11-27T10:00:00.123Z`.
pub fn normalize_time(t: &str) -> String {
    t.trim().replace(' ', "T").trim_end_matches('Z').to_string()
}

/// An alert's event time, normalized; empty when it has none.
pub fn time_key(a: &Alert) -> String {
    a.time.as_deref().map(normalize_time).unwrap_or_default()
}

/// A timeline: by event time, then file and record, stable.
pub fn sort_timeline(alerts: &mut [Alert]) {
    // The key is made once per alert, not once per comparison.
    alerts.sort_by_cached_key(|a| (time_key(a), a.source.clone(), a.record));
}
