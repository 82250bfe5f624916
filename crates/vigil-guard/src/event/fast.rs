//! Flattening the `evtx` crate's JSON while parsing it (see [`super::Event::from_json_slice`]).
//!
//! Each section is handled by the same per-entry code as [`super::flatten_evtx`], in the same
//! order, so the result is the same map; the parse gives up (and the caller takes the
//! general path) on any layout where the two could differ.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize as _;
use serde::Deserializer as _;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::{Fields, Slot, event_data_entry, flatten_user_data, normalize_event_id, system_entry};
use crate::logsource::{WindowsMapping, WindowsShape, fix_channel_fields, shape_windows_json};

/// Sections past this many entries take the general path (the duplicate check is
/// quadratic).
const MAX_SECTION_ENTRIES: usize = 256;

/// The flat field map of an `{"Event": {"System": ..}}` record, or `None`.
pub(super) fn flatten_evtx_json(json: &str, mapping: &WindowsMapping) -> Option<Fields> {
    let mut de = serde_json::Deserializer::from_str(json);
    // Names and strings, unescaped, are never longer than the text.
    let mut out = Fields::with_capacity(48, json.len().min(1 << 16));
    de.deserialize_map(Record { out: &mut out }).ok()?;
    de.end().ok()?;
    fix_channel_fields(&mut out);
    mapping.apply_aliases(&mut out);
    Some(out)
}

/// The flat field map of a JSON object not in the `evtx` shape (no top-level `Event`
/// or `System`), as `flatten_fields` makes it: nested objects become dotted names;
/// `None` for anything else, or a repeated or escaped name. Then shaped as
/// `flatten_fields` shapes it; with the collector shape found.
pub(super) fn flatten_plain_json(
    json: &str,
    mapping: &WindowsMapping,
) -> Option<(Fields, Option<WindowsShape>)> {
    let mut de = serde_json::Deserializer::from_str(json);
    let mut out = Fields::with_capacity(32, json.len().min(1 << 16));
    de.deserialize_map(PlainObject {
        prefix: None,
        depth: 0,
        out: &mut out,
    })
    .ok()?;
    de.end().ok()?;
    let shape = shape_windows_json(&mut out);
    mapping.apply_aliases(&mut out);
    Some((out, shape))
}

fn give_up<E: de::Error>() -> E {
    E::custom("not the plain evtx record shape")
}

/// Records a key of a section, failing on a repeat.
struct Seen<'de>(Vec<&'de str>);

impl<'de> Seen<'de> {
    fn add<E: de::Error>(&mut self, key: &'de str) -> Result<(), E> {
        if self.0.len() >= MAX_SECTION_ENTRIES || self.0.contains(&key) {
            return Err(give_up());
        }
        self.0.push(key);
        Ok(())
    }
}

/// The top level: exactly one key, `Event`.
struct Record<'a> {
    out: &'a mut Fields,
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an evtx record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match map.next_key::<&'de str>()? {
            Some("Event") => map.next_value_seed(EventSeed { out: self.out })?,
            _ => return Err(give_up()),
        }
        match map.next_key::<&'de str>()? {
            None => Ok(()),
            Some(_) => Err(give_up()),
        }
    }
}

struct EventSeed<'a> {
    out: &'a mut Fields,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Where the `Event` object is: `flatten_evtx` handles `System`, then `EventData`,
/// then `UserData`, whatever their order in the text; the stream must meet them so.
#[derive(PartialEq, PartialOrd)]
enum Stage {
    Start,
    System,
    EventData,
    UserData,
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an evtx Event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut stage = Stage::Start;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "#attributes" => map.next_value_seed(Validate)?,
                "System" if stage == Stage::Start => {
                    map.next_value_seed(Section {
                        out: self.out,
                        kind: SectionKind::System,
                    })?;
                    normalize_event_id(self.out);
                    stage = Stage::System;
                }
                "EventData" if stage == Stage::System => {
                    map.next_value_seed(Section {
                        out: self.out,
                        kind: SectionKind::EventData,
                    })?;
                    stage = Stage::EventData;
                }
                "UserData" if stage == Stage::System || stage == Stage::EventData => {
                    if let Value::Object(user) = map.next_value::<Value>()? {
                        flatten_user_data(user, self.out);
                    }
                    stage = Stage::UserData;
                }
                // No System first, a repeated section, or another section
                // (RenderingInfo, ...): the general path.
                _ => return Err(give_up()),
            }
        }
        if stage == Stage::Start {
            return Err(give_up());
        }
        Ok(())
    }
}

/// The entries of an object at `depth` (0: the record), named `prefix.key` below the
/// top (as `flatten_dotted` names them).
struct PlainObject<'a> {
    prefix: Option<&'a str>,
    depth: usize,
    out: &'a mut Fields,
}

impl<'de> Visitor<'de> for PlainObject<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen(Vec::with_capacity(16));
        while let Some(key) = map.next_key::<&'de str>()? {
            // The `evtx` shape, however laid out, is the general path's.
            if self.depth == 0 && (key == "Event" || key == "System") {
                return Err(give_up());
            }
            seen.add(key)?;
            let name = match self.prefix {
                Some(prefix) => Cow::Owned(format!("{prefix}.{key}")),
                None => Cow::Borrowed(key),
            };
            map.next_value_seed(PlainValue {
                name: &name,
                depth: self.depth,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

/// The value of an entry: an object that is not empty, at a depth below `MAX_DEPTH`,
/// gives its entries; anything else is stored under `name`.
struct PlainValue<'a> {
    name: &'a str,
    depth: usize,
    out: &'a mut Fields,
}

impl<'de> DeserializeSeed<'de> for PlainValue<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl PlainValue<'_> {
    fn store(self, slot: Slot) {
        self.out.insert_slot(self.name, slot);
    }
}

impl<'de> Visitor<'de> for PlainValue<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.store(Slot::Bool(b));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.store(Slot::Number(n.into()));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.store(Slot::Number(n.into()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.store(Number::from_f64(n).map_or(Slot::Null, Slot::Number));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        let slot = Slot::Str(self.out.push_text(s));
        self.store(slot);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.store(Slot::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.store(Slot::Nested(Box::new(v)));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if self.depth >= super::MAX_DEPTH {
            // Kept as it is, as `flatten_dotted` keeps it.
            let v = Value::deserialize(MapAccessDeserializer::new(map))?;
            self.store(Slot::Nested(Box::new(v)));
            return Ok(());
        }
        let mut entries = 0;
        let mut map = CountingMap {
            inner: map,
            entries: &mut entries,
        };
        PlainObject {
            prefix: Some(self.name),
            depth: self.depth + 1,
            out: &mut *self.out,
        }
        .visit_map(&mut map)?;
        if entries == 0 {
            // `{}` is a value of its own.
            let empty = Value::Object(Default::default());
            self.out
                .insert_slot(self.name, Slot::Nested(Box::new(empty)));
        }
        Ok(())
    }
}

/// A map's entries, counted as they are read.
struct CountingMap<'a, A> {
    inner: A,
    entries: &'a mut usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut CountingMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = self.inner.next_key_seed(seed)?;
        *self.entries += usize::from(key.is_some());
        Ok(key)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// A value read and dropped: checked as `Value` would parse it (`IgnoredAny` lets
/// through lone surrogate escapes that the general path rejects), without building it.
struct Validate;

impl<'de> DeserializeSeed<'de> for Validate {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Validate {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Validate)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Validate)?.is_some() {
            map.next_value_seed(Validate)?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum SectionKind {
    System,
    EventData,
}

/// `System` or `EventData`, entry by entry.
struct Section<'a> {
    out: &'a mut Fields,
    kind: SectionKind,
}

impl<'de> DeserializeSeed<'de> for Section<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Section<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an evtx record section")
    }

    /// `"EventData": null` (an event without data): nothing to add.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        match self.kind {
            SectionKind::EventData => Ok(()),
            SectionKind::System => Err(give_up()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen(Vec::with_capacity(32));
        while let Some(key) = map.next_key::<&'de str>()? {
            seen.add(key)?;
            if matches!(self.kind, SectionKind::System) && !key.ends_with("_attributes") {
                map.next_value_seed(SystemValue {
                    name: key,
                    out: &mut *self.out,
                })?;
                continue;
            }
            let value = map.next_value_seed(SlotSeed {
                out: &mut *self.out,
            })?;
            match self.kind {
                SectionKind::System => system_entry(key, value, self.out),
                SectionKind::EventData => event_data_entry("EventData", key, value, self.out),
            }
        }
        Ok(())
    }
}

/// The value of a `System` entry, as `system_entry` takes it: an element with
/// attributes (`{"#attributes": {..}, "#text": ..}`, each part optional, in that
/// order) is read as it streams by; any other object takes the general path.
struct SystemValue<'a, 'de> {
    name: &'de str,
    out: &'a mut Fields,
}

impl<'de> DeserializeSeed<'de> for SystemValue<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> SystemValue<'_, 'de> {
    fn scalar(self, slot: Slot) {
        system_entry(self.name, slot, self.out);
    }
}

impl<'de> Visitor<'de> for SystemValue<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a System entry")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.scalar(Slot::Bool(b));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.scalar(Slot::Number(n.into()));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.scalar(Slot::Number(n.into()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.scalar(Number::from_f64(n).map_or(Slot::Null, Slot::Number));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        let slot = Slot::Str(self.out.push_text(s));
        self.scalar(slot);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.scalar(Slot::Nested(Box::new(v)));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // 0: nothing yet, 1: after `#attributes`, 2: after `#text`.
        let mut state = 0;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "#attributes" if state == 0 => {
                    map.next_value_seed(Attributes {
                        name: self.name,
                        out: &mut *self.out,
                    })?;
                    state = 1;
                }
                "#text" if state < 2 => {
                    let text = map.next_value_seed(SlotSeed {
                        out: &mut *self.out,
                    })?;
                    self.out.insert_slot(self.name, text);
                    state = 2;
                }
                _ => return Err(give_up()),
            }
        }
        Ok(())
    }
}

/// The `#attributes` object of a `System` element: `{name}_{attr}` for every
/// attribute that is not null.
struct Attributes<'a, 'de> {
    name: &'de str,
    out: &'a mut Fields,
}

impl<'de> DeserializeSeed<'de> for Attributes<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen(Vec::with_capacity(4));
        while let Some(attr) = map.next_key::<&'de str>()? {
            seen.add(attr)?;
            let value = map.next_value_seed(SlotSeed {
                out: &mut *self.out,
            })?;
            if !matches!(value, Slot::Null) {
                self.out.insert_joined(self.name, '_', attr, value);
            }
        }
        Ok(())
    }
}

/// One value, as `Value` would parse it: strings straight into the map's text,
/// arrays and objects as `Value`s.
struct SlotSeed<'a> {
    out: &'a mut Fields,
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_> {
    type Value = Slot;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Slot, E> {
        Ok(Slot::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Slot, E> {
        Ok(Slot::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Slot, E> {
        Ok(Slot::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Slot, E> {
        Ok(Number::from_f64(n).map_or(Slot::Null, Slot::Number))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Slot, E> {
        Ok(Slot::Str(self.out.push_text(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Slot, A::Error> {
        let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Slot::Nested(Box::new(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot, A::Error> {
        let v = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Slot::Nested(Box::new(v)))
    }
}
