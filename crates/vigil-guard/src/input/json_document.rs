//! JSON documents: one event object, an array of events, or several documents one after
//! another (the shape of SigmaHQ's regression `.json` files).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::ReadError;
use crate::event::Event;

/// Read a JSON document: one event object, an array of events, or several documents one
/// after another (the shape of SigmaHQ's regression `.json` files). Reading stops at the
/// first malformed document, which is an error item with its line number.
pub fn read_json(path: &Path) -> std::vec::IntoIter<Result<Event, ReadError>> {
    match std::fs::read(path) {
        Ok(bytes) => parse_json_document(&bytes, path).into_iter(),
        Err(e) => vec![Err(ReadError::new(path, None, e.to_string()))].into_iter(),
    }
}

/// [`read_json`] over bytes already in memory.
pub fn parse_json_document(bytes: &[u8], name: &Path) -> Vec<Result<Event, ReadError>> {
    let file = Arc::new(name.to_path_buf());
    let mut out = Vec::new();
    let mut position = 0u64;
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(Value::Array(items))) => {
                for item in items {
                    position += 1;
                    out.push(Ok(Event::from_json(Arc::clone(&file), position, item)));
                }
            }
            Some(Ok(value)) if search_hits(&value).is_some() => {
                for item in search_hits(&value).into_iter().flatten() {
                    position += 1;
                    out.push(Ok(Event::from_json(
                        Arc::clone(&file),
                        position,
                        item.clone(),
                    )));
                }
            }
            Some(Ok(value)) => {
                position += 1;
                out.push(Ok(Event::from_json(Arc::clone(&file), position, value)));
            }
            Some(Err(e)) => {
                let line = line_of(bytes, offset) + e.line().saturating_sub(1) as u64;
                out.push(Err(ReadError::new(
                    name,
                    Some(position + 1),
                    format!("invalid JSON at line {line}: {e}"),
                )));
                break;
            }
        }
    }
    out
}

/// The hits of a saved Elasticsearch/OpenSearch search response
/// (`{"hits": {"hits": [{"_source": ..}, ..]}}`); each is unwrapped by [`Event::from_json`].
fn search_hits(value: &Value) -> Option<&Vec<Value>> {
    value.get("hits")?.get("hits")?.as_array()
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64
}
