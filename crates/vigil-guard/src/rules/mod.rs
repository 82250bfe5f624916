//! Rule loading: Sigma YAML files and folders → a compiled [`RuleSet`].
//!
//! Parsing and compiling are rsigma's (`rsigma-parser`, `rsigma-eval`); this module walks
//! the files, accounts for every rule (a file that does not parse, a rule that does not
//! compile, and a Windows rule whose logsource no event log carries are each listed with
//! file and reason, never a panic and never silently), sorts the compiled rules by
//! logsource, so that an event is only evaluated against the rules of the logsources it
//! belongs to (see [`crate::logsource::windows`] for why routing, not rule-side conditions), and
//! builds the literal prefilter over them. No rsigma `Engine` is kept: its per-engine
//! indexes (a candidate index and a bloom filter per logsource) took a third of the load
//! time and most of the memory, and the prefilter does their job once for all rules.
//!
//! With a [`RuleCache`], files loaded before are read from it instead of parsed, and
//! their rules are compiled when first evaluated (see [`cache`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use rsigma_eval::{CompiledRule, Engine, compile_to_compiled};
use rsigma_ir::IrRule;
use rsigma_parser::{LogSource, SigmaCollection, SigmaRule, parse_sigma_yaml};
use serde::{Deserialize, Serialize};
use vigil_core::Severity;

pub mod cache;
pub mod correlations;
mod errors;
mod keys;
mod normalize;
mod routing;

use crate::logsource::WindowsMapping;
use crate::prefilter::{Gate, Prefilter, PrefilterStats, rule_gate};
use cache::{CachedFile, CachedInfo, CachedRule, FileKey, LoweredRule, RuleCache};
use correlations::CorrelationSet;
pub use errors::{LoadErrorKind, RuleLoadError};
pub(crate) use keys::{route_key, rule_key, severity};
pub(crate) use routing::RouteTable;

/// Counts of what a [`load_rules`] call found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadStats {
    /// YAML files read.
    pub files: usize,
    /// Sigma documents found: rules parsed plus documents that failed to parse.
    pub total: usize,
    /// Detection rules parsed.
    pub loaded: usize,
    /// Detection rules compiled (including those without an event source).
    pub compiled: usize,
    /// Documents or rules that failed (parse or compile).
    pub failed: usize,
    /// Compiled Windows rules whose logsource no event log carries; not evaluated.
    pub no_event_source: usize,
    /// Detection rules evaluated on events.
    pub active: usize,
    /// Correlation rules parsed (see [`crate::correlation`]).
    pub correlations: usize,
    /// Sigma filters parsed and applied to the rules they name.
    pub filters: usize,
    /// Rule files read from the rule cache instead of parsed (see [`cache`]).
    pub from_cache: usize,
}

/// A loaded rule's metadata, beside its compiled form.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// The Sigma `id`.
    pub id: Option<String>,
    /// The Sigma `title`.
    pub title: String,
    /// The Sigma `level` as a Vigil severity.
    pub level: Option<Severity>,
    /// The Sigma tags (`attack.t1059.001`, ...).
    pub tags: Vec<String>,
    /// The rule's logsource as written (before the pipeline).
    #[serde(skip)]
    pub logsource: LogSource,
    /// The file it came from.
    pub path: Arc<PathBuf>,
}

/// Compiled rules ready to match, with what was loaded and what was not.
pub struct RuleSet {
    /// The active rules (Sigma filters applied), grouped by rule logsource;
    /// `compiled[i]` is the rule of `rules[i]`.
    compiled: Vec<LazyRule>,
    /// How many rules read from the cache have been compiled on first use.
    compiled_on_use: AtomicUsize,
    /// Per rule logsource (route), the range of its rules in `compiled`.
    pub(crate) route_ranges: Vec<Range<usize>>,
    /// [`route_key`] of a rule logsource → index into `route_ranges`.
    pub(crate) routes: HashMap<String, usize>,
    /// The literal prefilter over `compiled`.
    pub(crate) prefilter: Prefilter,
    /// The routes of each kind of event.
    pub(crate) route_table: RouteTable,
    /// The mapping events are routed with.
    pub(crate) mapping: WindowsMapping,
    /// Metadata of the active rules.
    pub(crate) rules: Vec<RuleInfo>,
    /// `id` (or title when there is none) → index into `rules`.
    pub(crate) by_key: HashMap<String, usize>,
    /// Rules that compiled but are not evaluated (see [`LoadErrorKind::NoEventSource`]).
    inactive: Vec<RuleInfo>,
    /// The correlation rules and the detection rules they reference.
    pub(crate) correlations: CorrelationSet,
    /// What the load found.
    pub stats: LoadStats,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl RuleSet {
    /// The rules that are evaluated.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Rules that compiled but have no event source, so are never evaluated.
    pub fn inactive(&self) -> &[RuleInfo] {
        &self.inactive
    }

    /// The active rule with this id (or this title, for a rule without an id).
    pub fn get(&self, id_or_title: &str) -> Option<&RuleInfo> {
        self.get_by_key(&rule_key(Some(id_or_title), ""))
            .or_else(|| self.get_by_key(&rule_key(None, id_or_title)))
    }

    pub(crate) fn get_by_key(&self, key: &str) -> Option<&RuleInfo> {
        self.by_key.get(key).map(|&i| &self.rules[i])
    }

    /// The compiled form of active rule `i` (compiled now if it came from the cache and
    /// was not needed before); `None` when it does not compile.
    pub(crate) fn compiled(&self, i: usize) -> Option<&CompiledRule> {
        self.compiled[i].get(&self.compiled_on_use, || {
            let info = &self.rules[i];
            let name = label(info.id.as_deref(), &info.title);
            format!("{name} ({})", info.path.display())
        })
    }

    /// How many rules read from the rule cache have been compiled on first use so far.
    pub fn compiled_on_use(&self) -> usize {
        self.compiled_on_use.load(Ordering::Relaxed)
    }

    /// What the literal prefilter made of the rules: how many have no gate (and are
    /// evaluated on every event of their logsources), how many literals it looks for.
    pub fn prefilter_stats(&self) -> PrefilterStats {
        self.prefilter.stats()
    }

    /// The correlation rules; [`CorrelationSet::correlator`] gives the state of a run.
    pub fn correlations(&self) -> &CorrelationSet {
        &self.correlations
    }

    /// The Windows mapping events are routed with.
    pub fn mapping(&self) -> &WindowsMapping {
        &self.mapping
    }

    /// Number of active rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule is active.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Load Sigma rules from files and folders (folders are walked for `.yml` / `.yaml`), with
/// the built-in Windows mapping.
pub fn load_rules(paths: &[PathBuf]) -> (RuleSet, Vec<RuleLoadError>) {
    load_rules_with(paths, WindowsMapping::builtin())
}

/// [`load_rules`] with an explicit Windows mapping.
pub fn load_rules_with(
    paths: &[PathBuf],
    mapping: &WindowsMapping,
) -> (RuleSet, Vec<RuleLoadError>) {
    let mut errors = Vec::new();
    let files = collect_rule_files(paths, &mut errors);
    load_sources(read_sources(files), mapping, errors, None)
}

/// [`load_rules`], with rule files that are in `cache` read from it (and the cache
/// brought up to date; see [`cache`]).
pub fn load_rules_cached(paths: &[PathBuf], cache: &RuleCache) -> (RuleSet, Vec<RuleLoadError>) {
    let mut errors = Vec::new();
    let files = collect_rule_files(paths, &mut errors);
    load_sources(
        read_sources(files),
        WindowsMapping::builtin(),
        errors,
        Some(cache),
    )
}

fn read_sources(files: Vec<PathBuf>) -> Vec<(Arc<PathBuf>, Result<String, String>)> {
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| e.to_string());
            (Arc::new(p), text)
        })
        .collect()
}

/// Load rules from YAML texts already in memory, each labelled with a path.
pub fn load_rules_from_strs(docs: &[(PathBuf, String)]) -> (RuleSet, Vec<RuleLoadError>) {
    load_sources(
        str_sources(docs),
        WindowsMapping::builtin(),
        Vec::new(),
        None,
    )
}

/// [`load_rules_from_strs`] with a rule cache (see [`load_rules_cached`]).
pub fn load_rules_from_strs_cached(
    docs: &[(PathBuf, String)],
    cache: &RuleCache,
) -> (RuleSet, Vec<RuleLoadError>) {
    load_sources(
        str_sources(docs),
        WindowsMapping::builtin(),
        Vec::new(),
        Some(cache),
    )
}

fn str_sources(docs: &[(PathBuf, String)]) -> Vec<(Arc<PathBuf>, Result<String, String>)> {
    docs.iter()
        .map(|(p, s)| (Arc::new(p.clone()), Ok(s.clone())))
        .collect()
}

fn collect_rule_files(paths: &[PathBuf], errors: &mut Vec<RuleLoadError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            errors.push(RuleLoadError {
                path: path.clone(),
                rule: None,
                kind: LoadErrorKind::Read,
                reason: "no such file or folder".to_string(),
            });
            continue;
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_file() && is_yaml(e.path()) => {
                    files.push(e.into_path());
                }
                Ok(_) => {}
                Err(e) => errors.push(RuleLoadError {
                    path: e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| path.clone()),
                    rule: None,
                    kind: LoadErrorKind::Read,
                    reason: e.to_string(),
                }),
            }
        }
    }
    files
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

/// What one file gave: its parsed collection, or why it gave nothing.
struct ParsedFile {
    collection: Option<SigmaCollection>,
    /// Messages about the file, as the cache keeps them (see [`CachedFile`]).
    messages: Vec<(LoadErrorKind, String)>,
    failed_docs: usize,
}

fn parse_file(text: &Result<String, String>) -> ParsedFile {
    let text = match text {
        Ok(t) => t,
        Err(reason) => {
            return ParsedFile {
                messages: vec![(LoadErrorKind::Read, reason.clone())],
                collection: None,
                failed_docs: 1,
            };
        }
    };
    if let Some(chain) = not_chain_too_long(text) {
        return ParsedFile {
            messages: vec![(
                LoadErrorKind::Parse,
                format!(
                    "a condition chains {chain} `not` operators, more than the {MAX_NOT_CHAIN} \
                     read: the Sigma parser would overflow the stack"
                ),
            )],
            collection: None,
            failed_docs: 1,
        };
    }
    let parsed = catch_unwind(|| parse_sigma_yaml(text));
    let mut collection = match parsed {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            return ParsedFile {
                messages: vec![(LoadErrorKind::Parse, e.to_string())],
                collection: None,
                failed_docs: 1,
            };
        }
        Err(_) => {
            return ParsedFile {
                messages: vec![(
                    LoadErrorKind::Parse,
                    "the Sigma parser panicked on this file".to_string(),
                )],
                collection: None,
                failed_docs: 1,
            };
        }
    };
    collection.rules.iter_mut().for_each(normalize::normalize);
    let produced =
        collection.rules.len() + collection.correlations.len() + collection.filters.len();
    // rsigma reports document failures and metadata remarks in one list and does not say
    // which is which. A file that produced nothing failed; on a file that produced rules,
    // its messages are listed as warnings.
    let kind = if produced == 0 {
        LoadErrorKind::Parse
    } else {
        LoadErrorKind::Warning
    };
    let mut messages: Vec<(LoadErrorKind, String)> = collection
        .errors
        .iter()
        .map(|m| (kind, m.clone()))
        .collect();
    let mut failed_docs = 0;
    if produced == 0 {
        failed_docs = 1;
        if messages.is_empty() {
            messages.push((
                LoadErrorKind::Parse,
                "no Sigma rule, correlation or filter in this file".to_string(),
            ));
        }
    }
    ParsedFile {
        collection: Some(collection),
        messages,
        failed_docs,
    }
}

fn label(id: Option<&str>, title: &str) -> String {
    match id {
        Some(id) => format!("{title} [{id}]"),
        None => title.to_string(),
    }
}

fn info(cached: Box<CachedInfo>, path: &Arc<PathBuf>) -> RuleInfo {
    let cached = *cached;
    RuleInfo {
        id: cached.id,
        title: cached.title,
        level: severity(cached.level),
        tags: cached.tags,
        logsource: cached.logsource,
        path: Arc::clone(path),
    }
}

/// Compile a parsed rule (as rsigma's `compile_rule` does: lower it, then compile the
/// lowered form), with its prefilter gate; and, for the cache, its lowered form when
/// `keep_lowered`.
fn compile_one(rule: &SigmaRule, keep_lowered: bool) -> (CachedRule, Option<CompiledRule>) {
    let failed = |reason: String| {
        let label = label(rule.id.as_deref(), &rule.title);
        (CachedRule::Failed { label, reason }, None)
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<_, String> {
        let ir = rsigma_ir::lower_rule(rule, &rsigma_ir::LowerOptions::default())
            .map_err(|e| rsigma_eval::EvalError::from(e).to_string())?;
        check_windash(&ir)?;
        let compiled = compile_to_compiled(&ir).map_err(|e| e.to_string())?;
        // A rule the cache cannot give back exactly (a number that JSON has no text for,
        // `.inf`; nesting past what the decoder reads) is not kept, and its file is
        // parsed on every run.
        let lowered = match keep_lowered.then(|| LoweredRule::of(&ir)) {
            Some(Ok(kept)) if kept.decode().is_ok_and(|back| back == ir) => kept,
            _ => LoweredRule::NotKept,
        };
        Ok((lowered, compiled))
    }));
    match outcome {
        Ok(Ok((ir, compiled))) => {
            let gate = rule_gate(&compiled);
            let info = Box::new(CachedInfo::of(rule));
            (CachedRule::Compiled { info, gate, ir }, Some(compiled))
        }
        Ok(Err(e)) => failed(e),
        Err(_) => failed("the Sigma compiler panicked on this rule".to_string()),
    }
}

/// An active rule: compiled at load, or (read from the cache) when first evaluated.
pub(crate) struct LazyRule {
    /// The lowered rule, while it may still have to be compiled.
    ir: Option<LoweredRule>,
    compiled: OnceLock<Option<CompiledRule>>,
}

impl LazyRule {
    fn new(ir: LoweredRule, compiled: Option<CompiledRule>) -> Self {
        match compiled {
            Some(c) => LazyRule::ready(c),
            None => LazyRule {
                ir: Some(ir),
                compiled: OnceLock::new(),
            },
        }
    }

    /// A rule compiled already.
    fn ready(compiled: CompiledRule) -> Self {
        LazyRule {
            ir: None,
            compiled: OnceLock::from(Some(compiled)),
        }
    }

    /// The compiled rule; `None` when it does not compile (a cache entry that was
    /// tampered with: reported once, naming the rule by `name`).
    fn get(
        &self,
        compiled_on_use: &AtomicUsize,
        name: impl FnOnce() -> String,
    ) -> Option<&CompiledRule> {
        self.compiled
            .get_or_init(|| {
                let ir = self.ir.as_ref()?;
                compiled_on_use.fetch_add(1, Ordering::Relaxed);
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let ir = ir.decode().map_err(|e| format!("cache entry: {e}"))?;
                    // The bound the load applied, again: the cache file is input too.
                    check_windash(&ir)?;
                    compile_to_compiled(&ir).map_err(|e| e.to_string())
                }));
                match outcome {
                    Ok(Ok(c)) => Some(c),
                    outcome => {
                        let why = match outcome {
                            Ok(Err(e)) => e,
                            _ => "the Sigma compiler panicked".to_string(),
                        };
                        tracing::warn!(
                            "cached rule {} does not compile ({why}); it is not evaluated",
                            name()
                        );
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The compiled rule, compiling it now if need be.
    fn into_compiled(self, compiled_on_use: &AtomicUsize) -> Option<CompiledRule> {
        self.get(compiled_on_use, String::new);
        self.compiled.into_inner().flatten()
    }
}

/// Longest run of `not` a condition may chain (parentheses do not break a run). rsigma
/// bounds parentheses (64 levels) and condition length (64 KiB) but not `not` prefixes,
/// and its Pratt parser recurses once per `not`: a few thousand overflow a 2 MiB worker
/// stack, an abort that `catch_unwind` cannot turn into an error.
const MAX_NOT_CHAIN: usize = 64;

/// The longest `not` chain in any string of a rule file, when it is over
/// [`MAX_NOT_CHAIN`]. Only a file that could hold one is parsed for it: more `not` than
/// that in its text, or double-quoted escapes that could spell one.
fn not_chain_too_long(text: &str) -> Option<usize> {
    let escapes = text.contains('"') && ["\\x", "\\u", "\\U"].iter().any(|e| text.contains(e));
    if !escapes && text.matches("not").count() <= MAX_NOT_CHAIN {
        return None;
    }
    let mut longest = 0;
    for doc in yaml_serde::Deserializer::from_str(text) {
        // rsigma stops at the first YAML error too.
        let Ok(value) = yaml_serde::Value::deserialize(doc) else {
            break;
        };
        longest = longest.max(longest_not_chain(&value));
    }
    (longest > MAX_NOT_CHAIN).then_some(longest)
}

/// [`not_chain`] over every string of a YAML value (its nesting is bounded by the YAML
/// parser's recursion limit).
fn longest_not_chain(value: &yaml_serde::Value) -> usize {
    use yaml_serde::Value as Y;
    match value {
        Y::String(s) => not_chain(s),
        Y::Sequence(items) => items.iter().map(longest_not_chain).max().unwrap_or(0),
        Y::Mapping(m) => m
            .iter()
            .map(|(k, v)| longest_not_chain(k).max(longest_not_chain(v)))
            .max()
            .unwrap_or(0),
        Y::Tagged(t) => longest_not_chain(&t.value),
        _ => 0,
    }
}

/// The longest run of `not` tokens in a condition, counted through `(`.
fn not_chain(condition: &str) -> usize {
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*');
    let (mut run, mut longest) = (0, 0);
    let mut rest = condition;
    while let Some(c) = rest.chars().next() {
        if word(c) {
            let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
            if &rest[..end] == "not" {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
            rest = &rest[end..];
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    longest
}

/// Most `windash` variants a rule may expand to. A value with n dashes gives 5^n (rsigma
/// allows n <= 8: 390,625) and nothing bounds their sum over a list of values; each
/// variant is a string of the compiled rule and a needle of the prefilter. SigmaHQ's
/// rules need at most 165.
const MAX_WINDASH_VARIANTS: u64 = 10_000;

/// A rule whose `windash` values expand to more than [`MAX_WINDASH_VARIANTS`] strings
/// (dashes counted in the values as written, so at least as many as rsigma makes) is
/// not compiled.
fn check_windash(rule: &IrRule) -> Result<(), String> {
    let variants = windash_variants(rule);
    if variants > MAX_WINDASH_VARIANTS {
        return Err(format!(
            "windash would expand the rule's values to {variants} variants, more than \
             the {MAX_WINDASH_VARIANTS} compiled"
        ));
    }
    Ok(())
}

fn windash_variants(rule: &IrRule) -> u64 {
    use rsigma_ir::{IrDetection, IrEncoding, IrMatcher};
    fn matcher(m: &IrMatcher) -> u64 {
        match m {
            IrMatcher::Encoded {
                encodings, value, ..
            } if encodings.contains(&IrEncoding::Windash) => {
                let dashes = value.matches('-').count().min(64) as u32;
                5u64.saturating_pow(dashes)
            }
            IrMatcher::TimestampPart { inner, .. } | IrMatcher::Not(inner) => matcher(inner),
            IrMatcher::AnyOf(ms) | IrMatcher::AllOf(ms) => {
                ms.iter().map(matcher).fold(0, u64::saturating_add)
            }
            _ => 0,
        }
    }
    fn detection(d: &IrDetection) -> u64 {
        match d {
            IrDetection::AllOf(items) => items
                .iter()
                .map(|i| matcher(&i.matcher))
                .fold(0, u64::saturating_add),
            IrDetection::AnyOf(ds) | IrDetection::And(ds) => {
                ds.iter().map(detection).fold(0, u64::saturating_add)
            }
            IrDetection::Keywords(m) => matcher(m),
            IrDetection::ArrayMatch { body, .. } => detection(body),
            IrDetection::Conditional { named, .. } => {
                named.values().map(detection).fold(0, u64::saturating_add)
            }
        }
    }
    rule.detections
        .values()
        .map(detection)
        .fold(0, u64::saturating_add)
}

/// One rule file on its way into the rule set.
struct LoadedFile {
    /// What loading it gave, as the cache keeps it.
    outcome: CachedFile,
    /// Per rule of `outcome`, the compiled rule when it was compiled in this load.
    compiled: Vec<Option<CompiledRule>>,
    /// Parsed in this load (not read from the cache).
    fresh: bool,
}

fn load_sources(
    sources: Vec<(Arc<PathBuf>, Result<String, String>)>,
    mapping: &WindowsMapping,
    mut errors: Vec<RuleLoadError>,
    cache: Option<&RuleCache>,
) -> (RuleSet, Vec<RuleLoadError>) {
    let mut stats = LoadStats {
        files: sources.len(),
        ..LoadStats::default()
    };
    // Texts are hashed only for a cache.
    let keys: Vec<Option<FileKey>> = sources
        .iter()
        .map(|(p, t)| cache.and(t.as_ref().ok()).map(|t| FileKey::new(p, t)))
        .collect();
    let cache_file = cache.map(|c| c.file_for(sources.iter().map(|(p, _)| p.as_path())));
    let mut cached = match (cache, &cache_file) {
        (Some(c), Some(file)) => c.read(file).unwrap_or_else(|e| {
            tracing::warn!("rule cache left aside: {e}");
            HashMap::new()
        }),
        _ => HashMap::new(),
    };
    let read_keys: HashSet<FileKey> = cached.keys().cloned().collect();
    // Per file, its cache entry (a file named twice gets it once, and is parsed again).
    let mut hits: Vec<Option<CachedFile>> = keys
        .iter()
        .map(|key| key.as_ref().and_then(|k| cached.remove(k)))
        .collect();
    drop(cached);
    let mut parsed: Vec<Option<ParsedFile>> = sources
        .par_iter()
        .zip(&hits)
        .map(|((_, text), hit)| hit.is_none().then(|| parse_file(text)))
        .collect();
    // Correlations and filters need every rule as parsed: such a load does without the
    // cache.
    let needs_parsed = parsed.iter().flatten().any(|f| {
        f.collection
            .as_ref()
            .is_some_and(|c| !c.correlations.is_empty() || !c.filters.is_empty())
    });
    if needs_parsed {
        for ((slot, hit), (_, text)) in parsed.iter_mut().zip(&mut hits).zip(&sources) {
            if hit.take().is_some() {
                *slot = Some(parse_file(text));
            }
        }
    }

    // The rules of the files parsed now are compiled now, all together.
    let to_compile: Vec<&SigmaRule> = parsed
        .iter()
        .flatten()
        .filter_map(|f| f.collection.as_ref())
        .flat_map(|c| c.rules.iter())
        .collect();
    let mut compiled = to_compile
        .par_iter()
        .map(|rule| compile_one(rule, cache.is_some() && !needs_parsed))
        .collect::<Vec<_>>()
        .into_iter();
    let mut files: Vec<LoadedFile> = Vec::with_capacity(sources.len());
    for (file, hit) in parsed.iter().zip(hits) {
        match (file, hit) {
            (_, Some(outcome)) => files.push(LoadedFile {
                compiled: vec![None; outcome.rules.len()],
                outcome,
                fresh: false,
            }),
            (Some(file), None) => {
                let count = file.collection.as_ref().map_or(0, |c| c.rules.len());
                let (rules, compiled): (Vec<_>, Vec<_>) = compiled.by_ref().take(count).unzip();
                files.push(LoadedFile {
                    outcome: CachedFile {
                        rules,
                        messages: file.messages.clone(),
                        failed_docs: file.failed_docs,
                    },
                    compiled,
                    fresh: true,
                });
            }
            // Every file is parsed or read from the cache.
            (None, None) => unreachable!("a file neither parsed nor cached"),
        }
    }
    // Written when a file was parsed that the cache did not hold and can (not for one
    // named twice, one that cannot be read or one the cache cannot keep: those are
    // parsed every time anyway).
    let new_entry = keys.iter().zip(&files).any(|(key, f)| {
        f.fresh && f.outcome.is_complete() && key.as_ref().is_some_and(|k| !read_keys.contains(k))
    });
    if let (Some(cache), Some(cache_file)) = (cache, &cache_file)
        && !needs_parsed
        && new_entry
    {
        let entries: Vec<(&FileKey, &CachedFile)> = keys
            .iter()
            .zip(&files)
            .filter(|(_, f)| f.outcome.is_complete())
            .filter_map(|(key, f)| Some((key.as_ref()?, &f.outcome)))
            .collect();
        if let Err(e) = cache.write(cache_file, &entries) {
            tracing::warn!("rule cache not written: {e}");
        }
    }

    let mut filters = Vec::new();
    let mut correlations = Vec::new();
    let mut parsed_rules: Vec<(&SigmaRule, &Arc<PathBuf>)> = Vec::new();
    for (file, (path, _)) in parsed.iter().zip(&sources) {
        if let Some(c) = file.as_ref().and_then(|f| f.collection.as_ref()) {
            stats.total += c.correlations.len() + c.filters.len();
            stats.correlations += c.correlations.len();
            stats.filters += c.filters.len();
            parsed_rules.extend(c.rules.iter().map(|r| (r, path)));
            filters.extend(c.filters.iter().map(|f| (f, path)));
            correlations.extend(c.correlations.iter().map(|c| (c.clone(), path.clone())));
        }
    }

    stats.from_cache = files.iter().filter(|f| !f.fresh).count();
    let mut by_route: BTreeMap<String, Vec<(LazyRule, Gate, RuleInfo)>> = BTreeMap::new();
    let mut inactive = Vec::new();
    for (file, (path, _)) in files.into_iter().zip(&sources) {
        let outcome = file.outcome;
        errors.extend(
            outcome
                .messages
                .into_iter()
                .map(|(kind, reason)| RuleLoadError {
                    path: path.to_path_buf(),
                    rule: None,
                    kind,
                    reason,
                }),
        );
        stats.failed += outcome.failed_docs;
        stats.total += outcome.failed_docs + outcome.rules.len();
        stats.loaded += outcome.rules.len();
        for (rule, compiled) in outcome.rules.into_iter().zip(file.compiled) {
            let (cached_info, gate, ir) = match rule {
                CachedRule::Compiled { info, gate, ir } => (info, gate, ir),
                CachedRule::Failed { label, reason } => {
                    stats.failed += 1;
                    errors.push(RuleLoadError {
                        path: path.to_path_buf(),
                        rule: Some(label),
                        kind: LoadErrorKind::Compile,
                        reason,
                    });
                    continue;
                }
            };
            let info = info(cached_info, path);
            if !mapping.covers(&info.logsource) {
                let ls = &info.logsource;
                let what = [
                    ls.category.as_deref().map(|c| format!("category {c}")),
                    ls.service.as_deref().map(|s| format!("service {s}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                errors.push(RuleLoadError {
                    path: info.path.to_path_buf(),
                    rule: Some(label(info.id.as_deref(), &info.title)),
                    kind: LoadErrorKind::NoEventSource,
                    reason: format!("no Windows event log channel is mapped for {what}"),
                });
                inactive.push(info);
                continue;
            }
            let ls = &info.logsource;
            let key = route_key(
                ls.product.as_deref(),
                ls.service.as_deref(),
                ls.category.as_deref(),
            );
            by_route
                .entry(key)
                .or_default()
                .push((LazyRule::new(ir, compiled), gate, info));
        }
    }

    // One list of rules, grouped by logsource: each route is a range of it.
    let compiled_on_use = AtomicUsize::new(0);
    let mut lazy_rules: Vec<LazyRule> = Vec::new();
    let mut gates: Vec<Gate> = Vec::new();
    let mut infos: Vec<RuleInfo> = Vec::new();
    let mut route_ranges = Vec::with_capacity(by_route.len());
    let mut routes = HashMap::with_capacity(by_route.len());
    for (key, members) in by_route {
        routes.insert(key, route_ranges.len());
        let start = infos.len();
        for (rule, gate, info) in members {
            lazy_rules.push(rule);
            gates.push(gate);
            infos.push(info);
        }
        route_ranges.push(start..infos.len());
    }
    if !filters.is_empty() {
        // Sigma filters rewrite the conditions of the rules they name; rsigma applies
        // them inside an engine, so only a load with filters builds engines (one per
        // logsource, as each filter's logsource must fit the rule's). Such a load parsed
        // and compiled every rule (see above).
        let mut lazy = lazy_rules.into_iter();
        let mut engines: Vec<Engine> = route_ranges
            .iter()
            .map(|range| {
                let mut engine = Engine::new();
                // The engine's bloom index is never consulted here: build none.
                engine.set_bloom_max_bytes(0);
                let rules = lazy.by_ref().take(range.len());
                engine
                    .extend_compiled_rules(rules.filter_map(|r| r.into_compiled(&compiled_on_use)));
                engine
            })
            .collect();
        for (filter, path) in filters {
            // A filter names its rules by id or title; each engine applies it to those it has.
            for engine in &mut engines {
                if let Err(e) = engine.apply_filter(filter) {
                    errors.push(RuleLoadError {
                        path: path.to_path_buf(),
                        rule: Some(filter.title.clone()),
                        kind: LoadErrorKind::Compile,
                        reason: format!("filter: {e}"),
                    });
                    break;
                }
            }
        }
        let filtered: Vec<CompiledRule> = engines
            .iter()
            .flat_map(|e| e.rules().iter().cloned())
            .collect();
        gates = filtered.iter().map(rule_gate).collect();
        lazy_rules = filtered.into_iter().map(LazyRule::ready).collect();
    }
    stats.compiled = infos.len() + inactive.len();
    stats.no_event_source = inactive.len();
    stats.active = infos.len();
    let mut route_of = vec![0; lazy_rules.len()];
    for (route, range) in route_ranges.iter().enumerate() {
        route_of[range.clone()].fill(route);
    }
    let prefilter = Prefilter::from_gates(gates, &route_of, route_ranges.len());
    let route_table = RouteTable::build(mapping, &routes, route_ranges.len());

    let mut by_key = HashMap::with_capacity(infos.len());
    for (i, info) in infos.iter().enumerate() {
        by_key
            .entry(rule_key(info.id.as_deref(), &info.title))
            .or_insert(i);
    }
    let correlations = CorrelationSet::build(&parsed_rules, &by_key, correlations, &mut errors);
    errors.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    (
        RuleSet {
            compiled: lazy_rules,
            compiled_on_use,
            route_ranges,
            routes,
            prefilter,
            route_table,
            mapping: mapping.clone(),
            rules: infos,
            by_key,
            inactive,
            correlations,
            stats,
        },
        errors,
    )
}

/// Group load errors by kind and a short form of their reason, for summaries.
pub fn group_errors(errors: &[RuleLoadError]) -> BTreeMap<(LoadErrorKind, String), usize> {
    let mut groups = BTreeMap::new();
    for e in errors {
        let short: String = e
            .reason
            .split([':', '\n'])
            .next()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect();
        *groups.entry((e.kind, short)).or_insert(0) += 1;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "title: Whoami\nid: 11111111-1111-1111-1111-111111111111\nlevel: high\ntags: [attack.discovery, attack.t1033]\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\n";

    #[test]
    fn loads_and_counts_good_bad_and_unsupported_rules() {
        let bad_yaml = "title: [unclosed\n  detection: {";
        let bad_rule = "title: Bad regex\nid: 22222222-2222-2222-2222-222222222222\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        CommandLine|re: '(unclosed'\n    condition: selection\n";
        let etw = "title: File access\nid: 33333333-3333-3333-3333-333333333333\nlogsource:\n    product: windows\n    category: file_access\ndetection:\n    selection:\n        FileName|endswith: '.kdbx'\n    condition: selection\n";
        let docs = vec![
            (PathBuf::from("good.yml"), GOOD.to_string()),
            (PathBuf::from("bad_yaml.yml"), bad_yaml.to_string()),
            (PathBuf::from("bad_rule.yml"), bad_rule.to_string()),
            (PathBuf::from("etw.yml"), etw.to_string()),
        ];
        let (set, errors) = load_rules_from_strs(&docs);
        assert_eq!(set.stats.files, 4);
        assert_eq!(set.stats.total, 4);
        assert_eq!(set.stats.loaded, 3);
        assert_eq!(set.stats.compiled, 2);
        assert_eq!(set.stats.failed, 2);
        assert_eq!(set.stats.no_event_source, 1);
        assert_eq!(set.stats.active, 1);
        assert_eq!(set.len(), 1);
        let by_file = |name: &str| {
            errors
                .iter()
                .find(|e| e.path == Path::new(name))
                .unwrap_or_else(|| panic!("no error for {name}: {errors:?}"))
        };
        assert_eq!(by_file("bad_yaml.yml").kind, LoadErrorKind::Parse);
        assert_eq!(by_file("bad_rule.yml").kind, LoadErrorKind::Compile);
        assert!(
            by_file("bad_rule.yml")
                .rule
                .as_deref()
                .is_some_and(|r| r.contains("Bad regex"))
        );
        assert_eq!(by_file("etw.yml").kind, LoadErrorKind::NoEventSource);
        let rule = set
            .get("11111111-1111-1111-1111-111111111111")
            .expect("good rule is active");
        assert_eq!(rule.level, Some(Severity::High));
        assert_eq!(rule.tags, vec!["attack.discovery", "attack.t1033"]);
    }

    #[test]
    fn missing_path_and_non_utf8_file_are_read_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("binary.yml");
        std::fs::write(&bin, [0xff, 0xfe, 0x00, 0x41]).expect("write");
        let good = dir.path().join("sub").join("good.yaml");
        std::fs::create_dir_all(good.parent().expect("parent")).expect("mkdir");
        std::fs::write(&good, GOOD).expect("write");
        std::fs::write(dir.path().join("README.md"), "not a rule").expect("write");
        let (set, errors) = load_rules(&[
            dir.path().to_path_buf(),
            PathBuf::from("/nonexistent/vigil/rules"),
        ]);
        assert_eq!(set.stats.files, 2);
        assert_eq!(set.stats.active, 1);
        let read: Vec<_> = errors
            .iter()
            .filter(|e| e.kind == LoadErrorKind::Read)
            .collect();
        assert_eq!(read.len(), 2, "{errors:?}");
    }

    #[test]
    fn empty_or_non_rule_yaml_is_listed() {
        let docs = vec![(PathBuf::from("empty.yml"), "just: a mapping\n".to_string())];
        let (set, errors) = load_rules_from_strs(&docs);
        assert_eq!(set.stats.failed, 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, LoadErrorKind::Parse);
    }
}
