//! Calls: library calls as the rules describe them, and calls into the project's own
//! code, analysed in the caller's context (overloads, interface implementations, a cache
//! by argument signature, fields written back to the receiver).

use super::collections::{iter_elem, object_from_fields};
use super::constfold::{bounded, fold_call};
use super::expr::merge_effects;
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
            rooted_first_arg: c.args.first().is_some_and(starts_with_root),
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
        if let Some(ty) = self.mark_state(fr, st, Some(c), &site, &args, &kwargs) {
            result.ty = Some(ty);
        }
        self.retype_root(fr, st, c, &site, &args);

        self.check_call(fr, &site, recv.as_ref(), &args, &kwargs, c.span);
        result.taint = self.sanitize(&site, &args, &kwargs, result.taint);
        if let Some((label, mask)) = self.source_label(&site, &args) {
            let t = Taint::new(mask, fr.file, c.span, format!("{label} `{}`", call_text(c)));
            result.taint = union(result.taint, Some(&t));
        }
        if result.ty.is_none() {
            result.ty = self.return_type(&site);
        }
        self.fill_out_params(fr, st, c, &site, &args, &kwargs, &result);
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
        // Functions handed to library code run on its elements; what they return stands for
        // them in the result.
        let applied: Vec<Val<'p>>;
        let args = if args.iter().any(|a| a.func.is_some()) {
            let (with_returns, returned) = self.apply_callbacks(fr, st, recv, args);
            if self.rules.lib.mappers.iter().any(|m| m == &c.name)
                && let Some(t) = returned
            {
                return Val::tainted(t);
            }
            applied = with_returns;
            &applied[..]
        } else {
            args
        };
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
        // A library store read by a key gives what was stored, not the key.
        if let Some(r) = recv
            && self.rules.lib.lookups.iter().any(|m| m == &c.name)
        {
            return Val::tainted(r.all_taint());
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

    /// Run each function among `args` once on the elements of the receiver (or, without
    /// one, of the other arguments), in the caller's state: what it stores into captured
    /// objects stays there. Returns the arguments with each function standing for its
    /// return value, and those values' taint (`None` when no function could run).
    fn apply_callbacks(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
    ) -> (Vec<Val<'p>>, Option<Option<Taint>>) {
        let elem = match recv {
            Some(r) => iter_elem(r),
            None => args
                .iter()
                .filter(|a| a.func.is_none())
                .fold(Val::default(), |acc, a| acc.join(&iter_elem(a))),
        };
        let mut out = args.to_vec();
        let mut returned: Option<Option<Taint>> = None;
        for a in out.iter_mut() {
            let Some((file, f)) = a.func else { continue };
            let ptr = f as *const Function;
            if self.stack.len() >= MAX_CALL_DEPTH || self.stack.contains(&ptr) || self.over_budget()
            {
                continue;
            }
            let mut ls = st.clone();
            let mut lfr = self.frame(file, fr.class, Some(f));
            lfr.track_exits = true;
            for p in &f.params {
                let mut v = elem.clone();
                if let Some(t) = &v.taint {
                    v.taint = Some(t.step(file, f.span, || {
                        format!("passed to a lambda as `{}`", p.name)
                    }));
                }
                ls.set(&p.name, v);
            }
            self.stack.push(ptr);
            self.block(&mut lfr, &mut ls, &f.body);
            self.stack.pop();
            let end = lfr.exit_state(&ls);
            // It may run any number of times, none included; its parameters are its own.
            merge_effects(st, end, |root| f.params.iter().any(|p| p.name == root));
            let ret = lfr.ret.unwrap_or_default().all_taint();
            a.taint = ret.clone();
            a.func = None;
            returned = Some(union(returned.flatten(), ret.as_ref()));
        }
        (out, returned)
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
                        // A Go package's functions see each other across its files.
                        if targets.is_empty()
                            && let Some((other, f)) =
                                self.idx.module_function_elsewhere(fr.file, &c.name)
                        {
                            targets.push((other, None, f));
                        }
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
            // A method of a function value (`f.apply(x)`, `task.run()`) calls the function.
            Some(_) if let Some((file, f)) = recv.and_then(|v| v.func) => {
                targets.push((file, None, f));
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
        let mut mutated: Vec<(&'p Expr, Val<'p>)> = Vec::new();
        let n_targets = targets.len();
        for (file, cls, f) in targets {
            self.last_this = None;
            let v = self.invoke(fr, file, cls, f, this.clone(), args, kwargs, c.span)?;
            if let Some(a) = self.last_this.take() {
                after = Some(match after {
                    Some(o) => o.join(&a),
                    None => a,
                });
            }
            for (i, name, v) in std::mem::take(&mut self.last_args) {
                let arg = c
                    .args
                    .get(i)
                    .or_else(|| c.kwargs.iter().find(|(k, _)| k == name).map(|(_, e)| e));
                if let Some(e) = arg {
                    match mutated.iter_mut().find(|(x, _)| std::ptr::eq(*x, e)) {
                        Some((_, old)) => *old = old.join(&v),
                        None => mutated.push((e, v)),
                    }
                }
            }
            out = Some(match out {
                Some(o) => o.join(&v),
                None => v,
            });
        }
        if let Some(obj) = after {
            self.write_back_object(fr, st, c, obj);
        }
        // What the callee stored into the objects passed to it is in them afterwards. With
        // several possible callees, one that leaves an argument alone may run too.
        for (e, mut v) in mutated {
            if let Some(path) = e.dotted()
                && self.is_value_ref(fr, st, &path)
            {
                if n_targets > 1 {
                    v = v.join(&self.eval_path(fr, st, &path));
                }
                if let Some(t) = &v.taint {
                    v.taint = Some(t.step(fr.file, c.span, || {
                        format!("stored into `{path}` by `{}`", c.name)
                    }));
                }
                self.write_path(fr, st, &path, v);
            }
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
        if let Some((v, after, mutated)) = self.cache.get(&key) {
            let (v, after) = (v.clone(), after.clone());
            self.last_args = mutated.clone();
            self.last_this = after;
            return Some(self.returned(caller, f, v, span));
        }
        if self.cache.len() >= MAX_CACHE {
            self.cache.clear();
        }
        let mut fr = self.frame(file, class, Some(f));
        fr.track_exits = true;
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
        // The objects the caller passed, as they came in: what differs at the end was
        // stored into them.
        let mut passed: Vec<(usize, &'p Param, u64)> = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let given = args
                .get(i)
                .or_else(|| kwargs.iter().find(|(k, _)| *k == p.name).map(|(_, a)| a));
            let mut v = if let Some(a) = given {
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
            if given.is_some() {
                passed.push((i, p, fingerprint(&v)));
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
        let st = fr.exit_state(&st);
        let mut mutated = Vec::new();
        for (i, p, before) in passed {
            if fr.rebound.contains(&p.name) {
                continue;
            }
            let Some(v) = st.get(&p.name) else { continue };
            let end = with_field_vars(&st, &p.name, v);
            if fingerprint(&end) != before {
                mutated.push((i, p.name.as_str(), end));
            }
        }
        let is_ctor = f.name == self.sem.constructor_name();
        let after = (class.is_some() && !is_ctor && !f.is_static)
            .then(|| object_from_fields(&st, self_name, &this_val));
        let ret = if is_ctor {
            object_from_fields(&st, self_name, &this_val)
        } else {
            fr.ret.unwrap_or_default()
        };
        self.cache
            .insert(key, (ret.clone(), after.clone(), mutated.clone()));
        self.last_args = mutated;
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
            rooted_first_arg: false,
        };
        self.check_call(fr, &site, None, &args, &kwargs, span);
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
            if let Some(v) = declared_fields_object(cr.class, &this, &args, &kwargs) {
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
        if let Some(ty) = self.mark_state(fr, st, None, &site, &args, &kwargs) {
            v.ty = Some(ty);
        }
        if let Some((label, mask)) = self.source_label(&site, &args) {
            v.taint = union(
                v.taint,
                Some(&Taint::new(
                    mask,
                    fr.file,
                    span,
                    format!("{label} `new {simple}`"),
                )),
            );
        }
        v
    }
}

/// A class without a constructor of its own that is called with arguments gets them as its
/// declared fields, in order or by name: what dataclasses, named tuples and model classes
/// generate. `None` where the class declares no typed fields, or takes more arguments.
fn declared_fields_object<'p>(
    class: &Class,
    this: &Val<'p>,
    args: &[Val<'p>],
    kwargs: &[(&'p str, Val<'p>)],
) -> Option<Val<'p>> {
    let fields: Vec<&vigil_code::Field> = class.fields.iter().filter(|f| f.ty.is_some()).collect();
    if fields.is_empty() || args.len() > fields.len() || (args.is_empty() && kwargs.is_empty()) {
        return None;
    }
    let mut m = std::collections::BTreeMap::new();
    for (i, f) in fields.iter().enumerate() {
        let v = if let Some(a) = args.get(i) {
            a.clone()
        } else if let Some((_, a)) = kwargs.iter().find(|(k, _)| *k == f.name) {
            a.clone()
        } else if let Some(Expr::Lit(l)) = &f.init {
            Val::konst(l.clone())
        } else {
            Val::default()
        };
        let mut v = v;
        if v.ty.is_none() {
            v.ty = f.ty.as_deref().map(|t| simple_type(t).as_str().into());
        }
        m.insert(f.name.clone(), v);
    }
    // Keywords that name no declared field still reach the object somewhere.
    let mut v = this.clone();
    for (k, a) in kwargs {
        if !fields.iter().any(|f| f.name == *k) {
            v.taint = union(v.taint, a.all_taint().as_ref());
        }
    }
    v.elems = Some(Rc::new(Elems::Map(m)));
    Some(v.bounded())
}

/// What identifies a value for "did the callee change it": its signature.
fn fingerprint(v: &Val) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.signature(&mut h);
    h.finish()
}

/// `name`'s value with the fields written as `name.field` variables folded in.
fn with_field_vars<'p>(st: &State<'p>, name: &str, v: &Val<'p>) -> Val<'p> {
    let prefix = format!("{name}.");
    let mut out = v.clone();
    for (k, fv) in &st.vars {
        if let Some(field) = k.strip_prefix(&prefix)
            && !field.contains('.')
        {
            out = super::stmt::with_field(&out, field, fv.clone());
        }
    }
    out
}

impl<'p> Engine<'p> {
    /// `w.Header().Set("Content-Type", "text/plain")`: `w` is now another kind of object.
    fn retype_root(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        site: &Site,
        args: &[Val<'p>],
    ) {
        let lib: &'p Library = self.rules.lib;
        for r in &lib.retypes {
            let applies = r.methods.iter().any(|m| m == site.name)
                && (r.types.is_empty()
                    || site
                        .recv_ty
                        .as_deref()
                        .is_some_and(|t| r.types.iter().any(|x| x == t)))
                && r.compiled.iter().all(|(i, re)| {
                    args.get(*i)
                        .and_then(|a| a.konst.as_ref())
                        .is_some_and(|k| re.is_match(&self.sem.const_text(k)))
                });
            if !applies {
                continue;
            }
            if let Some(root) = c.receiver.as_ref().and_then(chain_root)
                && self.is_value_ref(fr, st, &root)
            {
                let mut v = st.get(&root).cloned().unwrap_or_default();
                v.ty = Some(r.ty.as_str().into());
                self.write_path(fr, st, &root, v);
            }
            return;
        }
    }

    /// Calls that write into the variables passed to them (`json.Unmarshal(data, &v)`,
    /// gin's `c.Bind(&v)`): those variables now hold what the call produced.
    #[allow(clippy::too_many_arguments)]
    fn fill_out_params(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        result: &Val<'p>,
    ) {
        let Some(t) = result.all_taint() else { return };
        let lib: &'p Library = self.rules.lib;
        for spec in &lib.fills {
            if !self.spec_matches(spec, site, args, kwargs) {
                continue;
            }
            for &i in spec.args.as_deref().unwrap_or(&[]) {
                let Some(path) = c.args.get(i).and_then(|a| a.dotted()) else {
                    continue;
                };
                if !self.is_value_ref(fr, st, &path) {
                    continue;
                }
                let cur = self.eval_path(fr, st, &path);
                let mut v = cur.clone();
                v.taint = union(
                    cur.taint,
                    Some(&t.step(fr.file, c.span, || {
                        format!("written into `{path}` by `{}`", call_text(c))
                    })),
                );
                self.write_path(fr, st, &path, v);
            }
        }
    }
}

/// `"/" + p`, `"/"+a+b`, `f"/{p}"`: text that starts with a constant `/`.
fn starts_with_root(e: &Expr) -> bool {
    match e {
        Expr::Lit(Lit::Str(s)) => s.starts_with('/'),
        Expr::Binary {
            op: BinOp::Add,
            left,
            ..
        } => starts_with_root(left),
        Expr::Concat(parts) => parts.first().is_some_and(starts_with_root),
        _ => false,
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

    const GO_SQLI: &str = "go/sql-injection";

    #[test]
    fn go_results_unpack_with_the_data_in_the_first_only() {
        let src = r#"package p
import ("database/sql"; "net/http"; "strings")
func h(db *sql.DB, r *http.Request) {
	v, err := strings.CutPrefix(r.FormValue("q"), "x")
	db.Query(err.Error())
	db.Query(v)
}
"#;
        assert_eq!(lines("h.go", src, GO_SQLI), [6]);
    }

    #[test]
    fn go_project_results_unpack_position_by_position() {
        let src = r#"package p
import ("database/sql"; "net/http")
func read(r *http.Request) (string, string) { return "fixed", r.FormValue("q") }
func h(db *sql.DB, r *http.Request) {
	a, b := read(r)
	db.Query(a)
	db.Query(b)
}
"#;
        assert_eq!(lines("h.go", src, GO_SQLI), [7]);
    }

    #[test]
    fn go_functions_of_a_package_see_each_other_across_files() {
        let a = "package p\nimport \"net/http\"\nfunc h(w http.ResponseWriter, r *http.Request) { run(r.FormValue(\"q\")) }\n";
        let b = "package p\nimport \"database/sql\"\nvar db *sql.DB\nfunc run(q string) { db.Exec(q) }\n";
        let other = "package q\nfunc run(q string) {}\n";
        let found = findings(&[("app/p/a.go", a), ("app/p/b.go", b), ("app/q/c.go", other)]);
        assert!(
            found
                .iter()
                .any(|(p, r, l)| p == "app/p/b.go" && r == GO_SQLI && *l == 4),
            "{found:?}"
        );
    }

    #[test]
    fn go_import_paths_find_the_package_folder_by_its_tail() {
        let api = "package api\nimport (\"net/http\"; \"example.com/shop/store\")\nfunc h(r *http.Request) { store.Find(r.FormValue(\"n\")) }\n";
        let store = "package store\nimport \"database/sql\"\nvar db *sql.DB\nfunc Find(n string) { db.Query(\"SELECT \" + n) }\n";
        let found = findings(&[("shop/api/h.go", api), ("shop/store/s.go", store)]);
        assert!(
            found
                .iter()
                .any(|(p, r, _)| p == "shop/store/s.go" && r == GO_SQLI),
            "{found:?}"
        );
    }

    #[test]
    fn go_out_parameters_are_filled_by_the_call() {
        let src = r#"package p
import ("database/sql"; "encoding/json"; "net/http")
type In struct { Name string }
func h(db *sql.DB, r *http.Request) {
	var in In
	var fixed In
	json.NewDecoder(r.Body).Decode(&in)
	db.Query(fixed.Name)
	db.Query(in.Name)
}
"#;
        assert_eq!(lines("h.go", src, GO_SQLI), [9]);
    }

    #[test]
    fn a_non_html_content_type_makes_the_response_no_page() {
        let src = r#"package p
import "net/http"
func h(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte(r.FormValue("a")))
}
func j(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(r.FormValue("a")))
}
"#;
        assert_eq!(lines("h.go", src, "go/xss"), [4]);
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
