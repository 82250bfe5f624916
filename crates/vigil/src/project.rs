//! Wiring of the project's policy (`vigil-policy`) into `vigil hunt`: which vigil.toml,
//! which rules, which files. The decisions themselves live in `vigil-policy`.

use crate::HuntArgs;
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::PathBuf;
use vigil_hunt::rules::RuleSet;
use vigil_policy::{Config, Excludes};

/// The project's vigil.toml: `--project-config`, else the nearest one upward from the
/// first scanned path, unless `--no-project-config`.
pub fn config(args: &HuntArgs) -> Result<Option<Config>> {
    if args.no_project_config {
        return Ok(None);
    }
    if let Some(p) = &args.project_config {
        return Ok(Some(Config::load(p)?));
    }
    let Some(first) = args.paths.iter().find(|p| p.exists()) else {
        return Ok(None);
    };
    let found = Config::discover(first)?;
    if let Some(c) = &found {
        tracing::info!("project settings from {}", c.path.display());
    }
    Ok(found)
}

/// The rules to run, and the ids of every rule loaded (run or not).
pub struct Rules {
    pub rules: RuleSet,
    pub known: HashSet<String>,
}

/// Built-in rules (or `--rules`), plus the project's rule folders, selected by `--rule` or
/// else by `[rules]`, with `[rules] severity` applied.
pub fn rules(args: &HuntArgs, config: Option<&Config>) -> Result<Rules> {
    let mut rules = crate::load_rules(args.rules.as_ref())?;
    if let Some(c) = config {
        for folder in &c.rule_folders {
            let dir = c.resolve(folder);
            let extra = crate::load_rules(Some(&dir)).with_context(|| {
                format!("rule folder {} of {}", dir.display(), c.path.display())
            })?;
            rules.merge(extra).map_err(|errors| {
                let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
                anyhow::anyhow!("rules did not load:\n{}", list.join("\n"))
            })?;
        }
    }
    let known: HashSet<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
    if let Some(c) = config {
        let errors = c.unknown_rules(&|id| known.contains(id));
        if !errors.is_empty() {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::bail!("{}", list.join("\n"));
        }
    }
    if !args.only.is_empty() {
        rules.select(&args.only);
    } else if let Some(c) = config {
        rules.rules.retain(|r| c.rule_enabled(&r.id));
    }
    if let Some(c) = config {
        for r in &mut rules.rules {
            if let Some(s) = c.severity_of(&r.id) {
                r.severity = s;
            }
        }
    }
    Ok(Rules { rules, known })
}

/// The files to scan: discovery under the paths, less what `exclude` (vigil.toml's, from
/// its folder) and `--exclude` (from the working folder) leave out.
pub fn discover(
    args: &HuntArgs,
    config: Option<&Config>,
    opts: &vigil_hunt::ScanOptions,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>, Vec<vigil_core::Skipped>)> {
    let (mut files, mut props, skipped) = vigil_hunt::discover(&args.paths, opts);
    let cwd = std::env::current_dir().context("cannot read the working folder")?;
    let from_cli = Excludes::new(&args.exclude, &cwd).map_err(anyhow::Error::msg)?;
    let from_file = match config {
        Some(c) => {
            let dir = std::fs::canonicalize(c.dir()).unwrap_or_else(|_| c.dir().to_path_buf());
            Excludes::new(&c.exclude, &dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", c.path.display()))?
        }
        None => Excludes::default(),
    };
    if !from_cli.is_empty() || !from_file.is_empty() {
        let keep = |p: &PathBuf| !from_cli.matches(p, &cwd) && !from_file.matches(p, &cwd);
        files.retain(keep);
        props.retain(keep);
    }
    Ok((files, props, skipped))
}
