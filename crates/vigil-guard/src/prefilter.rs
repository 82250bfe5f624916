//! A conservative literal prefilter in front of rsigma's rule evaluation.
//!
//! Most Sigma rules can only match an event that contains one of a few literals: a
//! process-creation rule on `Image|endswith: '\whoami.exe'` needs `\whoami.exe` in the
//! event's `Image`. At load time each compiled rule is analysed into a *gate*: one or
//! two clauses, each a set of requirements of which at least one holds on every event
//! the rule matches. At match time one Aho-Corasick pass over the event's values (the
//! needles of all rules' first clauses, ASCII case-insensitive) and one look at its field
//! names tell which first clauses hold; for those rules the further clauses are checked
//! on the fields they name (a rule on `Image` and `CommandLine` needs both); only rules
//! all of whose clauses hold, and the rules without a gate, are evaluated by rsigma.
//!
//! # Soundness
//!
//! Skipping a rule is only allowed when rsigma's own evaluation would certainly not match
//! it, so the analysis only ever weakens: whatever it cannot prove gives *no gate*, and
//! the rule is evaluated on every event of its logsources. The rules, each read off the
//! evaluator in `rsigma_eval::compiler` and `rsigma_eval::matcher`:
//!
//! * A string matcher (`Exact`, `Contains`, `StartsWith`, `EndsWith`, a multi-needle
//!   set) matches a value only if its literal is a substring of the value's text
//!   (case-sensitive matchers) or of `to_lowercase()` of it (case-insensitive ones, the
//!   Sigma default, whose literal the compiler stores lower-cased). The scan looks at the
//!   text as it is with ASCII case folded and, when the text is not ASCII, at its
//!   `to_lowercase()` as well, so it finds the literal in both cases. Modifiers that
//!   rewrite the value (`windash`, `base64`, `base64offset`, `wide`) are compiled by
//!   rsigma into alternatives of such matchers, each with its own literal.
//! * Numbers and booleans are matched through their text (`4688`, `true`); the scan
//!   renders them the same way rsigma does.
//! * A field item with any matcher except `Null` is false when the field is absent, so
//!   the field's presence is a requirement (used for `re`, `cidr`, numeric comparisons,
//!   `fieldref`, `exists: true`, ...). `exists: false` and `Null` give no gate.
//! * `not` gives no gate. `and` / `all of` take the clauses of all parts (each is
//!   necessary) and keep the most selective; `or` / `1 of` / `N of` (N >= 1) need, per
//!   clause, the union of one clause of every part, and a part without a gate leaves the
//!   whole without one.
//!   `0 of`, `all of` over no detection, and an empty detection give no gate.
//! * Keyword detections (no field) require their literal somewhere in the event: the
//!   scan covers every value of the event, nested ones included.
//! * A field name with `.`, `[` or `\` may resolve to a nested value, so its literals
//!   are looked for anywhere in the event and its presence gives no gate.
//!
//! The differential test `tests/prefilter_equivalence.rs` checks over real logs that the
//! prefilter never changes what fires.

use std::collections::HashMap;

/// The maps looked up per event field: a fast hasher (field names are not secret, and
/// a flood of made-up names costs the attacker as much as it costs us).
type FastMap<K, V> = foldhash::HashMap<K, V>;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, MatchKind};
use rsigma_eval::matcher::{GroupMode, ascii_lowercase_cow};
use rsigma_eval::{CompiledDetection, CompiledDetectionItem, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};
use serde_json::Value;

use crate::fields::{FieldRef, Fields};

/// Nesting depth past which a rule's condition, detection, matcher or regex is not
/// analysed (and the part gets no gate); rsigma's own walks go deeper.
const MAX_ANALYSIS_DEPTH: usize = 64;

/// Nesting depth past which an event is not scanned (and every rule is evaluated).
const MAX_SCAN_DEPTH: usize = 256;

/// One thing a rule needs from an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Requirement {
    /// The literal occurs in the value of `field` (`None`: anywhere in the event).
    Literal {
        field: Option<String>,
        needle: String,
    },
    /// The text of the top-level `field`'s value (or of one of its array members),
    /// lower-cased, equals `value` (an exact match, `Image: 'C:\x.exe'`).
    Exact { field: String, value: String },
    /// The value of the top-level `field`, or one of its array members, is a number
    /// (or a string that parses as one) equal to `value` (stored as `f64::to_bits`).
    Number { field: String, value: u64 },
    /// The top-level field is present (with any value, null included).
    Present { field: String },
}

impl Requirement {
    /// How selective the requirement is likely to be, lower being better: long literals
    /// in a named field first, presence of a field last.
    fn rank(&self) -> u8 {
        match self {
            Requirement::Literal { field, needle } => {
                let len = match needle.len() {
                    8.. => 1,
                    4..8 => 2,
                    _ => 3,
                };
                if field.is_some() { len } else { len + 3 }
            }
            // A long exact value is rarer than any substring; a short one (`High`,
            // `%%1936`) may well be common.
            Requirement::Exact { value, .. } if value.len() >= 6 => 0,
            Requirement::Exact { .. } => 2,
            // Windows event ids and codes: mostly selective.
            Requirement::Number { .. } => 1,
            Requirement::Present { .. } => 7,
        }
    }
}

/// Requirements of which at least one holds.
pub(crate) type Clause = Vec<Requirement>;

/// What a part of a rule needs: clauses that all hold on every event it matches (a
/// conjunction of [`Clause`]s), the most selective first; `None` when it can match
/// without any requirement we can check (no gate).
pub(crate) type Gate = Option<Vec<Clause>>;

/// Clauses kept per part: the first is checked by the scan for every rule; the second
/// only for rules whose first clause holds, before rsigma evaluates them. (A third cut
/// rsigma evaluations by another 10% on SigmaHQ's Windows rules, which its extra
/// automata cost back at load time.)
const MAX_CLAUSES: usize = 2;

/// How selective a clause is likely to be, lower being better.
fn clause_score(clause: &Clause) -> (Option<u8>, usize) {
    (clause.iter().map(Requirement::rank).max(), clause.len())
}

/// The gate of a single requirement.
fn one(req: Requirement) -> Gate {
    Some(vec![vec![req]])
}

/// Sorted by selectivity, without repeats or empty clauses, at most [`MAX_CLAUSES`].
fn normalize(mut clauses: Vec<Clause>) -> Gate {
    // An empty clause (an `or` over nothing) never holds; no gate is the cautious answer.
    clauses.retain(|c| !c.is_empty());
    clauses.sort_by_cached_key(clause_score);
    let mut kept: Vec<Clause> = Vec::with_capacity(MAX_CLAUSES);
    for c in clauses {
        if kept.len() == MAX_CLAUSES {
            break;
        }
        if !kept.contains(&c) {
            kept.push(c);
        }
    }
    (!kept.is_empty()).then_some(kept)
}

/// A field name rsigma resolves by a flat lookup only (no nested path).
fn is_plain_field(name: &str) -> bool {
    !name.contains(['.', '[', '\\'])
}

fn literal(field: Option<&str>, needle: &str) -> Gate {
    if needle.is_empty() {
        // Every string contains the empty string.
        return None;
    }
    let field = field.filter(|f| is_plain_field(f)).map(str::to_string);
    one(Requirement::Literal {
        field,
        needle: needle.to_string(),
    })
}

/// `or`: every branch must bring requirements. Each branch implies each of its clauses,
/// so the `or` implies the union of any one clause per branch: the k-th clause of the
/// result is the union of the branches' k-th clauses (a branch with fewer clauses
/// giving its last).
fn any_of(parts: impl IntoIterator<Item = Gate>) -> Gate {
    let parts: Vec<Vec<Clause>> = parts.into_iter().collect::<Option<_>>()?;
    if parts.iter().any(Vec::is_empty) {
        return None;
    }
    let depth = parts.iter().map(Vec::len).max()?;
    normalize(
        (0..depth)
            .map(|k| {
                parts
                    .iter()
                    .flat_map(|p| p[k.min(p.len() - 1)].iter().cloned())
                    .collect()
            })
            .collect(),
    )
}

/// `and`: every part's clauses hold; keep the most selective.
fn all_of(parts: impl IntoIterator<Item = Gate>) -> Gate {
    normalize(parts.into_iter().flatten().flatten().collect())
}

/// What the rule needs from an event (see the module's soundness rules); `None`: no gate.
pub(crate) fn rule_gate(rule: &CompiledRule) -> Gate {
    if rule.conditions.is_empty() {
        return None;
    }
    any_of(rule.conditions.iter().map(|c| condition_gate(c, rule, 0)))
}

fn condition_gate(cond: &ConditionExpr, rule: &CompiledRule, depth: usize) -> Gate {
    if depth > MAX_ANALYSIS_DEPTH {
        return None;
    }
    let depth = depth + 1;
    match cond {
        ConditionExpr::Identifier(name) => rule
            .detections
            .get(name)
            .and_then(|d| detection_gate(d, depth)),
        ConditionExpr::And(parts) => all_of(parts.iter().map(|p| condition_gate(p, rule, depth))),
        ConditionExpr::Or(parts) => any_of(parts.iter().map(|p| condition_gate(p, rule, depth))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let selected: Vec<&CompiledDetection> = rule
                .detections
                .iter()
                .filter(|(name, _)| pattern.matches_detection_name(name))
                .map(|(_, d)| d)
                .collect();
            if selected.is_empty() {
                return None;
            }
            match quantifier {
                Quantifier::All => all_of(selected.into_iter().map(|d| detection_gate(d, depth))),
                Quantifier::Count(0) => None,
                Quantifier::Any | Quantifier::Count(_) => {
                    any_of(selected.into_iter().map(|d| detection_gate(d, depth)))
                }
            }
        }
    }
}

fn detection_gate(det: &CompiledDetection, depth: usize) -> Gate {
    if depth > MAX_ANALYSIS_DEPTH {
        return None;
    }
    let depth = depth + 1;
    match det {
        CompiledDetection::AllOf(items) if items.is_empty() => None,
        CompiledDetection::AllOf(items) => all_of(items.iter().map(|i| item_gate(i, depth))),
        CompiledDetection::AnyOf(subs) if subs.is_empty() => None,
        CompiledDetection::AnyOf(subs) => any_of(subs.iter().map(|d| detection_gate(d, depth))),
        CompiledDetection::And(subs) if subs.is_empty() => None,
        CompiledDetection::And(subs) => all_of(subs.iter().map(|d| detection_gate(d, depth))),
        CompiledDetection::Keywords(m) => matcher_gate(m, None, depth),
        // Array scopes and element-scoped bodies: not analysed.
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => None,
    }
}

fn item_gate(item: &CompiledDetectionItem, depth: usize) -> Gate {
    let Some(field) = item.field.as_deref() else {
        if item.exists.is_some() {
            return None;
        }
        return matcher_gate(&item.matcher, None, depth);
    };
    let presence = || {
        is_plain_field(field).then(|| {
            vec![vec![Requirement::Present {
                field: field.to_string(),
            }]]
        })
    };
    match item.exists {
        Some(true) => return presence(),
        Some(false) => return None,
        None => {}
    }
    // The one matcher an absent field satisfies.
    if matches!(item.matcher, CompiledMatcher::Null) {
        return None;
    }
    matcher_gate(&item.matcher, Some(field), depth).or_else(presence)
}

fn matcher_gate(m: &CompiledMatcher, field: Option<&str>, depth: usize) -> Gate {
    if depth > MAX_ANALYSIS_DEPTH {
        return None;
    }
    let depth = depth + 1;
    match m {
        // `s.to_lowercase() == value` (value stored folded) or `s == value`: either way
        // the lower-cased text equals the lower-cased value.
        CompiledMatcher::Exact { value, .. } if !value.is_empty() => {
            match field.filter(|f| is_plain_field(f)) {
                Some(f) => one(Requirement::Exact {
                    field: f.to_string(),
                    value: value.to_lowercase(),
                }),
                None => literal(field, value),
            }
        }
        CompiledMatcher::Exact { .. } => None,
        CompiledMatcher::Contains { value, .. }
        | CompiledMatcher::StartsWith { value, .. }
        | CompiledMatcher::EndsWith { value, .. } => literal(field, value),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            any_of(needles.iter().map(|n| literal(field, n)))
        }
        CompiledMatcher::Regex(re) => regex_gate(re.as_str(), field),
        CompiledMatcher::RegexSetMatch { set, mode } => {
            let parts = set.patterns().iter().map(|p| regex_gate(p, field));
            match mode {
                GroupMode::Any => any_of(parts),
                GroupMode::All => all_of(parts),
            }
        }
        CompiledMatcher::AnyOf(children) => {
            any_of(children.iter().map(|c| matcher_gate(c, field, depth)))
        }
        CompiledMatcher::AllOf(children) => {
            all_of(children.iter().map(|c| matcher_gate(c, field, depth)))
        }
        CompiledMatcher::CaseInsensitiveGroup { children, mode } => {
            let parts = children.iter().map(|c| matcher_gate(c, field, depth));
            match mode {
                GroupMode::Any => any_of(parts),
                GroupMode::All => all_of(parts),
            }
        }
        // rsigma's numeric equality is `(v - n).abs() < f64::EPSILON`: for |n| >= 2 the
        // float spacing exceeds EPSILON, so only `v == n` itself matches.
        CompiledMatcher::NumericEq(n) if n.is_finite() && n.abs() >= 2.0 => {
            let field = field.filter(|f| is_plain_field(f))?;
            one(Requirement::Number {
                field: field.to_string(),
                value: n.to_bits(),
            })
        }
        // Other numeric comparisons, CIDR, field references, placeholders, timestamps,
        // negation, null, booleans, existence: no literal is guaranteed to appear in the
        // value.
        _ => None,
    }
}

/// Literals shorter than this are not worth a gate (they occur almost everywhere).
const MIN_REGEX_LITERAL: usize = 3;

/// A regex (from `|re`, or a Sigma value with wildcards, which rsigma compiles to one)
/// gated on literals that every match contains.
fn regex_gate(pattern: &str, field: Option<&str>) -> Gate {
    // rsigma builds its regexes with `Regex::new` and the flags inlined, so the default
    // parser reads the pattern as the regex crate does.
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let literals = mandatory_literals(&hir, 0)?;
    if literals.iter().any(|l| l.len() < MIN_REGEX_LITERAL) {
        return None;
    }
    any_of(literals.iter().map(|l| literal(field, l)))
}

/// One character that a case-insensitive regex may match in either ASCII case, and in
/// no other way: `[kK]` qualifies, Unicode `(?i)k` (which also takes the Kelvin sign) not.
fn ascii_case_pair(class: &regex_syntax::hir::Class) -> Option<char> {
    use regex_syntax::hir::Class;
    let mut chars: Vec<char> = Vec::with_capacity(2);
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                if (r.end() as u32) - (r.start() as u32) > 1 || chars.len() > 2 {
                    return None;
                }
                chars.extend(r.start()..=r.end());
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                if r.end() - r.start() > 1 || chars.len() > 2 {
                    return None;
                }
                chars.extend((r.start()..=r.end()).map(char::from));
            }
        }
    }
    match chars.as_slice() {
        [a] if a.is_ascii() => Some(*a),
        [a, b] if a.is_ascii_alphabetic() && a.to_ascii_lowercase() == *b => Some(*b),
        [a, b] if a.is_ascii_alphabetic() && b.to_ascii_lowercase() == *a => Some(*a),
        _ => None,
    }
}

/// A set of literals of which every match of the regex contains at least one; `None`
/// when there is none to be had. The literal text is matched ASCII case-insensitively
/// by the scan, so a `[kK]` class is as good as a `k`.
fn mandatory_literals(hir: &regex_syntax::hir::Hir, depth: usize) -> Option<Vec<String>> {
    use regex_syntax::hir::HirKind;
    if depth > MAX_ANALYSIS_DEPTH {
        return None;
    }
    let depth = depth + 1;
    match hir.kind() {
        HirKind::Literal(lit) => {
            let s = std::str::from_utf8(&lit.0).ok()?;
            (!s.is_empty()).then(|| vec![s.to_string()])
        }
        HirKind::Class(c) => ascii_case_pair(c).map(|c| vec![c.to_string()]),
        // Every part of a concatenation matches, one after the other: a run of
        // single-text parts is a literal, and any part's own set will do too. Keep the
        // set whose shortest literal is longest.
        HirKind::Concat(parts) => {
            let mut candidates: Vec<Vec<String>> = Vec::new();
            let mut run = String::new();
            for part in parts {
                let single = match part.kind() {
                    HirKind::Literal(lit) => std::str::from_utf8(&lit.0).ok().map(str::to_string),
                    HirKind::Class(c) => ascii_case_pair(c).map(|c| c.to_string()),
                    _ => None,
                };
                match single {
                    Some(text) => run.push_str(&text),
                    None => {
                        if !run.is_empty() {
                            candidates.push(vec![std::mem::take(&mut run)]);
                        }
                        candidates.extend(mandatory_literals(part, depth));
                    }
                }
            }
            if !run.is_empty() {
                candidates.push(vec![run]);
            }
            candidates.into_iter().max_by_key(|lits| {
                (
                    lits.iter().map(String::len).min().unwrap_or(0),
                    std::cmp::Reverse(lits.len()),
                )
            })
        }
        // Alternation: every branch must bring literals.
        HirKind::Alternation(branches) => {
            let mut union = Vec::new();
            for b in branches {
                union.extend(mandatory_literals(b, depth)?);
            }
            Some(union)
        }
        HirKind::Repetition(rep) if rep.min >= 1 => mandatory_literals(&rep.sub, depth),
        HirKind::Capture(cap) => mandatory_literals(&cap.sub, depth),
        _ => None,
    }
}

/// A fixed-size set of rule indices.
#[derive(Debug, Clone)]
pub(crate) struct RuleBits(Vec<u64>);

impl RuleBits {
    pub(crate) fn new(rules: usize) -> Self {
        RuleBits(vec![0; rules.div_ceil(64)])
    }

    /// Every index below `n`.
    fn full(n: usize) -> Self {
        RuleBits(vec![u64::MAX; n.div_ceil(64)])
    }

    fn intersects(&self, other: &RuleBits) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }

    #[inline]
    fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub(crate) fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Every index in `range` that is in `self` or in `other`, ascending.
    pub(crate) fn union_in(
        &self,
        other: &RuleBits,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(usize),
    ) {
        if range.is_empty() {
            return;
        }
        let (first, last) = (range.start / 64, (range.end - 1) / 64);
        for w in first..=last {
            let mut bits =
                self.0.get(w).copied().unwrap_or(0) | other.0.get(w).copied().unwrap_or(0);
            if w == first {
                bits &= u64::MAX << (range.start % 64);
            }
            if w == last && !range.end.is_multiple_of(64) {
                bits &= u64::MAX >> (64 - range.end % 64);
            }
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                f(i);
                bits &= bits - 1;
            }
        }
    }
}

/// Statistics of a built prefilter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefilterStats {
    /// Rules analysed.
    pub rules: usize,
    /// Rules without a gate, evaluated on every event of their logsources.
    pub ungated: usize,
    /// Distinct (field, literal) pairs looked for.
    pub literals: usize,
    /// Rules gated (at least in part) on the mere presence of a field.
    pub presence_gated: usize,
    /// Clauses checked, over all gated rules (each rule has one to `MAX_CLAUSES`).
    pub clauses: usize,
    /// Bytes held by the automata.
    pub automata_bytes: usize,
}

/// Literals and the rules each of them opens.
struct NeedleSet {
    /// Unique in the process: names the set in the per-thread memo of scans.
    id: u64,
    automaton: Searcher,
    rules: Vec<Vec<u32>>,
    /// The routes (rule logsources) of those rules: an event of other routes need not
    /// be scanned for these literals.
    routes: RuleBits,
    /// Whether the set holds every literal looked for anywhere, too.
    covers_anywhere: bool,
}

/// An Aho-Corasick automaton of the kind `AhoCorasick` would choose for the needles,
/// held by its concrete type so that the search loop is compiled for it (through
/// `AhoCorasick`, each byte's transition is a virtual call).
enum Searcher {
    Dfa(aho_corasick::dfa::DFA),
    Contiguous(aho_corasick::nfa::contiguous::NFA),
    Noncontiguous(aho_corasick::nfa::noncontiguous::NFA),
}

/// Up to this many needles the automaton is a DFA (`AhoCorasick`'s own limit).
const MAX_DFA_NEEDLES: usize = 100;

impl Searcher {
    /// The kind of automaton `AhoCorasick::builder().match_kind(Standard)` builds: a DFA
    /// for small sets, else a contiguous NFA when it fits, else the noncontiguous one;
    /// it matches as `.ascii_case_insensitive(true)` would, the needles folded here and
    /// the text by [`scan_in_step`]. (A DFA over SigmaHQ's CommandLine or Hashes literals takes
    /// tens of MB and a quarter second to build; DFAs for the medium sets measured no
    /// faster.)
    fn build<P: AsRef<[u8]>>(needles: impl IntoIterator<Item = P>) -> Option<Self> {
        use aho_corasick::{StartKind, dfa, nfa};
        // The needles are folded here and the text while it is scanned, byte by byte:
        // an automaton of folded needles has half the transitions to build, and its
        // DFA fewer byte classes, than one that folds case itself.
        let folded: Vec<Vec<u8>> = needles
            .into_iter()
            .map(|n| n.as_ref().to_ascii_lowercase())
            .collect();
        // Overlapping search, to report a literal inside another one too.
        let nnfa = nfa::noncontiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .build(&folded)
            .ok()?;
        if nnfa.patterns_len() <= MAX_DFA_NEEDLES
            && let Ok(dfa) = dfa::Builder::new()
                .match_kind(MatchKind::Standard)
                .start_kind(StartKind::Unanchored)
                .build_from_noncontiguous(&nnfa)
        {
            return Some(Searcher::Dfa(dfa));
        }
        match nfa::contiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .build_from_noncontiguous(&nnfa)
        {
            Ok(cnfa) => Some(Searcher::Contiguous(cnfa)),
            Err(_) => Some(Searcher::Noncontiguous(nnfa)),
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Searcher::Dfa(a) => a.memory_usage(),
            Searcher::Contiguous(a) => a.memory_usage(),
            Searcher::Noncontiguous(a) => a.memory_usage(),
        }
    }

    /// Call `f` with the index of every needle in `text`, overlapping ones included;
    /// false when the search fails (it cannot with these automata).
    fn for_each_match(&self, text: &str, f: impl FnMut(usize)) -> bool {
        match self {
            Searcher::Dfa(a) => overlapping_matches(a, text, f),
            Searcher::Contiguous(a) => overlapping_matches(a, text, f),
            Searcher::Noncontiguous(a) => overlapping_matches(a, text, f),
        }
    }
}

/// Values longer than this are scanned every time (long ones rarely repeat).
const MEMO_MAX_BYTES: usize = 256;
/// Values remembered per thread; the memo starts afresh when it is full.
const MEMO_MAX_ENTRIES: usize = 1 << 15;

/// A thread's memo of scans: needle set id → value → the needles found in it.
#[derive(Default)]
struct Memo {
    sets: FastMap<u64, FastMap<Box<str>, Box<[u32]>>>,
    entries: usize,
}

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::default());
    /// The buffer of [`Prefilter::open_gates`]'s text of an event's values, kept for
    /// the thread's next event.
    static SCAN_TEXT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// Texts at least this long are scanned as two parts in step, and four from twice
/// as long (see [`overlapping_matches`]).
const SPLIT_SCAN_BYTES: usize = 192;

/// What an overlapping search reports (every needle ending at every position: a match
/// state holds the needles of all its suffixes), stepping the automaton by hand. A
/// search is a chain of dependent table loads, so a long text is cut into parts scanned
/// in step, each starting a longest needle early so that every needle that ends in it
/// is seen whole (one ending in an overlap may be reported twice).
fn overlapping_matches<A: Automaton>(aut: &A, text: &str, mut f: impl FnMut(usize)) -> bool {
    let Ok(start) = aut.start_state(Anchored::No) else {
        return false;
    };
    let mut report = |sid: StateID| {
        for i in 0..aut.match_len(sid) {
            f(aut.match_pattern(sid, i).as_usize());
        }
    };
    if aut.is_match(start) {
        report(start);
    }
    let hay = text.as_bytes();
    if hay.len() >= 2 * SPLIT_SCAN_BYTES {
        scan_in_step::<A, 4>(aut, hay, start, &mut report);
    } else if hay.len() >= SPLIT_SCAN_BYTES {
        scan_in_step::<A, 2>(aut, hay, start, &mut report);
    } else {
        scan_in_step::<A, 1>(aut, hay, start, &mut report);
    }
    true
}

/// [`overlapping_matches`] over `N` parts of `hay`.
fn scan_in_step<A: Automaton, const N: usize>(
    aut: &A,
    hay: &[u8],
    start: StateID,
    report: &mut impl FnMut(StateID),
) {
    // The automata hold ASCII-folded needles (see `Searcher::build`).
    let step =
        |sid: StateID, byte: u8| aut.next_state(Anchored::No, sid, byte.to_ascii_lowercase());
    let special = |sid: StateID| aut.is_special(sid) && !aut.is_start(sid);
    let back = aut.max_pattern_len().saturating_sub(1);
    let part = hay.len() / N;
    // Part k holds the needles that end in (k * part, (k + 1) * part]; the last part
    // runs to the end.
    let parts: [&[u8]; N] = std::array::from_fn(|k| {
        let end = if k + 1 == N {
            hay.len()
        } else {
            (k + 1) * part
        };
        &hay[(k * part).saturating_sub(back)..end]
    });
    let mut sids = [start; N];
    let mut live = [true; N];
    let common = parts.iter().map(|p| p.len()).min().unwrap_or(0);
    for i in 0..common {
        for (sid, part) in sids.iter_mut().zip(&parts) {
            *sid = step(*sid, part[i]);
        }
        if sids.iter().any(|&sid| special(sid)) {
            for (&sid, live) in sids.iter().zip(live.iter_mut()) {
                if *live && special(sid) {
                    if aut.is_dead(sid) {
                        *live = false;
                    } else if aut.is_match(sid) {
                        report(sid);
                    }
                }
            }
        }
    }
    for ((&sid, part), &live) in sids.iter().zip(&parts).zip(&live) {
        if !live {
            continue;
        }
        let mut sid = sid;
        for &byte in &part[common..] {
            sid = step(sid, byte);
            if special(sid) {
                if aut.is_dead(sid) {
                    break;
                }
                if aut.is_match(sid) {
                    report(sid);
                }
            }
        }
    }
}

impl NeedleSet {
    /// `needles`: ASCII-folded literal → (literal, rules). `None` when empty or when
    /// the automaton cannot be built (then the caller leaves the rules ungated).
    fn build(needles: NeedleMap, routes: RuleBits) -> Option<Self> {
        if needles.is_empty() {
            return None;
        }
        let mut entries: Vec<(String, Vec<u32>)> = needles.into_values().collect();
        entries.sort();
        let automaton = Searcher::build(entries.iter().map(|(n, _)| n))?;
        let rules = entries
            .into_iter()
            .map(|(_, mut r)| {
                r.sort_unstable();
                r.dedup();
                r
            })
            .collect();
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Some(NeedleSet {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            automaton,
            rules,
            routes,
            covers_anywhere: false,
        })
    }

    /// [`NeedleSet::mark`], remembering per thread which needles a short value holds:
    /// event logs repeat their values (the same images, command lines, services), and
    /// a lookup costs a fraction of a scan. The memo is keyed by the set and the exact
    /// text, so it opens the same gates a scan would.
    #[must_use]
    fn mark_memo(&self, text: &str, open: &mut RuleBits) -> bool {
        if text.len() > MEMO_MAX_BYTES {
            return self.mark(text, open);
        }
        MEMO.with_borrow_mut(|memo| {
            if let Some(found) = memo.sets.get(&self.id).and_then(|m| m.get(text)) {
                self.open_needles(found, open);
                return true;
            }
            let mut found: Vec<u32> = Vec::new();
            if !self
                .automaton
                .for_each_match(text, |i| found.push(i as u32))
            {
                return false;
            }
            found.sort_unstable();
            found.dedup();
            self.open_needles(&found, open);
            if memo.entries >= MEMO_MAX_ENTRIES {
                memo.sets.clear();
                memo.entries = 0;
            }
            memo.entries += 1;
            memo.sets
                .entry(self.id)
                .or_default()
                .insert(text.into(), found.into());
            true
        })
    }

    fn open_needles(&self, needles: &[u32], open: &mut RuleBits) {
        for &n in needles {
            for &r in &self.rules[n as usize] {
                open.set(r);
            }
        }
    }

    /// Open the rules of every literal in `text` (ASCII case folded); false when the
    /// text could not be searched.
    #[must_use]
    fn mark(&self, text: &str, open: &mut RuleBits) -> bool {
        self.automaton.for_each_match(text, |i| {
            for &r in &self.rules[i] {
                open.set(r);
            }
        })
    }
}

/// What the prefilter knows about one top-level field.
#[derive(Default)]
struct FieldGates {
    /// Rules opened by the field's presence.
    presence: Vec<u32>,
    /// Literals to look for in the field's value.
    needles: Option<NeedleSet>,
    /// `f64::to_bits` of a number → rules opened when the value equals it.
    numbers: FastMap<u64, Vec<u32>>,
    /// Lower-cased text → rules opened when the value's text equals it.
    exact: ExactValues,
}

/// Lower-cased texts → rules opened when a value's text equals one.
#[derive(Default)]
struct ExactValues {
    values: FastMap<String, Vec<u32>>,
    /// The byte lengths of `values` below 256 (lower-casing ASCII keeps a text's
    /// length, so a text of another length is not looked up).
    short: [u64; 4],
    long: bool,
}

impl ExactValues {
    fn add(&mut self, value: String, rule: u32) {
        match value.len() {
            n @ 0..256 => self.short[n / 64] |= 1 << (n % 64),
            _ => self.long = true,
        }
        self.values.entry(value).or_default().push(rule);
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The rules opened by a value of this text (ASCII case folded, as rsigma does).
    fn get(&self, text: &str) -> Option<&Vec<u32>> {
        let n = text.len();
        let maybe = match n {
            0..256 => self.short[n / 64] & (1 << (n % 64)) != 0,
            _ => self.long,
        };
        if !maybe {
            return None;
        }
        self.values.get(ascii_lowercase_cow(text).as_ref())
    }
}

/// What the further clauses of rules found on one event (see
/// [`Prefilter::for_each_open`]).
#[derive(Default)]
pub(crate) struct LaterGates {
    /// The gate ids opened so far (made on the first clause checked).
    open: Option<RuleBits>,
    /// The `later_fields` scanned so far.
    scanned: Vec<u32>,
    /// Scratch text for nested values.
    text: String,
    /// A field could not be scanned: every clause counts as holding.
    unscannable: bool,
}

impl FieldGates {
    /// Open every gate the field's value opens (presence, numbers, exact values and
    /// literals); false when it is nested too deeply to tell.
    fn mark_field(&self, value: FieldRef<'_>, open: &mut RuleBits, nested: &mut String) -> bool {
        if !self.mark_values(value, open) {
            return false;
        }
        let Some(needles) = &self.needles else {
            return true;
        };
        let text: &str = match value {
            FieldRef::Str(s) => s,
            other => {
                nested.clear();
                if !project_field(other, nested) {
                    return false;
                }
                nested
            }
        };
        needles.mark_memo(text, open)
            && (!value.is_string() || text.is_ascii() || needles.mark(&text.to_lowercase(), open))
    }

    /// Open the presence, number and exact-value gates the field's value opens; false
    /// when it is nested too deeply to tell.
    fn mark_values(&self, value: FieldRef<'_>, open: &mut RuleBits) -> bool {
        for &r in &self.presence {
            open.set(r);
        }
        (self.numbers.is_empty() || mark_field_numbers(value, &self.numbers, open))
            && (self.exact.is_empty() || mark_field_exact(value, &self.exact, open))
    }
}

/// The prefilter over a list of compiled rules (indices are positions in that list).
pub(crate) struct Prefilter {
    fields: FastMap<String, FieldGates>,
    /// Literals looked for in every value of the event (keywords, nested paths).
    anywhere: Option<NeedleSet>,
    /// Rules without a gate.
    ungated: RuleBits,
    rules: usize,
    /// Gate ids: one per gated rule's first clause (the rule's index), then one per
    /// further clause.
    ids: usize,
    /// Per rule, the gate ids of its clauses after the first.
    more_clauses: Vec<Vec<u32>>,
    /// The gates of those clauses, by field, scanned only for rules whose first clause
    /// holds.
    later_fields: Vec<(String, FieldGates)>,
    /// Per clause after the first (gate id minus the number of rules), the
    /// `later_fields` it names.
    clause_fields: Vec<Vec<u32>>,
    routes: usize,
    stats: PrefilterStats,
}

type NeedleMap = HashMap<String, (String, Vec<u32>)>;

/// Gates being collected, by field, before the automata are built.
#[derive(Default)]
struct GateTables {
    fields: FastMap<String, FieldGates>,
    needles: HashMap<String, NeedleMap>,
    anywhere: NeedleMap,
}

impl GateTables {
    /// Register every requirement of `clause` as opening gate `id`; the fields the
    /// clause names.
    fn add(&mut self, clause: Clause, id: u32) -> Vec<String> {
        let mut named = Vec::new();
        for req in clause {
            match req {
                Requirement::Present { field } => {
                    self.fields
                        .entry(field.clone())
                        .or_default()
                        .presence
                        .push(id);
                    named.push(field);
                }
                Requirement::Number { field, value } => {
                    let gates = self.fields.entry(field.clone()).or_default();
                    gates.numbers.entry(value).or_default().push(id);
                    named.push(field);
                }
                Requirement::Exact { field, value } => {
                    let gates = self.fields.entry(field.clone()).or_default();
                    gates.exact.add(value, id);
                    named.push(field);
                }
                Requirement::Literal {
                    field: Some(field),
                    needle,
                } => {
                    add_needle(self.needles.entry(field.clone()).or_default(), needle, id);
                    named.push(field);
                }
                Requirement::Literal {
                    field: None,
                    needle,
                } => add_needle(&mut self.anywhere, needle, id),
            }
        }
        named.sort();
        named.dedup();
        named
    }
}

/// Longest needle looked for: a literal's prefix is in every text the literal is in, and
/// the automata's build time grows with the square of a needle's length (three 25,000-byte
/// `base64offset` needles took 49 s as a DFA). 32 bytes keep a hash or a path as
/// selective as it was and make SigmaHQ's `Hashes` automaton (thousands of 40 to 70 byte
/// hashes) a fraction of the size, to build and to scan.
const MAX_NEEDLE_BYTES: usize = 32;

fn add_needle(map: &mut NeedleMap, mut needle: String, rule: u32) {
    if needle.len() > MAX_NEEDLE_BYTES {
        let mut end = MAX_NEEDLE_BYTES;
        while !needle.is_char_boundary(end) {
            end -= 1;
        }
        needle.truncate(end);
    }
    // The automata fold ASCII case; so does the key.
    map.entry(needle.to_ascii_lowercase())
        .or_insert_with(|| (needle, Vec::new()))
        .1
        .push(rule);
}

impl Prefilter {
    /// `route_of[i]`: the route (rule logsource) of `rules[i]`, of `routes` in all.
    #[cfg(test)]
    pub(crate) fn build(rules: &[CompiledRule], route_of: &[usize], routes: usize) -> Self {
        Self::from_gates(rules.iter().map(rule_gate).collect(), route_of, routes)
    }

    /// The prefilter over rules with these gates (`gates[i]` the gate of rule `i`, from
    /// [`rule_gate`], perhaps by way of the rule cache).
    pub(crate) fn from_gates(gates: Vec<Gate>, route_of: &[usize], routes: usize) -> Self {
        let rule_count = gates.len();
        let mut first = GateTables::default();
        let mut later = GateTables::default();
        let mut ungated = RuleBits::new(rule_count);
        let mut stats = PrefilterStats {
            rules: rule_count,
            ..PrefilterStats::default()
        };
        // Gate ids: a rule's first clause opens the rule's own index; its further
        // clauses open ids from `rule_count` on (`owner` maps them back to the rule).
        let mut more_clauses: Vec<Vec<u32>> = vec![Vec::new(); rule_count];
        let mut owner: Vec<u32> = Vec::new();
        // Per further clause (in `owner`'s order), the fields it names.
        let mut named: Vec<Vec<String>> = Vec::new();
        for (i, gate) in gates.into_iter().enumerate() {
            let rule_idx = i as u32;
            let Some(clauses) = gate else {
                ungated.set(rule_idx);
                continue;
            };
            let mut clauses = clauses.into_iter();
            let Some(primary) = clauses.next() else {
                ungated.set(rule_idx);
                continue;
            };
            if primary
                .iter()
                .any(|r| matches!(r, Requirement::Present { .. }))
            {
                stats.presence_gated += 1;
            }
            first.add(primary, rule_idx);
            stats.clauses += 1;
            // Further clauses are checked field by field, only on the fields they name:
            // one with a literal looked for anywhere in the event is left out.
            for clause in clauses {
                if clause
                    .iter()
                    .any(|r| matches!(r, Requirement::Literal { field: None, .. }))
                {
                    continue;
                }
                let id = (rule_count + owner.len()) as u32;
                owner.push(rule_idx);
                more_clauses[i].push(id);
                named.push(later.add(clause, id));
            }
        }
        stats.clauses += owner.len();
        let rule_of = |id: u32| -> usize {
            let id = id as usize;
            if id < rule_count {
                id
            } else {
                owner[id - rule_count] as usize
            }
        };
        // A needle set that cannot be built leaves its rules without a gate.
        let mut build = |needles: NeedleMap, ungated: &mut RuleBits| {
            stats.literals += needles.len();
            let mut needle_routes = RuleBits::new(routes);
            for &id in needles.values().flat_map(|(_, r)| r) {
                // A rule without a known route: scan for its literals on every event.
                match route_of.get(rule_of(id)) {
                    Some(&route) => needle_routes.set(route as u32),
                    None => needle_routes = RuleBits::full(routes),
                }
            }
            let orphans: Vec<u32> = needles
                .values()
                .flat_map(|(_, r)| r.iter().map(|&id| rule_of(id) as u32))
                .collect();
            let set = NeedleSet::build(needles, needle_routes);
            match &set {
                Some(set) => stats.automata_bytes += set.automaton.memory_usage(),
                None => orphans.into_iter().for_each(|r| ungated.set(r)),
            }
            set
        };
        // The literals looked for anywhere are looked for by the automata of the fields
        // with many literals of their own too (the long values: command lines, paths,
        // hashes): those values are then scanned once, and the pass for the literals
        // looked for anywhere covers only the other values. (Small sets are built as
        // DFAs, whose build time the extra literals would double.)
        let mut merged_literals = 0;
        let mut fields: FastMap<String, FieldGates> = first.fields;
        for (field, mut needles) in first.needles {
            let merge = needles.len() > MAX_DFA_NEEDLES;
            if merge {
                for (key, (needle, rules)) in &first.anywhere {
                    needles
                        .entry(key.clone())
                        .or_insert_with(|| (needle.clone(), Vec::new()))
                        .1
                        .extend(rules);
                }
                merged_literals += first.anywhere.len();
            }
            let mut set = build(needles, &mut ungated);
            if let Some(set) = &mut set {
                set.covers_anywhere = merge || first.anywhere.is_empty();
            }
            fields.entry(field).or_default().needles = set;
        }
        let anywhere = build(first.anywhere, &mut ungated);
        // The fields of further clauses, numbered; and per clause, the fields it names.
        let mut later_gates = later.fields;
        for (field, needles) in later.needles {
            later_gates.entry(field).or_default().needles = build(needles, &mut ungated);
        }
        let later_fields: Vec<(String, FieldGates)> = later_gates.into_iter().collect();
        let number: HashMap<&str, u32> = later_fields
            .iter()
            .enumerate()
            .map(|(n, (field, _))| (field.as_str(), n as u32))
            .collect();
        let clause_fields = named
            .iter()
            .map(|fields| fields.iter().map(|f| number[f.as_str()]).collect())
            .collect();
        stats.literals -= merged_literals;
        stats.ungated = (0..rule_count).filter(|&i| ungated.contains(i)).count();
        Prefilter {
            fields,
            anywhere,
            ungated,
            rules: rule_count,
            ids: rule_count + owner.len(),
            more_clauses,
            later_fields,
            clause_fields,
            routes,
            stats,
        }
    }

    pub(crate) fn stats(&self) -> PrefilterStats {
        self.stats
    }

    /// Rules without a gate.
    #[cfg(test)]
    pub(crate) fn ungated(&self) -> &RuleBits {
        &self.ungated
    }

    /// Call `f` with every rule in `range` that must be evaluated on `event`, whose
    /// first clauses' gates are `open` (from [`Prefilter::open_gates`]): the ungated
    /// rules and those all of whose clauses hold, ascending. A rule's further clauses
    /// are checked only when its first one holds, scanning just the fields they name
    /// (once per event: `later` carries what was found).
    pub(crate) fn for_each_open(
        &self,
        event: &Fields,
        open: &RuleBits,
        later: &mut LaterGates,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(usize),
    ) {
        self.ungated.union_in(open, range, |i| {
            if self.ungated.contains(i)
                || self.more_clauses[i]
                    .iter()
                    .all(|&id| self.clause_holds(event, later, id))
            {
                f(i);
            }
        });
    }

    fn clause_holds(&self, event: &Fields, later: &mut LaterGates, id: u32) -> bool {
        if later.unscannable {
            return true;
        }
        let later_open = later.open.get_or_insert_with(|| RuleBits::new(self.ids));
        for &n in &self.clause_fields[id as usize - self.rules] {
            if later.scanned.contains(&n) {
                continue;
            }
            later.scanned.push(n);
            let (name, gates) = &self.later_fields[n as usize];
            if let Some(value) = event.get(name)
                && !gates.mark_field(value, later_open, &mut later.text)
            {
                later.unscannable = true;
                return true;
            }
        }
        later_open.contains(id as usize)
    }

    /// Whether the rule at `i` must be evaluated on an event whose open gates are `open`.
    #[cfg(test)]
    fn is_open(&self, event: &Fields, open: &RuleBits, i: usize) -> bool {
        let mut found = false;
        let mut later = LaterGates::default();
        self.for_each_open(event, open, &mut later, i..i + 1, |_| found = true);
        found
    }

    /// The gated rules of the event's `routes` whose gate the event opens (gates of
    /// rules of other routes are left as they fall); `None` when the event cannot be
    /// scanned (nested too deeply), and every rule must be evaluated.
    pub(crate) fn open_gates(&self, event: &Fields, routes: &[usize]) -> Option<RuleBits> {
        // First clauses open the rules' own indices only.
        let mut open = RuleBits::new(self.rules);
        let mut event_routes = RuleBits::new(self.routes);
        for &r in routes {
            event_routes.set(r as u32);
        }
        let wanted = |needles: &NeedleSet| needles.routes.intersects(&event_routes);
        let anywhere = self.anywhere.as_ref().filter(|n| wanted(n));
        // The text of every value of the event that no field automaton scans (those hold
        // the literals looked for anywhere as well), one after the other, for those
        // literals: one automaton pass per event, not one per value. A `\0` separates
        // the values; a literal holding one could at worst match across two values,
        // which opens a gate too many, never one too few.
        let mut all = SCAN_TEXT.take();
        all.clear();
        let mut nested = String::new();
        for (key, value) in event.iter() {
            let gates = self.fields.get(key);
            let needles = gates.and_then(|g| g.needles.as_ref()).filter(|n| wanted(n));
            if needles.is_none() && anywhere.is_none() {
                if let Some(gates) = gates
                    && !gates.mark_values(value, &mut open)
                {
                    return None;
                }
                continue;
            }
            // The automata of fields with many literals hold those looked for anywhere
            // too (see `from_gates`).
            let to_all = anywhere.is_some() && !needles.is_some_and(|n| n.covers_anywhere);
            let text: &str = match value {
                FieldRef::Str(s) => {
                    if to_all {
                        all.push_str(s);
                        all.push(SEPARATOR);
                        if !s.is_ascii() {
                            // Case-insensitive matchers compare against `to_lowercase()`,
                            // which can differ from ASCII folding outside ASCII (the
                            // Kelvin sign becomes `k`).
                            all.push_str(&s.to_lowercase());
                            all.push(SEPARATOR);
                        }
                    }
                    s
                }
                other => {
                    nested.clear();
                    if !project_field(other, &mut nested) {
                        return None;
                    }
                    if to_all {
                        all.push_str(&nested);
                    }
                    &nested
                }
            };
            if let Some(gates) = gates
                && !gates.mark_values(value, &mut open)
            {
                return None;
            }
            if let Some(needles) = needles {
                if !needles.mark_memo(text, &mut open) {
                    return None;
                }
                if value.is_string()
                    && !text.is_ascii()
                    && !needles.mark(&text.to_lowercase(), &mut open)
                {
                    return None;
                }
            }
        }
        if let Some(anywhere) = anywhere
            && !anywhere.mark(&all, &mut open)
        {
            return None;
        }
        SCAN_TEXT.set(all);
        Some(open)
    }
}

/// [`project`] of a top-level value of the map.
fn project_field(value: FieldRef<'_>, out: &mut String) -> bool {
    match value {
        FieldRef::Str(s) => {
            out.push_str(s);
            out.push(SEPARATOR);
            if !s.is_ascii() {
                out.push_str(&s.to_lowercase());
                out.push(SEPARATOR);
            }
        }
        FieldRef::Number(n) => {
            write_number(n, out);
            out.push(SEPARATOR);
        }
        FieldRef::Bool(b) => {
            out.push_str(if b { "true" } else { "false" });
            out.push(SEPARATOR);
        }
        FieldRef::Null => {}
        FieldRef::Nested(v) => return project(v, out, 0),
    }
    true
}

/// Separates values in a scanned text.
const SEPARATOR: char = '\0';

/// The texts rsigma's string matchers see in a value, each followed by [`SEPARATOR`]:
/// a number or boolean as its text, the members of arrays and objects one by one, and
/// a non-ASCII string a second time lower-cased. False when nested too deeply.
fn project(value: &Value, out: &mut String, depth: usize) -> bool {
    if depth > MAX_SCAN_DEPTH {
        return false;
    }
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push(SEPARATOR);
            if !s.is_ascii() {
                out.push_str(&s.to_lowercase());
                out.push(SEPARATOR);
            }
        }
        Value::Number(n) => {
            write_number(n, out);
            out.push(SEPARATOR);
        }
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push(SEPARATOR);
        }
        Value::Null => {}
        Value::Array(items) => {
            for v in items {
                if !project(v, out, depth + 1) {
                    return false;
                }
            }
        }
        Value::Object(inner) => {
            for v in inner.values() {
                if !project(v, out, depth + 1) {
                    return false;
                }
            }
        }
    }
    true
}

/// Numeric gates: the value, or the members of an array, as rsigma's numeric matchers
/// read them (numbers as they are, strings parsed as `f64`); false when nested too deeply.
fn mark_numbers(
    value: &Value,
    numbers: &FastMap<u64, Vec<u32>>,
    open: &mut RuleBits,
    depth: usize,
) -> bool {
    let n = match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i as f64,
            None => n.as_f64().unwrap_or(f64::NAN),
        },
        Value::String(s) => match s.parse::<f64>() {
            Ok(n) => n,
            Err(_) => return true,
        },
        Value::Array(items) => {
            if depth > MAX_SCAN_DEPTH {
                return false;
            }
            return items
                .iter()
                .all(|v| mark_numbers(v, numbers, open, depth + 1));
        }
        _ => return true,
    };
    if let Some(rules) = numbers.get(&n.to_bits()) {
        for &r in rules {
            open.set(r);
        }
    }
    true
}

/// [`mark_numbers`] of a top-level value of the map.
fn mark_field_numbers(
    value: FieldRef<'_>,
    numbers: &FastMap<u64, Vec<u32>>,
    open: &mut RuleBits,
) -> bool {
    let n = match value {
        FieldRef::Number(n) => match n.as_i64() {
            Some(i) => i as f64,
            None => n.as_f64().unwrap_or(f64::NAN),
        },
        FieldRef::Str(s) => match s.parse::<f64>() {
            Ok(n) => n,
            Err(_) => return true,
        },
        FieldRef::Nested(v) => return mark_numbers(v, numbers, open, 0),
        FieldRef::Null | FieldRef::Bool(_) => return true,
    };
    if let Some(rules) = numbers.get(&n.to_bits()) {
        for &r in rules {
            open.set(r);
        }
    }
    true
}

/// [`mark_exact`] of a top-level value of the map.
fn mark_field_exact(value: FieldRef<'_>, exact: &ExactValues, open: &mut RuleBits) -> bool {
    let mut check = |text: &str| {
        if let Some(rules) = exact.get(text) {
            for &r in rules {
                open.set(r);
            }
        }
    };
    match value {
        FieldRef::Str(s) => check(s),
        FieldRef::Number(n) => check(&number_text(n)),
        FieldRef::Bool(b) => check(if b { "true" } else { "false" }),
        FieldRef::Nested(v) => return mark_exact(v, exact, open, 0),
        FieldRef::Null => {}
    }
    true
}

/// Exact gates: the text of the value, or of the members of an array, lower-cased, as
/// rsigma's string matchers read it; false when nested too deeply.
fn mark_exact(value: &Value, exact: &ExactValues, open: &mut RuleBits, depth: usize) -> bool {
    let mut check = |text: &str| {
        if let Some(rules) = exact.get(text) {
            for &r in rules {
                open.set(r);
            }
        }
    };
    match value {
        Value::String(s) => check(s),
        Value::Number(n) => check(&number_text(n)),
        Value::Bool(b) => check(if *b { "true" } else { "false" }),
        Value::Array(items) => {
            if depth > MAX_SCAN_DEPTH {
                return false;
            }
            return items.iter().all(|v| mark_exact(v, exact, open, depth + 1));
        }
        Value::Null | Value::Object(_) => {}
    }
    true
}

/// rsigma's text of a number (an i64 as an integer, anything else as an f64), written
/// at the end of `out`.
fn write_number(n: &serde_json::Number, out: &mut String) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = match n.as_i64() {
        Some(i) => write!(out, "{i}"),
        None => write!(out, "{}", n.as_f64().unwrap_or(f64::NAN)),
    };
}

/// [`write_number`] into a text of its own.
fn number_text(n: &serde_json::Number) -> String {
    let mut text = String::new();
    write_number(n, &mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsigma_eval::{JsonEvent, compile_rule, evaluate_rule};
    use rsigma_parser::parse_sigma_yaml;
    use serde_json::json;

    fn compile(detection: &str) -> CompiledRule {
        let yaml = format!("title: t\nlogsource:\n    product: windows\ndetection:\n{detection}\n");
        let coll = parse_sigma_yaml(&yaml).expect("parses");
        compile_rule(&coll.rules[0]).expect("compiles")
    }

    /// (gated, gate open on the event, rsigma matches the event)
    fn check(detection: &str, event: Value) -> (bool, bool, bool) {
        let rule = compile(detection);
        let pf = Prefilter::build(std::slice::from_ref(&rule), &[0], 1);
        let gated = !pf.ungated().contains(0);
        let fields = Fields::from_map(event.as_object().cloned().expect("an object"));
        let open = pf
            .open_gates(&fields, &[0])
            .is_none_or(|o| pf.is_open(&fields, &o, 0));
        let fires = evaluate_rule(&rule, &JsonEvent::borrow(&event)).is_some();
        // The flat map reads as the JSON object does.
        assert_eq!(evaluate_rule(&rule, &fields).is_some(), fires, "{event}");
        // The one property that matters: never skip a rule that fires.
        assert!(
            open || !fires,
            "skipped a rule that fires: {detection} on {event}"
        );
        (gated, open, fires)
    }

    #[test]
    fn literal_in_its_field_opens_the_gate() {
        let d = "    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel";
        assert_eq!(
            check(d, json!({"Image": "C:\\X\\WHOAMI.EXE"})),
            (true, true, true)
        );
        assert_eq!(
            check(
                d,
                json!({"Image": "C:\\X\\cmd.exe", "CommandLine": "whoami.exe"})
            ),
            (true, false, false)
        );
        // The literal in another field does not open a field-scoped gate.
        assert_eq!(
            check(d, json!({"Image": "a", "ParentImage": "c:\\whoami.exe"})),
            (true, false, false)
        );
    }

    #[test]
    fn negation_and_filters_only() {
        let d = "    filter:\n        Image|endswith: '\\whoami.exe'\n    condition: not filter";
        assert_eq!(check(d, json!({"Image": "x"})), (false, true, true));
        let d = "    sel:\n        CommandLine|contains: 'vssadmin'\n    filter:\n        User: 'SYSTEM'\n    condition: sel and not filter";
        assert_eq!(
            check(d, json!({"CommandLine": "VSSADMIN delete", "User": "bob"})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "x", "User": "bob"})),
            (true, false, false)
        );
    }

    #[test]
    fn one_of_needs_every_branch() {
        let d = "    sel_a:\n        CommandLine|contains: 'mimikatz'\n    sel_b:\n        CommandLine|re: 'se[k]urlsa'\n    condition: 1 of sel_*";
        // The regex branch has no literal: gated on the presence of CommandLine only.
        assert_eq!(
            check(d, json!({"CommandLine": "sekurlsa"})),
            (true, true, true)
        );
        assert_eq!(check(d, json!({"Image": "sekurlsa"})), (true, false, false));
        let d = "    sel_a:\n        CommandLine|contains: 'mimikatz'\n    sel_b:\n        Image|exists: false\n    condition: 1 of sel_*";
        assert_eq!(check(d, json!({"Other": 1})), (false, true, true));
        let d = "    sel:\n        CommandLine|contains: 'a'\n    condition: 0 of sel";
        assert!(!check(d, json!({})).0);
    }

    #[test]
    fn keywords_anywhere_and_nested() {
        let d = "    keywords:\n        - 'Invoke-Mimikatz'\n    condition: keywords";
        assert_eq!(
            check(d, json!({"Data": ["x", "iex; INVOKE-MIMIKATZ"]})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"a": {"b": "invoke-mimikatz"}})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"a": "invoke mimikatz"})),
            (true, false, false)
        );
    }

    /// A field with many literals of its own is scanned for the keywords by its own
    /// automaton, one with a few by the keyword pass, whatever the routes of the rules.
    #[test]
    fn keywords_in_fields_with_literals_of_their_own() {
        let many: String = (0..MAX_DFA_NEEDLES)
            .map(|i| format!("            - 'tool{i}.exe'\n"))
            .collect();
        for routes in [([0, 0], vec![0]), ([0, 1], vec![1]), ([1, 0], vec![0])] {
            for extra in ["", many.as_str()] {
                let field_rule = format!(
                    "    sel:\n        CommandLine|contains:\n            - 'whoami'\n{extra}    condition: sel"
                );
                keywords_with(&field_rule, routes.clone(), !extra.is_empty());
            }
        }
    }

    fn keywords_with(field_rule: &str, routes: ([usize; 2], Vec<usize>), merged: bool) {
        let (route_of, event_routes) = routes;
        let rules = [
            compile(field_rule),
            compile("    keywords:\n        - 'sekurlsa::'\n    condition: keywords"),
        ];
        let pf = Prefilter::build(&rules, &route_of, 2);
        assert!(!pf.ungated().contains(0) && !pf.ungated().contains(1));
        let set = pf.fields["CommandLine"].needles.as_ref().unwrap();
        assert_eq!(set.covers_anywhere, merged);
        for (event, keyword) in [
            (
                json!({"CommandLine": "mimikatz SEKURLSA::logonpasswords"}),
                true,
            ),
            (json!({"CommandLine": "x", "Other": "Sekurlsa::x"}), true),
            (json!({"CommandLine": "\u{212a}x sekurlsa::"}), true),
            (
                json!({"CommandLine": "whoami", "Other": "sekurlsa:"}),
                false,
            ),
        ] {
            let fields = Fields::from_map(event.as_object().cloned().unwrap());
            let open = pf.open_gates(&fields, &event_routes).expect("scannable");
            assert_eq!(
                pf.is_open(&fields, &open, 1),
                keyword,
                "{event} {route_of:?}"
            );
            assert_eq!(
                evaluate_rule(&rules[1], &fields).is_some(),
                keyword,
                "{event}"
            );
        }
    }

    #[test]
    fn case_and_unicode() {
        let d = "    sel:\n        CommandLine|contains: 'kill'\n    condition: sel";
        // U+212A KELVIN SIGN lower-cases to an ASCII `k`.
        assert_eq!(
            check(d, json!({"CommandLine": "\u{212A}ILL"})),
            (true, true, true)
        );
        let d = "    sel:\n        CommandLine|contains|cased: 'Kill'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "kill"})),
            (true, true, false)
        );
        let d = "    sel:\n        CommandLine|contains: 'ÄRZTE'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "die Ärzte"})),
            (true, true, true)
        );
    }

    #[test]
    fn modifiers_without_literals_are_gated_on_presence() {
        for d in [
            "    sel:\n        DestinationIp|cidr: '10.0.0.0/8'\n    condition: sel",
            "    sel:\n        LogonType: 1\n    condition: sel",
            "    sel:\n        LogonType|gt: 2\n    condition: sel",
            "    sel:\n        CommandLine|re: '.*'\n    condition: sel",
            "    sel:\n        TargetUserName|fieldref: SubjectUserName\n    condition: sel",
            "    sel:\n        CommandLine|exists: true\n    condition: sel",
        ] {
            let rule = compile(d);
            let pf = Prefilter::build(std::slice::from_ref(&rule), &[0], 1);
            assert_eq!(pf.stats().presence_gated, 1, "{d}");
        }
        assert_eq!(
            check(
                "    sel:\n        DestinationIp|cidr: '10.0.0.0/8'\n    condition: sel",
                json!({"DestinationIp": "10.1.2.3"})
            ),
            (true, true, true)
        );
        assert_eq!(
            check(
                "    sel:\n        LogonType: 3\n    condition: sel",
                json!({"Other": 3})
            ),
            (true, false, false)
        );
        // `null` matches an absent field: no gate.
        assert!(
            !check(
                "    sel:\n        CommandLine: null\n    condition: sel",
                json!({})
            )
            .0
        );
    }

    #[test]
    fn numbers_windash_base64() {
        let d = "    sel:\n        EventID: '4688'\n    condition: sel";
        assert_eq!(check(d, json!({"EventID": 4688})), (true, true, true));
        let d = "    sel:\n        CommandLine|windash|contains: '-enc'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "ps /enc AAA"})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "ps \u{2013}enc AAA"})),
            (true, true, true)
        );
        let d =
            "    sel:\n        CommandLine|base64offset|contains: 'http://'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "x aHR0cDovLw y"})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "http://"})),
            (true, false, false)
        );
    }

    #[test]
    fn numeric_equality() {
        let d = "    sel:\n        EventID: 4720\n    condition: sel";
        let rule = compile(d);
        let pf = Prefilter::build(std::slice::from_ref(&rule), &[0], 1);
        assert_eq!(pf.stats().presence_gated, 0);
        for (value, fires) in [
            (json!(4720), true),
            (json!("4720"), true),
            (json!("4720.0"), true),
            (json!("4.72e3"), true),
            (json!(4720.0), true),
            (json!([1, [2, "4720"]]), true),
            (json!(4721), false),
            (json!(" 4720"), false),
            (json!(true), false),
        ] {
            assert_eq!(
                check(d, json!({ "EventID": value })),
                (true, fires, fires),
                "{value}"
            );
        }
        // Small values compare within EPSILON: not gated on the number.
        let d = "    sel:\n        LogonType: 1\n    condition: sel";
        assert!(check(d, json!({"LogonType": 0.9999999999999999})).1);
    }

    #[test]
    fn exact_values() {
        let d = "    sel:\n        Provider_Name: 'Security'\n    condition: sel";
        assert_eq!(
            check(d, json!({"Provider_Name": "SECURITY"})),
            (true, true, true)
        );
        assert_eq!(
            check(
                d,
                json!({"Provider_Name": "Microsoft-Windows-Security-Auditing"})
            ),
            (true, false, false)
        );
        assert_eq!(
            check(d, json!({"Provider_Name": ["x", "security"]})),
            (true, true, true)
        );
        let d = "    sel:\n        Image|cased: 'C:\\X.EXE'\n    condition: sel";
        assert_eq!(check(d, json!({"Image": "C:\\X.EXE"})), (true, true, true));
        assert_eq!(check(d, json!({"Image": "c:\\x.exe"})), (true, true, false));
        let d = "    sel:\n        Status: '1'\n    condition: sel";
        assert_eq!(check(d, json!({"Status": 1})), (true, true, true));
        let d = "    sel:\n        Enabled: 'TRUE'\n    condition: sel";
        assert_eq!(check(d, json!({"Enabled": true})), (true, true, true));
    }

    #[test]
    fn regex_literals() {
        let gate = |p: &str| regex_gate(p, Some("f"));
        let lits = |p: &str| -> Option<Vec<String>> {
            gate(p).map(|g| {
                assert_eq!(g.len(), 1, "{p}: one clause");
                g.into_iter()
                    .flatten()
                    .map(|r| match r {
                        Requirement::Literal { needle, .. } => needle,
                        other => panic!("{other:?}"),
                    })
                    .collect()
            })
        };
        assert_eq!(lits("(?i)whoami.*>"), Some(vec!["whoami".to_string()]));
        assert_eq!(lits("ipconfig\\s+/all"), Some(vec!["ipconfig".to_string()]));
        assert_eq!(
            lits("(?i)(net|sc)\\.exe.*query"),
            Some(vec!["query".to_string()])
        );
        assert_eq!(
            lits("(?:mimikatz|sekurlsa)::"),
            Some(vec!["mimikatz".to_string(), "sekurlsa".to_string()])
        );
        // Unicode case folding: `k` and `s` also match the Kelvin sign and the long s.
        assert_eq!(lits("(?i)kiss"), None);
        assert_eq!(lits("(?i)Xkill"), Some(vec!["ill".to_string()]));
        assert_eq!(lits("(?i)ki(?-u:ss)ed"), Some(vec!["issed".to_string()]));
        assert_eq!(lits(".*"), None);
        assert_eq!(lits("a|bcd"), None);
        assert_eq!(lits("[0-9]+"), None);
        let d = "    sel:\n        CommandLine|re: '(?i)ki\\s+ll'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "\u{212A}I  LL"})),
            (true, true, true)
        );
        let d = "    sel:\n        CommandLine|re: 'invoke-(?:expression|webrequest)'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "invoke-expression"})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "Invoke-Expression"})),
            (true, true, false)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "iex"})),
            (true, false, false)
        );
        let d = "    sel:\n        CommandLine|contains: 'whoami*>'\n    condition: sel";
        assert_eq!(
            check(d, json!({"CommandLine": "WHOAMI /all > x"})),
            (true, true, true)
        );
        assert_eq!(
            check(d, json!({"CommandLine": "cmd > x"})),
            (true, false, false)
        );
    }

    #[test]
    fn all_of_picks_one_part() {
        let d = "    sel_img:\n        Image|endswith: '\\net.exe'\n    sel_cli:\n        CommandLine|contains: ' user '\n    condition: all of sel_*";
        assert_eq!(
            check(
                d,
                json!({"Image": "c:\\net.exe", "CommandLine": "net user x"})
            ),
            (true, true, true)
        );
        let (gated, open, _) = check(d, json!({"Image": "c:\\cmd.exe", "CommandLine": "x"}));
        assert!(gated && !open);
    }

    #[test]
    fn every_clause_of_an_and_must_hold() {
        // The first clause (the image) holds, the second (the command line) does not.
        let d = "    sel_img:\n        Image|endswith: '\\net.exe'\n    sel_cli:\n        CommandLine|contains: ' user '\n    condition: all of sel_*";
        let (gated, open, fires) = check(
            d,
            json!({"Image": "c:\\net.exe", "CommandLine": "net view"}),
        );
        assert!(gated && !open && !fires);
        // Nor the other way round; nor when the field of the second is absent.
        let (_, open, _) = check(
            d,
            json!({"Image": "c:\\cmd.exe", "CommandLine": "net user"}),
        );
        assert!(!open);
        let (_, open, _) = check(d, json!({"Image": "c:\\net.exe"}));
        assert!(!open);
        // Three parts: a number, a short exact value and a literal. The two most
        // selective are the clauses; the short value is left to rsigma.
        let d = "    sel:\n        EventID: 5145\n        ObjectType: 'File'\n        RelativeTargetName|endswith: '\\desktop.ini'\n    condition: sel";
        let all =
            json!({"EventID": 5145, "ObjectType": "FILE", "RelativeTargetName": "x\\desktop.ini"});
        assert_eq!(check(d, all.clone()), (true, true, true));
        for (field, other, skipped) in [
            ("EventID", json!(4624), true),
            ("ObjectType", json!("Key"), false),
            ("RelativeTargetName", json!("x.ini"), true),
        ] {
            let mut event = all.clone();
            event[field] = other;
            assert_eq!(check(d, event), (true, !skipped, false), "{field}");
        }
    }

    #[test]
    fn or_of_ands_keeps_a_clause_per_depth() {
        // (Image and CommandLine) or CommandLine: the second clause is the union of the
        // first branch's command-line literal and the second branch's.
        let d = "    sel_1:\n        Image|contains: '\\windows\\'\n        CommandLine|contains: '\\..\\system32\\'\n    sel_2:\n        CommandLine|contains: '.exe\\..\\'\n    condition: 1 of sel_*";
        let rule = compile(d);
        let gate = rule_gate(&rule).expect("gated");
        assert_eq!(gate.len(), 2, "{gate:?}");
        let not = compile("    sel:\n        Image|endswith: 'x'\n    condition: not sel");
        let pf = Prefilter::build(&[rule, not], &[0, 0], 1);
        assert_eq!((pf.stats().ungated, pf.stats().clauses), (1, 2));
        let (gated, open, _) = check(
            d,
            json!({"Image": "c:\\windows\\x.exe", "CommandLine": "x.exe run"}),
        );
        assert!(gated && !open);
        for cli in ["c:\\a\\..\\system32\\x", "y.exe\\..\\z"] {
            let event = json!({"Image": "c:\\windows\\x.exe", "CommandLine": cli});
            assert_eq!(check(d, event), (true, true, true), "{cli}");
        }
        // The second branch alone, without the first's image.
        let event = json!({"Image": "d:\\x.exe", "CommandLine": "y.exe\\..\\z"});
        assert_eq!(check(d, event), (true, true, true));
    }

    #[test]
    fn a_clause_on_a_value_too_deep_to_scan_holds() {
        let d = "    sel:\n        Image|endswith: '\\net.exe'\n        CommandLine|contains: ' user '\n    condition: sel";
        let mut deep = json!("x");
        for _ in 0..(MAX_SCAN_DEPTH + 5) {
            deep = json!([deep]);
        }
        let rule = compile(d);
        let pf = Prefilter::build(std::slice::from_ref(&rule), &[0], 1);
        let fields = Fields::from_map(
            json!({"Image": "c:\\net.exe", "CommandLine": deep})
                .as_object()
                .cloned()
                .expect("an object"),
        );
        // Whichever clause comes first, the event is not skipped.
        assert!(
            pf.open_gates(&fields, &[0])
                .is_none_or(|open| pf.is_open(&fields, &open, 0))
        );
    }

    #[test]
    fn deep_conditions() {
        // As deep as the Sigma parser takes; past MAX_ANALYSIS_DEPTH a part has no gate.
        let cond = format!("{}sel{}", "sel or (".repeat(30), ")".repeat(30));
        let d = format!("    sel:\n        Image|endswith: 'x.exe'\n    condition: {cond}");
        assert_eq!(check(&d, json!({"Image": "c:\\x.exe"})), (true, true, true));
        let rule = compile(&d);
        let cond = &rule.conditions[0];
        assert!(condition_gate(cond, &rule, MAX_ANALYSIS_DEPTH + 1).is_none());
        assert!(condition_gate(cond, &rule, 0).is_some());
    }

    /// The hand-stepped scan finds what `AhoCorasick`'s overlapping search finds, with
    /// each kind of automaton, in short texts and in long ones scanned as two halves.
    #[test]
    fn scan_matches_aho_corasick() {
        let needles: Vec<String> = [
            "mimikatz",
            "katz",
            "a",
            "ab",
            "abab",
            "sekurlsa::",
            "\\cmd.exe",
            "exe",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain((0..150).map(|i| format!("n{i}x")))
        .collect();
        let texts: Vec<String> = vec![
            String::new(),
            "MimiKatz abab".to_string(),
            format!("{}abab{}", "x".repeat(95), "y".repeat(200)),
            format!("{}sekurlsa::{}n17x", "q".repeat(191), "z".repeat(3)),
            (0..400)
                .map(|i| if i % 7 == 0 { 'a' } else { 'b' })
                .collect(),
            format!("{}\\CMD.EXE{}mimikatz", "c".repeat(300), "d".repeat(300)),
        ];
        for count in [8, 158] {
            let set = &needles[..count];
            let ac = aho_corasick::AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(set)
                .expect("builds");
            let ours = Searcher::build(set).expect("builds");
            assert_eq!(
                std::mem::discriminant(&ours),
                std::mem::discriminant(&if count <= MAX_DFA_NEEDLES {
                    Searcher::Dfa(aho_corasick::dfa::DFA::new(["x"]).expect("dfa"))
                } else {
                    Searcher::Contiguous(
                        aho_corasick::nfa::contiguous::NFA::new(["x"]).expect("nfa"),
                    )
                })
            );
            let nnfa = aho_corasick::nfa::noncontiguous::Builder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(set)
                .expect("builds");
            for searcher in [ours, Searcher::Noncontiguous(nnfa)] {
                for text in &texts {
                    let want: std::collections::BTreeSet<usize> = ac
                        .find_overlapping_iter(text.as_str())
                        .map(|m| m.pattern().as_usize())
                        .collect();
                    let mut got = std::collections::BTreeSet::new();
                    assert!(searcher.for_each_match(text, |i| {
                        got.insert(i);
                    }));
                    assert_eq!(got, want, "{count} needles, {text:?}");
                }
            }
        }
    }

    /// The same over random texts and needles of a small alphabet, at every length
    /// around the points where the scan is cut into parts.
    #[test]
    fn scan_matches_aho_corasick_random() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        let alphabet = b"abcA\\-";
        for round in 0..60 {
            let count = if round % 3 == 0 { 120 } else { 1 + next(30) };
            let needles: Vec<String> = (0..count)
                .map(|_| {
                    let len = 1 + next(if round % 2 == 0 { 6 } else { 40 });
                    (0..len)
                        .map(|_| alphabet[next(alphabet.len() as u64)] as char)
                        .collect()
                })
                .collect();
            let ac = aho_corasick::AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(&needles)
                .expect("builds");
            let ours = Searcher::build(&needles).expect("builds");
            for len in [0, 1, 50, 191, 192, 193, 383, 384, 385, 700, 1500] {
                let text: String = (0..len)
                    .map(|_| alphabet[next(alphabet.len() as u64)] as char)
                    .collect();
                let want: std::collections::BTreeSet<usize> = ac
                    .find_overlapping_iter(text.as_str())
                    .map(|m| m.pattern().as_usize())
                    .collect();
                let mut got = std::collections::BTreeSet::new();
                assert!(ours.for_each_match(&text, |i| {
                    got.insert(i);
                }));
                assert_eq!(got, want, "round {round}, {len} bytes");
            }
        }
    }

    /// The memo opens what a scan opens: for a value seen before, for the same value in
    /// another needle set, and after the memo was cleared for being full.
    #[test]
    fn remembered_scans_open_what_scans_open() {
        let set = |needles: &[&str], rules: usize| {
            let mut map = NeedleMap::new();
            for (i, n) in needles.iter().enumerate() {
                add_needle(&mut map, n.to_string(), (i % rules) as u32);
            }
            NeedleSet::build(map, RuleBits::full(1)).expect("builds")
        };
        let a = set(&["mimikatz", "sekurlsa", "exe", "\\cmd"], 4);
        let b = set(&["powershell", "exe"], 2);
        let texts = [
            "C:\\Windows\\System32\\cmd.exe /c mimikatz.exe",
            "powershell.exe -enc AAAA",
            "",
            "nothing here",
        ];
        let scanned = |s: &NeedleSet, t: &str| {
            let mut open = RuleBits::new(4);
            assert!(s.mark(t, &mut open));
            open.0
        };
        let remembered = |s: &NeedleSet, t: &str| {
            let mut open = RuleBits::new(4);
            assert!(s.mark_memo(t, &mut open));
            open.0
        };
        for round in 0..3 {
            for t in texts {
                for s in [&a, &b] {
                    assert_eq!(remembered(s, t), scanned(s, t), "round {round}: {t:?}");
                }
            }
        }
        // Fill the memo past its bound: it starts afresh and still agrees.
        for i in 0..MEMO_MAX_ENTRIES + 10 {
            let t = format!("value {i} exe");
            assert_eq!(remembered(&a, &t), scanned(&a, &t));
        }
        assert!(MEMO.with_borrow(|m| m.entries) <= MEMO_MAX_ENTRIES);
        for t in texts {
            assert_eq!(remembered(&a, t), scanned(&a, t), "{t:?}");
        }
    }

    #[test]
    fn deeply_nested_events_open_everything() {
        let rule = compile("    sel:\n        a: 'x'\n    condition: sel");
        let pf = Prefilter::build(std::slice::from_ref(&rule), &[0], 1);
        let mut deep = json!("x");
        for _ in 0..300 {
            deep = json!([deep]);
        }
        let mut fields = Fields::new();
        fields.insert("a", deep);
        assert!(pf.open_gates(&fields, &[0]).is_none());
    }
}
