//! Routing: which rules an event is evaluated by, by its logsource.
//!
//! Worked out at load time from the Windows mapping (see
//! [`crate::logsource::windows`]), looked up per event by its `Channel` and `EventID`.

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_parser::LogSource;
use serde_json::Value;

use super::keys::route_key;
use crate::event::Event;
use crate::fields::FieldRef;
use crate::logsource::{WindowsMapping, field_u64};

fn choices(v: Option<&str>) -> Vec<Option<&str>> {
    match v {
        Some(v) => vec![None, Some(v)],
        None => vec![None],
    }
}

/// The routes of every kind of Windows event, worked out at load time: routing reads
/// only an event's `Channel` and `EventID`, and the mapping names a few of each.
pub(crate) struct RouteTable {
    /// Events of unknown product: every route.
    all: Vec<usize>,
    /// Windows events of a channel the mapping does not route (or without one).
    unmapped: Vec<usize>,
    /// Lower-cased channel → its routes.
    channels: foldhash::HashMap<String, ChannelRoutes>,
    /// Channel as the mapping spells it → the lower-cased key (spares a lower-casing).
    spellings: foldhash::HashMap<String, String>,
}

struct ChannelRoutes {
    /// EventIDs some route of the channel names → routes.
    by_id: foldhash::HashMap<u64, Vec<usize>>,
    /// Any other EventID, or none.
    other: Vec<usize>,
}

impl RouteTable {
    pub(crate) fn build(
        mapping: &WindowsMapping,
        routes: &HashMap<String, usize>,
        route_count: usize,
    ) -> Self {
        let of = |channel: Option<&str>, event_id: Option<u64>| {
            let mut fields = serde_json::Map::new();
            if let Some(c) = channel {
                fields.insert("Channel".into(), Value::from(c));
            }
            if let Some(id) = event_id {
                fields.insert("EventID".into(), Value::from(id));
            }
            routes_of(routes, &mapping.event_logsources(&Value::Object(fields)))
        };
        let mut channels = foldhash::HashMap::default();
        let mut spellings = foldhash::HashMap::default();
        for (lower, written, ids) in mapping.routed_channels() {
            let by_id = ids
                .iter()
                .map(|&id| (id, of(Some(&lower), Some(id))))
                .collect();
            let other = of(Some(&lower), None);
            for w in written {
                spellings.insert(w, lower.clone());
            }
            channels.insert(lower, ChannelRoutes { by_id, other });
        }
        RouteTable {
            all: (0..route_count).collect(),
            unmapped: of(None, None),
            channels,
            spellings,
        }
    }

    /// The routes (rule logsources, indices into the rule set's route ranges) an event is
    /// evaluated by: for a Windows event, those whose logsource is contained in one of the
    /// event's logsources (each dimension unset or equal); for an event of unknown product,
    /// every route.
    pub(crate) fn routes<'a>(
        &'a self,
        routes: &HashMap<String, usize>,
        event: &Event,
    ) -> Cow<'a, [usize]> {
        let table = self;
        let Some(product) = event.product else {
            return Cow::Borrowed(&table.all);
        };
        if let Some(linux) = event.linux {
            return Cow::Owned(routes_of(routes, &linux.logsources()));
        }
        if product != "windows" {
            let ls = LogSource {
                product: Some(product.to_string()),
                ..LogSource::default()
            };
            return Cow::Owned(routes_of(routes, std::slice::from_ref(&ls)));
        }
        let Some(channel) = event.fields.get("Channel").and_then(FieldRef::as_str) else {
            return Cow::Borrowed(&table.unmapped);
        };
        let found = match table.spellings.get(channel) {
            Some(lower) => table.channels.get(lower),
            None => table.channels.get(&channel.to_ascii_lowercase()),
        };
        let Some(routes) = found else {
            return Cow::Borrowed(&table.unmapped);
        };
        let by_id = event
            .fields
            .get("EventID")
            .and_then(field_u64)
            .and_then(|id| routes.by_id.get(&id));
        Cow::Borrowed(by_id.unwrap_or(&routes.other))
    }
}

fn routes_of(routes: &HashMap<String, usize>, logsources: &[LogSource]) -> Vec<usize> {
    // A rule logsource fits an event logsource when each of its dimensions is unset or
    // equal: up to 2 x 2 x 2 keys per event logsource.
    let mut out = Vec::new();
    for ls in logsources {
        for p in choices(ls.product.as_deref()) {
            for s in choices(ls.service.as_deref()) {
                for c in choices(ls.category.as_deref()) {
                    if let Some(&i) = routes.get(&route_key(p, s, c))
                        && !out.contains(&i)
                    {
                        out.push(i);
                    }
                }
            }
        }
    }
    out
}
