//! `{rule.title}` / `{event.Computer}` placeholders, filled from an alert.
//!
//! Values are substituted as plain text: no expression language, no shell, no recursion
//! (a value that itself contains `{...}` is not expanded again).

use vigil_core::Alert;

/// Fill the placeholders of `template` from `alert`. Unknown placeholders become empty;
/// `{{` and `}}` are literal braces.
pub fn render(template: &str, alert: &Alert) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(r) = tail.strip_prefix("{{") {
            out.push('{');
            rest = r;
        } else if let Some(r) = tail.strip_prefix("}}") {
            out.push('}');
            rest = r;
        } else if let Some(r) = tail.strip_prefix('{')
            && let Some(end) = r.find('}')
        {
            out.push_str(&lookup(&r[..end], alert));
            rest = &r[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn lookup(key: &str, alert: &Alert) -> String {
    let key = key.trim();
    match key {
        "rule.id" => alert.rule_id.clone().unwrap_or_default(),
        "rule.title" => alert.title.clone(),
        "rule.level" => alert
            .level
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        "rule.tags" => alert.tags.join(","),
        "rule.techniques" => alert.techniques().join(","),
        "source" => alert.source.display().to_string(),
        "record" => alert.record.to_string(),
        "time" => alert.time.clone().unwrap_or_default(),
        _ => key
            .strip_prefix("event.")
            .and_then(|f| alert.field(f))
            .unwrap_or_default(),
    }
}

/// Render every string inside a TOML value, turning it into JSON.
pub fn render_value(v: &toml::Value, alert: &Alert) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(render(s, alert)),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(|x| render_value(x, alert)).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, x)| (k.clone(), render_value(x, alert)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use vigil_core::Severity;

    fn alert() -> Alert {
        Alert {
            rule_id: Some("abc".into()),
            title: "Suspicious {thing}".into(),
            level: Some(Severity::High),
            tags: vec!["attack.t1059.001".into()],
            rule_path: None,
            source: PathBuf::from("sec.evtx"),
            record: 42,
            time: Some("2026-01-01T00:00:00Z".into()),
            matched: Vec::new(),
            event: serde_json::json!({"Computer": "ws1", "User": "{rule.id}; rm -rf /"}).into(),
        }
    }

    #[test]
    fn fills_rule_and_event_fields() {
        let a = alert();
        assert_eq!(
            render(
                "{rule.level} {rule.id} on {event.Computer} #{record} {rule.techniques}",
                &a
            ),
            "high abc on ws1 #42 T1059.001"
        );
    }

    #[test]
    fn values_are_not_expanded_again_and_braces_escape() {
        let a = alert();
        // The event value looks like a placeholder and a shell command: it stays text.
        assert_eq!(render("{event.User}", &a), "{rule.id}; rm -rf /");
        assert_eq!(render("{rule.title}", &a), "Suspicious {thing}");
        assert_eq!(
            render("{{literal}} {missing.key} {unclosed", &a),
            "{literal}  {unclosed"
        );
    }
}
