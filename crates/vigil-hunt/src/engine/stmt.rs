//! Statements: assignment, branches, loops to a fixpoint, `switch`, `try`, and the
//! validation an early exit proves.

use super::collections::{elem_at, iter_elem, store_elem};
use super::*;

impl<'p> Engine<'p> {
    pub(super) fn block(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, stmts: &'p [Stmt]) {
        for s in stmts {
            if st.dead || self.over_budget() {
                return;
            }
            self.stmt(fr, st, s);
        }
    }

    pub(super) fn stmt(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, s: &'p Stmt) {
        // The text of a simple statement is what pattern contexts read; a compound one's span
        // covers its bodies, so its condition gets none.
        fr.stmt_span = match s {
            Stmt::Assign { span, .. } | Stmt::Expr(_, span) | Stmt::Return(_, span) => Some(*span),
            _ => None,
        };
        match s {
            Stmt::Assign {
                target,
                value,
                ty,
                op,
                span,
            } => {
                let mut v = match value {
                    Some(e) => self.eval(fr, st, e),
                    None => Val::default(),
                };
                let mut in_place = false;
                if let Some(op) = op {
                    let old = self.read_target(fr, st, target);
                    in_place = *op == BinOp::Add
                        && self.sem.augmented_add_extends_lists()
                        && is_list(&old);
                    v = self.binop(*op, &old, &v);
                }
                if v.ty.is_none()
                    && let Some(t) = ty
                {
                    let t = simple_type(t);
                    if t != "var" && t != "Object" {
                        v.ty = Some(t.as_str().into());
                    }
                }
                if let Some(Expr::Lit(Lit::Str(text))) = value {
                    self.check_secret(fr.file, &target_name(target), text, *span);
                }
                if let Some(t) = &v.taint {
                    let name = target_name(target);
                    v.taint = Some(t.step(fr.file, *span, || format!("assigned to `{name}`")));
                }
                let shares = alias_source(value.as_ref(), &v, st);
                // `xs += ys` of a list changes the list, not which list `xs` names.
                if in_place && let Target::Var(n) = target {
                    self.write_path(fr, st, n, v);
                    return;
                }
                match (target, ty) {
                    // A declaration always binds a local, even where a field has its name.
                    (Target::Var(n), Some(_)) => {
                        self.rebind(fr, st, n);
                        st.set(n, v.bounded());
                    }
                    _ => self.assign(fr, st, target, v, *span),
                }
                // `b = a` of an object: both names now reach it.
                if let (Target::Var(n), Some(from)) = (target, shares)
                    && st.get(n).is_some()
                {
                    st.alias(n, from);
                }
            }
            Stmt::Expr(e, _) => {
                self.eval(fr, st, e);
            }
            Stmt::If {
                cond, then, other, ..
            } => {
                let c = self.eval(fr, st, cond);
                match c.konst.as_ref().map(truthy) {
                    Some(true) => self.block(fr, st, then),
                    Some(false) => self.block(fr, st, other),
                    None => {
                        let mut a = st.clone();
                        let mut b = st.clone();
                        // A call of the project's validator (`is_safe_url(x)`) validates x
                        // on the branch where it returned true.
                        self.apply_validators(fr, &mut a, cond, true);
                        self.apply_validators(fr, &mut b, cond, false);
                        self.block(fr, &mut a, then);
                        self.block(fr, &mut b, other);
                        // An early exit on a check of the data validates it for the rest.
                        // `if (!out.startsWith(root)) continue`: skipping what fails an
                        // allow check guards the rest of the loop's body. (Skipping what is
                        // in a deny list, `if (common.contains(h)) continue`, proves nothing.)
                        let skips_failures = ends_in_continue(then)
                            && (matches!(cond, Expr::Unary { op: UnOp::Not, .. })
                                || names_prototype_key(cond));
                        if a.dead && !b.dead && other.is_empty() && (exits(then) || skips_failures)
                        {
                            self.apply_guard(fr, &mut b, cond);
                        }
                        *st = a.join(&b);
                    }
                }
            }
            Stmt::While { cond, body } => {
                let c = self.eval(fr, st, cond);
                if c.konst.as_ref().map(truthy) == Some(false) {
                    return;
                }
                self.run_loop(fr, st, |eng, fr, st| {
                    eng.eval(fr, st, cond);
                    eng.block(fr, st, body);
                });
            }
            Stmt::ForEach {
                target,
                ty,
                iter,
                body,
                span,
            } => {
                let it = self.eval(fr, st, iter);
                let mut elem = iter_elem(&it);
                if elem.ty.is_none()
                    && let Some(t) = ty
                {
                    elem.ty = Some(simple_type(t).as_str().into());
                }
                if let Some(t) = &elem.taint {
                    let name = target_name(target);
                    elem.taint = Some(t.step(fr.file, *span, || format!("iterated into `{name}`")));
                }
                self.run_loop(fr, st, |eng, fr, st| {
                    eng.assign(fr, st, target, elem.clone(), *span);
                    eng.block(fr, st, body);
                });
            }
            Stmt::Switch {
                subject,
                cases,
                fallthrough,
            } => self.switch(fr, st, subject, cases, *fallthrough),
            Stmt::Try {
                body,
                handlers,
                finally,
            } => {
                // A handler may start after any statement of the body (or before the first).
                let mut entry = st.clone();
                for s in body {
                    if st.dead || self.over_budget() {
                        break;
                    }
                    self.stmt(fr, st, s);
                    entry = entry.join(st);
                }
                if !handlers.is_empty() {
                    let mut out = st.clone();
                    for h in handlers {
                        let mut hs = entry.clone();
                        if let Some(v) = &h.var {
                            hs.set(v, Val::default());
                        }
                        self.block(fr, &mut hs, &h.body);
                        out = out.join(&hs);
                    }
                    *st = out;
                }
                if !finally.is_empty() {
                    let was_dead = st.dead;
                    st.dead = false;
                    self.block(fr, st, finally);
                    st.dead = st.dead || was_dead;
                }
            }
            Stmt::Return(e, span) => {
                let mut v = match e {
                    Some(e) => self.eval(fr, st, e),
                    None => Val::default(),
                };
                if !fr.view_decorators.is_empty() {
                    self.check_view_return(fr, &v, *span);
                }
                if let Some(t) = &v.taint
                    && let Some(f) = fr.func
                {
                    v.taint =
                        Some(t.step(fr.file, *span, || format!("returned from `{}`", f.name)));
                }
                fr.ret = Some(match &fr.ret {
                    Some(r) => r.join(&v),
                    None => v,
                });
                if fr.track_exits {
                    fr.exits = Some(match fr.exits.take() {
                        Some(e) => e.join(st),
                        None => st.clone(),
                    });
                }
                st.dead = true;
            }
            Stmt::Throw(e) => {
                self.eval(fr, st, e);
                st.dead = true;
            }
            Stmt::Break => {
                if let Some(slot) = fr.breaks.last_mut() {
                    *slot = Some(match slot.take() {
                        Some(b) => b.join(st),
                        None => st.clone(),
                    });
                }
                st.dead = true;
            }
            Stmt::Continue => {
                // The state at `continue` flows back to the loop head.
                if let Some(slot) = fr.continues.last_mut() {
                    *slot = Some(match slot.take() {
                        Some(c) => c.join(st),
                        None => st.clone(),
                    });
                }
                st.dead = true;
            }
            Stmt::Block(b) => self.block(fr, st, b),
            Stmt::FuncDef(f) => {
                st.set(
                    &f.name,
                    Val {
                        func: Some((fr.file, f)),
                        ..Val::default()
                    },
                );
                // A nested function sees the enclosing variables: analyse it now, as a root.
                let env = st.clone();
                self.root(fr.file, fr.class, f, &env);
            }
            Stmt::ClassDef(c) => self.pending.push((fr.file, c)),
        }
    }

    pub(super) fn run_loop(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        mut body: impl FnMut(&mut Self, &mut Frame<'p>, &mut State<'p>),
    ) {
        fr.breaks.push(None);
        fr.continues.push(None);
        let mut head = st.clone();
        // Taint masks only grow and are finite, so this reaches a fixpoint; constants that
        // still change after two passes are widened to unknown so they cannot keep it going.
        for pass in 0..8 {
            let mut s = head.clone();
            body(self, fr, &mut s);
            if let Some(c) = fr.continues.last_mut().and_then(Option::take) {
                s = s.join(&c);
            }
            let mut next = head.join(&s);
            if pass >= 1 {
                next.widen_from(&head);
            }
            if next.same_as(&head) || self.over_budget() {
                head = next;
                break;
            }
            head = next;
        }
        fr.continues.pop();
        let breaks = fr.breaks.pop().flatten();
        *st = match breaks {
            Some(b) => head.join(&b),
            None => head,
        };
    }

    pub(super) fn switch(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        subject: &'p Expr,
        cases: &'p [SwitchCase],
        fallthrough: bool,
    ) {
        let subj = self.eval(fr, st, subject);
        // Which case is entered first: known when subject and labels are constants.
        let mut start: Option<Vec<usize>> = None;
        if let Some(k) = &subj.konst {
            let mut hit = None;
            let mut default = None;
            let mut unknown_label = false;
            for (i, c) in cases.iter().enumerate() {
                if c.labels.is_empty() {
                    default = Some(i);
                }
                for l in &c.labels {
                    match l {
                        Expr::Lit(lit) if lit == k => hit = hit.or(Some(i)),
                        Expr::Lit(_) => {}
                        _ => unknown_label = true,
                    }
                }
            }
            if !unknown_label {
                start = Some(hit.or(default).into_iter().collect());
            }
        }
        let entries: Vec<usize> = start.unwrap_or_else(|| (0..cases.len()).collect());
        let has_default = cases.iter().any(|c| c.labels.is_empty());
        let mut out: Option<State<'p>> =
            if entries.is_empty() || (!has_default && subj.konst.is_none()) {
                Some(st.clone())
            } else {
                None
            };
        fr.breaks.push(None);
        for &i in &entries {
            let mut s = st.clone();
            let mut j = i;
            while j < cases.len() {
                self.block(fr, &mut s, &cases[j].body);
                if s.dead || !fallthrough {
                    break;
                }
                j += 1;
            }
            if !s.dead {
                out = Some(match out {
                    Some(o) => o.join(&s),
                    None => s,
                });
            }
        }
        if let Some(b) = fr.breaks.pop().flatten() {
            out = Some(match out {
                Some(o) => o.join(&b),
                None => b,
            });
        }
        *st = out.unwrap_or(State {
            dead: true,
            ..State::default()
        });
    }

    /// After `if (check(x)) return;` the data checked (and everything from the same source)
    /// counts as validated.
    pub(super) fn apply_guard(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, cond: &'p Expr) {
        let mut roots: Vec<*const Step> = Vec::new();
        self.guard_roots(fr, st, cond, true, &mut roots);
        if roots.is_empty() {
            return;
        }
        st.vars.update(|_, v| {
            let t = v.taint.as_ref()?;
            roots.contains(&root_of(t)).then(|| Val {
                taint: None,
                ..v.clone()
            })
        });
    }

    /// Clear the data that validator calls in `cond` accept, on the branch where `cond` is
    /// `holds`: `if is_safe_url(x): return redirect(x)`, `if not is_valid(x): x = DEFAULT`.
    fn apply_validators(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        cond: &'p Expr,
        holds: bool,
    ) {
        let mut roots: Vec<*const Step> = Vec::new();
        self.validated_roots(fr, st, cond, holds, &mut roots);
        if roots.is_empty() {
            return;
        }
        st.vars.update(|_, v| {
            let t = v.taint.as_ref()?;
            roots.contains(&root_of(t)).then(|| Val {
                taint: None,
                ..v.clone()
            })
        });
    }

    /// Sources whose data a validator call in `cond` accepted, given that `cond` is `holds`.
    fn validated_roots(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        cond: &'p Expr,
        holds: bool,
        out: &mut Vec<*const Step>,
    ) {
        match cond {
            // Both sides hold when `a and b` does; both fail when `a or b` does.
            Expr::Binary {
                op: BinOp::And,
                left,
                right,
            } if holds => {
                self.validated_roots(fr, st, left, holds, out);
                self.validated_roots(fr, st, right, holds, out);
            }
            Expr::Binary {
                op: BinOp::Or,
                left,
                right,
            } if !holds => {
                self.validated_roots(fr, st, left, holds, out);
                self.validated_roots(fr, st, right, holds, out);
            }
            Expr::Unary {
                op: UnOp::Not,
                expr,
            } => self.validated_roots(fr, st, expr, !holds, out),
            Expr::Call(c) if holds && is_validator_name(&c.name) => {
                for a in &c.args {
                    let v = self.eval(fr, st, a);
                    if let Some(t) = v.all_taint() {
                        out.push(root_of(&t));
                    }
                }
            }
            _ => {}
        }
    }

    /// Sources whose data `cond` validates, given that `cond == exits` leads out of the
    /// function: what is left on the path that goes on is known to pass the check.
    pub(super) fn guard_roots(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        cond: &'p Expr,
        exits: bool,
        out: &mut Vec<*const Step>,
    ) {
        const CHECKS: &[&str] = &[
            "startswith",
            "endswith",
            "startsWith",
            "endsWith",
            "includes",
            "contains",
            "matches",
            "match",
            "fullmatch",
            "search",
            "isalnum",
            "isdigit",
            "isalpha",
            "isidentifier",
            // Go: `strings.HasPrefix(p, base)`, `re.MatchString(s)`, `filepath.IsLocal(name)`.
            "HasPrefix",
            "HasSuffix",
            "Contains",
            "MatchString",
            "IsLocal",
        ];
        match cond {
            Expr::Binary { op, left, right } => match op {
                BinOp::And | BinOp::Or => {
                    self.guard_roots(fr, st, left, exits, out);
                    self.guard_roots(fr, st, right, exits, out);
                }
                // `'../' in data` → exit: what goes on has no such substring (a deny check
                // on the data's content). `data in ALLOWED` must hold to go on (allow list).
                // `data in BLOCKED` → exit proves nothing about what goes on.
                BinOp::In | BinOp::NotIn => {
                    let exits_when_in = (*op == BinOp::In) == exits;
                    let side = if exits_when_in { right } else { left };
                    let v = self.eval(fr, st, side);
                    if let Some(t) = v.all_taint() {
                        out.push(root_of(&t));
                    }
                }
                // Going on only when `data == "literal"` pins the data to a constant;
                // going on when it differs from one literal does not.
                BinOp::Eq | BinOp::Ne => {
                    let goes_on_when_equal = (*op == BinOp::Eq) != exits;
                    if !goes_on_when_equal {
                        // Leaving when a key is `__proto__` or `constructor` keeps it off the
                        // prototype (a deny check that is complete for prototype keys).
                        let (l, r) = (self.eval(fr, st, left), self.eval(fr, st, right));
                        for (a, b) in [(&l, &r), (&r, &l)] {
                            if matches!(&b.konst, Some(Lit::Str(s)) if s == "__proto__" || s == "constructor")
                                && let Some(t) = a.all_taint()
                            {
                                out.push(root_of(&t));
                            }
                        }
                        return;
                    }
                    let (l, r) = (self.eval(fr, st, left), self.eval(fr, st, right));
                    for (a, b) in [(&l, &r), (&r, &l)] {
                        if matches!(&b.konst, Some(Lit::Str(s)) if !s.is_empty())
                            && let Some(t) = a.all_taint()
                        {
                            out.push(root_of(&t));
                        }
                    }
                }
                _ => {}
            },
            Expr::Unary {
                op: UnOp::Not,
                expr,
            } => self.guard_roots(fr, st, expr, !exits, out),
            Expr::Call(c) if CHECKS.contains(&c.name.as_str()) || is_path_check_name(&c.name) => {
                let mut vals = Vec::new();
                if let Some(r) = &c.receiver {
                    vals.push(self.eval(fr, st, r));
                }
                for a in &c.args {
                    vals.push(self.eval(fr, st, a));
                }
                for v in vals {
                    if let Some(t) = v.all_taint() {
                        out.push(root_of(&t));
                    }
                }
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ assignment

    pub(super) fn read_target(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        t: &'p Target,
    ) -> Val<'p> {
        match t {
            Target::Var(n) => self.name(fr, st, n),
            Target::Field(obj, name) => {
                let e_obj = obj;
                match e_obj.dotted() {
                    Some(d) => {
                        let key = format!("{d}.{name}");
                        st.get(&key).cloned().unwrap_or_default()
                    }
                    None => Val::default(),
                }
            }
            Target::Index(obj, idx) => {
                let o = self.eval(fr, st, obj);
                let i = self.eval(fr, st, idx);
                elem_at(&o, &i)
            }
            _ => Val::default(),
        }
    }

    pub(super) fn assign(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        target: &'p Target,
        v: Val<'p>,
        span: Span,
    ) {
        match target {
            Target::Var(n) => match self.implicit_field(fr, st, n) {
                Some(field) => st.set(&field, v.bounded()),
                None => {
                    self.rebind(fr, st, n);
                    st.set(n, v.bounded());
                }
            },
            Target::Field(obj, name) => {
                self.check_field_store(fr, st, obj, name, &v, span);
                self.retype_on_store(fr, st, obj, name, &v);
                if let Some(d) = obj.dotted() {
                    self.set_field(st, &d, name, v);
                } else {
                    self.eval(fr, st, obj);
                }
            }
            Target::Index(obj, idx) => {
                let i = self.eval(fr, st, idx);
                self.check_store_sink(fr, st, obj, &i, &v, span);
                if let Expr::Index { index: outer, .. } = obj {
                    let k = self.eval(fr, st, outer);
                    self.check_nested_key_store(fr, &k, &i, &v, span);
                } else if let Some(d) = obj.dotted()
                    && st.get(&d).is_some_and(|o| o.ty.as_deref() == Some(KEYED))
                {
                    // `cur = cur[k1]; .. cur[k2] = v`: the object was reached by a key.
                    self.check_nested_key_store(fr, &i, &i, &v, span);
                }
                if let Some(path) = obj.dotted() {
                    let cur = self.eval(fr, st, obj);
                    let updated = store_elem(&cur, &i, v);
                    self.write_path(fr, st, &path, updated);
                } else {
                    self.eval(fr, st, obj);
                }
            }
            Target::Tuple(ts) => {
                let is_list = matches!(v.elems.as_deref(), Some(Elems::List(_)));
                if !is_list && self.sem.unpacking_one_value_fills_the_first_only() {
                    for (k, t) in ts.iter().enumerate() {
                        let e = if k == 0 { v.clone() } else { Val::default() };
                        self.assign(fr, st, t, e, span);
                    }
                    return;
                }
                for (k, t) in ts.iter().enumerate() {
                    let e = elem_at(&v, &Val::konst(Lit::Int(k as i64)));
                    self.assign(fr, st, t, e, span);
                }
            }
            Target::Other(e) => {
                self.eval(fr, st, e);
            }
        }
    }

    /// Write a variable or dotted path back after a mutation; the object's other names
    /// (aliases) see it too.
    pub(super) fn write_path(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        path: &str,
        v: Val<'p>,
    ) {
        if !path.contains('.')
            && let Some(field) = self.implicit_field(fr, st, path)
        {
            st.set(&field, v);
            return;
        }
        let v = v.bounded();
        if !st.aliases.is_empty() {
            let (root, rest) = match path.split_once('.') {
                Some((r, rest)) => (r, Some(rest)),
                None => (path, None),
            };
            for (other, must) in st.aliases_of(root) {
                let p = match rest {
                    Some(rest) => format!("{other}.{rest}"),
                    None => other.to_string(),
                };
                let nv = match (must, st.get(&p)) {
                    (false, Some(old)) => old.join(&v),
                    _ => v.clone(),
                };
                st.set(&p, nv);
            }
        }
        st.set(path, v);
    }

    /// `obj.name = v`: the field as a variable of its own, and, where `obj` is a local
    /// (or one of its aliases), inside the object's value too, so that passing or returning
    /// the object carries it.
    pub(super) fn set_field(&mut self, st: &mut State<'p>, obj: &str, name: &str, v: Val<'p>) {
        let mut names: Vec<(Rc<str>, bool)> = vec![(obj.into(), true)];
        if !obj.contains('.') {
            names.extend(st.aliases_of(obj));
        }
        for (o, must) in names {
            let key = format!("{o}.{name}");
            let nv = match (must, st.get(&key)) {
                (false, Some(old)) => old.join(&v),
                _ => v.clone(),
            };
            if !o.contains('.')
                && &*o != self.sem.receiver_name()
                && let Some(cur) = st.get(&o)
            {
                let updated = with_field(cur, name, nv.clone());
                st.set(&o, updated);
            }
            st.set(&key, nv);
        }
    }

    /// `n` is assigned a new value: it names no object it shared before.
    pub(super) fn rebind(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, n: &str) {
        st.unalias(n);
        if fr.track_exits && !fr.rebound.iter().any(|r| r == n) {
            fr.rebound.push(n.to_string());
        }
    }

    /// The receiver's field that a write to the bare name `n` reaches, where the language
    /// lets a field be named without its receiver and no local has that name.
    fn implicit_field(&self, fr: &Frame<'p>, st: &State<'p>, n: &str) -> Option<String> {
        let c = fr.class?;
        (self.sem.bare_names_reach_fields()
            && st.get(n).is_none()
            && c.class.fields.iter().any(|f| f.name == n))
        .then(|| format!("{}.{n}", self.sem.receiver_name()))
    }
}

/// The local that `value` (the expression assigned, and its value `v`) names when the
/// assignment makes two names share one object. Constants, text and numbers are values,
/// not shared objects.
fn alias_source<'e>(value: Option<&'e Expr>, v: &Val, st: &State) -> Option<&'e str> {
    let mut e = value?;
    while let Expr::Cast { expr, .. } = e {
        e = expr;
    }
    let Expr::Name(from) = e else { return None };
    let scalar = match v.ty.as_deref() {
        Some(t) => t == "String" || t == "str" || is_primitive_number(t),
        None => v.konst.is_some(),
    };
    (!scalar && st.get(from).is_some()).then_some(from.as_str())
}

fn is_list(v: &Val) -> bool {
    matches!(v.elems.as_deref(), Some(Elems::List(_)))
        || v.ty
            .as_deref()
            .is_some_and(super::collections::is_list_type)
}

/// `obj` with field `name` set to `v`: objects and dicts keep their fields apart; anything
/// else just carries the taint.
pub(super) fn with_field<'p>(obj: &Val<'p>, name: &str, v: Val<'p>) -> Val<'p> {
    let mut out = obj.clone();
    match obj.elems.as_deref() {
        Some(Elems::Map(m)) => {
            let mut m = m.clone();
            m.insert(name.to_string(), v);
            out.elems = Some(Rc::new(Elems::Map(m)));
        }
        Some(Elems::List(_)) => out.taint = union(out.taint, v.all_taint().as_ref()),
        None => {
            let mut m = std::collections::BTreeMap::new();
            m.insert(name.to_string(), v);
            out.elems = Some(Rc::new(Elems::Map(m)));
        }
    }
    out.bounded()
}

/// The block leaves the function (return or throw) on its last statement; `continue` and
/// `break` do not count, since skipping an item is not validating the next one.
/// `key === '__proto__' || key === 'constructor'`: a deny check complete for what it
/// guards against.
fn names_prototype_key(cond: &Expr) -> bool {
    match cond {
        Expr::Binary {
            op: BinOp::Or,
            left,
            right,
        } => names_prototype_key(left) || names_prototype_key(right),
        Expr::Binary {
            op: BinOp::Eq,
            left,
            right,
        } => [left, right]
            .iter()
            .any(|e| matches!(e.str_lit(), Some("__proto__" | "constructor"))),
        _ => false,
    }
}

fn ends_in_continue(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Continue) => true,
        Some(Stmt::Block(b)) => ends_in_continue(b),
        _ => false,
    }
}

fn exits(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Return(..) | Stmt::Throw(_)) => true,
        Some(Stmt::Block(b)) => exits(b),
        Some(Stmt::If { then, other, .. }) => exits(then) && exits(other),
        _ => false,
    }
}

/// A predicate that, by its name, accepts only safe values: `is_safe_url`,
/// `url_has_allowed_host_and_scheme` (Django), `is_valid_path`, `isSafeRedirect`,
/// `is_allowed_host`. Checks that merely describe the value (`startswith`) are not.
fn is_validator_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "");
    n == "urlhasallowedhostandscheme"
        || ["issafe", "isvalid", "isallowed", "istrusted", "validate"]
            .iter()
            .any(|p| n.starts_with(p))
}

/// A project predicate that, by its name, checks a path for climbing out of a folder:
/// `containsDotDot(name)`, `isPathTraversal(p)`, `isWithin(base, p)`, `isLocalPath(p)`.
fn is_path_check_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "");
    [
        "dotdot",
        "traversal",
        "islocal",
        "iswithin",
        "isinside",
        "issubpath",
        "withinroot",
        "insecurepath",
    ]
    .iter()
    .any(|p| n.contains(p))
}

fn root_of(t: &Taint) -> *const Step {
    let mut cur: &Step = &t.path;
    while let Some(p) = cur.prev.as_deref() {
        cur = p;
    }
    cur as *const Step
}

fn target_name(t: &Target) -> String {
    match t {
        Target::Var(n) => n.clone(),
        Target::Field(o, n) => match o.dotted() {
            Some(d) => format!("{d}.{n}"),
            None => n.clone(),
        },
        Target::Index(o, _) => format!("{}[..]", o.dotted().unwrap_or_default()),
        _ => "value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;

    const PY_CMDI: &str = "python/command-injection";
    const JAVA_CMDI: &str = "java/command-injection";

    #[test]
    fn branches_that_cannot_run_contribute_nothing() {
        let src = r#"import os
def f():
    x = input()
    if False:
        os.system(x)
    if 1 > 2:
        os.system(x)
    if 2 > 1:
        os.system(x)
"#;
        assert_eq!(lines("b.py", src, PY_CMDI), [9]);
    }

    #[test]
    fn loops_carry_values_around_to_the_next_pass() {
        let src = r#"import os
def f():
    cmd = "ls"
    for i in range(3):
        os.system(cmd)
        cmd = input()
    os.system("ls")
"#;
        assert_eq!(lines("l.py", src, PY_CMDI), [5]);
    }

    #[test]
    fn an_early_exit_on_a_check_validates_the_data() {
        let src = r#"import os
def checked():
    x = input()
    if not x.isalnum():
        return
    os.system(x)
def unchecked():
    x = input()
    if not x.isalnum():
        print("odd")
    os.system(x)
"#;
        assert_eq!(lines("g.py", src, PY_CMDI), [11]);
    }

    #[test]
    fn a_constant_switch_enters_only_its_case() {
        let src = r#"import javax.servlet.http.HttpServletRequest;
class Switch {
    void f(HttpServletRequest req) throws Exception {
        String p = req.getParameter("p");
        String cmd = "ls";
        switch ("b") {
            case "a": cmd = p; break;
            case "b": cmd = "pwd"; break;
        }
        Runtime.getRuntime().exec(cmd);
        switch ("a") {
            case "a": cmd = p; break;
            case "b": cmd = "pwd"; break;
        }
        Runtime.getRuntime().exec(cmd);
    }
}
"#;
        assert_eq!(lines("Switch.java", src, JAVA_CMDI), [15]);
    }

    #[test]
    fn a_bare_name_assigns_the_field_where_the_receiver_is_implicit() {
        let src = r#"import javax.servlet.http.HttpServletRequest;
class Fields {
    private String cmd;
    private String safe = "ls";
    void f(HttpServletRequest req) throws Exception {
        cmd = req.getParameter("c");
        Runtime.getRuntime().exec(this.cmd);
        Runtime.getRuntime().exec(safe);
    }
}
"#;
        assert_eq!(lines("Fields.java", src, JAVA_CMDI), [7]);
    }
}
