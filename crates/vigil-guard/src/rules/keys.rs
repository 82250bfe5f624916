//! The keys rules are found by: a logsource's route, a rule's id or title, its level.
//!
//! A leaf of [`crate::rules`], shared by the loader, routing, matching and correlation.

use rsigma_parser::Level;
use vigil_core::Severity;

/// The routing key of a logsource: `product|service|category`, lower-cased, empty for
/// an unset dimension.
pub(crate) fn route_key(
    product: Option<&str>,
    service: Option<&str>,
    category: Option<&str>,
) -> String {
    let part = |v: Option<&str>| v.map(str::to_ascii_lowercase).unwrap_or_default();
    format!("{}|{}|{}", part(product), part(service), part(category))
}

/// The key an evaluation result is mapped back to its rule by.
pub(crate) fn rule_key(id: Option<&str>, title: &str) -> String {
    match id {
        Some(id) => format!("id:{id}"),
        None => format!("title:{title}"),
    }
}

pub(crate) fn severity(level: Option<Level>) -> Option<Severity> {
    level.map(|l| match l {
        Level::Informational => Severity::Info,
        Level::Low => Severity::Low,
        Level::Medium => Severity::Medium,
        Level::High => Severity::High,
        Level::Critical => Severity::Critical,
    })
}
