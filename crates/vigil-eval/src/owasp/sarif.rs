//! Any tool's SARIF 2.1.0 output, reduced to what scoring needs: file stem and CWE per result.
//!
//! Read leniently through `serde_json::Value`: tools disagree on where they put CWEs, and a
//! result we cannot place is counted, not fatal.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use super::cwe::parse_cwe;
use crate::EvalError;

/// The results of one or more SARIF runs, keyed by the file stem of their primary location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolResults {
    /// File stem (e.g. `CaseA0001`) → the CWE of each result in that file (`None`
    /// when the result names no CWE that could be read).
    pub by_stem: BTreeMap<String, Vec<Option<u32>>>,
    /// Every result read, located or not.
    pub results_read: usize,
    /// Results without a usable primary location (no file to map to a test case).
    pub without_location: usize,
}

impl ToolResults {
    /// Records one result located in `file` (a path or URI) with the given CWE.
    pub fn add(&mut self, file: &str, cwe: Option<u32>) {
        self.results_read += 1;
        match file_stem(file) {
            Some(stem) => self.by_stem.entry(stem.to_string()).or_default().push(cwe),
            None => self.without_location += 1,
        }
    }
}

/// The file name without directories, query, fragment or extension:
/// `file:///x/CaseA0001.java` → `CaseA0001`. `None` for an empty name.
pub fn file_stem(uri: &str) -> Option<&str> {
    let uri = uri.split(['?', '#']).next().unwrap_or(uri);
    let name = uri.rsplit(['/', '\\']).next().unwrap_or(uri);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    (!stem.is_empty()).then_some(stem)
}

/// Reads a SARIF log (all of its runs) into [`ToolResults`].
///
/// A result's CWE is the first one found, in this order: `result.properties.cwe`, the result's
/// `taxa` in a CWE taxonomy, then its rule's `properties.cwe`, `properties.tags`
/// (`external/cwe/cwe-089`, `CWE-89: …`) and `relationships` to a CWE taxonomy. The rule is
/// found by `ruleIndex` / `rule.index` (in `tool.extensions[rule.toolComponent.index]` when
/// given, else in `tool.driver`), else by `ruleId` / `rule.id`.
pub fn read_sarif(text: &str) -> Result<ToolResults, EvalError> {
    let log: Value = serde_json::from_str(text).map_err(|source| EvalError::SarifJson {
        line: source.line(),
        column: source.column(),
        source,
    })?;
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| EvalError::SarifShape("no \"runs\" array at the top level".into()))?;
    let mut out = ToolResults::default();
    for run in runs {
        let rules = RuleCwes::new(run);
        let results = run.get("results").and_then(Value::as_array);
        for result in results.into_iter().flatten() {
            let cwe = result_cwe(result, run).or_else(|| rules.for_result(result));
            match primary_uri(result, run) {
                Some(uri) => out.add(uri, cwe),
                None => {
                    out.results_read += 1;
                    out.without_location += 1;
                }
            }
        }
    }
    Ok(out)
}

/// Reads a SARIF log from a file; see [`read_sarif`].
pub fn read_sarif_file(path: &Path) -> Result<ToolResults, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_sarif(&text)
}

/// `locations[0].physicalLocation.artifactLocation`, by `uri` or by `index` into `run.artifacts`.
fn primary_uri<'a>(result: &'a Value, run: &'a Value) -> Option<&'a str> {
    let artifact = result
        .get("locations")?
        .get(0)?
        .get("physicalLocation")?
        .get("artifactLocation")?;
    if let Some(uri) = artifact.get("uri").and_then(Value::as_str) {
        return Some(uri);
    }
    let index = usize::try_from(artifact.get("index")?.as_u64()?).ok()?;
    run.get("artifacts")?
        .get(index)?
        .get("location")?
        .get("uri")?
        .as_str()
}

/// CWE written on the result itself: `properties.cwe`, then `taxa`.
fn result_cwe(result: &Value, run: &Value) -> Option<u32> {
    properties_cwe(result).or_else(|| {
        result
            .get("taxa")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|taxon| taxon_cwe(taxon, run))
    })
}

/// `properties.cwe` (or `CWE`): a number, a string, or a list of either; first readable wins.
fn properties_cwe(object: &Value) -> Option<u32> {
    let properties = object.get("properties")?;
    let value = properties.get("cwe").or_else(|| properties.get("CWE"))?;
    match value {
        Value::Array(items) => items.iter().find_map(value_cwe),
        other => value_cwe(other),
    }
}

fn value_cwe(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => parse_cwe(s, true),
        _ => None,
    }
}

/// A reportingDescriptorReference into a taxonomy (a result's `taxa` entry, a relationship's
/// `target`): a CWE when its id says so (`CWE-89`) or its tool component is the CWE taxonomy.
fn taxon_cwe(reference: &Value, run: &Value) -> Option<u32> {
    let id = reference.get("id").and_then(Value::as_str)?;
    if let Some(cwe) = parse_cwe(id, false) {
        return Some(cwe);
    }
    let component = reference.get("toolComponent");
    let named = component
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .or_else(|| {
            let index = component?.get("index")?.as_u64()?;
            run.get("taxonomies")?
                .get(usize::try_from(index).ok()?)?
                .get("name")?
                .as_str()
        });
    named
        .filter(|name| name.eq_ignore_ascii_case("cwe"))
        .and_then(|_| parse_cwe(id, true))
}

/// CWE of a rule (reportingDescriptor): `properties.cwe`, `properties.tags`, `relationships`.
fn rule_cwe(rule: &Value, run: &Value) -> Option<u32> {
    properties_cwe(rule)
        .or_else(|| {
            rule.get("properties")?
                .get("tags")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .find_map(|tag| parse_cwe(tag, false))
        })
        .or_else(|| {
            rule.get("relationships")?
                .as_array()?
                .iter()
                .filter_map(|relationship| relationship.get("target"))
                .find_map(|target| taxon_cwe(target, run))
        })
}

/// The CWE of every rule of a run, computed once: per tool component (driver first, then
/// extensions) by rule index, and by rule id across all components.
struct RuleCwes<'a> {
    /// `components[0]` is the driver, `components[i + 1]` is `extensions[i]`.
    components: Vec<Vec<Option<u32>>>,
    by_id: HashMap<&'a str, Option<u32>>,
}

impl<'a> RuleCwes<'a> {
    fn new(run: &'a Value) -> Self {
        let tool = run.get("tool");
        let driver = tool.and_then(|t| t.get("driver"));
        let extensions = tool
            .and_then(|t| t.get("extensions"))
            .and_then(Value::as_array);
        let mut components = Vec::new();
        let mut by_id = HashMap::new();
        for component in driver.into_iter().chain(extensions.into_iter().flatten()) {
            let rules = component.get("rules").and_then(Value::as_array);
            let mut cwes = Vec::new();
            for rule in rules.into_iter().flatten() {
                let cwe = rule_cwe(rule, run);
                cwes.push(cwe);
                if let Some(id) = rule.get("id").and_then(Value::as_str) {
                    by_id.entry(id).or_insert(cwe);
                }
            }
            components.push(cwes);
        }
        if driver.is_none() {
            // Keep `components[i + 1]` lined up with `extensions[i]`.
            components.insert(0, Vec::new());
        }
        RuleCwes { components, by_id }
    }

    fn for_result(&self, result: &Value) -> Option<u32> {
        let reference = result.get("rule");
        let index = result
            .get("ruleIndex")
            .or_else(|| reference?.get("index"))
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok());
        let component = reference
            .and_then(|r| r.get("toolComponent"))
            .and_then(|c| c.get("index"))
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok())
            .map_or(0, |i| i + 1);
        if let Some(slot) = index.and_then(|i| self.components.get(component)?.get(i)) {
            return *slot;
        }
        let id = result
            .get("ruleId")
            .or_else(|| reference?.get("id"))
            .and_then(Value::as_str)?;
        *self.by_id.get(id)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(file_stem("file:///a/b/CaseA0001.java"), Some("CaseA0001"));
        assert_eq!(file_stem("testcode\\CaseA0001.py"), Some("CaseA0001"));
        assert_eq!(file_stem("CaseA0001.java?x=1#L3"), Some("CaseA0001"));
        assert_eq!(file_stem("a/Makefile"), Some("Makefile"));
        assert_eq!(file_stem("a/.env"), Some(".env"));
        assert_eq!(file_stem("a/b/"), None);
        assert_eq!(file_stem(""), None);
    }
}
