//! Rewrites of a parsed rule, before it is compiled, where the rule means something the
//! compiler would read otherwise:
//!
//! * **Keywords with modifiers.** A keyword list matches anywhere in the event as a
//!   substring (`keywords: [grep, password]`). Written with modifiers (`'|all': [grep,
//!   password]`, SigmaHQ's way to ask for every keyword), rsigma compiles the values as
//!   whole-value matches like a field's, so such a rule never fires. A keyword item whose
//!   modifiers say nothing about how to match gets `contains`, as its plain form has; and
//!   `all` asks for every keyword somewhere in the event (a keyword search reads the whole
//!   record: auditd's `grep` and `password` are two arguments), not all in one value, so
//!   the item becomes one item per keyword, all of them required.
//! * **Collector field names in Windows rules.** Events from Winlogbeat and Elastic Agent
//!   are renamed to the EVTX names when read ([`crate::logsource`]), so a rule written
//!   against the collector's names (`winlog.event_data.CommandLine`, `winlog.channel`,
//!   `event_data.Image`: rules converted for an Elastic stack) is renamed the same way,
//!   and then fires on every shape, EVTX included. Only unambiguous names are renamed:
//!   NXLog's (`SourceName`, `Hostname`) are also event data fields of their own.

use rsigma_parser::{Detection, DetectionItem, Modifier, SigmaRule};

/// Apply every rewrite to `rule`.
pub(super) fn normalize(rule: &mut SigmaRule) {
    let windows = rule.logsource.product.as_deref() == Some("windows");
    for detection in rule.detection.named.values_mut() {
        split_keyword_all(detection);
        visit_items(detection, &mut |item| {
            keyword_contains(item);
            if windows {
                collector_name(item);
            }
        });
    }
}

fn visit_items(detection: &mut Detection, f: &mut dyn FnMut(&mut DetectionItem)) {
    match detection {
        Detection::AllOf(items) => items.iter_mut().for_each(&mut *f),
        Detection::AnyOf(parts) | Detection::And(parts) => {
            for part in parts {
                visit_items(part, f);
            }
        }
        Detection::ArrayMatch { body, .. } => visit_items(body, f),
        // Plain keyword lists already match as substrings; the named sub-selections of an
        // array block are evaluated per member, not renamed.
        _ => {}
    }
}

/// `'|all': [a, b]` without a field → `'|contains': a` and `'|contains': b`, both required
/// (items of one mapping are and-linked).
fn split_keyword_all(detection: &mut Detection) {
    match detection {
        Detection::AllOf(items) => {
            let split = |item: DetectionItem| -> Vec<DetectionItem> {
                let spec = &item.field;
                if spec.name.is_some() || !spec.modifiers.contains(&Modifier::All) {
                    return vec![item];
                }
                let modifiers: Vec<Modifier> = spec
                    .modifiers
                    .iter()
                    .filter(|m| **m != Modifier::All)
                    .cloned()
                    .collect();
                item.values
                    .into_iter()
                    .map(|v| DetectionItem {
                        field: rsigma_parser::FieldSpec::new(None, modifiers.clone()),
                        values: vec![v],
                    })
                    .collect()
            };
            *items = std::mem::take(items).into_iter().flat_map(split).collect();
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            parts.iter_mut().for_each(split_keyword_all)
        }
        _ => {}
    }
}

/// Modifiers that decide how a value matches; a keyword item without any is a substring
/// search.
fn sets_match_mode(m: &Modifier) -> bool {
    use Modifier::*;
    matches!(
        m,
        Contains
            | StartsWith
            | EndsWith
            | Re
            | Cidr
            | Exists
            | FieldRef
            | Gt
            | Gte
            | Lt
            | Lte
            | Neq
            | Minute
            | Hour
            | Day
            | Week
            | Month
            | Year
    )
}

fn keyword_contains(item: &mut DetectionItem) {
    let spec = &mut item.field;
    // Plain keyword lists are `Detection::Keywords`; an item without a field comes from a
    // modifier key (or from `split_keyword_all`).
    if spec.name.is_none() && !spec.modifiers.iter().any(sets_match_mode) {
        // Before the value-linking and encoding modifiers, where the parser puts it.
        spec.modifiers.insert(0, Modifier::Contains);
    }
}

/// (collector's name, EVTX name) of the system fields; event data fields lose the prefixes
/// in [`DATA_PREFIXES`].
const SYSTEM_NAMES: &[(&str, &str)] = &[
    ("winlog.channel", "Channel"),
    ("winlog.event_id", "EventID"),
    ("winlog.provider_name", "Provider_Name"),
    ("winlog.computer_name", "Computer"),
    ("winlog.record_id", "EventRecordID"),
    ("winlog.provider_guid", "Provider_Guid"),
    ("winlog.process.pid", "Execution_ProcessID"),
    ("winlog.process.thread.id", "Execution_ThreadID"),
    ("winlog.user.identifier", "Security_UserID"),
    ("log_name", "Channel"),
    ("event_id", "EventID"),
    ("source_name", "Provider_Name"),
    ("computer_name", "Computer"),
    ("record_number", "EventRecordID"),
];

const DATA_PREFIXES: &[&str] = &["winlog.event_data.", "event_data."];

fn collector_name(item: &mut DetectionItem) {
    let Some(name) = item.field.name.as_mut() else {
        return;
    };
    if let Some((_, evtx)) = SYSTEM_NAMES.iter().find(|(c, _)| c == name) {
        *name = (*evtx).to_string();
        return;
    }
    if let Some(rest) = DATA_PREFIXES.iter().find_map(|p| name.strip_prefix(p))
        && !rest.is_empty()
    {
        *name = rest.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsigma_parser::parse_sigma_yaml;

    fn parsed(yaml: &str) -> SigmaRule {
        let mut c = parse_sigma_yaml(yaml).expect("rule parses");
        let mut rule = c.rules.remove(0);
        normalize(&mut rule);
        rule
    }

    fn items(rule: &SigmaRule, name: &str) -> Vec<DetectionItem> {
        let mut out = Vec::new();
        let mut d = rule.detection.named[name].clone();
        visit_items(&mut d, &mut |i| out.push(i.clone()));
        out
    }

    #[test]
    fn keyword_items_with_only_linking_modifiers_match_as_substrings() {
        let rule = parsed(
            "title: t\nlogsource: {product: linux, service: auditd}\ndetection:\n  \
             k:\n    '|all': [grep, password]\n  f:\n    '|endswith': [x]\n  \
             condition: k and f\n",
        );
        // One required item per keyword, each a substring search.
        let k = items(&rule, "k");
        assert_eq!(k.len(), 2);
        for item in &k {
            assert_eq!(item.field.modifiers, vec![Modifier::Contains]);
            assert_eq!(item.values.len(), 1);
        }
        // A keyword item that already says how to match is left alone.
        let f = items(&rule, "f");
        assert_eq!(f[0].field.modifiers, vec![Modifier::EndsWith]);
    }

    #[test]
    fn field_items_keep_their_exact_match() {
        let rule = parsed(
            "title: t\nlogsource: {product: linux}\ndetection:\n  \
             s:\n    CommandLine|all: [a, b]\n  condition: s\n",
        );
        assert_eq!(items(&rule, "s")[0].field.modifiers, vec![Modifier::All]);
    }

    #[test]
    fn collector_names_in_windows_rules_take_the_evtx_names() {
        let rule = parsed(
            "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  \
             s:\n    winlog.channel: Security\n    winlog.event_id: 4688\n    \
             winlog.event_data.CommandLine|contains: whoami\n    event_data.Image|endswith: x.exe\n    \
             process.command_line: kept\n    SourceName: kept\n  condition: s\n",
        );
        let names: Vec<_> = items(&rule, "s")
            .into_iter()
            .map(|i| i.field.name.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Channel",
                "EventID",
                "CommandLine",
                "Image",
                "process.command_line",
                "SourceName"
            ]
        );
    }

    #[test]
    fn other_products_keep_collector_like_names() {
        let rule = parsed(
            "title: t\nlogsource: {product: linux}\ndetection:\n  \
             s:\n    event_id: 4\n  condition: s\n",
        );
        assert_eq!(items(&rule, "s")[0].field.name.as_deref(), Some("event_id"));
    }
}
