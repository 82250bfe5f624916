//! Expressions, names, fields and static references.

use super::collections::{elem_at, iter_elem, key_text};
use super::constfold::{bounded, fold};
use super::semantics::StaticNames;
use super::sinks::path_has_prefix;
use super::*;
use std::collections::BTreeMap;

impl<'p> Engine<'p> {
    pub(super) fn eval(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, e: &'p Expr) -> Val<'p> {
        self.work += 1;
        self.file_work += 1;
        if self.over_budget() {
            return Val::default();
        }
        match e {
            Expr::Lit(l) => Val::konst(l.clone()),
            Expr::Name(n) => self.name(fr, st, n),
            Expr::Field { obj, name } => self.field(fr, st, e, obj, name),
            Expr::Call(c) => self.call(fr, st, c),
            Expr::New {
                class,
                args,
                body,
                span,
            } => {
                if let Some(b) = body {
                    self.pending.push((fr.file, b));
                }
                let vals: Vec<Val<'p>> = args.iter().map(|a| self.eval(fr, st, a)).collect();
                self.construct(fr, st, class, vals, Vec::new(), *span)
            }
            Expr::Binary { op, left, right } => {
                // Short-circuit constants so that `false && x` does not need `x`.
                let l = self.eval(fr, st, left);
                match (op, l.konst.as_ref().map(truthy)) {
                    (BinOp::And, Some(false)) => return Val::konst(Lit::Bool(false)),
                    (BinOp::Or, Some(true)) => return Val::konst(Lit::Bool(true)),
                    _ => {}
                }
                let r = self.eval(fr, st, right);
                self.binop(*op, &l, &r)
            }
            Expr::Unary { op, expr } => {
                let v = self.eval(fr, st, expr);
                match (op, &v.konst) {
                    (UnOp::Not, Some(k)) => Val::konst(Lit::Bool(!truthy(k))),
                    (UnOp::Not, None) => Val::typed("boolean"),
                    (UnOp::Neg, Some(Lit::Int(i))) => Val::konst(Lit::Int(i.wrapping_neg())),
                    _ => Val::tainted(v.taint),
                }
            }
            Expr::Cond { cond, then, other } => {
                let c = self.eval(fr, st, cond);
                match c.konst.as_ref().map(truthy) {
                    Some(true) => self.eval(fr, st, then),
                    Some(false) => self.eval(fr, st, other),
                    None => {
                        let a = self.eval(fr, st, then);
                        let b = self.eval(fr, st, other);
                        a.join(&b)
                    }
                }
            }
            Expr::Index { obj, index } => {
                let o = self.eval(fr, st, obj);
                let i = self.eval(fr, st, index);
                let mut v = elem_at(&o, &i);
                if v.ty.is_none()
                    && v.konst.is_none()
                    && i.konst.is_none()
                    && i.all_taint()
                        .is_some_and(|t| lifted(t.mask) & self.rules.nested_keys != 0)
                {
                    v.ty = Some(KEYED.into());
                }
                v
            }
            Expr::List(items) => {
                let vals: Vec<Val<'p>> = items.iter().map(|a| self.eval(fr, st, a)).collect();
                Val {
                    elems: Some(Rc::new(Elems::List(vals))),
                    ty: Some("list".into()),
                    ..Val::default()
                }
                .bounded()
            }
            Expr::Dict(pairs) => {
                let mut m = BTreeMap::new();
                let mut extra = None;
                for (k, v) in pairs {
                    let kv = self.eval(fr, st, k);
                    let vv = self.eval(fr, st, v);
                    // `{ secret: 'keyboard cat' }`: a credential in a configuration object.
                    if let (Some(Lit::Str(key)), Expr::Lit(Lit::Str(text)), Some(span)) =
                        (&kv.konst, v, fr.stmt_span)
                    {
                        self.check_secret(fr.file, key, text, span);
                    }
                    match kv.konst.as_ref() {
                        Some(l) => {
                            m.insert(key_text(l), vv);
                        }
                        None => {
                            extra = union(extra, kv.all_taint().as_ref());
                            extra = union(extra, vv.all_taint().as_ref());
                        }
                    }
                }
                Val {
                    taint: extra,
                    elems: Some(Rc::new(Elems::Map(m))),
                    ty: Some("dict".into()),
                    ..Val::default()
                }
                .bounded()
            }
            Expr::Concat(parts) => {
                let vals: Vec<Val<'p>> = parts.iter().map(|a| self.eval(fr, st, a)).collect();
                let mut out = Val::typed("String");
                let mut text = Some(String::new());
                for v in &vals {
                    // What the parts before settle of a URL (`"/user/" + slug`) no part
                    // after can undo.
                    let fixed = out
                        .url_fixed
                        .max(text.as_deref().map_or(UrlFixed::None, UrlFixed::of_text));
                    let t = restrict(v.all_taint(), self.rules.after_fixed(fixed));
                    out.taint = union(out.taint, t.as_ref());
                    out.url_fixed = fixed.max(v.url_fixed());
                    match (&mut text, &v.konst) {
                        (Some(t), Some(k)) => t.push_str(&self.sem.const_text(k)),
                        _ => text = None,
                    }
                }
                out.konst = text.and_then(bounded);
                out.taint = constructed(out.taint);
                out
            }
            Expr::Cast { ty, expr } => {
                let v = self.eval(fr, st, expr);
                let t = simple_type(ty);
                if is_primitive_number(&t) {
                    let mut n = Val::typed(&t);
                    n.konst = v.konst;
                    return n;
                }
                let mut v = v;
                v.ty = Some(t.as_str().into());
                v
            }
            Expr::Lambda(f) => {
                // Analysed where it is written, seeing the enclosing variables; calls of a
                // lambda bound to a name run it like a local function.
                let env = st.clone();
                self.root(fr.file, fr.class, f, &env);
                Val {
                    func: Some((fr.file, &**f)),
                    ..Val::default()
                }
            }
            Expr::Assign { target, value, op } => {
                let mut v = self.eval(fr, st, value);
                if let Some(op) = op {
                    let old = self.read_target(fr, st, target);
                    v = self.binop(*op, &old, &v);
                }
                self.assign(fr, st, target, v.clone(), Span::default());
                v
            }
            Expr::Comprehension { clauses, key, elem } => {
                self.comprehension(fr, st, clauses, key.as_deref(), elem)
            }
            Expr::Unknown(kids) => {
                let mut t = None;
                for k in kids {
                    let v = self.eval(fr, st, k);
                    t = union(t, v.all_taint().as_ref());
                }
                Val::tainted(t)
            }
        }
    }

    /// A comprehension runs its element for each binding of its clauses, in a scope of its
    /// own: the loop variables do not leak, what it stores into other objects does.
    fn comprehension(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        clauses: &'p [Clause],
        key: Option<&'p Expr>,
        elem: &'p Expr,
    ) -> Val<'p> {
        let mut cs = st.clone();
        let mut bound: Vec<&'p str> = Vec::new();
        for c in clauses {
            match c {
                Clause::For(target, iter) => {
                    let it = self.eval(fr, &mut cs, iter);
                    let e = iter_elem(&it);
                    target_names(target, &mut bound);
                    self.assign(fr, &mut cs, target, e, Span::default());
                }
                Clause::If(cond) => {
                    self.eval(fr, &mut cs, cond);
                }
            }
        }
        let k = key.map(|k| self.eval(fr, &mut cs, k));
        let v = self.eval(fr, &mut cs, elem);
        merge_effects(st, cs, |root| bound.contains(&root));
        let mut out = Val::tainted(v.all_taint());
        if let Some(k) = k {
            out.taint = union(out.taint, k.all_taint().as_ref());
        }
        out.ty = Some(if key.is_some() { "dict" } else { "list" }.into());
        out
    }

    pub(super) fn name(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, n: &str) -> Val<'p> {
        if let Some(v) = st.get(n) {
            return v.clone();
        }
        if self.sem.bare_names_reach_fields() {
            // A field of this class or an outer one, read without its receiver.
            if let Some(v) = st.get(&format!("{}.{n}", self.sem.receiver_name())) {
                return v.clone();
            }
            if let Some(c) = fr.class {
                for class in [Some(c.class), c.outer].into_iter().flatten() {
                    if let Some(f) = class.fields.iter().find(|f| f.name == n) {
                        let mut v = self.field_decl(fr, st, f);
                        // A field of an object that came from the request (a Spring
                        // `@RequestBody` form) is request data too.
                        if !f.is_static
                            && std::ptr::eq(class, c.class)
                            && let Some(t) = st
                                .get(self.sem.receiver_name())
                                .and_then(|this| this.taint.clone())
                        {
                            v.taint = union(v.taint, Some(&t));
                        }
                        return v;
                    }
                }
            }
        }
        if self.sem.static_names() == StaticNames::ModuleMembers {
            if let Some(v) = self.module_global(fr.file, n) {
                return v;
            }
            let module = &self.idx.units[fr.file].module;
            // A function of the project named as a value (`map(clean, xs)`) can be called
            // through it.
            if let Some(f) = module.functions.iter().find(|f| f.name == n) {
                return Val {
                    func: Some((fr.file, f)),
                    ..Val::default()
                };
            }
            if let Some(i) = module.imports.iter().rev().find(|i| i.alias == n) {
                let last = i.path.rsplit('.').next().unwrap_or(&i.path);
                return Val {
                    module_path: Some(i.path.as_str().into()),
                    ty: Some(last.into()),
                    func: self
                        .module_function(&i.path, 1)
                        .first()
                        .map(|&(file, _, f)| (file, f)),
                    ..Val::default()
                };
            }
        }
        Val::default()
    }

    /// The value of a declared field: its constant initialiser, else just its type.
    pub(super) fn field_decl(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        f: &'p vigil_code::Field,
    ) -> Val<'p> {
        let mut v = match &f.init {
            Some(e @ (Expr::Lit(_) | Expr::Binary { .. } | Expr::Concat(_))) if f.is_static => {
                self.eval(fr, st, e)
            }
            _ => Val::default(),
        };
        if v.ty.is_none() {
            v.ty = f.ty.as_ref().map(|t| simple_type(t).as_str().into());
        }
        v
    }

    pub(super) fn module_global(&self, file: usize, n: &str) -> Option<Val<'p>> {
        let module = &self.idx.units.get(file)?.module;
        let mut found = None;
        for s in &module.body {
            if let Stmt::Assign {
                target: Target::Var(t),
                value: Some(Expr::Lit(l)),
                ..
            } = s
                && t == n
            {
                found = Some(Val::konst(l.clone()));
            }
        }
        found
    }

    /// Resolve a dotted name through the file's imports: `ET.parse` → `xml.etree.ElementTree.parse`.
    pub(super) fn resolve_dotted(&self, file: usize, dotted: &str) -> String {
        let (first, rest) = match dotted.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (dotted, None),
        };
        let module = &self.idx.units[file].module;
        let base = module
            .imports
            .iter()
            .rev()
            .find(|i| i.alias == first)
            .map(|i| i.path.as_str())
            .unwrap_or(first);
        match rest {
            Some(r) => format!("{base}.{r}"),
            None => base.to_string(),
        }
    }

    /// The name rules see for a static reference: through the imports where names live in
    /// modules, as written where they are class members.
    pub(super) fn qualify_static(&self, file: usize, dotted: &str) -> String {
        match self.sem.static_names() {
            StaticNames::ModuleMembers => self.resolve_dotted(file, dotted),
            StaticNames::ClassMembers => dotted.to_string(),
        }
    }

    /// Whether the first segment of `dotted` is a value in scope (rather than a class or module).
    pub(super) fn is_value_ref(&self, fr: &Frame<'p>, st: &State<'p>, dotted: &str) -> bool {
        let first = dotted.split('.').next().unwrap_or(dotted);
        if st.get(first).is_some() || self.sem.refers_to_receiver(first) {
            return true;
        }
        if self.sem.only_imports_name_modules() {
            return !self.idx.units[fr.file]
                .module
                .imports
                .iter()
                .any(|i| i.alias == first);
        }
        if self.sem.bare_names_reach_fields()
            && let Some(c) = fr.class
        {
            return [Some(c.class), c.outer]
                .into_iter()
                .flatten()
                .any(|cl| cl.fields.iter().any(|f| f.name == first));
        }
        false
    }

    pub(super) fn field(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        whole: &'p Expr,
        obj: &'p Expr,
        name: &str,
    ) -> Val<'p> {
        if let Some(d) = whole.dotted() {
            if let Some(v) = st.get(&d) {
                return v.clone();
            }
            if !self.is_value_ref(fr, st, &d) {
                return self.static_ref(fr, &d);
            }
            // `this.x` reads the field as the bare name `x` would.
            if self.sem.bare_names_reach_fields()
                && let Some(rest) = d
                    .strip_prefix(self.sem.receiver_name())
                    .and_then(|r| r.strip_prefix('.'))
                && !rest.contains('.')
            {
                return self.name(fr, st, rest);
            }
        }
        let o = self.eval(fr, st, obj);
        if let Some(mp) = &o.module_path {
            let full = format!("{mp}.{name}");
            let mut v = self.static_ref_qual(fr, &full, &full);
            if v.taint.is_none() && v.konst.is_none() {
                v.module_path = Some(full.as_str().into());
            }
            return v;
        }
        if let Some((label, mask)) = o.ty.as_deref().and_then(|t| self.field_source(t, name)) {
            let text = whole.dotted().unwrap_or_else(|| name.to_string());
            let v = Val::tainted(Some(Taint::new(
                mask,
                fr.file,
                Span::default(),
                format!("{label} `{text}`"),
            )));
            // Later reads of `req.query` are the same data: a check of one read (an allow
            // list before an early exit) then holds for the others.
            if let Some(d) = whole.dotted() {
                st.set(&d, v.clone());
            }
            return v;
        }
        if self.sem.is_length_attribute(name) {
            return Val::typed("int");
        }
        if let Some(e) = &o.elems
            && let Elems::Map(m) = &**e
        {
            // Fields are kept apart: one that was never set holds none of the others' data,
            // but has the type its declaration gives.
            let mut v = m.get(name).cloned().unwrap_or_default();
            v.taint = union(v.taint, o.taint.as_ref());
            if v.ty.is_none() {
                v.ty = self.declared_field_type(fr, o.ty.as_deref(), name);
            }
            return v;
        }
        let mut v = Val::tainted(o.all_taint());
        // Known attribute types (e.g. `Path.parent` is a `Path`).
        if let Some(ty) = &o.ty
            && ty.as_ref() == "Path"
        {
            v.ty = o.ty.clone();
        }
        // A field of a project class has the type its declaration gives (`s.db` of a
        // `Server` whose `db` is a `*sql.DB`), so that methods called on it match by type.
        if v.ty.is_none() {
            v.ty = self.declared_field_type(fr, o.ty.as_deref(), name);
        }
        v
    }

    /// The simple type field `name` of a project class `ty` is declared with.
    fn declared_field_type(&self, fr: &Frame<'p>, ty: Option<&str>, name: &str) -> Option<Rc<str>> {
        self.idx
            .classes_named(ty?, fr.file)
            .iter()
            .find_map(|c| c.class.fields.iter().find(|f| f.name == name))
            .and_then(|f| f.ty.as_deref())
            .map(|t| simple_type(t).as_str().into())
    }

    /// The label of the library source that attribute `name` of a `ty` value is
    /// (`request.GET` of an `HttpRequest`).
    /// The rules a source's data matters to: the ones it names (`rules`), else every rule
    /// but those with sources of their own; less the ones it excludes (`except_rules`).
    pub(super) fn source_mask(&self, spec: &crate::rules::CallSpec) -> Mask {
        self.rules
            .taint
            .iter()
            .filter(|(_, r)| {
                if spec.rules.is_empty() {
                    !r.own_sources
                } else {
                    spec.rules.contains(&r.id)
                }
            })
            .filter(|(_, r)| !spec.except_rules.contains(&r.id))
            .fold(0, |m, (bit, _)| m | bit)
    }

    pub(super) fn field_source(&self, ty: &str, name: &str) -> Option<(String, Mask)> {
        self.rules.lib.sources.iter().find_map(|spec| {
            (spec.fields.iter().any(|f| f == name) && spec.types.iter().any(|t| t == ty)).then(
                || {
                    let label = spec
                        .label
                        .clone()
                        .unwrap_or_else(|| "untrusted input".into());
                    (label, self.source_mask(spec))
                },
            )
        })
    }

    /// A reference to a class member or module attribute: `Utils.DIR`, `request.args`.
    pub(super) fn static_ref(&mut self, fr: &mut Frame<'p>, dotted: &str) -> Val<'p> {
        let qual = self.qualify_static(fr.file, dotted);
        let mut v = self.static_ref_qual(fr, dotted, &qual);
        // A module attribute that is no source or constant is still a module (or an
        // attribute of one) for the calls made on it.
        if self.sem.static_names() == StaticNames::ModuleMembers
            && v.taint.is_none()
            && v.konst.is_none()
        {
            v.module_path = Some(qual.as_str().into());
        }
        v
    }

    pub(super) fn static_ref_qual(
        &mut self,
        fr: &mut Frame<'p>,
        dotted: &str,
        qual: &str,
    ) -> Val<'p> {
        let qual = qual.to_string();
        for spec in &self.rules.lib.sources {
            if spec.attrs.iter().any(|a| path_has_prefix(&qual, a)) {
                let label = spec
                    .label
                    .clone()
                    .unwrap_or_else(|| "untrusted input".into());
                return Val::tainted(Some(Taint::new(
                    self.source_mask(spec),
                    fr.file,
                    Span::default(),
                    format!("{label} `{dotted}`"),
                )));
            }
        }
        // Constants of project modules and classes.
        match self.sem.static_names() {
            StaticNames::ModuleMembers => {
                if let Some((owner, member)) = qual.rsplit_once('.') {
                    for &f in self.idx.modules_named(owner) {
                        if let Some(v) = self.module_global(f, member) {
                            return v;
                        }
                    }
                }
            }
            StaticNames::ClassMembers => {
                if let Some(v) = self.class_static_field(fr, &qual) {
                    return v;
                }
            }
        }
        // Unknown module attribute or class constant: remember its name as a type.
        let last = dotted.rsplit('.').next().unwrap_or(dotted);
        Val::typed(last)
    }

    /// `pkg.Class.FIELD` where `Class` is a project class that declares `FIELD`.
    pub(super) fn class_static_field(
        &mut self,
        fr: &mut Frame<'p>,
        dotted: &str,
    ) -> Option<Val<'p>> {
        let (owner, member) = dotted.rsplit_once('.')?;
        let cls = owner.rsplit('.').next().unwrap_or(owner);
        for c in self.idx.classes_named(cls, fr.file) {
            if let Some(f) = c.class.fields.iter().find(|f| f.name == member) {
                let mut inner = self.frame(c.file, Some(c), None);
                let mut st = State::default();
                return Some(self.field_decl(&mut inner, &mut st, f));
            }
        }
        None
    }

    pub(super) fn binop(&self, op: BinOp, l: &Val<'p>, r: &Val<'p>) -> Val<'p> {
        use BinOp::*;
        // Text appended after a fixed `"/user/"` or `"?next="` cannot change the host
        // (`%` formatting: the text before the first placeholder).
        let fixed = match (op, l.str_konst()) {
            (Add, _) => l.url_fixed(),
            (Mod, Some(f)) => UrlFixed::of_text(f.split('%').next().unwrap_or_default()),
            _ => UrlFixed::None,
        };
        let r_taint = restrict(r.all_taint(), self.rules.after_fixed(fixed));
        if let (Some(a), Some(b)) = (&l.konst, &r.konst)
            && let Some(k) = fold(op, a, b, self.sem)
        {
            let mut v = Val::konst(k);
            if matches!(op, Add | Sub | Mul | Div | Mod) {
                v.taint = union(l.all_taint(), r_taint.as_ref());
                v.url_fixed = fixed.max(r.url_fixed());
            }
            if op == Add {
                v.taint = constructed(v.taint);
            }
            return v;
        }
        // Two lists added: one list with the elements of both, each kept apart.
        if op == Add
            && let (Some(Elems::List(a)), Some(Elems::List(b))) =
                (l.elems.as_deref(), r.elems.as_deref())
        {
            return Val {
                taint: union(l.taint.clone(), r.taint.as_ref()),
                ty: l.ty.clone(),
                elems: Some(Rc::new(Elems::List(a.iter().chain(b).cloned().collect()))),
                ..Val::default()
            }
            .bounded();
        }
        match op {
            Eq | Ne | Lt | Le | Gt | Ge | And | Or | In | NotIn => Val::typed("boolean"),
            _ => {
                let mut v = Val::tainted(union(l.all_taint(), r_taint.as_ref()));
                v.url_fixed = fixed.max(r.url_fixed());
                if op == Add {
                    v.taint = constructed(v.taint);
                }
                let numeric = |x: &Val| x.ty.as_deref().is_some_and(is_primitive_number);
                if numeric(l) && numeric(r) {
                    v.ty = l.ty.clone();
                } else if op == Add
                    && (l.ty.as_deref() == Some("String") || r.ty.as_deref() == Some("String"))
                {
                    v.ty = Some("String".into());
                } else if l.ty.as_deref() == Some("Path") {
                    v.ty = l.ty.clone();
                }
                v
            }
        }
    }
}

/// The names a target binds.
fn target_names<'p>(t: &'p Target, out: &mut Vec<&'p str>) {
    match t {
        Target::Var(n) => out.push(n),
        Target::Tuple(ts) => ts.iter().for_each(|t| target_names(t, out)),
        _ => {}
    }
}

/// Fold what a nested scope (a lambda's body, a comprehension) did, which may run any number
/// of times or none, back into the enclosing state `st`. Names for which `own(root)` holds
/// are the scope's own and stay as `st` had them; so do names `st` does not know.
pub(super) fn merge_effects<'p>(
    st: &mut State<'p>,
    mut end: State<'p>,
    own: impl Fn(&str) -> bool,
) {
    let mine = |k: &str| {
        let root = k.split('.').next().unwrap_or(k);
        own(root) || st.get(root).is_none()
    };
    // The scope's effects: `st` with what the scope left in the names that are not its
    // own. Names neither side changed since they forked are equal, so only the rest is
    // looked at.
    let mut out = st.clone();
    for k in st.vars.changed_since(&end.vars) {
        if mine(&k) {
            continue;
        }
        match end.vars.get(&k) {
            Some(v) => out.vars.insert(k, v.clone()),
            None => out.vars.remove(&k),
        }
    }
    end.aliases.retain(|a| !mine(&a.a) && !mine(&a.b));
    out.aliases = end.aliases;
    out.dead = false;
    *st = st.join(&out);
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;

    #[test]
    fn module_names_resolve_through_imports_and_aliases() {
        let src = r#"import os as o
from subprocess import call
def f():
    o.system(input())
    call(input(), shell=True)
    o.path.join("a", input())
"#;
        assert_eq!(lines("i.py", src, "python/command-injection"), [4, 5]);
    }

    #[test]
    fn integer_division_folds_as_the_language_divides() {
        // -7 / 2 is -3 in Java and -7 // 2 is -4 in Python: only the matching branch runs.
        let java = r#"import javax.servlet.http.HttpServletRequest;
class D {
    void f(HttpServletRequest req) throws Exception {
        String c = req.getParameter("c");
        int n = -7 / 2;
        if (n == -3) { c = "pwd"; }
        Runtime.getRuntime().exec(c);
    }
}
"#;
        assert!(lines("D.java", java, "java/command-injection").is_empty());
        let python = r#"import os
def f():
    c = input()
    n = -7 // 2
    if n == -3:
        c = "pwd"
    os.system(c)
"#;
        assert_eq!(lines("d.py", python, "python/command-injection"), [7]);
    }

    #[test]
    fn class_constants_fold_where_names_are_class_members() {
        let src = r#"import javax.servlet.http.HttpServletRequest;
class Consts { static final String MODE = "safe"; }
class S {
    void f(HttpServletRequest req) throws Exception {
        String c = req.getParameter("c");
        if (Consts.MODE.equals("safe")) { c = "pwd"; }
        Runtime.getRuntime().exec(c);
        String k = "x" + true;
        String d = req.getParameter("d");
        if (k.equals("xtrue")) { d = "pwd"; }
        Runtime.getRuntime().exec(d);
    }
}
"#;
        assert!(lines("S.java", src, "java/command-injection").is_empty());
    }

    #[test]
    fn module_constants_fold_where_names_are_module_members() {
        let src = r#"import os
MODE = "safe"
def f():
    c = input()
    if MODE == "safe":
        c = "ls"
    os.system(c)
    d = input()
    if f"x{True}" == "xTrue":
        d = "ls"
    os.system(d)
    e = input()
    if f"x{True}" == "xtrue":
        e = "ls"
    os.system(e)
"#;
        // Only the last check fails: `True` formats as `True`.
        assert_eq!(lines("m.py", src, "python/command-injection"), [15]);
    }
}
