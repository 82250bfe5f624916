//! Abstract values of the taint engine: what a variable may hold.

use super::vars::Vars;
use crate::rules::UrlFixed;
use std::collections::BTreeMap;
use std::rc::Rc;
use vigil_code::{Function, Lit, Span};

/// One bit per taint rule of the language: the rules for which the data is still dangerous.
pub type Mask = u128;

/// A step of a taint path, shared between values (a persistent linked list).
#[derive(Debug)]
pub struct Step {
    pub file: usize,
    pub span: Span,
    pub msg: String,
    pub prev: Option<Rc<Step>>,
    pub len: u16,
}

/// Paths longer than this stop growing: the first steps and the sink matter most.
const MAX_PATH: u16 = 24;

#[derive(Debug, Clone)]
pub struct Taint {
    pub mask: Mask,
    pub path: Rc<Step>,
}

impl Taint {
    pub fn new(mask: Mask, file: usize, span: Span, msg: String) -> Taint {
        Taint {
            mask,
            path: Rc::new(Step {
                file,
                span,
                msg,
                prev: None,
                len: 1,
            }),
        }
    }

    pub fn step(&self, file: usize, span: Span, msg: impl FnOnce() -> String) -> Taint {
        if self.path.len >= MAX_PATH || (self.path.file == file && self.path.span == span) {
            return self.clone();
        }
        Taint {
            mask: self.mask,
            path: Rc::new(Step {
                file,
                span,
                msg: msg(),
                prev: Some(self.path.clone()),
                len: self.path.len + 1,
            }),
        }
    }

    /// The steps from the source to the latest.
    pub fn steps(&self) -> Vec<&Step> {
        let mut out = Vec::new();
        let mut cur: Option<&Step> = Some(&self.path);
        while let Some(s) = cur {
            out.push(s);
            cur = s.prev.as_deref();
        }
        out.reverse();
        out
    }
}

pub fn union(a: Option<Taint>, b: Option<&Taint>) -> Option<Taint> {
    match (a, b) {
        (None, None) => None,
        (Some(a), None) => Some(a),
        (None, Some(b)) => Some(b.clone()),
        (Some(mut a), Some(b)) => {
            a.mask |= b.mask;
            Some(a)
        }
    }
}

/// Library inputs (see `LangRules::library`) carry their rules' bits shifted up by this
/// much: they reach no sink until a string is built from them.
pub const CONSTRUCTED_SHIFT: u32 = 64;

/// Text built from `t` (`'git clone ' + url`, a template): library inputs in it now count
/// for their rules.
pub fn constructed(t: Option<Taint>) -> Option<Taint> {
    t.map(|mut t| {
        t.mask |= t.mask >> CONSTRUCTED_SHIFT;
        t
    })
}

/// The type of an object reached by an attacker-chosen key (`cur = cur[key]`, a merge's
/// `target[key]` passed down its recursion): a store into it under another such key may
/// write to a prototype.
pub const KEYED: &str = "$keyed";

/// Library-input bits count as the rules' own (for checks that need no text built).
pub fn lifted(mask: Mask) -> Mask {
    mask | (mask >> CONSTRUCTED_SHIFT)
}

/// Keep only the bits in `keep`; no bits left means clean.
pub fn restrict(t: Option<Taint>, keep: Mask) -> Option<Taint> {
    t.and_then(|mut t| {
        t.mask &= keep;
        (t.mask != 0).then_some(t)
    })
}

/// Element-level knowledge of a collection or object built in the analysed code.
#[derive(Debug, Clone)]
pub enum Elems<'p> {
    /// Maps, dicts, and object fields, by constant key.
    Map(BTreeMap<String, Val<'p>>),
    /// Lists, arrays and tuples, by position.
    List(Vec<Val<'p>>),
}

#[derive(Debug, Clone, Default)]
pub struct Val<'p> {
    /// Taint of the value as a whole (and of every element).
    pub taint: Option<Taint>,
    pub konst: Option<Lit>,
    /// Simple type name, when known.
    pub ty: Option<Rc<str>>,
    pub elems: Option<Rc<Elems<'p>>>,
    /// A function bound to a local name: (file, definition).
    pub func: Option<(usize, &'p Function)>,
    /// The module or module attribute this value is (`flask.request`), kept through
    /// assignments and fields so that `self.req.args` still resolves to a source.
    pub module_path: Option<Rc<str>>,
    /// How much of a URL the text built so far settles (a fixed `"/user/"` or `"?q="`
    /// somewhere in it), beyond what its constant shows: see [`Val::url_fixed`].
    pub url_fixed: UrlFixed,
}

impl<'p> Val<'p> {
    pub fn konst(l: Lit) -> Val<'p> {
        let ty: Option<Rc<str>> = match &l {
            Lit::Str(_) => Some("String".into()),
            Lit::Int(_) => Some("int".into()),
            Lit::Bool(_) => Some("boolean".into()),
            Lit::Float(_) => Some("double".into()),
            Lit::Null => None,
        };
        Val {
            konst: Some(l),
            ty,
            ..Val::default()
        }
    }

    pub fn typed(ty: &str) -> Val<'p> {
        Val {
            ty: Some(ty.into()),
            ..Val::default()
        }
    }

    pub fn tainted(t: Option<Taint>) -> Val<'p> {
        Val {
            taint: t,
            ..Val::default()
        }
    }

    /// How much of a URL this string settles for data appended after it: from its
    /// constant text, or from the fixed pieces it was built from.
    pub fn url_fixed(&self) -> UrlFixed {
        match self.str_konst() {
            Some(s) => self.url_fixed.max(UrlFixed::of_text(s)),
            None => self.url_fixed,
        }
    }

    pub fn str_konst(&self) -> Option<&str> {
        match &self.konst {
            Some(Lit::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Taint of the value and of everything stored in it.
    pub fn all_taint(&self) -> Option<Taint> {
        let mut t = self.taint.clone();
        if let Some(e) = &self.elems {
            match &**e {
                Elems::Map(m) => {
                    for v in m.values() {
                        t = union(t, v.all_taint().as_ref());
                    }
                }
                Elems::List(l) => {
                    for v in l {
                        t = union(t, v.all_taint().as_ref());
                    }
                }
            }
        }
        t
    }

    /// The value of an element read with an unknown key: any element, or the whole.
    pub fn any_elem(&self) -> Val<'p> {
        Val::tainted(self.all_taint())
    }

    /// Join at a control-flow merge: may be either.
    pub fn join(&self, other: &Val<'p>) -> Val<'p> {
        let mut taint = union(self.taint.clone(), other.taint.as_ref());
        let konst = match (&self.konst, &other.konst) {
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => None,
        };
        let ty = match (&self.ty, &other.ty) {
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            (Some(a), None) => Some(a.clone()),
            (None, Some(b)) => Some(b.clone()),
            _ => None,
        };
        let elems = match (&self.elems, &other.elems) {
            (Some(a), Some(b)) if Rc::ptr_eq(a, b) => Some(a.clone()),
            (Some(a), Some(b)) => match (&**a, &**b) {
                (Elems::Map(x), Elems::Map(y)) => {
                    let mut m = x.clone();
                    for (k, v) in y {
                        let j = match m.get(k) {
                            Some(old) => old.join(v),
                            None => v.join(&Val::default()),
                        };
                        m.insert(k.clone(), j);
                    }
                    for (k, v) in m.iter_mut() {
                        if !y.contains_key(k) {
                            *v = v.join(&Val::default());
                        }
                    }
                    Some(Rc::new(Elems::Map(m)))
                }
                (Elems::List(x), Elems::List(y)) if x.len() == y.len() => Some(Rc::new(
                    Elems::List(x.iter().zip(y).map(|(a, b)| a.join(b)).collect()),
                )),
                _ => {
                    taint = union(taint, self.all_taint().as_ref());
                    taint = union(taint, other.all_taint().as_ref());
                    None
                }
            },
            // One side's elements unknown: each of them is that side's whole taint, which
            // the join carries as a whole; the known side keeps its elements apart (their
            // constants no longer hold).
            (Some(e), None) | (None, Some(e)) => Some(Rc::new(loosen(e))),
            (None, None) => None,
        };
        let func = self.func.or(other.func);
        let module_path = match (&self.module_path, &other.module_path) {
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => None,
        };
        Val {
            taint,
            konst,
            ty,
            elems,
            func,
            module_path,
            // Either may flow on: only what both settle holds.
            url_fixed: self.url_fixed.min(other.url_fixed),
        }
    }

    /// Cheap fingerprint for call caching: taint bits and constant.
    pub fn signature(&self, h: &mut impl std::hash::Hasher) {
        let mut budget = 64;
        self.signature_in(h, &mut budget);
    }

    /// Hash what can change a callee's result, visiting at most `budget` values.
    fn signature_in(&self, h: &mut impl std::hash::Hasher, budget: &mut usize) {
        use std::hash::Hash;
        *budget = budget.saturating_sub(1);
        self.taint.as_ref().map(|t| t.mask).hash(h);
        format!("{:?}", self.konst).hash(h);
        self.ty.hash(h);
        self.module_path.hash(h);
        self.func
            .map(|(f, p)| (f, p as *const Function as usize))
            .hash(h);
        match self.elems.as_deref() {
            None => 0u8.hash(h),
            Some(Elems::Map(m)) => {
                1u8.hash(h);
                for (k, v) in m {
                    if *budget == 0 {
                        self.all_taint().map(|t| t.mask).hash(h);
                        return;
                    }
                    k.hash(h);
                    v.signature_in(h, budget);
                }
            }
            Some(Elems::List(l)) => {
                2u8.hash(h);
                for v in l {
                    if *budget == 0 {
                        self.all_taint().map(|t| t.mask).hash(h);
                        return;
                    }
                    v.signature_in(h, budget);
                }
            }
        }
    }

    /// Keep element knowledge small: values nested deeper than 8 or holding more than 256
    /// element values in all collapse into their taint, so hostile code (`a = [a]` a million
    /// times) cannot build values that are slow to join or deep enough to overflow a drop.
    pub fn bounded(self) -> Val<'p> {
        fn size(v: &Val, depth: u8, budget: &mut usize) -> bool {
            if depth > 8 {
                return false;
            }
            let Some(e) = v.elems.as_deref() else {
                return true;
            };
            let children: Box<dyn Iterator<Item = &Val>> = match e {
                Elems::Map(m) => Box::new(m.values()),
                Elems::List(l) => Box::new(l.iter()),
            };
            for c in children {
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                if !size(c, depth + 1, budget) {
                    return false;
                }
            }
            true
        }
        let mut budget = 256;
        if size(&self, 0, &mut budget) {
            return self;
        }
        Val {
            taint: self.all_taint(),
            konst: None,
            ty: self.ty.clone(),
            elems: None,
            func: self.func,
            module_path: None,
            url_fixed: self.url_fixed,
        }
    }
}

/// Two locals that may hold the same object (`b = a` of a list, builder or object), so
/// that a mutation through one is seen through the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub a: Rc<str>,
    pub b: Rc<str>,
    /// On every path here (a strong update reaches the other name), not just on some.
    pub must: bool,
}

/// Aliases kept per program point; more are dropped, so writes stay cheap.
const MAX_ALIASES: usize = 32;

/// Elements joined with an unknown element: the same taint, no constants.
fn loosen<'p>(e: &Elems<'p>) -> Elems<'p> {
    let none = Val::default();
    match e {
        Elems::Map(m) => Elems::Map(m.iter().map(|(k, v)| (k.clone(), v.join(&none))).collect()),
        Elems::List(l) => Elems::List(l.iter().map(|v| v.join(&none)).collect()),
    }
}

/// Variables in scope at a program point.
#[derive(Debug, Clone, Default)]
pub struct State<'p> {
    pub vars: Vars<'p>,
    /// No execution reaches here (after return/break, or in a branch that cannot run).
    pub dead: bool,
    /// Locals that may name one object; usually empty.
    pub aliases: Vec<Alias>,
}

impl<'p> State<'p> {
    pub fn join(&self, other: &State<'p>) -> State<'p> {
        if self.dead {
            return other.clone();
        }
        if other.dead {
            return self.clone();
        }
        let vars = self.vars.join(&other.vars);
        // An alias on both sides holds if it must on both; on one side it only may.
        let mut aliases: Vec<Alias> = Vec::new();
        for x in self.aliases.iter().chain(&other.aliases) {
            let in_other = |l: &[Alias]| l.iter().find(|y| y.a == x.a && y.b == x.b).cloned();
            if aliases.iter().any(|y| y.a == x.a && y.b == x.b) {
                continue;
            }
            let must = match (in_other(&self.aliases), in_other(&other.aliases)) {
                (Some(p), Some(q)) => p.must && q.must,
                _ => false,
            };
            aliases.push(Alias { must, ..x.clone() });
        }
        aliases.truncate(MAX_ALIASES);
        State {
            vars,
            dead: false,
            aliases,
        }
    }

    /// `name` now holds a new value: it no longer shares an object with anyone.
    pub fn unalias(&mut self, name: &str) {
        if !self.aliases.is_empty() {
            self.aliases.retain(|x| &*x.a != name && &*x.b != name);
        }
    }

    /// `name = from`: both name one object, and `name` also aliases what `from` aliases.
    pub fn alias(&mut self, name: &str, from: &str) {
        self.unalias(name);
        if name == from {
            return;
        }
        let mut add = vec![Alias {
            a: name.into(),
            b: from.into(),
            must: true,
        }];
        for x in &self.aliases {
            let other = if &*x.a == from {
                &x.b
            } else if &*x.b == from {
                &x.a
            } else {
                continue;
            };
            add.push(Alias {
                a: name.into(),
                b: other.clone(),
                must: x.must,
            });
        }
        for x in add {
            if self.aliases.len() < MAX_ALIASES {
                self.aliases.push(x);
            }
        }
    }

    /// The other names of `name`'s object, and whether each surely is that object.
    pub fn aliases_of(&self, name: &str) -> Vec<(Rc<str>, bool)> {
        self.aliases
            .iter()
            .filter_map(|x| {
                if &*x.a == name {
                    Some((x.b.clone(), x.must))
                } else if &*x.b == name {
                    Some((x.a.clone(), x.must))
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&Val<'p>> {
        self.vars.get(name)
    }

    pub fn set(&mut self, name: &str, v: Val<'p>) {
        self.vars.insert(name.into(), v);
    }

    /// Forget constants that changed since `prev` (loop widening).
    pub fn widen_from(&mut self, prev: &State<'p>) {
        let changed = self.vars.changed_since(&prev.vars);
        for k in changed {
            if let Some(v) = self.vars.get(&k)
                && v.konst.is_some()
                && prev.vars.get(&k).is_none_or(|p| p.konst != v.konst)
            {
                let mut v = v.clone();
                v.konst = None;
                self.vars.insert(k, v);
            }
        }
    }

    /// A cheap comparison used to stop loop iteration: same taint masks and constants.
    pub fn same_as(&self, other: &State<'p>) -> bool {
        if self.dead != other.dead || self.aliases != other.aliases {
            return false;
        }
        self.vars.same_as(&other.vars, |v, o| {
            o.all_taint().map(|t| t.mask) == v.all_taint().map(|t| t.mask)
                && o.konst == v.konst
                && o.url_fixed == v.url_fixed
        })
    }
}

pub fn truthy(l: &Lit) -> bool {
    match l {
        Lit::Str(s) => !s.is_empty(),
        Lit::Int(i) => *i != 0,
        Lit::Float(f) => *f != 0.0,
        Lit::Bool(b) => *b,
        Lit::Null => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tainted<'p>(mask: Mask) -> Val<'p> {
        Val::tainted(Some(Taint::new(mask, 0, Span::default(), "input".into())))
    }

    #[test]
    fn a_join_keeps_only_what_both_sides_agree_on() {
        let a = Val::konst(Lit::Str("x".into()));
        assert_eq!(a.join(&a).str_konst(), Some("x"));
        let b = Val::konst(Lit::Str("y".into()));
        let j = a.join(&b);
        assert_eq!(j.konst, None);
        assert_eq!(j.ty.as_deref(), Some("String"));
        let t = tainted(0b01).join(&tainted(0b10));
        assert_eq!(t.taint.map(|t| t.mask), Some(0b11));
    }

    #[test]
    fn a_dead_state_joins_as_the_other_side() {
        let mut live = State::default();
        live.set("x", tainted(1));
        let dead = State {
            dead: true,
            ..State::default()
        };
        let j = dead.join(&live);
        assert!(!j.dead && j.get("x").is_some_and(|v| v.taint.is_some()));
    }

    #[test]
    fn aliases_join_as_must_on_both_sides_and_may_on_one() {
        let mut base = State::default();
        base.set("a", Val::default());
        base.set("b", Val::default());
        base.set("c", Val::default());
        let mut both = base.clone();
        both.alias("b", "a");
        let mut one = both.clone();
        one.alias("c", "b");
        // `c = b` also makes `c` an alias of `a`.
        assert_eq!(one.aliases_of("c").len(), 2);
        let j = one.join(&both);
        assert_eq!(
            j.aliases_of("a"),
            vec![("b".into(), true), ("c".into(), false)]
        );
        // Rebinding a name ends its aliases.
        let mut r = j.clone();
        r.unalias("b");
        assert_eq!(r.aliases_of("a"), vec![("c".into(), false)]);
        assert!(!j.same_as(&r));
    }

    #[test]
    fn a_join_with_unknown_elements_keeps_the_known_ones_apart() {
        let known = Val {
            elems: Some(Rc::new(Elems::List(vec![
                Val::konst(Lit::Str("ls".into())),
                tainted(1),
            ]))),
            ..Val::default()
        };
        let j = known.join(&Val::default());
        let Some(Elems::List(l)) = j.elems.as_deref() else {
            panic!("the known side's elements stay");
        };
        assert!(l[0].taint.is_none() && l[0].konst.is_none());
        assert!(l[1].taint.is_some());
        // The unknown side's data is the whole value's.
        let j = known.join(&tainted(2));
        assert_eq!(j.taint.map(|t| t.mask), Some(2));
    }

    #[test]
    fn loop_widening_forgets_constants_that_change() {
        let mut prev = State::default();
        prev.set("i", Val::konst(Lit::Int(0)));
        prev.set("k", Val::konst(Lit::Int(7)));
        let mut next = prev.clone();
        next.set("i", Val::konst(Lit::Int(1)));
        next.widen_from(&prev);
        assert_eq!(next.get("i").and_then(|v| v.konst.clone()), None);
        assert_eq!(
            next.get("k").and_then(|v| v.konst.clone()),
            Some(Lit::Int(7))
        );
    }

    #[test]
    fn deep_or_wide_element_values_collapse_into_their_taint() {
        let mut v = tainted(1);
        for _ in 0..20 {
            v = Val {
                elems: Some(Rc::new(Elems::List(vec![v]))),
                ..Val::default()
            };
        }
        let b = v.bounded();
        assert!(b.elems.is_none());
        assert!(b.taint.is_some());
        let wide = Val {
            elems: Some(Rc::new(Elems::List(vec![Val::default(); 300]))),
            ..Val::default()
        };
        assert!(wide.bounded().elems.is_none());
    }

    #[test]
    fn taint_paths_stop_growing_at_their_bound() {
        let mut t = Taint::new(1, 0, Span::default(), "source".into());
        for line in 1..100 {
            let span = Span {
                start_line: line,
                ..Span::default()
            };
            t = t.step(0, span, || "step".into());
        }
        assert_eq!(t.steps().len(), MAX_PATH as usize);
        assert_eq!(t.steps()[0].msg, "source");
    }
}
