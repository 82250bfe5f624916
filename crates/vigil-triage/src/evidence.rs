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
    /// The (file, line) pairs the code covers, for the injection scan.
    pub shown: Vec<(PathBuf, u32, u32)>,
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
    if finding.path.is_empty() {
        flow.push_str("Kind: a pattern match (no data flow).\n");
    } else {
        flow.push_str("Data flow, source first:\n");
        for (i, s) in finding.path.iter().enumerate() {
            flow.push_str(&format!(
                "  {}. {}:{} {}\n",
                i + 1,
                s.location.path.display(),
                s.location.start_line,
                s.message
            ));
        }
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
    }
}
