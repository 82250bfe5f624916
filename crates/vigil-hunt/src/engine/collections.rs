//! Collections element by element: maps, lists, dicts and objects built in the analysed code
//! keep each element's value apart, so that one tainted entry does not taint its neighbours.

use super::*;
use std::collections::BTreeMap;

/// `o[i]`: the element when the key or position is known, else any element.
pub(super) fn elem_at<'p>(o: &Val<'p>, i: &Val<'p>) -> Val<'p> {
    if let (Some(Lit::Str(s)), Some(Lit::Int(n))) = (&o.konst, &i.konst) {
        let chars: Vec<char> = s.chars().collect();
        let idx = if *n < 0 { chars.len() as i64 + n } else { *n };
        if let Some(c) = usize::try_from(idx).ok().and_then(|k| chars.get(k)) {
            return Val::konst(Lit::Str(c.to_string()));
        }
    }
    if let Some(e) = &o.elems {
        match (&**e, &i.konst) {
            (Elems::Map(m), Some(k)) => {
                let mut v = m.get(&key_text(k)).cloned().unwrap_or_default();
                v.taint = union(v.taint, o.taint.as_ref());
                return v;
            }
            (Elems::List(l), Some(Lit::Int(n))) => {
                let idx = if *n < 0 { l.len() as i64 + n } else { *n };
                let mut v = usize::try_from(idx)
                    .ok()
                    .and_then(|k| l.get(k))
                    .cloned()
                    .unwrap_or_default();
                v.taint = union(v.taint, o.taint.as_ref());
                return v;
            }
            _ => {}
        }
    }
    let mut v = o.any_elem();
    if o.ty.as_deref() == Some("String") {
        v.ty = o.ty.clone();
    }
    v
}

/// What a loop over `it` binds on each pass: any of its elements.
pub(super) fn iter_elem<'p>(it: &Val<'p>) -> Val<'p> {
    if let Some(e) = &it.elems {
        let mut v = Val::tainted(it.taint.clone());
        match &**e {
            Elems::List(l) => {
                for x in l {
                    v = v.join(x);
                }
            }
            Elems::Map(m) => {
                // Iterating a dict yields its keys: constants, unless whole-tainted.
                let _ = m;
            }
        }
        return v;
    }
    Val::tainted(it.all_taint())
}

impl<'p> Engine<'p> {
    /// `props.getProperty("k", "default")` and `conf.get("section", "k")` with constant keys.
    pub(super) fn config_lookup(&self, site: &Site, args: &[Val<'p>]) -> Option<Val<'p>> {
        if site.name != "getProperty" || site.qual.as_deref() == Some("System.getProperty") {
            return None;
        }
        let key = args.first()?.str_konst()?;
        match self.idx.properties.get(key) {
            Some(v) => Some(Val::konst(Lit::Str(v.clone()))),
            None => args.get(1).map(|d| Val {
                konst: d.konst.clone(),
                ..Val::default()
            }),
        }
    }

    /// Maps, lists and config objects built in the analysed code, element by element.
    pub(super) fn collection_op(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
    ) -> Option<Val<'p>> {
        let recv = recv?;
        let path = c.receiver.as_ref()?.dotted();
        let known = recv.elems.clone();
        let store = |eng: &mut Self, st: &mut State<'p>, fr: &Frame<'p>, v: Val<'p>| {
            if let Some(p) = &path {
                eng.write_path(fr, st, p, v);
            }
        };
        let sem = self.sem;
        match (c.name.as_str(), args.len()) {
            // map.put(k, v), dict/ConfigParser-like set(section, k, v)
            ("put" | "setdefault", 2) | ("set", 3)
                if known.is_some()
                    || recv.ty.as_deref().is_some_and(is_map_type)
                    || c.name == "set" =>
            {
                let (k, v) = if args.len() == 3 {
                    let key = match (&args[0].konst, &args[1].konst) {
                        (Some(a), Some(b)) => Val::konst(Lit::Str(format!(
                            "{}\u{1}{}",
                            sem.const_text(a),
                            sem.const_text(b)
                        ))),
                        _ => Val::tainted(union(args[0].all_taint(), args[1].all_taint().as_ref())),
                    };
                    (key, args[2].clone())
                } else {
                    (args[0].clone(), args[1].clone())
                };
                let base = if known.is_some() {
                    recv.clone()
                } else {
                    empty_map(recv)
                };
                let updated = store_elem(&base, &k, v);
                store(self, st, fr, updated);
                Some(Val::default())
            }
            ("get" | "getOrDefault" | "pop" | "remove", 1 | 2)
                if matches!(known.as_deref(), Some(Elems::Map(_))) =>
            {
                let key = if c.name == "get"
                    && args.len() == 2
                    && recv.ty.as_deref() == Some("ConfigParser")
                {
                    match (&args[0].konst, &args[1].konst) {
                        (Some(a), Some(b)) => Val::konst(Lit::Str(format!(
                            "{}\u{1}{}",
                            sem.const_text(a),
                            sem.const_text(b)
                        ))),
                        _ => return Some(recv.any_elem()),
                    }
                } else {
                    args[0].clone()
                };
                let mut v = elem_at(recv, &key);
                if key.konst.is_some()
                    && let Some(Elems::Map(m)) = known.as_deref()
                    && !m.contains_key(&key_text(key.konst.as_ref()?))
                    && let Some(d) = args.get(1)
                {
                    v = d.clone();
                    v.taint = union(v.taint, recv.taint.as_ref());
                }
                if (c.name == "pop" || c.name == "remove")
                    && let (Some(k), Some(Elems::Map(m))) = (&key.konst, known.as_deref())
                {
                    let mut m = m.clone();
                    m.remove(&key_text(k));
                    let mut nv = recv.clone();
                    nv.elems = Some(Rc::new(Elems::Map(m)));
                    store(self, st, fr, nv);
                }
                Some(v)
            }
            ("add" | "append" | "push" | "addLast" | "offer", 1)
                if matches!(known.as_deref(), Some(Elems::List(_)))
                    || recv.ty.as_deref().is_some_and(is_list_type) =>
            {
                let mut items = match known.as_deref() {
                    Some(Elems::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
                items.push(args[0].clone());
                let mut nv = recv.clone();
                nv.elems = Some(Rc::new(Elems::List(items)));
                store(self, st, fr, nv);
                Some(Val::konst(Lit::Bool(true)))
            }
            ("add" | "insert", 2) if matches!(known.as_deref(), Some(Elems::List(_))) => {
                let Some(Elems::List(l)) = known.as_deref() else {
                    return None;
                };
                let mut items = l.clone();
                match args[0].konst {
                    Some(Lit::Int(i)) if i >= 0 && (i as usize) <= items.len() => {
                        items.insert(i as usize, args[1].clone())
                    }
                    _ => {
                        let mut nv =
                            Val::tainted(union(recv.all_taint(), args[1].all_taint().as_ref()));
                        nv.ty = recv.ty.clone();
                        store(self, st, fr, nv);
                        return Some(Val::default());
                    }
                }
                let mut nv = recv.clone();
                nv.elems = Some(Rc::new(Elems::List(items)));
                store(self, st, fr, nv);
                Some(Val::default())
            }
            ("get", 1) if matches!(known.as_deref(), Some(Elems::List(_))) => {
                Some(elem_at(recv, &args[0]))
            }
            ("remove" | "pop", 0 | 1) if matches!(known.as_deref(), Some(Elems::List(_))) => {
                let Some(Elems::List(l)) = known.as_deref() else {
                    return None;
                };
                let mut items = l.clone();
                let at = match args.first().map(|a| &a.konst) {
                    None => sem.pop_index(items.len()),
                    Some(Some(Lit::Int(i))) => {
                        let i = if *i < 0 { items.len() as i64 + i } else { *i };
                        usize::try_from(i).ok().filter(|i| *i < items.len())
                    }
                    _ => None,
                };
                match at {
                    Some(i) => {
                        let v = items.remove(i);
                        let mut nv = recv.clone();
                        nv.elems = Some(Rc::new(Elems::List(items)));
                        store(self, st, fr, nv);
                        Some(v)
                    }
                    None => Some(recv.any_elem()),
                }
            }
            ("set", 2) if matches!(known.as_deref(), Some(Elems::List(_))) => {
                let updated = store_elem(recv, &args[0], args[1].clone());
                store(self, st, fr, updated);
                Some(Val::default())
            }
            (
                "add_section" | "clear" | "size" | "isEmpty" | "containsKey" | "has_option"
                | "has_section",
                _,
            ) if known.is_some() => Some(Val::default()),
            _ => None,
        }
    }
}

pub(super) fn is_map_type(t: &str) -> bool {
    t.ends_with("Map") || matches!(t, "dict" | "Properties" | "Hashtable" | "ConfigParser")
}

pub(super) fn is_list_type(t: &str) -> bool {
    t.ends_with("List")
        || matches!(
            t,
            "list" | "Vector" | "Stack" | "ArrayDeque" | "LinkedList" | "deque"
        )
}

pub(super) fn empty_map<'p>(like: &Val<'p>) -> Val<'p> {
    Val {
        taint: like.taint.clone(),
        ty: like.ty.clone(),
        elems: Some(Rc::new(Elems::Map(BTreeMap::new()))),
        ..Val::default()
    }
}

/// `obj[key] = v` on an abstract value.
pub(super) fn store_elem<'p>(obj: &Val<'p>, key: &Val<'p>, v: Val<'p>) -> Val<'p> {
    let mut out = obj.clone();
    match (obj.elems.as_deref(), &key.konst) {
        (Some(Elems::Map(m)), Some(k)) => {
            let mut m = m.clone();
            m.insert(key_text(k), v);
            out.elems = Some(Rc::new(Elems::Map(m)));
        }
        (Some(Elems::List(l)), Some(Lit::Int(i))) if (*i as usize) < l.len() && *i >= 0 => {
            let mut l = l.clone();
            l[*i as usize] = v;
            out.elems = Some(Rc::new(Elems::List(l)));
        }
        (None, Some(k)) if obj.ty.as_deref().is_some_and(|t| t == "dict") => {
            let mut m = BTreeMap::new();
            m.insert(key_text(k), v);
            out.elems = Some(Rc::new(Elems::Map(m)));
        }
        _ => {
            out.taint = union(out.taint, v.all_taint().as_ref());
            out.taint = union(out.taint, key.all_taint().as_ref());
        }
    }
    out.bounded()
}

/// The object a constructor built: its `this.*` variables as fields.
pub(super) fn object_from_fields<'p>(st: &State<'p>, self_name: &str, this: &Val<'p>) -> Val<'p> {
    let mut m = BTreeMap::new();
    for (f, v) in st.vars.fields_of(self_name) {
        m.insert(f.to_string(), v.clone());
    }
    let mut out = this.clone();
    out.elems = Some(Rc::new(Elems::Map(m)));
    out.bounded()
}

/// The key an element is stored under: one spelling for every language, since keys only
/// need to compare equal (`True` and `None` as keys, numbers and strings as written).
pub(super) fn key_text(l: &Lit) -> String {
    match l {
        Lit::Str(s) => s.clone(),
        Lit::Int(i) => i.to_string(),
        Lit::Float(f) => f.to_string(),
        Lit::Bool(true) => "True".into(),
        Lit::Bool(false) => "False".into(),
        Lit::Null => "None".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    fn tainted<'p>() -> Val<'p> {
        Val::tainted(Some(Taint::new(1, 0, Span::default(), "input".into())))
    }

    fn key<'p>(k: &str) -> Val<'p> {
        Val::konst(Lit::Str(k.into()))
    }

    #[test]
    fn map_entries_keep_their_own_values() {
        let m = empty_map(&Val::typed("dict"));
        let m = store_elem(&m, &key("safe"), Val::konst(Lit::Str("ls".into())));
        let m = store_elem(&m, &key("bad"), tainted());
        assert!(elem_at(&m, &key("safe")).taint.is_none());
        assert_eq!(elem_at(&m, &key("safe")).str_konst(), Some("ls"));
        assert!(elem_at(&m, &key("bad")).taint.is_some());
        // An unknown key may be any entry.
        assert!(elem_at(&m, &Val::default()).taint.is_some());
        // A key stored with an unknown name taints the whole map.
        let whole = store_elem(&empty_map(&Val::default()), &Val::default(), tainted());
        assert!(elem_at(&whole, &key("safe")).taint.is_some());
    }

    #[test]
    fn list_positions_keep_their_own_values() {
        let l = Val {
            elems: Some(Rc::new(Elems::List(vec![Val::default(), tainted()]))),
            ..Val::default()
        };
        let at = |i: i64| elem_at(&l, &Val::konst(Lit::Int(i)));
        assert!(at(0).taint.is_none());
        assert!(at(1).taint.is_some());
        assert!(at(-1).taint.is_some());
        assert!(at(-2).taint.is_none());
        assert!(at(5).taint.is_none());
        assert!(iter_elem(&l).taint.is_some());
        // Overwriting a position replaces only that element.
        let l = store_elem(&l, &Val::konst(Lit::Int(1)), Val::default());
        assert!(l.all_taint().is_none());
    }

    #[test]
    fn constant_strings_index_by_character() {
        let s = Val::konst(Lit::Str("héllo".into()));
        assert_eq!(elem_at(&s, &Val::konst(Lit::Int(1))).str_konst(), Some("é"));
        assert_eq!(
            elem_at(&s, &Val::konst(Lit::Int(-1))).str_konst(),
            Some("o")
        );
    }

    #[test]
    fn object_fields_come_from_receiver_variables() {
        let mut st = State::default();
        st.set("self.a", tainted());
        st.set("self.b", Val::default());
        st.set("self.x.y", tainted());
        st.set("other", tainted());
        let obj = object_from_fields(&st, "self", &Val::typed("C"));
        let Some(Elems::Map(m)) = obj.elems.as_deref() else {
            panic!("an object is a map of its fields");
        };
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(obj.ty.as_deref(), Some("C"));
    }

    #[test]
    fn pop_takes_the_end_the_language_takes() {
        let python = r#"import os
def f():
    l = ["ls", input()]
    os.system(l.pop(0))
    os.system(l.pop())
"#;
        assert_eq!(lines("p.py", python, "python/command-injection"), [5]);
        let java = r#"import java.util.*;
import javax.servlet.http.HttpServletRequest;
class Q {
    void f(HttpServletRequest req) throws Exception {
        List<String> l = new ArrayList<>();
        l.add("ls");
        l.add(req.getParameter("p"));
        Runtime.getRuntime().exec(l.get(0));
        Runtime.getRuntime().exec(l.get(1));
        Queue<String> q = new LinkedList<>();
        q.add("ls");
        q.add(req.getParameter("p"));
        Runtime.getRuntime().exec(q.remove());
    }
}
"#;
        assert_eq!(lines("Q.java", java, "java/command-injection"), [9]);
    }

    #[test]
    fn popping_an_emptied_list_is_no_crash() {
        let java = r#"import java.util.*;
class E {
    void f() {
        Deque<String> d = new ArrayDeque<>();
        d.push("a");
        d.pop();
        d.pop();
    }
}
"#;
        assert!(lines("E.java", java, "java/command-injection").is_empty());
    }
}
