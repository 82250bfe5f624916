//! `vigil rules`: list the hunt and guard rules, explain one, or write the hunt rules'
//! documentation pages (`docs/rules/`).

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil_hunt::rules::{Rule, RuleKind, RuleSet};

#[derive(clap::Args)]
pub struct RulesArgs {
    /// A hunt rules folder laid out like the repository's `rules/` (default: built in).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print one rule's documentation: a hunt rule id (`java/sql-injection`), or a
    /// built-in guard (Sigma) rule's id or title.
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// List every built-in guard (Sigma) rule, not only counts.
    #[arg(long)]
    guard: bool,
    /// Write one Markdown page per hunt rule (and an index, README.md) into this folder.
    #[arg(long, value_name = "DIR")]
    markdown: Option<PathBuf>,
}

pub fn run(args: RulesArgs) -> Result<ExitCode> {
    let rules = crate::load_rules(args.rules.as_ref())?;
    let mut out = std::io::stdout().lock();
    if let Some(dir) = &args.markdown {
        let n = write_markdown(&rules, dir)?;
        eprintln!(
            "vigil: wrote {n} rule pages and README.md to {}",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = &args.explain {
        if let Some(r) = rules.rules.iter().find(|r| r.id == *id) {
            write!(out, "{}", rule_page(r))?;
            return Ok(ExitCode::SUCCESS);
        }
        let sigma = sigma_rules();
        if let Some(s) = sigma.iter().find(|s| s.id == *id || s.title == *id) {
            write!(out, "{}", sigma_page(s)?)?;
            return Ok(ExitCode::SUCCESS);
        }
        let close: Vec<&str> = rules
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .filter(|r| r.contains(id.as_str()) || id.contains(r.rsplit('/').next().unwrap_or(r)))
            .collect();
        if close.is_empty() {
            anyhow::bail!("no rule `{id}` (see `vigil rules`)");
        }
        anyhow::bail!("no rule `{id}`; did you mean {}?", close.join(", "));
    }
    if args.guard {
        for s in sigma_rules() {
            writeln!(
                out,
                "{:<36} {:<13} {:<8} {}",
                s.id,
                s.level,
                s.product,
                vigil_core::report::clean(&s.title)
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "hunt rules ({}):", rules.rules.len())?;
    for r in &rules.rules {
        let cwe: Vec<String> = r.cwe.iter().map(|c| format!("CWE-{c}")).collect();
        writeln!(
            out,
            "  {:<36} {:<8} {:<9} {:<16} {}",
            r.id,
            kind(r),
            r.severity.as_str(),
            cwe.join(","),
            r.name
        )?;
    }
    let sigma = sigma_rules();
    let mut by_level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_product: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &sigma {
        *by_level.entry(s.level.as_str()).or_default() += 1;
        *by_product.entry(s.product.as_str()).or_default() += 1;
    }
    let order = ["critical", "high", "medium", "low", "informational", "-"];
    let levels: Vec<String> = order
        .iter()
        .filter_map(|l| by_level.get(l).map(|n| format!("{n} {l}")))
        .chain(
            by_level
                .iter()
                .filter(|(l, _)| !order.contains(l))
                .map(|(l, n)| format!("{n} {l}")),
        )
        .collect();
    let products: Vec<String> = by_product.iter().map(|(p, n)| format!("{n} {p}")).collect();
    writeln!(
        out,
        "guard rules (built-in Sigma, {}; `vigil rules --guard` lists them):",
        sigma.len()
    )?;
    writeln!(out, "  by level:   {}", levels.join(", "))?;
    writeln!(out, "  by product: {}", products.join(", "))?;
    Ok(ExitCode::SUCCESS)
}

fn kind(r: &Rule) -> &'static str {
    match r.kind {
        RuleKind::Taint => "taint",
        RuleKind::Pattern => "pattern",
    }
}

fn cwe_link(c: u32) -> String {
    format!("[CWE-{c}](https://cwe.mitre.org/data/definitions/{c}.html)")
}

/// A hunt rule's documentation, in Markdown: what `--explain` prints and what
/// `--markdown` writes.
pub fn rule_page(r: &Rule) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {}\n", r.id, r.name);
    let _ = writeln!(s, "| | |\n|---|---|");
    let lang = r.id.split('/').next().unwrap_or("");
    let _ = writeln!(s, "| Language | {lang} |");
    let _ = writeln!(s, "| Kind | {} |", kind(r));
    let _ = writeln!(s, "| Severity | {} |", r.severity.as_str());
    let _ = writeln!(s, "| Confidence | {} |", r.confidence.as_str());
    let cwe: Vec<String> = r.cwe.iter().map(|c| cwe_link(*c)).collect();
    let _ = writeln!(s, "| CWE | {} |", cwe.join(", "));
    if !r.tags.is_empty() {
        let _ = writeln!(s, "| Tags | {} |", r.tags.join(", "));
    }
    let _ = writeln!(s, "\nMessage: {}\n", r.message.replace('|', "\\|"));
    let help = r.help.trim();
    if help.is_empty() {
        let _ = writeln!(s, "_No documentation yet._\n");
    } else {
        let _ = writeln!(s, "{help}\n");
    }
    let comment = if lang == "python" { "#" } else { "//" };
    let _ = writeln!(
        s,
        "## Suppressing a finding\n\nOn the line, or alone on the line above:\n\n```\n{comment} vigil: ignore[{}] why this is safe\n```",
        r.id
    );
    s
}

/// Writes `dir/<lang>/<name>.md` for each rule and `dir/README.md`; returns how many pages.
pub fn write_markdown(rules: &RuleSet, dir: &Path) -> Result<usize> {
    let mut index = String::from(
        "# Vigil hunt rules\n\nGenerated by `vigil rules --markdown docs/rules`; do not edit by hand.\n\n\
         | Rule | Severity | CWE | Name |\n|---|---|---|---|\n",
    );
    let mut sorted: Vec<&Rule> = rules.rules.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for r in &sorted {
        let rel = format!("{}.md", r.id);
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, rule_page(r))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let cwe: Vec<String> = r.cwe.iter().map(|c| format!("CWE-{c}")).collect();
        let _ = writeln!(
            index,
            "| [{}]({rel}) | {} | {} | {} |",
            r.id,
            r.severity.as_str(),
            cwe.join(", "),
            r.name
        );
    }
    let path = dir.join("README.md");
    std::fs::write(&path, index).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(sorted.len())
}

/// What `vigil rules` shows of a built-in Sigma rule.
struct SigmaSummary {
    id: String,
    title: String,
    level: String,
    product: String,
    /// The file's text (all its documents) and which document this is.
    text: &'static str,
    doc: usize,
}

/// The built-in Sigma rules, read with a line scanner over their top-level keys (cheap:
/// no YAML parse, no compilation).
fn sigma_rules() -> Vec<SigmaSummary> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    collect(&crate::guard::DEFAULT_SIGMA, &mut files);
    for text in files {
        for (doc, part) in text.split("\n---").enumerate() {
            let mut s = SigmaSummary {
                id: String::new(),
                title: String::new(),
                level: "-".into(),
                product: "-".into(),
                text,
                doc,
            };
            let mut in_logsource = false;
            for line in part.lines() {
                let top = !line.starts_with([' ', '\t']);
                if top {
                    in_logsource = line.starts_with("logsource:");
                }
                let value = |key: &str| line.trim_start().strip_prefix(key).map(scalar);
                if top {
                    if let Some(v) = value("id:") {
                        s.id = v;
                    } else if let Some(v) = value("title:") {
                        s.title = v;
                    } else if let Some(v) = value("level:") {
                        s.level = v;
                    }
                } else if in_logsource && let Some(v) = value("product:") {
                    s.product = v;
                }
            }
            if !s.title.is_empty() {
                out.push(s);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// A one-line YAML scalar: quotes removed, or a trailing ` # comment` when unquoted.
fn scalar(v: &str) -> String {
    let v = v.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q)
            && let Some(end) = inner.rfind(q)
        {
            return inner[..end].to_owned();
        }
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_owned(),
        None => v.to_owned(),
    }
}

fn collect(dir: &'static include_dir::Dir<'static>, out: &mut Vec<&'static str>) {
    for f in dir.files() {
        let yml = matches!(
            f.path().extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        );
        if yml && let Some(text) = f.contents_utf8() {
            out.push(text);
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// A Sigma rule's title, description, level, tags and references.
fn sigma_page(s: &SigmaSummary) -> Result<String> {
    use serde::Deserialize;
    use yaml_serde::Value;
    let doc = yaml_serde::Deserializer::from_str(s.text)
        .nth(s.doc)
        .context("the rule's YAML document is missing")?;
    let v = Value::deserialize(doc).context("the rule's YAML does not parse")?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let list = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_sequence)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut page = String::new();
    let _ = writeln!(page, "# {}\n", text("title"));
    let _ = writeln!(page, "| | |\n|---|---|");
    let _ = writeln!(page, "| Id | {} |", s.id);
    let _ = writeln!(page, "| Level | {} |", s.level);
    let _ = writeln!(page, "| Status | {} |", text("status"));
    let _ = writeln!(page, "| Product | {} |", s.product);
    let _ = writeln!(page, "| Author | {} |", text("author"));
    let tags = list("tags");
    if !tags.is_empty() {
        let _ = writeln!(page, "| Tags | {} |", tags.join(", "));
    }
    let _ = writeln!(page, "\n{}\n", text("description"));
    let fps = list("falsepositives");
    if !fps.is_empty() {
        let _ = writeln!(page, "## False positives\n");
        for f in fps {
            let _ = writeln!(page, "- {f}");
        }
        page.push('\n');
    }
    let refs = list("references");
    if !refs.is_empty() {
        let _ = writeln!(page, "## References\n");
        for r in refs {
            let _ = writeln!(page, "- {r}");
        }
        page.push('\n');
    }
    let _ = writeln!(
        page,
        "Sigma rule from SigmaHQ (Detection Rule License 1.1); see rules/sigma/README.md."
    );
    // Terminal-safe, line by line (a rule file could hold escape sequences).
    let mut safe = String::with_capacity(page.len());
    for line in page.lines() {
        safe.push_str(&vigil_core::report::clean(line));
        safe.push('\n');
    }
    Ok(safe)
}
