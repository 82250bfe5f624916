//! Calls: library calls as the rules describe them, and calls into the project's own
//! code, analysed in the caller's context (overloads, interface implementations, a cache
//! by argument signature, fields written back to the receiver).

use super::collections::object_from_fields;
use super::constfold::{bounded, fold_call};
use super::semantics::StaticNames;
use super::*;
use crate::project::pick_overload;
use std::hash::{Hash, Hasher};

impl<'p> Engine<'p> {
    pub(super) fn call(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, c: &'p Call) -> Val<'p> {
        let recv_dotted = c.receiver.as_ref().and_then(|r| r.dotted());
        let mut static_recv = recv_dotted
            .as_deref()
            .is_some_and(|d| !self.is_value_ref(fr, st, d));
        let mut recv = match (&c.receiver, static_recv) {
            (Some(r), false) => Some(self.eval(fr, st, r)),
            _ => None,
        };
        let static_names = self.sem.static_names();
        // A static field of a project class (`Helper.template.query(..)`) is a value.
        if static_recv
            && static_names == StaticNames::ClassMembers
            && let Some(d) = &recv_dotted
            && let Some(v) = self.class_static_field(fr, d)
        {
            recv = Some(v);
            static_recv = false;
        }
        // A module attribute that is itself a source (`request.args.get(..)`) is a value.
        if static_recv
            && let Some(r) = &c.receiver
            && matches!(r, Expr::Field { .. })
        {
            let v = self.eval(fr, st, r);
            if v.taint.is_some() {
                recv = Some(v);
                static_recv = false;
            }
        }
        let args: Vec<Val<'p>> = c.args.iter().map(|a| self.eval(fr, st, a)).collect();
        let kwargs: Vec<(&'p str, Val<'p>)> = c
            .kwargs
            .iter()
            .map(|(k, v)| (k.as_str(), self.eval(fr, st, v)))
            .collect();

        // The name the rules see.
        let qual = if static_recv {
            let d = recv_dotted.as_deref().unwrap_or("");
            match static_names {
                StaticNames::ModuleMembers => {
                    Some(format!("{}.{}", self.resolve_dotted(fr.file, d), c.name))
                }
                StaticNames::ClassMembers => {
                    let cls = d.rsplit('.').next().unwrap_or(d);
                    Some(format!("{cls}.{}", c.name))
                }
            }
        } else if c.receiver.is_none() {
            // An unqualified call is a method of the class (not named for the rules) or a
            // module function, named through the imports.
            match static_names {
                StaticNames::ModuleMembers => Some(self.resolve_dotted(fr.file, &c.name)),
                StaticNames::ClassMembers => None,
            }
        } else if let Some(mp) = recv.as_ref().and_then(|r| r.module_path.as_ref()) {
            Some(format!("{mp}.{}", c.name))
        } else {
            recv.as_ref()
                .and_then(|r| r.ty.as_ref())
                .map(|t| format!("{t}.{}", c.name))
        };
        let module_call = recv
            .as_ref()
            .is_some_and(|r| r.module_path.is_some() && r.taint.is_none());
        let recv = if module_call { None } else { recv };
        let site = Site {
            qual,
            recv_ty: recv.as_ref().and_then(|r| r.ty.clone()),
            // Where modules and what they export are objects (JavaScript), a method named by
            // the rules matches on them too: `db.query(..)` of an imported pool.
            has_value_receiver: recv.is_some()
                || (c.receiver.is_some() && self.sem.imports_are_objects()),
            name: &c.name,
            is_new: false,
        };

        // Where classes are called like functions, a call of a project class constructs it.
        if self.sem.classes_are_called_like_functions() {
            if c.receiver.is_none()
                && st.get(&c.name).is_none()
                && !self.idx.classes_named(&c.name, fr.file).is_empty()
            {
                return self.construct(fr, st, &c.name, args, kwargs, c.span);
            }
            if let Some(q) = &site.qual
                && let Some((module, class)) = q.rsplit_once('.')
                && self.idx.modules_named(module).iter().any(|&f| {
                    self.idx.units[f]
                        .module
                        .classes
                        .iter()
                        .any(|k| k.name == class)
                })
            {
                return self.construct(fr, st, class, args, kwargs, c.span);
            }
        }

        let mut result = self.call_result(fr, st, c, &site, recv.as_ref(), &args, &kwargs);
        self.mark_unsafe_parser(fr, st, c, &site, &args);

        self.check_call(fr, &site, recv.as_ref(), &args, &kwargs, c.span);
        result.taint = self.sanitize(&site, &args, &kwargs, result.taint);
        if let Some(label) = self.source_label(&site, &args) {
            let t = Taint::new(
                self.rules.all,
                fr.file,
                c.span,
                format!("{label} `{}`", call_text(c)),
            );
            result.taint = union(result.taint, Some(&t));
        }
        if result.ty.is_none() {
            result.ty = self.return_type(&site);
        }
        // A library class called like a function (`configparser.ConfigParser()`) returns
        // an instance.
        if result.ty.is_none()
            && self.sem.classes_are_called_like_functions()
            && let Some(last) = site.qual.as_deref().and_then(|q| q.rsplit('.').next())
            && last.starts_with(|ch: char| ch.is_ascii_uppercase())
        {
            result.ty = Some(last.into());
        }
        result
    }

    /// The value a call returns, before sources and sanitizers are applied.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_result(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        site: &Site,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> Val<'p> {
        // Project code: analyse the callee in this context.
        if let Some(v) = self.call_project(fr, st, c, recv, args, kwargs) {
            return v;
        }
        for spec in &self.rules.lib.cleansers {
            if self.spec_matches(spec, site, args, kwargs) {
                return Val {
                    konst: fold_call(self.sem, site.name, recv, args),
                    ..Val::default()
                };
            }
        }
        if let Some(k) = fold_call(self.sem, site.name, recv, args) {
            let mut v = Val::konst(k);
            v.taint = union(
                recv.and_then(|r| r.all_taint()),
                args.iter().find_map(|a| a.all_taint()).as_ref(),
            );
            return v;
        }
        if let Some(v) = self.collection_op(fr, st, c, recv, args) {
            return v;
        }
        if let Some(v) = self.config_lookup(site, args) {
            return v;
        }
        // A response built from a (body, headers) tuple: only the body is the page.
        if site
            .qual
            .as_deref()
            .is_some_and(|q| q.ends_with("make_response"))
            && let Some(first) = args.first()
        {
            if let Some(e) = &first.elems
                && let Elems::List(items) = &**e
                && let Some(body) = items.first()
            {
                return Val::tainted(body.all_taint());
            }
            return Val::tainted(first.all_taint());
        }
        // Default: the result carries whatever went in.
        let mut t = recv.and_then(|r| r.all_taint());
        for a in args {
            t = union(t, a.all_taint().as_ref());
        }
        for (_, a) in kwargs {
            t = union(t, a.all_taint().as_ref());
        }
        // Builders and collections keep what is stored into them.
        if self.rules.lib.mutators.iter().any(|m| m == &c.name)
            && let Some(root) = c.receiver.as_ref().and_then(chain_root)
            && self.is_value_ref(fr, st, &root)
        {
            let cur = self.eval_path(fr, st, &root);
            let mut updated = cur.clone();
            updated.taint = union(cur.taint.clone(), t.as_ref());
            if let (Some(Lit::Str(a)), Some(b)) =
                (&cur.konst, args.first().and_then(|a| a.konst.as_ref()))
            {
                updated.konst = bounded(format!("{a}{}", self.sem.const_text(b)));
            } else if !args.is_empty() {
                updated.konst = None;
            }
            self.write_path(fr, st, &root, updated.clone());
            return updated;
        }
        Val::tainted(t)
    }

    pub(super) fn eval_path(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        path: &str,
    ) -> Val<'p> {
        if let Some(v) = st.get(path) {
            return v.clone();
        }
        if !path.contains('.') {
            return self.name(fr, st, path);
        }
        Val::default()
    }

    /// Calls into the project's own code: analysed in this context.
    pub(super) fn call_project(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> Option<Val<'p>> {
        let arity = args.len();
        // A declared receiver parameter counts in a method's arity.
        let receiver_param = usize::from(self.sem.methods_declare_receiver());
        let mut targets: Vec<(usize, Option<ClassRef<'p>>, &'p Function)> = Vec::new();
        match &c.receiver {
            None => {
                if let Some(v) = st.get(&c.name)
                    && let Some((file, f)) = v.func
                {
                    targets.push((file, None, f));
                } else if self.sem.static_names() == StaticNames::ModuleMembers {
                    let module = &self.idx.units[fr.file].module;
                    if let Some(f) = pick_overload(&module.functions, &c.name, arity) {
                        targets.push((fr.file, None, f));
                    } else {
                        let q = self.resolve_dotted(fr.file, &c.name);
                        targets.extend(self.module_function(&q, arity));
                    }
                } else if let Some(cls) = fr.class {
                    let mut found = self.idx.find_method(cls, &c.name, arity);
                    if found.is_none()
                        && let Some(outer) = cls.outer
                    {
                        let oref = ClassRef {
                            file: cls.file,
                            class: outer,
                            outer: None,
                        };
                        found = self.idx.find_method(oref, &c.name, arity);
                    }
                    if let Some((cr, f)) = found {
                        targets.push((cr.file, Some(cr), f));
                    }
                }
            }
            Some(r) => {
                let d = r.dotted();
                let is_static = d.as_deref().is_some_and(|d| !self.is_value_ref(fr, st, d));
                if is_static {
                    let d = d.unwrap_or_default();
                    if self.sem.static_names() == StaticNames::ModuleMembers {
                        let q = format!("{}.{}", self.resolve_dotted(fr.file, &d), c.name);
                        targets.extend(self.module_function(&q, arity));
                    }
                    // `Runner.run(x)`: a static or class method called through its class.
                    if targets.is_empty() {
                        let cls = d.rsplit('.').next().unwrap_or(&d);
                        for cr in self.idx.classes_named(cls, fr.file) {
                            if let Some((cr, f)) = self.idx.find_method(cr, &c.name, arity) {
                                targets.push((cr.file, Some(cr), f));
                                break;
                            }
                        }
                    }
                } else if matches!(r, Expr::Name(n) if n == self.sem.receiver_name()) {
                    if let Some(cls) = fr.class
                        && let Some((cr, f)) =
                            self.idx.find_method(cls, &c.name, arity + receiver_param)
                    {
                        targets.push((cr.file, Some(cr), f));
                    }
                } else if let Some(ty) = recv.and_then(|v| v.ty.clone()) {
                    let classes = self.idx.classes_named(&ty, fr.file);
                    let mut concrete = Vec::new();
                    for cr in &classes {
                        if cr.class.is_interface
                            || pick_overload(&cr.class.methods, &c.name, arity)
                                .is_none_or(|m| m.body.is_empty())
                        {
                            concrete
                                .extend(self.idx.implementors(&cr.class.name, MAX_IMPLEMENTATIONS));
                        } else {
                            concrete.push(*cr);
                        }
                    }
                    for cr in concrete.into_iter().take(MAX_IMPLEMENTATIONS) {
                        if let Some((cr, f)) =
                            self.idx.find_method(cr, &c.name, arity + receiver_param)
                            && !f.body.is_empty()
                        {
                            targets.push((cr.file, Some(cr), f));
                        }
                    }
                }
            }
        }
        if targets.is_empty() {
            return None;
        }
        let this = recv.cloned();
        let mut out: Option<Val<'p>> = None;
        let mut after: Option<Val<'p>> = None;
        for (file, cls, f) in targets {
            self.last_this = None;
            let v = self.invoke(fr, file, cls, f, this.clone(), args, kwargs, c.span)?;
            if let Some(a) = self.last_this.take() {
                after = Some(match after {
                    Some(o) => o.join(&a),
                    None => a,
                });
            }
            out = Some(match out {
                Some(o) => o.join(&v),
                None => v,
            });
        }
        if let Some(obj) = after {
            self.write_back_object(fr, st, c, obj);
        }
        out
    }

    /// Fields a method wrote stay on the object it was called on.
    pub(super) fn write_back_object(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        obj: Val<'p>,
    ) {
        let self_name = self.sem.receiver_name();
        let own = match &c.receiver {
            None => true,
            Some(Expr::Name(n)) => n == self_name,
            _ => false,
        };
        if own {
            if let Some(Elems::Map(m)) = obj.elems.as_deref() {
                for (k, v) in m {
                    st.set(&format!("{self_name}.{k}"), v.clone());
                }
            }
            return;
        }
        if let Some(path) = c.receiver.as_ref().and_then(|r| r.dotted())
            && self.is_value_ref(fr, st, &path)
        {
            self.write_path(fr, st, &path, obj);
        }
    }

    /// The project function a resolved `module.function` name denotes.
    pub(super) fn module_function(
        &self,
        qual: &str,
        arity: usize,
    ) -> Vec<(usize, Option<ClassRef<'p>>, &'p Function)> {
        let mut out = Vec::new();
        if let Some((module, func)) = qual.rsplit_once('.') {
            for &f in self.idx.modules_named(module) {
                if let Some(fun) = pick_overload(&self.idx.units[f].module.functions, func, arity) {
                    out.push((f, None, fun));
                    break;
                }
            }
        }
        out
    }

    /// Analyse `f` with these arguments; `None` when the call is too deep or recursive.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn invoke(
        &mut self,
        caller: &Frame<'p>,
        file: usize,
        class: Option<ClassRef<'p>>,
        f: &'p Function,
        this: Option<Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        span: Span,
    ) -> Option<Val<'p>> {
        let ptr = f as *const Function;
        if self.stack.len() >= MAX_CALL_DEPTH || self.stack.contains(&ptr) || self.work > MAX_WORK {
            return None;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for a in args {
            a.signature(&mut h);
        }
        for (k, a) in kwargs {
            k.hash(&mut h);
            a.signature(&mut h);
        }
        if let Some(t) = &this {
            t.signature(&mut h);
        }
        let key = (ptr as usize, h.finish());
        if let Some((v, after)) = self.cache.get(&key) {
            let (v, after) = (v.clone(), after.clone());
            self.last_this = after;
            return Some(self.returned(caller, f, v, span));
        }
        if self.cache.len() >= MAX_CACHE {
            self.cache.clear();
        }
        let mut fr = self.frame(file, class, Some(f));
        let mut st = State::default();
        let mut params = f.params.iter().peekable();
        if class.is_some() && params.peek().is_some_and(|p| self.sem.is_receiver_param(p)) {
            params.next();
        }
        let params: Vec<&'p Param> = params.collect();
        let this_val = this.clone().unwrap_or_else(|| match class {
            Some(c) => Val::typed(&c.class.name),
            None => Val::default(),
        });
        let self_name = self.sem.receiver_name();
        if class.is_some() {
            if let Some(e) = &this_val.elems
                && let Elems::Map(m) = &**e
            {
                for (k, v) in m {
                    st.set(&format!("{self_name}.{k}"), v.clone());
                }
            }
            st.set(self_name, this_val.clone());
        }
        for (i, p) in params.iter().enumerate() {
            let mut v = if let Some(a) = args.get(i) {
                a.clone()
            } else if let Some((_, a)) = kwargs.iter().find(|(k, _)| *k == p.name) {
                a.clone()
            } else if let Some(d) = &p.default {
                self.eval(&mut fr, &mut st, d)
            } else {
                Val::default()
            };
            if let Some(t) = &v.taint {
                v.taint = Some(t.step(file, f.span, || {
                    format!("passed to `{}` as `{}`", f.name, p.name)
                }));
            }
            if v.ty.is_none() {
                v.ty = p.ty.as_ref().map(|t| simple_type(t).as_str().into());
            }
            st.set(&p.name, v);
        }
        // Varargs beyond the declared parameters still flow into the last one.
        if args.len() > params.len()
            && let Some(last) = params.last()
        {
            let mut v = st.get(&last.name).cloned().unwrap_or_default();
            for a in &args[params.len()..] {
                v.taint = union(v.taint, a.all_taint().as_ref());
            }
            st.set(&last.name, v);
        }
        self.stack.push(ptr);
        self.block(&mut fr, &mut st, &f.body);
        self.stack.pop();
        let is_ctor = f.name == self.sem.constructor_name();
        let after = (class.is_some() && !is_ctor && !f.is_static)
            .then(|| object_from_fields(&st, self_name, &this_val));
        let ret = if is_ctor {
            object_from_fields(&st, self_name, &this_val)
        } else {
            fr.ret.unwrap_or_default()
        };
        self.cache.insert(key, (ret.clone(), after.clone()));
        self.last_this = after;
        Some(self.returned(caller, f, ret, span))
    }

    pub(super) fn returned(
        &self,
        caller: &Frame<'p>,
        f: &Function,
        mut v: Val<'p>,
        span: Span,
    ) -> Val<'p> {
        if let Some(t) = &v.taint {
            v.taint = Some(t.step(caller.file, span, || format!("returned from `{}`", f.name)));
        }
        if v.ty.is_none() {
            v.ty = f.ret_ty.as_ref().map(|t| simple_type(t).as_str().into());
            if v.ty.as_deref().is_some_and(is_primitive_number)
                || v.ty.as_deref() == Some("boolean")
            {
                v.taint = None;
            }
        }
        v
    }

    pub(super) fn construct(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        class: &str,
        args: Vec<Val<'p>>,
        kwargs: Vec<(&'p str, Val<'p>)>,
        span: Span,
    ) -> Val<'p> {
        let simple = simple_type(class);
        let site = Site {
            qual: Some(class.to_string()),
            recv_ty: None,
            has_value_receiver: false,
            name: simple.as_str(),
            is_new: true,
        };
        self.check_call(fr, &site, None, &args, &kwargs, span);
        let _ = st;
        // The project's own classes: run the constructor to learn the fields.
        if let Some(&cr) = self.idx.classes_named(&simple, fr.file).first() {
            let init = self.sem.constructor_name();
            let this = Val::typed(&cr.class.name);
            let receiver_param = usize::from(self.sem.methods_declare_receiver());
            if let Some((cr2, f)) = self.idx.find_method(cr, init, args.len() + receiver_param)
                && let Some(v) = self.invoke(
                    fr,
                    cr2.file,
                    Some(cr),
                    f,
                    Some(this.clone()),
                    &args,
                    &kwargs,
                    span,
                )
            {
                let mut v = v;
                v.ty = Some(cr.class.name.as_str().into());
                return v;
            }
            let mut t = None;
            for a in &args {
                t = union(t, a.all_taint().as_ref());
            }
            let mut v = this;
            v.taint = t;
            return v;
        }
        let mut v = Val::typed(&simple);
        for spec in &self.rules.lib.cleansers {
            if self.spec_matches(spec, &site, &args, &kwargs) {
                return v;
            }
        }
        let mut t = None;
        for a in &args {
            t = union(t, a.all_taint().as_ref());
        }
        if let (Some(first), true) = (
            args.first(),
            matches!(simple.as_str(), "String" | "StringBuilder" | "StringBuffer"),
        ) {
            v.konst = first.konst.clone().filter(|k| matches!(k, Lit::Str(_)));
        }
        v.taint = self.sanitize(&site, &args, &kwargs, t);
        if let Some(label) = self.source_label(&site, &args) {
            v.taint = union(
                v.taint,
                Some(&Taint::new(
                    self.rules.all,
                    fr.file,
                    span,
                    format!("{label} `new {simple}`"),
                )),
            );
        }
        v
    }
}

pub(super) fn call_text(c: &Call) -> String {
    match c.receiver.as_ref().and_then(|r| r.dotted()) {
        Some(d) => format!("{d}.{}(..)", c.name),
        None => format!("{}(..)", c.name),
    }
}

/// The variable at the start of a call chain: `sb.append(a).append(b)` → `sb`.
pub(super) fn chain_root(e: &Expr) -> Option<String> {
    match e {
        Expr::Call(c) => c.receiver.as_ref().and_then(chain_root),
        other => other.dotted(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{findings, lines};

    const PY_CMDI: &str = "python/command-injection";

    #[test]
    fn callees_are_analysed_with_the_callers_arguments() {
        let src = r#"import os
def run(c):
    os.system(c)
def safe():
    run("ls")
"#;
        assert!(lines("c.py", src, PY_CMDI).is_empty());
        let tainted = format!("{src}def unsafe():\n    run(input())\n");
        assert_eq!(lines("c.py", &tainted, PY_CMDI), [3]);
    }

    #[test]
    fn functions_of_other_modules_are_followed_through_imports() {
        let util = "import os\ndef run(c):\n    os.system(c)\n";
        let main = "from helpers.util import run\ndef f():\n    run(input())\n";
        let found = findings(&[("helpers/util.py", util), ("app.py", main)]);
        assert!(
            found
                .iter()
                .any(|(p, r, l)| p == "helpers/util.py" && r == PY_CMDI && *l == 3),
            "{found:?}"
        );
    }

    #[test]
    fn a_constructor_call_keeps_each_field_apart() {
        let src = r#"import os
class Holder:
    def __init__(self, v):
        self.v = v
        self.safe = "ls"
def f():
    h = Holder(input())
    os.system(h.safe)
    os.system(h.v)
"#;
        assert_eq!(lines("h.py", src, PY_CMDI), [9]);
    }

    #[test]
    fn setters_write_fields_back_to_the_receiver() {
        let src = r#"import javax.servlet.http.HttpServletRequest;
class Box {
    private String v = "ls";
    void set(String x) { this.v = x; }
    String get() { return this.v; }
}
class Use {
    void f(HttpServletRequest req) throws Exception {
        Box b = new Box();
        Runtime.getRuntime().exec(b.get());
        b.set(req.getParameter("p"));
        Runtime.getRuntime().exec(b.get());
    }
}
"#;
        assert_eq!(lines("Use.java", src, "java/command-injection"), [12]);
    }
}
