//! The variables of a program point, as a shared base plus this point's own changes.
//!
//! Branches, loops and nested functions copy the state where they start. In a scope with
//! thousands of variables (a bundled JavaScript file is one function holding a whole
//! program), full copies and full joins at every `if` and every closure made analysis
//! quadratic. Here a copy shares the base and copies only the changes, and two states
//! forked from one base join by their changes alone.

use super::value::Val;
use std::collections::BTreeSet;
use std::rc::Rc;

// Variable names come from the scanned code: foldhash is seeded per process, so an attacker
// cannot pick colliding names, and is several times cheaper than SipHash on short keys.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type Map<'p> = HashMap<Rc<str>, Val<'p>>;

/// The folded variables, and the names with a dot (`obj.field`) in order, so that the
/// fields of one object are found without a scan.
#[derive(Debug, Default)]
struct Base<'p> {
    map: Map<'p>,
    dotted: BTreeSet<Rc<str>>,
}

impl<'p> Base<'p> {
    fn new(map: Map<'p>) -> Base<'p> {
        let dotted = map.keys().filter(|k| k.contains('.')).cloned().collect();
        Base { map, dotted }
    }
}

/// Changes kept beside the base before they are folded into a new one: a few are cheap to
/// copy; past this (or a quarter of the base) lookups and copies pay more than a rebuild.
const MAX_DELTA: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct Vars<'p> {
    base: Rc<Base<'p>>,
    /// Written since the base: `None` removes the name.
    delta: HashMap<Rc<str>, Option<Val<'p>>>,
}

impl<'p> Vars<'p> {
    pub fn get(&self, name: &str) -> Option<&Val<'p>> {
        match self.delta.get(name) {
            Some(v) => v.as_ref(),
            None => self.base.map.get(name),
        }
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn insert(&mut self, name: Rc<str>, v: Val<'p>) {
        self.delta.insert(name, Some(v));
        self.settle();
    }

    pub fn remove(&mut self, name: &str) {
        if self.get(name).is_some() {
            self.delta.insert(name.into(), None);
            self.settle();
        }
    }

    /// Every variable and its value, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Rc<str>, &Val<'p>)> {
        let changed = self
            .delta
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)));
        let kept = self
            .base
            .map
            .iter()
            .filter(|(k, _)| !self.delta.contains_key(&***k));
        changed.chain(kept)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Keep only the variables for which `keep` holds.
    #[cfg(test)]
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Val<'p>) -> bool) {
        let gone: Vec<Rc<str>> = self
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.delta.insert(k, None);
        }
        self.settle();
    }

    /// Replace the values `f` changes (it returns the new value, or `None` to keep).
    pub fn update(&mut self, mut f: impl FnMut(&str, &Val<'p>) -> Option<Val<'p>>) {
        let changed: Vec<(Rc<str>, Val<'p>)> = self
            .iter()
            .filter_map(|(k, v)| f(k, v).map(|n| (k.clone(), n)))
            .collect();
        for (k, v) in changed {
            self.delta.insert(k, Some(v));
        }
        self.settle();
    }

    /// Whether both were forked from one base, so that only their changes can differ.
    fn same_base(&self, other: &Vars<'p>) -> bool {
        Rc::ptr_eq(&self.base, &other.base)
    }

    /// The names either side may have changed since the shared base, or every name.
    fn differing(&self, other: &Vars<'p>) -> Vec<Rc<str>> {
        if self.same_base(other) {
            let mut keys: Vec<Rc<str>> = self.delta.keys().cloned().collect();
            keys.extend(
                other
                    .delta
                    .keys()
                    .filter(|k| !self.delta.contains_key(&***k))
                    .cloned(),
            );
            keys
        } else {
            let mut keys: Vec<Rc<str>> = self.iter().map(|(k, _)| k.clone()).collect();
            keys.extend(
                other
                    .iter()
                    .filter(|(k, _)| !self.contains_key(k))
                    .map(|(k, _)| k.clone()),
            );
            keys
        }
    }

    /// At a merge: each variable may hold what either side holds; a name only one side
    /// has may also be unset.
    pub fn join(&self, other: &Vars<'p>) -> Vars<'p> {
        let none = Val::default();
        let joined = |k: &str| match (self.get(k), other.get(k)) {
            (Some(a), Some(b)) => Some(a.join(b)),
            (Some(a), None) => Some(a.join(&none)),
            (None, Some(b)) => Some(b.join(&none)),
            (None, None) => None,
        };
        if self.same_base(other) {
            let mut out = Vars {
                base: self.base.clone(),
                delta: HashMap::default(),
            };
            for k in self.differing(other) {
                let v = joined(&k);
                out.delta.insert(k, v);
            }
            out.settle();
            return out;
        }
        let base: Map<'p> = self
            .differing(other)
            .into_iter()
            .filter_map(|k| joined(&k).map(|v| (k, v)))
            .collect();
        Vars {
            base: Rc::new(Base::new(base)),
            delta: HashMap::default(),
        }
    }

    /// Whether every variable has the same taint bits and constant on both sides.
    pub fn same_as(&self, other: &Vars<'p>, same: impl Fn(&Val<'p>, &Val<'p>) -> bool) -> bool {
        self.differing(other)
            .iter()
            .all(|k| match (self.get(k), other.get(k)) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            })
    }

    /// The names whose value may differ from `prev`'s (all of them unless forked alike).
    pub fn changed_since(&self, prev: &Vars<'p>) -> Vec<Rc<str>> {
        self.differing(prev)
    }

    /// Fold a large set of changes into a new base.
    fn settle(&mut self) {
        if self.delta.len() <= MAX_DELTA.max(self.base.map.len() / 4) {
            return;
        }
        let mut base: Map<'p> = self.base.map.clone();
        for (k, v) in self.delta.drain() {
            match v {
                Some(v) => {
                    base.insert(k, v);
                }
                None => {
                    base.remove(&k);
                }
            }
        }
        self.base = Rc::new(Base::new(base));
    }

    /// The fields written as `name.field` variables (one level: not `name.a.b`).
    pub fn fields_of(&self, name: &str) -> Vec<(&str, &Val<'p>)> {
        let prefix = format!("{name}.");
        let field = |k: &'_ Rc<str>| -> bool {
            k.strip_prefix(prefix.as_str())
                .is_some_and(|f| !f.is_empty() && !f.contains('.'))
        };
        let mut out: Vec<(&str, &Val<'p>)> = self
            .delta
            .iter()
            .filter(|(k, _)| field(k))
            .filter_map(|(k, v)| v.as_ref().map(|v| (&k[prefix.len()..], v)))
            .collect();
        let from: Rc<str> = prefix.as_str().into();
        for k in self.base.dotted.range(from..) {
            if !k.starts_with(prefix.as_str()) {
                break;
            }
            if field(k)
                && !self.delta.contains_key(&**k)
                && let Some(v) = self.base.map.get(k)
            {
                out.push((&k[prefix.len()..], v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_code::Lit;

    fn k(s: &str) -> Val<'static> {
        Val::konst(Lit::Str(s.into()))
    }

    fn text<'a>(v: &'a Vars<'static>, name: &str) -> Option<&'a str> {
        v.get(name).and_then(|v| v.str_konst())
    }

    #[test]
    fn forks_see_the_base_and_keep_their_own_changes() {
        let mut base = Vars::default();
        for i in 0..200 {
            base.insert(format!("v{i}").into(), k("same"));
        }
        let mut a = base.clone();
        let mut b = base.clone();
        a.insert("v1".into(), k("a"));
        b.remove("v2");
        b.insert("new".into(), k("b"));
        assert_eq!(text(&a, "v1"), Some("a"));
        assert_eq!(text(&b, "v1"), Some("same"));
        assert!(b.get("v2").is_none() && a.get("v2").is_some());
        assert_eq!((a.len(), b.len()), (200, 200));

        let j = a.join(&b);
        assert_eq!(text(&j, "v3"), Some("same"));
        assert!(text(&j, "v1").is_none(), "two constants join to none");
        assert!(j.get("v2").is_some() && j.get("new").is_some());
        assert_eq!(j.len(), 201);
        // Forked alike: only names changed since the last fold are visited, not all 200.
        let unfolded = base.changed_since(&base.clone()).len();
        assert!(unfolded <= MAX_DELTA);
        assert_eq!(a.changed_since(&b).len(), unfolded + 3);
    }

    #[test]
    fn many_changes_fold_into_a_new_base_with_the_same_content() {
        let mut v = Vars::default();
        for i in 0..1000 {
            v.insert(format!("v{i}").into(), k(&i.to_string()));
        }
        v.retain(|name, _| name != "v7");
        assert_eq!(v.len(), 999);
        assert_eq!(text(&v, "v999"), Some("999"));
        assert!(v.get("v7").is_none());
        let other = v.clone();
        assert!(v.same_as(&other, |a, b| a.konst == b.konst));
        let mut changed = v.clone();
        changed.update(|name, _| (name == "v8").then(|| k("x")));
        assert!(!v.same_as(&changed, |a, b| a.konst == b.konst));
    }

    #[test]
    fn fields_of_an_object_come_from_the_base_and_the_changes() {
        let mut v = Vars::default();
        for i in 0..300 {
            v.insert(format!("o{i}.f").into(), k("base"));
        }
        v.insert("o1".into(), k("obj"));
        v.insert("o1.g".into(), k("new"));
        v.insert("o1.g.deep".into(), k("deeper"));
        v.insert("o10.f".into(), k("other object"));
        let mut fields: Vec<(&str, Option<&str>)> = v
            .fields_of("o1")
            .into_iter()
            .map(|(f, v)| (f, v.str_konst()))
            .collect();
        fields.sort();
        assert_eq!(fields, [("f", Some("base")), ("g", Some("new"))]);
        v.remove("o1.f");
        assert_eq!(v.fields_of("o1").len(), 1);
    }
}
