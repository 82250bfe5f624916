//! Evidence packs: the code along a finding's data-flow path (source, steps, sink) with
//! the functions that enclose them, bounded in size, and the rule that fired.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use vigil_code::ir::{Class, Function, Module};
use vigil_core::{Finding, RuleMeta};

/// Longest function shown whole; longer ones are shown around the lines that matter.
const MAX_FUNCTION_LINES: u32 = 60;
/// Lines shown around a line of interest when its function is long or unknown.
const CONTEXT_LINES: u32 = 6;

/// One file's text and its functions' line ranges.
struct SourceFile {
    lines: Vec<String>,
    functions: Vec<(u32, u32)>,
}

/// Files read once per run, shared by every finding.
#[derive(Default)]
pub struct Sources {
    files: Mutex<HashMap<PathBuf, std::sync::Arc<Option<SourceFile>>>>,
}

fn collect_functions(module: &Module) -> Vec<(u32, u32)> {
    fn class(c: &Class, out: &mut Vec<(u32, u32)>) {
        out.extend(c.methods.iter().map(span));
        for inner in &c.classes {
            class(inner, out);
        }
    }
    fn span(f: &Function) -> (u32, u32) {
        (f.span.start_line, f.span.end_line)
    }
    let mut out: Vec<(u32, u32)> = module.functions.iter().map(span).collect();
    for c in &module.classes {
        class(c, &mut out);
    }
    out
}

impl Sources {
    fn get(&self, path: &Path) -> std::sync::Arc<Option<SourceFile>> {
        if let Some(f) = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return f.clone();
        }
        let file = std::fs::read(path).ok().map(|bytes| {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let functions = vigil_code::parse_file(path)
                .map(|m| collect_functions(&m))
                .unwrap_or_default();
            SourceFile {
                lines: text.lines().map(str::to_string).collect(),
                functions,
            }
        });
        let file = std::sync::Arc::new(file);
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), file.clone());
        file
    }

    /// The text of a file (for the injection scan), if it could be read.
    pub fn text(&self, path: &Path) -> Option<Vec<String>> {
        self.get(path).as_ref().as_ref().map(|f| f.lines.clone())
    }
}

/// What the model is shown for one finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// About the rule: trusted text from Vigil's rule pack.
    pub header: String,
    /// The finding, its data flow and the code along it: from the scanned repository,
    /// untrusted, quoted as data.
    pub code: String,
    /// The (file, first line, last line) ranges the code covers.
    pub shown: Vec<(PathBuf, u32, u32)>,
    /// What the injection scan covers: the ranges shown and the whole of every function
    /// that encloses a step, shown or not.
    pub regions: Vec<(PathBuf, u32, u32)>,
    /// Numbered data-flow steps the answer may cite (source first, the sink last).
    pub steps: u32,
}

/// Build the evidence pack of a finding, with at most `max_chars` of code.
pub fn evidence(
    finding: &Finding,
    rule: Option<&RuleMeta>,
    sources: &Sources,
    max_chars: usize,
) -> Evidence {
    let mut header = String::new();
    let cwe: Vec<String> = finding.cwe.iter().map(|c| format!("CWE-{c}")).collect();
    header.push_str(&format!("Rule: {}", finding.rule_id));
    if let Some(r) = rule {
        if !r.name.is_empty() {
            header.push_str(&format!(" ({})", r.name));
        }
        header.push('\n');
        let about = if r.help.is_empty() { &r.short } else { &r.help };
        if !about.is_empty() {
            header.push_str(&format!("About the rule: {}\n", about.trim()));
        }
    } else {
        header.push('\n');
    }
    if !cwe.is_empty() {
        header.push_str(&format!("Weakness: {}\n", cwe.join(", ")));
    }
    // What the analyser saw: its messages quote the code, so they go with the code.
    let mut flow = String::new();
    flow.push_str(&format!(
        "Finding: {} at {}:{}\n",
        finding.message,
        finding.location.path.display(),
        finding.location.start_line
    ));
    // The steps the answer cites: the path, and the sink when the path stops short of it.
    let mut steps: Vec<(&Path, u32, &str)> = finding
        .path
        .iter()
        .map(|s| {
            (
                s.location.path.as_path(),
                s.location.start_line,
                s.message.as_str(),
            )
        })
        .collect();
    let sink = (
        finding.location.path.as_path(),
        finding.location.start_line,
        "the sink",
    );
    if steps.last().is_none_or(|l| (l.0, l.1) != (sink.0, sink.1)) {
        steps.push(if finding.path.is_empty() {
            (sink.0, sink.1, "the pattern match")
        } else {
            sink
        });
    }
    flow.push_str(if finding.path.is_empty() {
        "Kind: a pattern match (no data flow). Steps:\n"
    } else {
        "Data-flow steps, source first, sink last:\n"
    });
    for (i, (path, line, message)) in steps.iter().enumerate() {
        let file = sources.get(path);
        let code = file
            .as_ref()
            .as_ref()
            .and_then(|f| f.lines.get((*line as usize).wrapping_sub(1)))
            .map_or("", |l| l.trim());
        flow.push_str(&format!(
            "  [{}] {}:{}  {}\n      {}\n",
            i + 1,
            path.display(),
            line,
            message,
            code.chars().take(200).collect::<String>()
        ));
    }

    // Lines of interest per file: each step and the sink.
    let mut wanted: BTreeMap<PathBuf, Vec<u32>> = BTreeMap::new();
    for s in &finding.path {
        wanted
            .entry(s.location.path.clone())
            .or_default()
            .push(s.location.start_line);
    }
    wanted
        .entry(finding.location.path.clone())
        .or_default()
        .push(finding.location.start_line);

    let mut code = flow;
    code.push('\n');
    let mut shown = Vec::new();
    let mut regions = Vec::new();
    for (path, lines) in &wanted {
        let file = sources.get(path);
        let Some(file) = file.as_ref() else {
            code.push_str(&format!("// {}: not readable\n", path.display()));
            continue;
        };
        let n = file.lines.len() as u32;
        // Ranges to show: the enclosing function when short, else a window.
        let mut ranges: Vec<(u32, u32)> = lines
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| {
                let enclosing = file
                    .functions
                    .iter()
                    .filter(|(s, e)| *s <= l && l <= *e)
                    .min_by_key(|(s, e)| e - s);
                if let Some(&(s, e)) = enclosing {
                    regions.push((path.clone(), s, e));
                }
                match enclosing {
                    Some(&(s, e)) if e - s < MAX_FUNCTION_LINES => (s, e),
                    _ => (
                        l.saturating_sub(CONTEXT_LINES).max(1),
                        (l + CONTEXT_LINES).min(n),
                    ),
                }
            })
            .collect();
        ranges.sort();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.0 <= last.1 + 1 => last.1 = last.1.max(r.1),
                _ => merged.push(r),
            }
        }
        code.push_str(&format!("// file: {}\n", path.display()));
        for (s, e) in merged {
            for l in s..=e.min(n) {
                let text = &file.lines[(l - 1) as usize];
                let mark = if lines.contains(&l) { ">" } else { " " };
                code.push_str(&format!("{mark}{l:>5} | {text}\n"));
            }
            shown.push((path.clone(), s, e.min(n)));
            code.push_str("      ...\n");
        }
    }
    let seen = sanitizers_seen(rule, &shown, sources);
    if let Some(r) = rule
        && !r.sanitizers.is_empty()
    {
        header.push_str(&format!(
            "Sanitizers this rule accepts: {}\n",
            r.sanitizers.join(", ")
        ));
        code.push_str(&if seen.is_empty() {
            "Sanitizers of this rule seen in the code shown: none\n".to_string()
        } else {
            format!(
                "Sanitizers of this rule seen in the code shown: {}\n",
                seen.join(", ")
            )
        });
    }
    regions.extend(shown.iter().cloned());
    if code.len() > max_chars {
        let mut cut = max_chars;
        while !code.is_char_boundary(cut) {
            cut -= 1;
        }
        code.truncate(cut);
        code.push_str("\n[evidence cut to fit the model's context]\n");
    }
    Evidence {
        header,
        code,
        shown,
        regions,
        steps: steps.len() as u32,
    }
}

/// The rule's sanitizers that the code shown calls: `name (file:line)`.
fn sanitizers_seen(
    rule: Option<&RuleMeta>,
    shown: &[(PathBuf, u32, u32)],
    sources: &Sources,
) -> Vec<String> {
    let Some(rule) = rule else {
        return Vec::new();
    };
    // Plain names match as `name(`; anything else is a name pattern of the rule pack.
    let matchers: Vec<(String, regex::Regex)> = rule
        .sanitizers
        .iter()
        .filter_map(|s| {
            let plain = s
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let pattern = if plain {
                let last = s.rsplit('.').next().unwrap_or(s);
                format!(r"\b{}\s*\(", regex::escape(last))
            } else {
                format!(r"(?:{s})\s*\(")
            };
            Some((s.clone(), regex::Regex::new(&pattern).ok()?))
        })
        .collect();
    let mut seen = Vec::new();
    for (path, a, b) in shown {
        let file = sources.get(path);
        let Some(file) = file.as_ref() else { continue };
        for l in *a..=*b {
            let Some(text) = file.lines.get((l as usize).wrapping_sub(1)) else {
                continue;
            };
            for (name, re) in &matchers {
                if re.is_match(text) {
                    seen.push(format!("{name} ({}:{l})", path.display()));
                }
            }
        }
    }
    seen.dedup();
    seen
}
