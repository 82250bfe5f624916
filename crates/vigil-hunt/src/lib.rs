//! Vulnerability candidates: rule packs (data files), interprocedural taint analysis, and
//! pattern rules, over the representation that `vigil-code` lowers source into.
//!
//! Layering: [`rules`] loads rule packs; [`project`] indexes the parsed files; [`engine`]
//! interprets each function abstractly and reports findings; [`scan`] drives a whole run.

pub mod engine;
pub mod project;
mod reach;
pub mod rules;

pub use engine::EntryPoints;
use project::{Index, Unit};
use rayon::prelude::*;
use rules::RuleSet;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vigil_code::Lang;
use vigil_core::{Finding, Report, Severity, Skipped};

/// Options of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Findings below this severity are dropped.
    pub min_severity: Severity,
    /// Paths under these names are skipped while walking folders.
    pub exclude: Vec<String>,
    /// Where attacker data enters: request data only (applications, the default), or the
    /// parameters of the public API too (libraries).
    pub entry: EntryPoints,
    /// Diff scans: the changed files. Analysis then starts only from them and from the files
    /// that may call into them (see `reach`); the others are parsed, and followed as
    /// callees, but cannot yield a finding that touches a change.
    pub changed: Option<HashSet<PathBuf>>,
}

/// Timings of the phases of one scan, for `--stats`.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub discover: Duration,
    pub parse: Duration,
    pub analyse: Duration,
    pub bytes: u64,
    /// Files analysed from (all of them, unless a diff scan skipped some).
    pub analysed: usize,
}

/// Folders never worth scanning.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    "build",
    ".mypy_cache",
    // Go: copies of dependencies, and inputs of tests.
    "vendor",
    "testdata",
    ".next",
    "bower_components",
    // Build output of JavaScript and TypeScript projects: it repeats the sources.
    "dist",
];

/// Generated or declaration-only sources, by name: minified bundles, TypeScript `.d.ts`, and
/// bundler output named by a content hash (`vendor-aed0068cf9b67d04.js`, `chunk.728.985c45ad.js`).
fn is_generated_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let suffixes = [
        ".min.js",
        "-min.js",
        ".bundle.js",
        ".d.ts",
        ".d.mts",
        ".d.cts",
    ];
    if suffixes.iter().any(|s| name.ends_with(s)) {
        return true;
    }
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    stem.split(['.', '-', '_']).any(|part| {
        part.len() >= 8
            && part.bytes().all(|b| b.is_ascii_hexdigit())
            && part.bytes().any(|b| b.is_ascii_digit())
            && part.bytes().any(|b| b.is_ascii_alphabetic())
    })
}

/// A line longer than this may mark a minified or generated file.
const MAX_LINE_CHARS: usize = 5_000;

/// The longest line of a minified or generated file: one with a line over [`MAX_LINE_CHARS`]
/// whose long lines (over 1,000 characters) hold most of its text. A hand-written file with
/// one long literal (a data URI, a table) is still analysed.
fn minified(source: &str) -> Option<usize> {
    let mut longest = 0;
    let mut in_long = 0;
    for line in source.lines() {
        longest = longest.max(line.len());
        if line.len() > 1_000 {
            in_long += line.len();
        }
    }
    (longest > MAX_LINE_CHARS && in_long * 2 > source.len()).then_some(longest)
}

/// Source files and `.properties` files under the given paths.
pub fn discover(
    paths: &[PathBuf],
    opts: &ScanOptions,
) -> (Vec<PathBuf>, Vec<PathBuf>, Vec<Skipped>) {
    let mut sources = Vec::new();
    let mut props = Vec::new();
    let mut skipped = Vec::new();
    for root in paths {
        if root.is_file() {
            if Lang::from_path(root).is_some() {
                sources.push(root.clone());
            } else {
                skipped.push(Skipped {
                    path: root.clone(),
                    reason: "not a supported source file (.java, .py, .js, .ts, .go)".into(),
                });
            }
            continue;
        }
        if !root.exists() {
            skipped.push(Skipped {
                path: root.clone(),
                reason: "no such file or folder".into(),
            });
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && (SKIP_DIRS.contains(&name.as_ref())
                            || opts.exclude.iter().any(|x| x == name.as_ref())))
            });
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let p = e.into_path();
                    if Lang::from_path(&p).is_some() && !is_generated_name(&p) {
                        sources.push(p);
                    } else if p.extension().and_then(|x| x.to_str()) == Some("properties") {
                        props.push(p);
                    }
                }
                Ok(_) => {}
                Err(err) => skipped.push(Skipped {
                    path: err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone()),
                    reason: err.to_string(),
                }),
            }
        }
    }
    (sources, props, skipped)
}

/// Parse all files in parallel. A file that cannot be read or parsed is skipped with a reason.
pub fn parse_all(files: &[PathBuf], on_file: &(dyn Fn() + Sync)) -> (Vec<Unit>, Vec<Skipped>, u64) {
    let results: Vec<Result<(Unit, Option<Skipped>), Skipped>> = files
        .par_iter()
        .map(|path| {
            let r = parse_one(path);
            on_file();
            r
        })
        .collect();
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    let mut bytes = 0;
    for r in results {
        match r {
            Ok((u, note)) => {
                bytes += u.source.len() as u64;
                units.push(u);
                skipped.extend(note);
            }
            Err(s) => skipped.push(s),
        }
    }
    (units, skipped, bytes)
}

/// Source files larger than this are skipped (with a reason), as Semgrep does by default:
/// they are almost always generated, and one of them must not hold up a whole scan.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Parse one file. A file with syntax errors is still analysed where it parsed; the note
/// returned with it names the first error so the summary can say what was not analysed.
fn parse_one(path: &Path) -> Result<(Unit, Option<Skipped>), Skipped> {
    let skip = |reason: String| Skipped {
        path: path.to_path_buf(),
        reason,
    };
    Lang::from_path(path).ok_or_else(|| skip("unsupported language".into()))?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        return Err(skip(format!(
            "{size} bytes: larger than {MAX_FILE_BYTES}, most likely generated or minified"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| skip(format!("cannot read: {e}")))?;
    let source = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(long) = minified(&source) {
        return Err(skip(format!(
            "a line of {long} characters: most likely minified or generated"
        )));
    }
    let module = vigil_code::parse_path(path, &source).map_err(|e| skip(e.to_string()))?;
    // A file tree-sitter could make nothing of is reported; partial errors are tolerated.
    if !module.syntax_errors.is_empty()
        && module.classes.is_empty()
        && module.functions.is_empty()
        && module.body.is_empty()
    {
        let s = module.syntax_errors[0];
        return Err(skip(format!(
            "syntax error at {}:{}; nothing could be analysed",
            s.start_line, s.start_col
        )));
    }
    let note = module.syntax_errors.first().map(|s| {
        skip(format!(
            "syntax error at {}:{} ({} region(s) not analysed; the rest of the file was)",
            s.start_line,
            s.start_col,
            module.syntax_errors.len()
        ))
    });
    Ok((
        Unit {
            path: path.to_path_buf(),
            module,
            source,
        },
        note,
    ))
}

/// Stack for analysis workers; only the pages touched are committed.
const ENGINE_STACK: usize = 64 * 1024 * 1024;

/// Run every rule over the parsed units. Findings are de-duplicated and sorted.
pub fn analyse(
    units: &[Unit],
    props: &std::collections::HashMap<String, String>,
    rules: &RuleSet,
    on_file: &(dyn Fn() + Sync),
) -> Vec<Finding> {
    analyse_with(units, props, rules, EntryPoints::Requests, on_file)
}

/// [`analyse`], with the given entry points.
pub fn analyse_with(
    units: &[Unit],
    props: &std::collections::HashMap<String, String>,
    rules: &RuleSet,
    entry: EntryPoints,
    on_file: &(dyn Fn() + Sync),
) -> Vec<Finding> {
    analyse_from(units, props, rules, entry, None, on_file)
}

/// [`analyse_with`], starting analysis only from the units marked in `roots` (all when
/// `None`); the others are still followed as callees.
fn analyse_from(
    units: &[Unit],
    props: &std::collections::HashMap<String, String>,
    rules: &RuleSet,
    entry: EntryPoints,
    roots: Option<&[bool]>,
    on_file: &(dyn Fn() + Sync),
) -> Vec<Finding> {
    let idx = Index::new(units, props);
    let empty = rules::Library::default();
    let per_lang: Vec<(Lang, engine::LangRules)> =
        [Lang::Java, Lang::Python, Lang::JavaScript, Lang::Go]
            .into_iter()
            .map(|l| {
                let lib = rules.libraries.get(&l).unwrap_or(&empty);
                let mut lr = engine::LangRules::new(l, &rules.rules, lib);
                lr.entry = entry;
                (l, lr)
            })
            .collect();
    let run = || -> Vec<Finding> {
        (0..units.len())
            .into_par_iter()
            .flat_map_iter(|i| {
                if roots.is_some_and(|r| !r[i]) {
                    on_file();
                    return Vec::new().into_iter();
                }
                let lang = units[i].module.lang;
                let Some((_, lr)) = per_lang.iter().find(|(l, _)| *l == lang) else {
                    return Vec::new().into_iter();
                };
                let mut eng = engine::Engine::new(&idx, lr);
                eng.analyse_file(i);
                on_file();
                eng.findings.into_iter()
            })
            .collect()
    };
    // The engine recurses over nested code and calls; give its workers a stack sized for
    // the deepest nesting the lowering keeps, whatever the default thread stack is.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .stack_size(ENGINE_STACK)
        .build();
    let mut findings = match pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    // The same sink reached from several entry points, or twice on one line (a call and the
    // statement around it), is one finding; keep the shortest path.
    findings.sort_by(|a, b| {
        (&a.location, &a.rule_id, a.path.len()).cmp(&(&b.location, &b.rule_id, b.path.len()))
    });
    let mut seen = HashSet::new();
    findings.retain(|f| {
        seen.insert((
            f.location.path.clone(),
            f.location.start_line,
            f.rule_id.clone(),
        ))
    });
    findings
}

/// Drop the findings of rules that do not report in test code (`in_tests = false`) where
/// they are in test code. Whether a file is test code is read from its path below the
/// folder all scanned files share, so that scanning a project's `tests/` folder itself, or
/// a project kept under some `test` folder, still reports.
fn drop_in_test_code(findings: &mut Vec<Finding>, rules: &RuleSet, files: &[PathBuf]) {
    let quiet: HashSet<&str> = rules
        .rules
        .iter()
        .filter(|r| !r.in_tests)
        .map(|r| r.id.as_str())
        .collect();
    if quiet.is_empty() {
        return;
    }
    let base = common_folder(files);
    findings.retain(|f| {
        !quiet.contains(f.rule_id.as_str())
            || !rules::is_test_path(
                f.location
                    .path
                    .strip_prefix(&base)
                    .unwrap_or(&f.location.path),
            )
    });
}

/// The longest folder every file is under.
fn common_folder(files: &[PathBuf]) -> PathBuf {
    let mut iter = files.iter().filter_map(|f| f.parent());
    let Some(first) = iter.next() else {
        return PathBuf::new();
    };
    let mut base: Vec<_> = first.components().collect();
    for dir in iter {
        let shared = base
            .iter()
            .zip(dir.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        base.truncate(shared);
    }
    base.iter().collect()
}

/// Hooks for showing progress; every method has a do-nothing default.
pub trait Progress: Sync {
    /// Called once the files are known, with the number of work units (two per file).
    fn start(&self, _units: u64) {}
    /// Called as each file is parsed, and again as it is analysed.
    fn tick(&self) {}
}

/// No progress reporting.
pub struct Quiet;
impl Progress for Quiet {}

/// Discover, parse and analyse `paths`; the whole `hunt` pipeline without the CLI.
pub fn scan(paths: &[PathBuf], rules: &RuleSet, opts: &ScanOptions) -> (Report, ScanStats) {
    scan_with_progress(paths, rules, opts, &Quiet)
}

/// [`scan`], reporting progress to `progress`.
pub fn scan_with_progress(
    paths: &[PathBuf],
    rules: &RuleSet,
    opts: &ScanOptions,
    progress: &dyn Progress,
) -> (Report, ScanStats) {
    let t0 = Instant::now();
    let (files, prop_files, skipped) = discover(paths, opts);
    let discover_t = t0.elapsed();
    let (report, mut stats) = scan_discovered(&files, &prop_files, skipped, rules, opts, progress);
    stats.discover = discover_t;
    (report, stats)
}

/// Parse and analyse files already found by [`discover`] (and perhaps filtered since):
/// sources, `.properties` files, and what discovery skipped.
pub fn scan_discovered(
    files: &[PathBuf],
    prop_files: &[PathBuf],
    mut skipped: Vec<Skipped>,
    rules: &RuleSet,
    opts: &ScanOptions,
    progress: &dyn Progress,
) -> (Report, ScanStats) {
    progress.start(files.len() as u64 * 2);
    let tick = || progress.tick();
    let t1 = Instant::now();
    let (units, parse_skipped, bytes) = parse_all(files, &tick);
    skipped.extend(parse_skipped);
    let parse_t = t1.elapsed();
    let t2 = Instant::now();
    let props = project::load_properties(prop_files);
    let mut roots = opts.changed.as_ref().map(|changed| {
        let mask: Vec<bool> = units.iter().map(|u| changed.contains(&u.path)).collect();
        reach::units_reaching(&units, &mask)
    });
    // Test code of a language none of whose rules report in tests (Go's `_test.go`) could
    // only yield findings that are dropped below: it is not analysed from. It is still
    // followed where other code calls it.
    let quiet: Vec<Lang> = [Lang::Java, Lang::Python, Lang::JavaScript, Lang::Go]
        .into_iter()
        .filter(|l| {
            let mut of_lang = rules.rules.iter().filter(|r| r.lang == Some(*l)).peekable();
            of_lang.peek().is_some() && of_lang.all(|r| !r.in_tests)
        })
        .collect();
    if !quiet.is_empty() {
        let base = common_folder(files);
        let r = roots.get_or_insert_with(|| vec![true; units.len()]);
        for (i, u) in units.iter().enumerate() {
            if quiet.contains(&u.module.lang)
                && rules::is_test_path(u.path.strip_prefix(&base).unwrap_or(&u.path))
            {
                r[i] = false;
            }
        }
    }
    let analysed = roots
        .as_ref()
        .map_or(units.len(), |r| r.iter().filter(|x| **x).count());
    let mut findings = analyse_from(&units, &props, rules, opts.entry, roots.as_deref(), &tick);
    findings.retain(|f| f.severity >= opts.min_severity);
    drop_in_test_code(&mut findings, rules, files);
    let report = Report {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        rules: rules.rules.iter().map(|r| r.meta()).collect(),
        findings,
        skipped,
        files_scanned: units.len(),
        lines_scanned: units.iter().map(|u| u.module.lines).sum(),
        ..Default::default()
    };
    let stats = ScanStats {
        discover: Duration::ZERO,
        parse: parse_t,
        analyse: t2.elapsed(),
        bytes,
        analysed,
    };
    (report, stats)
}
