//! The flat field map an event is matched against: [`Fields`], and its values as
//! [`FieldRef`]s.
//!
//! The bottom of the crate: shaping ([`crate::logsource`]), flattening ([`crate::event`]),
//! the prefilter and matching all read and write it, and it imports none of them.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::LazyLock;

use rsigma_eval::{Event as RsigmaEvent, EventValue, JsonEvent};
use rsigma_parser::fieldpath::{first_unescaped, unescape_brackets};
use serde_json::{Map, Number, Value};

/// The hasher of field names: one random seed per process (field names come from the
/// input, so a fixed seed would let a crafted record collide them all).
static KEY_HASH: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);

fn key_hash(key: &str) -> u64 {
    KEY_HASH.hash_one(key)
}

/// A range of [`Fields::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A stored value: scalars inline (strings in the map's text), arrays and objects as the
/// JSON values they are.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    Null,
    Bool(bool),
    Number(Number),
    Str(Span),
    Nested(Box<Value>),
}

#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    key: Span,
    value: Slot,
}

/// One value of a [`Fields`] map, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    Str(&'a str),
    /// An array or an object.
    Nested(&'a Value),
}

impl<'a> FieldRef<'a> {
    /// The string, when the value is one.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a `u64`, when the value is a number that is one (as
    /// [`Value::as_u64`]).
    pub fn as_u64(self) -> Option<u64> {
        match self {
            FieldRef::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn is_string(self) -> bool {
        matches!(self, FieldRef::Str(_))
    }

    /// The value as JSON.
    pub fn to_value(self) -> Value {
        match self {
            FieldRef::Null => Value::Null,
            FieldRef::Bool(b) => Value::Bool(b),
            FieldRef::Number(n) => Value::Number(n.clone()),
            FieldRef::Str(s) => Value::String(s.to_string()),
            FieldRef::Nested(v) => v.clone(),
        }
    }

    /// As rsigma reads a JSON value (`EventValue::from(&Value)`).
    fn event_value(self) -> EventValue<'a> {
        match self {
            FieldRef::Null => EventValue::Null,
            FieldRef::Bool(b) => EventValue::Bool(b),
            FieldRef::Number(n) => match n.as_i64() {
                Some(i) => EventValue::Int(i),
                None => EventValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            FieldRef::Str(s) => EventValue::Str(Cow::Borrowed(s)),
            FieldRef::Nested(v) => EventValue::from(v),
        }
    }
}

impl PartialEq<Value> for FieldRef<'_> {
    fn eq(&self, other: &Value) -> bool {
        match (*self, other) {
            (FieldRef::Null, Value::Null) => true,
            (FieldRef::Bool(a), Value::Bool(b)) => a == *b,
            (FieldRef::Number(a), Value::Number(b)) => a == b,
            (FieldRef::Str(a), Value::String(b)) => a == b,
            (FieldRef::Nested(a), b) => a == b,
            _ => false,
        }
    }
}

/// The flat field map of an event: field names in the order they were first inserted
/// (as `serde_json::Map` with `preserve_order`), each with its value.
///
/// Names and string values live in one text buffer, arrays and objects are kept as
/// JSON values; a small open-addressing table over the names gives lookups without
/// an allocation per field. It implements [`rsigma_eval::Event`] with the semantics of
/// `JsonEvent` over the same map as a JSON object ([`Fields::to_value`]).
#[derive(Clone, Default)]
pub struct Fields {
    text: String,
    entries: Vec<Entry>,
    /// Entry index + 1 per slot, 0 for empty; a power of two long, at most half full.
    table: Vec<u32>,
}

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    /// An empty map with room for `fields` fields and `text` bytes of names and strings.
    pub fn with_capacity(fields: usize, text: usize) -> Self {
        let mut f = Fields {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(fields),
            table: Vec::new(),
        };
        f.grow_table(fields);
        f
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn span(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    pub(crate) fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len(),
        }
    }

    pub(crate) fn field_ref<'a>(&'a self, slot: &'a Slot) -> FieldRef<'a> {
        match slot {
            Slot::Null => FieldRef::Null,
            Slot::Bool(b) => FieldRef::Bool(*b),
            Slot::Number(n) => FieldRef::Number(n),
            Slot::Str(s) => FieldRef::Str(self.span(*s)),
            Slot::Nested(v) => FieldRef::Nested(v),
        }
    }

    /// The index of the entry named `key`.
    pub(crate) fn find(&self, hash: u64, key: &str) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.table[i];
            if slot == 0 {
                return None;
            }
            let idx = slot as usize - 1;
            let e = &self.entries[idx];
            if e.hash == hash && self.span(e.key) == key {
                return Some(idx);
            }
            i = (i + 1) & mask;
        }
    }

    /// Make the table hold `fields` entries at most half full.
    pub(crate) fn grow_table(&mut self, fields: usize) {
        let want = (fields * 2).next_power_of_two().max(16);
        if self.table.len() >= want {
            return;
        }
        self.table = vec![0; want];
        let mask = want - 1;
        for (idx, e) in self.entries.iter().enumerate() {
            let mut i = e.hash as usize & mask;
            while self.table[i] != 0 {
                i = (i + 1) & mask;
            }
            self.table[i] = idx as u32 + 1;
        }
    }

    /// Insert the entry whose name was just pushed at the end of the text: a name
    /// already there keeps its place and takes the new value (as `Map::insert`).
    pub(crate) fn insert_pushed(&mut self, key: Span, value: Slot) {
        let hash = key_hash(&self.text[key.start..key.end]);
        if let Some(idx) = self.find(hash, &self.text[key.start..key.end]) {
            self.text.truncate(key.start);
            self.entries[idx].value = value;
            return;
        }
        if (self.entries.len() + 1) * 2 > self.table.len() {
            self.grow_table(self.entries.len() + 1);
        }
        let mask = self.table.len() - 1;
        let mut i = hash as usize & mask;
        while self.table[i] != 0 {
            i = (i + 1) & mask;
        }
        self.table[i] = self.entries.len() as u32 + 1;
        self.entries.push(Entry { hash, key, value });
    }

    pub(crate) fn insert_slot(&mut self, key: &str, value: Slot) {
        let key = self.push_text(key);
        self.insert_pushed(key, value);
    }

    /// Insert `{a}{sep}{b}` without building the name first.
    pub(crate) fn insert_joined(&mut self, a: &str, sep: char, b: &str, value: Slot) {
        let start = self.text.len();
        self.text.push_str(a);
        self.text.push(sep);
        self.text.push_str(b);
        let key = Span {
            start,
            end: self.text.len(),
        };
        self.insert_pushed(key, value);
    }

    /// A value to store: strings move into the text.
    pub(crate) fn slot(&mut self, value: Value) -> Slot {
        match value {
            Value::Null => Slot::Null,
            Value::Bool(b) => Slot::Bool(b),
            Value::Number(n) => Slot::Number(n),
            Value::String(s) => Slot::Str(self.push_text(&s)),
            nested => Slot::Nested(Box::new(nested)),
        }
    }

    /// Insert a field; a name already there keeps its place and takes the new value.
    pub fn insert(&mut self, key: &str, value: Value) {
        let slot = self.slot(value);
        self.insert_slot(key, slot);
    }

    /// The value of a field.
    pub fn get(&self, key: &str) -> Option<FieldRef<'_>> {
        let idx = self.find(key_hash(key), key)?;
        Some(self.field_ref(&self.entries[idx].value))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key_hash(key), key).is_some()
    }

    /// Give the field `from` the name `to`, in place: its value and its position stay.
    /// Nothing changes, and the answer is false, when `from` is absent or `to` is taken.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        let Some(idx) = self.find(key_hash(from), from) else {
            return false;
        };
        let hash = key_hash(to);
        if self.find(hash, to).is_some() {
            return false;
        }
        let key = self.push_text(to);
        self.relink(idx, key, hash);
        true
    }

    /// Rename every field whose name starts with `prefix` to the rest of its name; one
    /// whose rest is empty is left alone, and one whose rest is already a field's name
    /// becomes `{clash}.{rest}` (or stays as it is when that is taken too). The names
    /// are renamed in field order, and the first to claim a name keeps it. Returns how
    /// many fields were renamed.
    pub fn strip_prefix(&mut self, prefix: &str, clash: &str) -> usize {
        if prefix.is_empty() {
            return 0;
        }
        let mut renamed = 0;
        for idx in 0..self.entries.len() {
            let key = self.entries[idx].key;
            if !self.span(key).starts_with(prefix) || key.end - key.start == prefix.len() {
                continue;
            }
            // The rest of the name is already in the text: no copy.
            let rest = Span {
                start: key.start + prefix.len(),
                end: key.end,
            };
            let hash = key_hash(self.span(rest));
            if self.find(hash, self.span(rest)).is_none() {
                self.relink(idx, rest, hash);
                renamed += 1;
                continue;
            }
            let start = self.text.len();
            self.text.push_str(clash);
            self.text.push('.');
            self.text.extend_from_within(rest.start..rest.end);
            let joined = Span {
                start,
                end: self.text.len(),
            };
            let hash = key_hash(self.span(joined));
            if self.find(hash, self.span(joined)).is_none() {
                self.relink(idx, joined, hash);
                renamed += 1;
            } else {
                self.text.truncate(start);
            }
        }
        renamed
    }

    /// Move entry `idx` to the name `key` (hashing to `hash`, not in the table yet).
    fn relink(&mut self, idx: usize, key: Span, hash: u64) {
        let mask = self.table.len() - 1;
        let mut i = self.entries[idx].hash as usize & mask;
        while self.table[i] as usize != idx + 1 {
            i = (i + 1) & mask;
        }
        self.unlink_slot(i);
        self.entries[idx].key = key;
        self.entries[idx].hash = hash;
        let mut i = hash as usize & mask;
        while self.table[i] != 0 {
            i = (i + 1) & mask;
        }
        self.table[i] = idx as u32 + 1;
    }

    /// Empty slot `hole` of the table, moving later entries of its probe run back so
    /// that every entry stays reachable from its home slot (linear probing's deletion).
    fn unlink_slot(&mut self, mut hole: usize) {
        let mask = self.table.len() - 1;
        self.table[hole] = 0;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let slot = self.table[j];
            if slot == 0 {
                return;
            }
            let home = self.entries[slot as usize - 1].hash as usize & mask;
            // The entry may move to the hole when the hole lies on its probe path, that
            // is, between its home and where it is now (cyclically).
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.table[hole] = slot;
                self.table[j] = 0;
                hole = j;
            }
        }
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FieldRef<'_>)> {
        self.entries
            .iter()
            .map(|e| (self.span(e.key), self.field_ref(&e.value)))
    }

    /// The field names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| self.span(e.key))
    }

    /// The map as a JSON object, in order.
    pub fn to_value(&self) -> Value {
        let mut map = Map::with_capacity(self.entries.len());
        for (k, v) in self.iter() {
            map.insert(k.to_string(), v.to_value());
        }
        Value::Object(map)
    }

    /// The map as JSON text: the text of [`Fields::to_value`], without building the value.
    pub fn to_json(&self) -> Box<serde_json::value::RawValue> {
        // Keys are strings and numbers finite, so this cannot fail; `{}` if it ever did.
        serde_json::value::to_raw_value(self).unwrap_or_else(|_| {
            serde_json::value::RawValue::from_string("{}".to_string()).expect("valid JSON")
        })
    }

    /// A copy of a JSON object's entries, in order.
    pub fn from_map(map: Map<String, Value>) -> Self {
        let mut f = Fields::with_capacity(map.len(), 0);
        for (k, v) in map {
            f.insert(&k, v);
        }
        f
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Equal when the same fields hold equal values, in the same order.
impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            match v {
                FieldRef::Null => map.serialize_entry(k, &())?,
                FieldRef::Bool(b) => map.serialize_entry(k, &b)?,
                FieldRef::Number(n) => map.serialize_entry(k, n)?,
                FieldRef::Str(s) => map.serialize_entry(k, s)?,
                FieldRef::Nested(v) => map.serialize_entry(k, v)?,
            }
        }
        map.end()
    }
}

/// Nesting depth of rsigma's walks over a JSON event (`MAX_NESTING_DEPTH` in its
/// `event/json.rs`): the map itself is the first level.
const RSIGMA_MAX_DEPTH: usize = 64;

/// `JsonEvent`'s semantics over the map as a JSON object.
impl RsigmaEvent for Fields {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(v) = self.get(path) {
            return Some(v.event_value());
        }
        if !path.contains(['.', '[', '\\']) {
            return None;
        }
        // A nested path: absent unless its first segment names a field (what JsonEvent
        // checks first); else rsigma's own walk over the object (rare: the flat maps
        // hold few nested values).
        if let Some(root) = path_root_key(path)
            && !self.contains_key(root.as_ref())
        {
            return None;
        }
        let value = self.to_value();
        JsonEvent::borrow(&value)
            .get_field(path)
            .map(owned_event_value)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.iter().any(|(_, v)| match v {
            FieldRef::Str(s) => pred(s),
            FieldRef::Nested(v) => any_string_value_json(v, pred, RSIGMA_MAX_DEPTH - 1),
            _ => false,
        })
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for (_, v) in self.iter() {
            match v {
                FieldRef::Str(s) => out.push(Cow::Borrowed(s)),
                FieldRef::Nested(v) => {
                    collect_string_values_json(v, &mut out, RSIGMA_MAX_DEPTH - 1)
                }
                _ => {}
            }
        }
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for (_, v) in self.iter() {
            match v {
                FieldRef::Str(s) => visit(s),
                FieldRef::Nested(v) => visit_string_values_json(v, visit, RSIGMA_MAX_DEPTH - 1),
                _ => {}
            }
        }
    }

    fn to_json(&self) -> Value {
        self.to_value()
    }

    fn field_keys(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for (k, v) in self.iter() {
            match v {
                FieldRef::Nested(Value::Object(_)) => {
                    let v = v.to_value();
                    let mut paths = Vec::new();
                    collect_field_keys(&v, k, &mut paths, RSIGMA_MAX_DEPTH - 1);
                    out.extend(paths.into_iter().map(Cow::Owned));
                }
                _ => out.push(Cow::Borrowed(k)),
            }
        }
        out
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        Some(self.keys().map(Cow::Borrowed).collect())
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        for k in self.keys() {
            visit(k);
        }
        true
    }
}

/// An rsigma value that borrows nothing.
fn owned_event_value(v: EventValue<'_>) -> EventValue<'static> {
    match v {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(i) => EventValue::Int(i),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(items) => {
            EventValue::Array(items.into_iter().map(owned_event_value).collect())
        }
        EventValue::Map(entries) => EventValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), owned_event_value(v)))
                .collect(),
        ),
    }
}

/// rsigma's `path_root_key` (`event/json.rs`): the first object-key segment of a path,
/// bracket-unescaped; `None` for a path that opens with `.` or `[`.
fn path_root_key(path: &str) -> Option<Cow<'_, str>> {
    let segment = match first_unescaped(path, b'.') {
        Some(0) => return None,
        Some(pos) => &path[..pos],
        None => path,
    };
    if segment.is_empty() {
        return None;
    }
    let name = match first_unescaped(segment, b'[') {
        Some(0) => return None,
        Some(pos) => &segment[..pos],
        None => segment,
    };
    if name.is_empty() {
        return None;
    }
    Some(unescape_brackets(name))
}

// rsigma's walks over JSON values (`event/json.rs`), for the nested values of a map.

fn any_string_value_json(v: &Value, pred: &dyn Fn(&str) -> bool, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    match v {
        Value::String(s) => pred(s.as_str()),
        Value::Object(map) => map
            .values()
            .any(|val| any_string_value_json(val, pred, depth - 1)),
        Value::Array(arr) => arr
            .iter()
            .any(|val| any_string_value_json(val, pred, depth - 1)),
        _ => false,
    }
}

fn collect_string_values_json<'a>(v: &'a Value, out: &mut Vec<Cow<'a, str>>, depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::String(s) => out.push(Cow::Borrowed(s.as_str())),
        Value::Object(map) => {
            for val in map.values() {
                collect_string_values_json(val, out, depth - 1);
            }
        }
        Value::Array(arr) => {
            for val in arr {
                collect_string_values_json(val, out, depth - 1);
            }
        }
        _ => {}
    }
}

fn visit_string_values_json(v: &Value, visit: &mut dyn FnMut(&str), depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::String(s) => visit(s.as_str()),
        Value::Object(map) => {
            for val in map.values() {
                visit_string_values_json(val, visit, depth - 1);
            }
        }
        Value::Array(arr) => {
            for val in arr {
                visit_string_values_json(val, visit, depth - 1);
            }
        }
        _ => {}
    }
}

fn collect_field_keys(v: &Value, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth == 0 {
        return;
    }
    if let Value::Object(map) = v {
        for (k, child) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match child {
                Value::Object(_) => collect_field_keys(child, &path, out, depth - 1),
                _ => out.push(path),
            }
        }
    }
}
