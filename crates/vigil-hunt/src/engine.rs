//! The taint engine: an abstract interpreter over the lowered code.
//!
//! Flow-sensitive within a function (branches join, loops iterate to a fixpoint), with
//! constant folding so that branches that can never run contribute nothing, element-sensitive
//! collections, and interprocedural by analysing callees in the caller's context (bounded
//! depth, cached by argument signature), including interface calls with few implementations.

use crate::project::{ClassRef, Index, pick_overload};
use crate::rules::{CallSpec, Library, Rule, RuleKind};
use crate::value::*;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use vigil_code::*;
use vigil_core::{Finding, FlowStep, Location};

/// Type given to an XML parser that resolves external entities.
const UNSAFE_PARSER: &str = "UnsafeXmlParser";

/// How deep calls are followed into project code.
const MAX_CALL_DEPTH: usize = 6;
/// Interface calls resolve to at most this many implementations.
const MAX_IMPLEMENTATIONS: usize = 4;
/// Work bound per root function, in evaluated expressions: hostile or huge code cannot stall a scan.
const MAX_WORK: usize = 400_000;
/// Work bound per file, across all its roots.
const MAX_FILE_WORK: usize = 8_000_000;
/// Call-result cache entries kept per file before the cache is cleared.
const MAX_CACHE: usize = 20_000;

/// The rules of one language, with taint bits assigned.
pub struct LangRules<'r> {
    pub lang: Lang,
    pub taint: Vec<(Mask, &'r Rule)>,
    pub patterns: Vec<&'r Rule>,
    pub lib: &'r Library,
    pub all: Mask,
}

impl<'r> LangRules<'r> {
    pub fn new(lang: Lang, rules: &'r [Rule], lib: &'r Library) -> LangRules<'r> {
        let mut taint = Vec::new();
        let mut patterns = Vec::new();
        for r in rules.iter().filter(|r| r.lang == Some(lang)) {
            match r.kind {
                RuleKind::Taint if taint.len() < 128 => {
                    taint.push((1u128 << taint.len(), r));
                }
                RuleKind::Taint => {}
                RuleKind::Pattern => patterns.push(r),
            }
        }
        let all = taint.iter().fold(0, |m, (b, _)| m | b);
        LangRules {
            lang,
            taint,
            patterns,
            lib,
            all,
        }
    }
}

/// What a call looks like to rule matching.
struct Site<'a> {
    /// Resolved qualified name (`os.system`, `URLDecoder.decode`), when the callee is static.
    qual: Option<String>,
    /// Simple type of the receiver value.
    recv_ty: Option<Rc<str>>,
    /// The receiver is a value (not a class or module reference).
    has_value_receiver: bool,
    name: &'a str,
    is_new: bool,
}

struct Frame<'p> {
    file: usize,
    class: Option<ClassRef<'p>>,
    func: Option<&'p Function>,
    ret: Option<Val<'p>>,
    breaks: Vec<Option<State<'p>>>,
    continues: Vec<Option<State<'p>>>,
    /// The function is a web view: its return value is the HTTP response body.
    view_decorators: Vec<String>,
}

pub struct Engine<'p> {
    idx: &'p Index<'p>,
    rules: &'p LangRules<'p>,
    pub findings: Vec<Finding>,
    stack: Vec<*const Function>,
    /// Call results by callee and argument signature: (return value, the object after).
    cache: HashMap<(usize, u64), (Val<'p>, Option<Val<'p>>)>,
    /// The receiver object as the last analysed method left it (its fields), so that
    /// setters and other field writes reach the caller.
    last_this: Option<Val<'p>>,
    work: usize,
    /// Work done for the whole file; past `MAX_FILE_WORK` analysis of the file stops.
    file_work: usize,
    /// Nested classes and functions met while analysing, analysed as roots afterwards.
    pending: Vec<(usize, &'p Class)>,
}

fn is_python(l: Lang) -> bool {
    l == Lang::Python
}

impl<'p> Engine<'p> {
    pub fn new(idx: &'p Index<'p>, rules: &'p LangRules<'p>) -> Engine<'p> {
        Engine {
            idx,
            rules,
            findings: Vec::new(),
            stack: Vec::new(),
            cache: HashMap::new(),
            last_this: None,
            work: 0,
            file_work: 0,
            pending: Vec::new(),
        }
    }

    fn py(&self) -> bool {
        is_python(self.rules.lang)
    }

    /// Past the work budget the rest of a root (or file) is skipped: bounded time beats
    /// completeness on code built to stall an analyser.
    fn over_budget(&self) -> bool {
        self.work > MAX_WORK || self.file_work > MAX_FILE_WORK
    }

    // ---------------------------------------------------------------- roots

    /// Analyse every function of a file as an entry point.
    pub fn analyse_file(&mut self, file: usize) {
        let module = &self.idx.units[file].module;
        let mut globals = State::default();
        if self.py() {
            let mut fr = self.frame(file, None, None);
            self.work = 0;
            self.block(&mut fr, &mut globals, &module.body);
            globals.dead = false;
            for f in &module.functions {
                self.work = 0;
                self.root(file, None, f, &globals);
            }
        }
        for c in &module.classes {
            self.analyse_class(file, c, None, &globals);
        }
        while let Some((f, c)) = self.pending.pop() {
            self.analyse_class(f, c, None, &globals);
        }
    }

    fn analyse_class(
        &mut self,
        file: usize,
        class: &'p Class,
        outer: Option<&'p Class>,
        globals: &State<'p>,
    ) {
        let cref = ClassRef { file, class, outer };
        for f in &class.fields {
            match &f.init {
                Some(Expr::Lit(Lit::Str(text))) => self.check_secret(file, &f.name, text, f.span),
                // Initialisers run too: `private Random r = new Random();`.
                Some(init) => {
                    let mut fr = self.frame(file, Some(cref), None);
                    let mut st = globals.clone();
                    self.work = 0;
                    self.eval(&mut fr, &mut st, init);
                }
                None => {}
            }
        }
        for m in &class.methods {
            self.work = 0;
            self.root(file, Some(cref), m, globals);
        }
        for inner in &class.classes {
            self.analyse_class(file, inner, Some(class), globals);
        }
    }

    fn frame(
        &self,
        file: usize,
        class: Option<ClassRef<'p>>,
        func: Option<&'p Function>,
    ) -> Frame<'p> {
        let view_decorators = func
            .map(|f| {
                f.decorators
                    .iter()
                    .filter_map(|d| match d {
                        Expr::Call(c) => Some(c.name.clone()),
                        Expr::Name(n) => Some(n.clone()),
                        Expr::Field { name, .. } => Some(name.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Frame {
            file,
            class,
            func,
            ret: None,
            breaks: Vec::new(),
            continues: Vec::new(),
            view_decorators,
        }
    }

    fn root(&mut self, file: usize, class: Option<ClassRef<'p>>, f: &'p Function, env: &State<'p>) {
        let mut st = env.clone();
        st.dead = false;
        let mut fr = self.frame(file, class, Some(f));
        for p in &f.params {
            let mut v = match &p.ty {
                Some(t) => Val::typed(&simple_type(t)),
                None => Val::default(),
            };
            if let Some(label) = self.param_source(&fr, p) {
                v.taint = Some(Taint::new(
                    self.rules.all,
                    file,
                    f.span,
                    format!("{label} `{}`", p.name),
                ));
            }
            st.set(&p.name, v);
        }
        if let Some(c) = class {
            st.set("this", Val::typed(&c.class.name));
        }
        self.stack.push(f as *const Function);
        self.block(&mut fr, &mut st, &f.body);
        self.stack.pop();
    }

    /// Parameters filled from the request by a web framework (`@RequestParam`, route variables).
    fn param_source(&self, fr: &Frame<'p>, p: &Param) -> Option<&'static str> {
        const JAVA: &[&str] = &[
            "RequestParam",
            "PathVariable",
            "RequestBody",
            "RequestHeader",
            "CookieValue",
            "QueryParam",
            "PathParam",
            "FormParam",
            "HeaderParam",
        ];
        if p.annotations.iter().any(|a| JAVA.contains(&a.as_str())) {
            return Some("request-bound parameter");
        }
        if self.py()
            && p.name != "self"
            && fr.view_decorators.iter().any(|d| {
                matches!(
                    d.as_str(),
                    "route" | "get" | "post" | "put" | "patch" | "delete" | "api_route"
                )
            })
            && p.default.is_none()
        {
            return Some("route parameter");
        }
        None
    }

    // ---------------------------------------------------------------- statements

    fn block(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, stmts: &'p [Stmt]) {
        for s in stmts {
            if st.dead || self.over_budget() {
                return;
            }
            self.stmt(fr, st, s);
        }
    }

    fn stmt(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, s: &'p Stmt) {
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
                if let Some(op) = op {
                    let old = self.read_target(fr, st, target);
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
                match (target, ty) {
                    // A declaration always binds a local, even where a field has its name.
                    (Target::Var(n), Some(_)) => st.set(n, v.bounded()),
                    _ => self.assign(fr, st, target, v, *span),
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
                        self.block(fr, &mut a, then);
                        self.block(fr, &mut b, other);
                        // An early exit on a check of the data validates it for the rest.
                        if a.dead && !b.dead && other.is_empty() && exits(then) {
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
                let mut elem = self.iter_elem(&it);
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

    fn run_loop(
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

    fn switch(
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
    fn apply_guard(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, cond: &'p Expr) {
        let mut roots: Vec<*const Step> = Vec::new();
        self.guard_roots(fr, st, cond, true, &mut roots);
        if roots.is_empty() {
            return;
        }
        for v in st.vars.values_mut() {
            if let Some(t) = &v.taint
                && roots.contains(&root_of(t))
            {
                v.taint = None;
            }
        }
    }

    /// Sources whose data `cond` validates, given that `cond == exits` leads out of the
    /// function: what is left on the path that goes on is known to pass the check.
    fn guard_roots(
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
            "contains",
            "matches",
            "match",
            "fullmatch",
            "search",
            "isalnum",
            "isdigit",
            "isalpha",
            "isidentifier",
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
            Expr::Call(c) if CHECKS.contains(&c.name.as_str()) => {
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

    // ---------------------------------------------------------------- assignment

    fn read_target(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, t: &'p Target) -> Val<'p> {
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
                self.index(&o, &i)
            }
            _ => Val::default(),
        }
    }

    fn assign(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        target: &'p Target,
        v: Val<'p>,
        span: Span,
    ) {
        match target {
            Target::Var(n) => {
                // A Java assignment to a field name without `this.`.
                if !self.py()
                    && st.get(n).is_none()
                    && let Some(c) = fr.class
                    && c.class.fields.iter().any(|f| &f.name == n)
                {
                    st.set(&format!("this.{n}"), v.bounded());
                    return;
                }
                st.set(n, v.bounded())
            }
            Target::Field(obj, name) => {
                if let Some(d) = obj.dotted() {
                    st.set(&format!("{d}.{name}"), v);
                } else {
                    self.eval(fr, st, obj);
                }
            }
            Target::Index(obj, idx) => {
                let i = self.eval(fr, st, idx);
                self.check_store_sink(fr, st, obj, &i, &v, span);
                if let Some(path) = obj.dotted() {
                    let cur = self.eval(fr, st, obj);
                    let updated = store_elem(&cur, &i, v);
                    self.write_path(fr, st, &path, updated);
                } else {
                    self.eval(fr, st, obj);
                }
            }
            Target::Tuple(ts) => {
                for (k, t) in ts.iter().enumerate() {
                    let e = self.index(&v, &Val::konst(Lit::Int(k as i64)));
                    self.assign(fr, st, t, e, span);
                }
            }
            Target::Other(e) => {
                self.eval(fr, st, e);
            }
        }
    }

    /// Write a variable or dotted path back after a mutation.
    fn write_path(&mut self, fr: &Frame<'p>, st: &mut State<'p>, path: &str, v: Val<'p>) {
        if !path.contains('.')
            && !self.py()
            && st.get(path).is_none()
            && let Some(c) = fr.class
            && c.class.fields.iter().any(|f| f.name == path)
        {
            st.set(&format!("this.{path}"), v);
            return;
        }
        st.set(path, v.bounded());
    }

    // ---------------------------------------------------------------- expressions

    fn eval(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, e: &'p Expr) -> Val<'p> {
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
                self.index(&o, &i)
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
                    match kv.konst.as_ref() {
                        Some(l) => {
                            m.insert(lit_text(l, true), vv);
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
                    out.taint = union(out.taint, v.all_taint().as_ref());
                    match (&mut text, &v.konst) {
                        (Some(t), Some(k)) => t.push_str(&lit_text(k, self.py())),
                        _ => text = None,
                    }
                }
                out.konst = text.and_then(bounded);
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

    fn name(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, n: &str) -> Val<'p> {
        if let Some(v) = st.get(n) {
            return v.clone();
        }
        if !self.py() {
            // A field of this class or an outer one, read without `this.`.
            if let Some(v) = st.get(&format!("this.{n}")) {
                return v.clone();
            }
            if let Some(c) = fr.class {
                for class in [Some(c.class), c.outer].into_iter().flatten() {
                    if let Some(f) = class.fields.iter().find(|f| f.name == n) {
                        return self.field_decl(fr, st, f);
                    }
                }
            }
        }
        if self.py() {
            if let Some(v) = self.module_global(fr.file, n) {
                return v;
            }
            let module = &self.idx.units[fr.file].module;
            if let Some(i) = module.imports.iter().rev().find(|i| i.alias == n) {
                let last = i.path.rsplit('.').next().unwrap_or(&i.path);
                return Val {
                    module_path: Some(i.path.as_str().into()),
                    ty: Some(last.into()),
                    ..Val::default()
                };
            }
        }
        Val::default()
    }

    /// The value of a declared field: its constant initialiser, else just its type.
    fn field_decl(
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

    fn module_global(&self, file: usize, n: &str) -> Option<Val<'p>> {
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
    fn resolve_dotted(&self, file: usize, dotted: &str) -> String {
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

    /// Whether the first segment of `dotted` is a value in scope (rather than a class or module).
    fn is_value_ref(&self, fr: &Frame<'p>, st: &State<'p>, dotted: &str) -> bool {
        let first = dotted.split('.').next().unwrap_or(dotted);
        if st.get(first).is_some() || first == "this" || first == "self" || first == "super" {
            return true;
        }
        if !self.py()
            && let Some(c) = fr.class
        {
            return [Some(c.class), c.outer]
                .into_iter()
                .flatten()
                .any(|cl| cl.fields.iter().any(|f| f.name == first));
        }
        false
    }

    fn field(
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
            if let Some(rest) = d.strip_prefix("this.")
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
        if name == "length" && !self.py() {
            return Val::typed("int");
        }
        if let Some(e) = &o.elems
            && let Elems::Map(m) = &**e
            && let Some(v) = m.get(name)
        {
            return v.clone();
        }
        let mut v = Val::tainted(o.all_taint());
        // Known attribute types (e.g. `Path.parent` is a `Path`).
        if let Some(ty) = &o.ty
            && ty.as_ref() == "Path"
        {
            v.ty = o.ty.clone();
        }
        v
    }

    /// A reference to a class member or module attribute: `Utils.DIR`, `request.args`.
    fn static_ref(&mut self, fr: &mut Frame<'p>, dotted: &str) -> Val<'p> {
        let qual = if self.py() {
            self.resolve_dotted(fr.file, dotted)
        } else {
            dotted.to_string()
        };
        let mut v = self.static_ref_qual(fr, dotted, &qual);
        if self.py() && v.taint.is_none() && v.konst.is_none() {
            v.module_path = Some(qual.as_str().into());
        }
        v
    }

    fn static_ref_qual(&mut self, fr: &mut Frame<'p>, dotted: &str, qual: &str) -> Val<'p> {
        let qual = qual.to_string();
        for spec in &self.rules.lib.sources {
            if spec.attrs.iter().any(|a| path_has_prefix(&qual, a)) {
                let label = spec
                    .label
                    .clone()
                    .unwrap_or_else(|| "untrusted input".into());
                return Val::tainted(Some(Taint::new(
                    self.rules.all,
                    fr.file,
                    Span::default(),
                    format!("{label} `{dotted}`"),
                )));
            }
        }
        // Constants of project modules and classes.
        if let Some((owner, member)) = qual.rsplit_once('.') {
            if self.py() {
                for &f in self.idx.modules_named(owner) {
                    if let Some(v) = self.module_global(f, member) {
                        return v;
                    }
                }
            } else {
                let cls = owner.rsplit('.').next().unwrap_or(owner);
                for c in self.idx.classes_named(cls, fr.file) {
                    if let Some(f) = c.class.fields.iter().find(|f| f.name == member) {
                        let mut inner = self.frame(c.file, Some(c), None);
                        let mut st = State::default();
                        return self.field_decl(&mut inner, &mut st, f);
                    }
                }
            }
        }
        // Unknown module attribute or class constant: remember its name as a type.
        let last = dotted.rsplit('.').next().unwrap_or(dotted);
        Val::typed(last)
    }

    /// `pkg.Class.FIELD` where `Class` is a project class that declares `FIELD`.
    fn java_static_field(&mut self, fr: &mut Frame<'p>, dotted: &str) -> Option<Val<'p>> {
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

    fn binop(&self, op: BinOp, l: &Val<'p>, r: &Val<'p>) -> Val<'p> {
        use BinOp::*;
        if let (Some(a), Some(b)) = (&l.konst, &r.konst)
            && let Some(k) = fold(op, a, b, self.py())
        {
            let mut v = Val::konst(k);
            if matches!(op, Add | Sub | Mul | Div | Mod) {
                v.taint = union(l.all_taint(), r.all_taint().as_ref());
            }
            return v;
        }
        match op {
            Eq | Ne | Lt | Le | Gt | Ge | And | Or | In | NotIn => Val::typed("boolean"),
            _ => {
                let mut v = Val::tainted(union(l.all_taint(), r.all_taint().as_ref()));
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

    fn index(&self, o: &Val<'p>, i: &Val<'p>) -> Val<'p> {
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
                    let mut v = m.get(&lit_text(k, true)).cloned().unwrap_or_default();
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

    fn iter_elem(&self, it: &Val<'p>) -> Val<'p> {
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

    // ---------------------------------------------------------------- calls

    fn call(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, c: &'p Call) -> Val<'p> {
        let recv_dotted = c.receiver.as_ref().and_then(|r| r.dotted());
        let mut static_recv = recv_dotted
            .as_deref()
            .is_some_and(|d| !self.is_value_ref(fr, st, d));
        let mut recv = match (&c.receiver, static_recv) {
            (Some(r), false) => Some(self.eval(fr, st, r)),
            _ => None,
        };
        // A static field of a project class (`Helper.template.query(..)`) is a value.
        if static_recv
            && !self.py()
            && let Some(d) = &recv_dotted
            && let Some(v) = self.java_static_field(fr, d)
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
            if self.py() {
                Some(format!("{}.{}", self.resolve_dotted(fr.file, d), c.name))
            } else {
                let cls = d.rsplit('.').next().unwrap_or(d);
                Some(format!("{cls}.{}", c.name))
            }
        } else if c.receiver.is_none() {
            if self.py() {
                Some(self.resolve_dotted(fr.file, &c.name))
            } else {
                None
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
            has_value_receiver: recv.is_some(),
            name: &c.name,
            is_new: false,
        };

        // A Python call of a project class constructs it.
        if self.py() {
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
        // Python classes are called like functions: `configparser.ConfigParser()`.
        if result.ty.is_none()
            && self.py()
            && let Some(last) = site.qual.as_deref().and_then(|q| q.rsplit('.').next())
            && last.starts_with(|ch: char| ch.is_ascii_uppercase())
        {
            result.ty = Some(last.into());
        }
        result
    }

    /// `parser.setFeature(external_entities, True)`: the parser now resolves external entities.
    fn mark_unsafe_parser(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        site: &Site,
        args: &[Val<'p>],
    ) {
        let lib = self.rules.lib;
        let enables = args
            .last()
            .and_then(|a| a.konst.as_ref())
            .is_some_and(truthy);
        if !enables
            || !lib
                .unsafe_parsers
                .iter()
                .any(|s| self.spec_matches(s, site, args, &[]))
        {
            return;
        }
        if let Some(path) = c.receiver.as_ref().and_then(|r| r.dotted()) {
            let mut v = st.get(&path).cloned().unwrap_or_default();
            v.ty = Some(UNSAFE_PARSER.into());
            self.write_path(fr, st, &path, v);
        }
    }

    fn source_label(&self, site: &Site, args: &[Val<'p>]) -> Option<String> {
        for spec in &self.rules.lib.sources {
            if self.spec_matches(spec, site, args, &[]) {
                return Some(
                    spec.label
                        .clone()
                        .unwrap_or_else(|| "untrusted input".into()),
                );
            }
        }
        None
    }

    fn return_type(&self, site: &Site) -> Option<Rc<str>> {
        for r in &self.rules.lib.returns {
            if r.methods.iter().any(|m| m == site.name)
                && (r.types.is_empty()
                    || site
                        .recv_ty
                        .as_deref()
                        .is_some_and(|t| r.types.iter().any(|x| x == t))
                    || site
                        .qual
                        .as_deref()
                        .is_some_and(|q| r.types.iter().any(|x| q == format!("{x}.{}", site.name))))
            {
                return Some(r.ty.as_str().into());
            }
        }
        None
    }

    /// The value a call returns, before sources and sanitizers are applied.
    #[allow(clippy::too_many_arguments)]
    fn call_result(
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
                    konst: fold_call(site.name, recv, args),
                    ..Val::default()
                };
            }
        }
        if let Some(k) = fold_call(site.name, recv, args) {
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
                updated.konst = bounded(format!("{a}{}", lit_text(b, self.py())));
            } else if !args.is_empty() {
                updated.konst = None;
            }
            self.write_path(fr, st, &root, updated.clone());
            return updated;
        }
        Val::tainted(t)
    }

    fn eval_path(&mut self, fr: &mut Frame<'p>, st: &mut State<'p>, path: &str) -> Val<'p> {
        if let Some(v) = st.get(path) {
            return v.clone();
        }
        if !path.contains('.') {
            return self.name(fr, st, path);
        }
        Val::default()
    }

    /// `props.getProperty("k", "default")` and `conf.get("section", "k")` with constant keys.
    fn config_lookup(&self, site: &Site, args: &[Val<'p>]) -> Option<Val<'p>> {
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
    fn collection_op(
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
        let py = self.py();
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
                            lit_text(a, py),
                            lit_text(b, py)
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
                            lit_text(a, py),
                            lit_text(b, py)
                        ))),
                        _ => return Some(recv.any_elem()),
                    }
                } else {
                    args[0].clone()
                };
                let mut v = self.index(recv, &key);
                if key.konst.is_some()
                    && let Some(Elems::Map(m)) = known.as_deref()
                    && !m.contains_key(&lit_text(key.konst.as_ref()?, true))
                    && let Some(d) = args.get(1)
                {
                    v = d.clone();
                    v.taint = union(v.taint, recv.taint.as_ref());
                }
                if (c.name == "pop" || c.name == "remove")
                    && let (Some(k), Some(Elems::Map(m))) = (&key.konst, known.as_deref())
                {
                    let mut m = m.clone();
                    m.remove(&lit_text(k, true));
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
                Some(self.index(recv, &args[0]))
            }
            ("remove" | "pop", 0 | 1) if matches!(known.as_deref(), Some(Elems::List(_))) => {
                let Some(Elems::List(l)) = known.as_deref() else {
                    return None;
                };
                let mut items = l.clone();
                let at = match args.first().map(|a| &a.konst) {
                    None if py => items.len().checked_sub(1),
                    None => Some(0),
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

    /// Calls into the project's own code: analysed in this context.
    fn call_project(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> Option<Val<'p>> {
        let arity = args.len();
        let mut targets: Vec<(usize, Option<ClassRef<'p>>, &'p Function)> = Vec::new();
        match &c.receiver {
            None => {
                if let Some(v) = st.get(&c.name)
                    && let Some((file, f)) = v.func
                {
                    targets.push((file, None, f));
                } else if self.py() {
                    let module = &self.idx.units[fr.file].module;
                    if let Some(f) = pick_overload(&module.functions, &c.name, arity) {
                        targets.push((fr.file, None, f));
                    } else {
                        let q = self.resolve_dotted(fr.file, &c.name);
                        targets.extend(self.py_module_function(&q, arity));
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
                    if self.py() {
                        let q = format!("{}.{}", self.resolve_dotted(fr.file, &d), c.name);
                        targets.extend(self.py_module_function(&q, arity));
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
                    } else {
                        let cls = d.rsplit('.').next().unwrap_or(&d);
                        for cr in self.idx.classes_named(cls, fr.file) {
                            if let Some((cr, f)) = self.idx.find_method(cr, &c.name, arity) {
                                targets.push((cr.file, Some(cr), f));
                                break;
                            }
                        }
                    }
                } else if matches!(r, Expr::Name(n) if n == "this" || n == "self") {
                    if let Some(cls) = fr.class
                        && let Some((cr, f)) =
                            self.idx
                                .find_method(cls, &c.name, arity + usize::from(self.py()))
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
                            self.idx
                                .find_method(cr, &c.name, arity + usize::from(self.py()))
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
    fn write_back_object(&mut self, fr: &Frame<'p>, st: &mut State<'p>, c: &'p Call, obj: Val<'p>) {
        let self_name = if self.py() { "self" } else { "this" };
        let own = match &c.receiver {
            None => true,
            Some(Expr::Name(n)) => n == "this" || n == "self",
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

    fn py_module_function(
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
    fn invoke(
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
        if self.py()
            && class.is_some()
            && params
                .peek()
                .is_some_and(|p| p.name == "self" || p.name == "cls")
        {
            params.next();
        }
        let params: Vec<&'p Param> = params.collect();
        let this_val = this.clone().unwrap_or_else(|| match class {
            Some(c) => Val::typed(&c.class.name),
            None => Val::default(),
        });
        let self_name = if self.py() { "self" } else { "this" };
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
        let is_ctor = f.name == "<init>" || f.name == "__init__";
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

    fn returned(&self, caller: &Frame<'p>, f: &Function, mut v: Val<'p>, span: Span) -> Val<'p> {
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

    fn construct(
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
            let init = if self.py() { "__init__" } else { "<init>" };
            let this = Val::typed(&cr.class.name);
            if let Some((cr2, f)) =
                self.idx
                    .find_method(cr, init, args.len() + usize::from(self.py()))
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

    // ---------------------------------------------------------------- rule matching

    fn spec_matches(
        &self,
        spec: &CallSpec,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> bool {
        let mut hit = false;
        if site.is_new {
            let q = site.qual.as_deref().unwrap_or("");
            hit = spec
                .new
                .iter()
                .any(|n| n == q || simple_type(n) == site.name);
        } else {
            if let Some(q) = &site.qual {
                hit = spec.calls.iter().any(|c| qual_matches(q, c));
            }
            if !hit
                && !spec.methods.is_empty()
                && site.has_value_receiver
                && spec.methods.iter().any(|m| m == site.name)
            {
                hit = if spec.types.is_empty() {
                    true
                } else {
                    match &site.recv_ty {
                        Some(t) => spec.types.iter().any(|x| x == t.as_ref()),
                        None => spec.untyped,
                    }
                };
            }
        }
        if !hit {
            return false;
        }
        if let (Some(k), Some(re)) = (&spec.unless_kwarg, &spec.unless_re)
            && let Some((_, v)) = kwargs.iter().find(|(n, _)| n == k)
        {
            let text = match (&v.konst, &v.ty) {
                (Some(l), _) => lit_text(l, self.py()),
                (None, Some(t)) => t.to_string(),
                _ => String::new(),
            };
            if re.is_match(&text) {
                return false;
            }
        }
        if let Some(i) = spec.parser_arg
            && args.get(i).and_then(|a| a.ty.as_deref()) != Some(UNSAFE_PARSER)
        {
            return false;
        }
        if let Some(re) = &spec.compiled {
            let text = if let Some(k) = &spec.kwarg {
                match kwargs.iter().find(|(n, _)| n == k) {
                    Some((_, v)) => v.konst.as_ref().map(|l| lit_text(l, self.py())),
                    None => return spec.missing,
                }
            } else {
                // A module constant we cannot fold is compared by its name.
                args.get(spec.arg.unwrap_or(0))
                    .and_then(|v| match (&v.konst, &v.ty) {
                        (Some(l), _) => Some(lit_text(l, self.py())),
                        (None, Some(t)) if v.module_path.is_some() => Some(t.to_string()),
                        _ => None,
                    })
            };
            return text.is_some_and(|t| re.is_match(&t));
        }
        true
    }

    fn sanitize(
        &self,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        t: Option<Taint>,
    ) -> Option<Taint> {
        let t = t?;
        let mut keep = Mask::MAX;
        for (bit, rule) in &self.rules.taint {
            if rule
                .sanitizers
                .iter()
                .any(|s| self.spec_matches(s, site, args, kwargs) || name_matches(s, site.name))
            {
                keep &= !bit;
            }
        }
        restrict(Some(t), keep)
    }

    /// Sinks of taint rules and pattern rules at a call.
    fn check_call(
        &mut self,
        fr: &Frame<'p>,
        site: &Site,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        span: Span,
    ) {
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if !self.spec_matches(spec, site, args, kwargs) {
                    continue;
                }
                let mut t: Option<Taint> = None;
                if spec.kwargs.is_empty() || spec.args.is_some() {
                    for (i, a) in args.iter().enumerate() {
                        if spec.args.as_ref().is_none_or(|s| s.contains(&i)) {
                            t = union(t, a.all_taint().as_ref());
                        }
                    }
                }
                for (k, a) in kwargs {
                    if spec.kwargs.iter().any(|x| x == k) {
                        t = union(t, a.all_taint().as_ref());
                    }
                }
                if spec.returns_of.is_empty() && spec.args.as_ref().is_some_and(|a| a.is_empty()) {
                    t = union(t, recv.and_then(|r| r.all_taint()).as_ref());
                }
                if let Some(t) = t.filter(|t| t.mask & bit != 0) {
                    self.report(rule, fr.file, span, Some(&t), site.name);
                    break;
                }
            }
        }
        for rule in &rules.patterns {
            if rule
                .matches
                .iter()
                .any(|m| self.spec_matches(m, site, args, kwargs))
            {
                self.report(rule, fr.file, span, None, site.name);
            }
        }
    }

    /// `session[key] = value` style sinks: stores into a named object.
    fn check_store_sink(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        obj: &'p Expr,
        key: &Val<'p>,
        v: &Val<'p>,
        span: Span,
    ) {
        let Some(d) = obj.dotted() else { return };
        if self.is_value_ref(fr, st, &d) {
            return;
        }
        let qual = if self.py() {
            self.resolve_dotted(fr.file, &d)
        } else {
            d.clone()
        };
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if spec.stores.iter().any(|a| qual_matches(&qual, a)) {
                    let t = union(key.all_taint(), v.all_taint().as_ref());
                    if let Some(t) = t.filter(|t| t.mask & bit != 0) {
                        self.report(rule, fr.file, span, Some(&t), &d);
                    }
                }
            }
        }
    }

    /// A string literal stored under a name that says it is a credential.
    fn check_secret(&mut self, file: usize, name: &str, text: &str, span: Span) {
        if text.chars().count() < 4 || text.chars().all(|c| c == '*' || c == 'x' || c == 'X') {
            return;
        }
        // Labels and placeholders ("Password", "${DB_PASSWORD}") are not secrets.
        let lower = text.to_ascii_lowercase();
        if [
            "password", "secret", "key", "token", "${", "{{", "<", "changeme",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            return;
        }
        let rules = self.rules;
        for rule in &rules.patterns {
            if rule
                .matches
                .iter()
                .any(|m| m.assigns_re.as_ref().is_some_and(|re| re.is_match(name)))
            {
                self.report(rule, file, span, None, name);
            }
        }
    }

    fn check_view_return(&mut self, fr: &Frame<'p>, v: &Val<'p>, span: Span) {
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if spec
                    .returns_of
                    .iter()
                    .any(|d| fr.view_decorators.contains(d))
                    && let Some(t) = v.all_taint().filter(|t| t.mask & bit != 0)
                {
                    self.report(rule, fr.file, span, Some(&t), "response");
                }
            }
        }
    }

    fn report(&mut self, rule: &Rule, file: usize, span: Span, taint: Option<&Taint>, sink: &str) {
        let unit = &self.idx.units[file];
        // tree-sitter columns count bytes; reports count characters.
        let loc = |f: usize, s: Span| {
            let src = &self.idx.units[f].source;
            Location {
                path: self.idx.units[f].path.clone(),
                start_line: s.start_line,
                start_column: char_column(src, s.start_line, s.start_col),
                end_line: s.end_line,
                end_column: char_column(src, s.end_line, s.end_col),
            }
        };
        let mut path = Vec::new();
        let mut source = String::new();
        if let Some(t) = taint {
            let steps = t.steps();
            for (i, s) in steps.iter().enumerate() {
                if source.is_empty() {
                    source = s.msg.clone();
                }
                // A source read from an attribute has no span of its own: it is where the
                // next step (its assignment) is, in the same file.
                let (f, sp) = if s.span == Span::default() {
                    steps
                        .get(i + 1)
                        .filter(|n| n.file == s.file && n.span != Span::default())
                        .map(|n| (n.file, n.span))
                        .unwrap_or((file, span))
                } else {
                    (s.file, s.span)
                };
                path.push(FlowStep {
                    location: loc(f, sp),
                    message: s.msg.clone(),
                });
            }
            path.push(FlowStep {
                location: loc(file, span),
                message: format!("reaches `{sink}`"),
            });
        }
        let snippet = unit
            .source
            .lines()
            .nth(span.start_line.saturating_sub(1) as usize)
            .unwrap_or("")
            .trim()
            .to_string();
        let mut message = rule.message.replace("{sink}", sink);
        if !source.is_empty() {
            message = message.replace("{source}", &source);
        } else {
            message = message.replace("{source}", "untrusted input");
        }
        self.findings.push(Finding {
            rule_id: rule.id.clone(),
            cwe: rule.cwe.clone(),
            severity: rule.severity,
            confidence: rule.confidence,
            message,
            location: loc(file, span),
            path,
            snippet,
            triage: None,
        });
    }
}

// -------------------------------------------------------------------- helpers

/// The block leaves the function (return or throw) on its last statement; `continue` and
/// `break` do not count, since skipping an item is not validating the next one.
fn exits(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Return(..) | Stmt::Throw(_)) => true,
        Some(Stmt::Block(b)) => exits(b),
        Some(Stmt::If { then, other, .. }) => exits(then) && exits(other),
        _ => false,
    }
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

fn call_text(c: &Call) -> String {
    match c.receiver.as_ref().and_then(|r| r.dotted()) {
        Some(d) => format!("{d}.{}(..)", c.name),
        None => format!("{}(..)", c.name),
    }
}

/// The variable at the start of a call chain: `sb.append(a).append(b)` → `sb`.
fn chain_root(e: &Expr) -> Option<String> {
    match e {
        Expr::Call(c) => c.receiver.as_ref().and_then(chain_root),
        other => other.dotted(),
    }
}

pub fn simple_type(ty: &str) -> String {
    let base = ty.split('<').next().unwrap_or(ty).trim();
    base.rsplit('.').next().unwrap_or(base).trim().to_string()
}

fn is_primitive_number(t: &str) -> bool {
    matches!(
        t,
        "int"
            | "long"
            | "short"
            | "byte"
            | "double"
            | "float"
            | "char"
            | "Integer"
            | "Long"
            | "Double"
            | "Float"
            | "boolean"
            | "Boolean"
    )
}

fn is_map_type(t: &str) -> bool {
    t.ends_with("Map") || matches!(t, "dict" | "Properties" | "Hashtable" | "ConfigParser")
}

fn is_list_type(t: &str) -> bool {
    t.ends_with("List")
        || matches!(
            t,
            "list" | "Vector" | "Stack" | "ArrayDeque" | "LinkedList" | "deque"
        )
}

fn empty_map<'p>(like: &Val<'p>) -> Val<'p> {
    Val {
        taint: like.taint.clone(),
        ty: like.ty.clone(),
        elems: Some(Rc::new(Elems::Map(BTreeMap::new()))),
        ..Val::default()
    }
}

/// `obj[key] = v` on an abstract value.
fn store_elem<'p>(obj: &Val<'p>, key: &Val<'p>, v: Val<'p>) -> Val<'p> {
    let mut out = obj.clone();
    match (obj.elems.as_deref(), &key.konst) {
        (Some(Elems::Map(m)), Some(k)) => {
            let mut m = m.clone();
            m.insert(lit_text(k, true), v);
            out.elems = Some(Rc::new(Elems::Map(m)));
        }
        (Some(Elems::List(l)), Some(Lit::Int(i))) if (*i as usize) < l.len() && *i >= 0 => {
            let mut l = l.clone();
            l[*i as usize] = v;
            out.elems = Some(Rc::new(Elems::List(l)));
        }
        (None, Some(k)) if obj.ty.as_deref().is_some_and(|t| t == "dict") => {
            let mut m = BTreeMap::new();
            m.insert(lit_text(k, true), v);
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
fn object_from_fields<'p>(st: &State<'p>, self_name: &str, this: &Val<'p>) -> Val<'p> {
    let prefix = format!("{self_name}.");
    let mut m = BTreeMap::new();
    for (k, v) in &st.vars {
        if let Some(f) = k.strip_prefix(&prefix)
            && !f.contains('.')
        {
            m.insert(f.to_string(), v.clone());
        }
    }
    let mut out = this.clone();
    out.elems = Some(Rc::new(Elems::Map(m)));
    out.bounded()
}

fn path_has_prefix(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.'))
}

/// `q` is the resolved name of a call; `pattern` a rule's name (suffix on segment boundary,
/// or `prefix.*`).
fn qual_matches(q: &str, pattern: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix(".*") {
        return q.strip_prefix(prefix).is_some_and(|r| r.starts_with('.'));
    }
    q == pattern || q.strip_suffix(pattern).is_some_and(|r| r.ends_with('.'))
}

fn name_matches(spec: &CallSpec, name: &str) -> bool {
    spec.name_re.as_ref().is_some_and(|re| re.is_match(name))
}

/// Constant strings longer than this are forgotten: `s = s + s` repeated must not exhaust memory.
const MAX_CONST: usize = 4096;

fn bounded(s: String) -> Option<Lit> {
    (s.len() <= MAX_CONST).then_some(Lit::Str(s))
}

/// The 1-based character column of a 1-based byte column on a line.
fn char_column(source: &str, line: u32, byte_col: u32) -> u32 {
    let Some(text) = source.lines().nth(line.saturating_sub(1) as usize) else {
        return byte_col;
    };
    let byte = (byte_col.saturating_sub(1) as usize).min(text.len());
    let chars = text.char_indices().take_while(|(i, _)| *i < byte).count();
    chars as u32 + 1
}

/// Python's `//`: rounds toward negative infinity.
fn floor_div(x: i64, y: i64) -> Option<i64> {
    let q = x.checked_div(y)?;
    Some(if x % y != 0 && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    })
}

/// Python's `%`: the result has the divisor's sign.
fn floor_mod(x: i64, y: i64) -> Option<i64> {
    let r = x.checked_rem(y)?;
    Some(if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    })
}

fn fold(op: BinOp, a: &Lit, b: &Lit, python: bool) -> Option<Lit> {
    use BinOp::*;
    use Lit::*;
    Some(match (op, a, b) {
        (Add, Int(x), Int(y)) => Int(x.checked_add(*y)?),
        (Sub, Int(x), Int(y)) => Int(x.checked_sub(*y)?),
        (Mul, Int(x), Int(y)) => Int(x.checked_mul(*y)?),
        // Checked: `i64::MIN / -1` overflows, and hostile code may write it.
        (Div, Int(x), Int(y)) => Int(if python {
            floor_div(*x, *y)?
        } else {
            x.checked_div(*y)?
        }),
        (Mod, Int(x), Int(y)) => Int(if python {
            floor_mod(*x, *y)?
        } else {
            x.checked_rem(*y)?
        }),
        (Add, Str(x), y) => bounded(format!("{x}{}", lit_text(y, python)))?,
        (Add, x, Str(y)) if !python => bounded(format!("{}{y}", lit_text(x, python)))?,
        (Mul, Str(x), Int(n))
            if python && (0..=64).contains(n) && x.len() * (*n as usize) <= MAX_CONST =>
        {
            Str(x.repeat(*n as usize))
        }
        (Eq, x, y) => Bool(x == y),
        (Ne, x, y) => Bool(x != y),
        (Lt, Int(x), Int(y)) => Bool(x < y),
        (Le, Int(x), Int(y)) => Bool(x <= y),
        (Gt, Int(x), Int(y)) => Bool(x > y),
        (Ge, Int(x), Int(y)) => Bool(x >= y),
        (And, x, y) => Bool(crate::value::truthy(x) && crate::value::truthy(y)),
        (Or, x, y) => Bool(crate::value::truthy(x) || crate::value::truthy(y)),
        (In, Str(x), Str(y)) => Bool(y.contains(x.as_str())),
        (NotIn, Str(x), Str(y)) => Bool(!y.contains(x.as_str())),
        _ => return None,
    })
}

/// String methods on constants: `"ABC".charAt(1)`, `"x".equals(y)`.
fn fold_call(name: &str, recv: Option<&Val>, args: &[Val]) -> Option<Lit> {
    let s = recv?.str_konst()?;
    let arg_str = |i: usize| args.get(i).and_then(|a| a.str_konst());
    let arg_int = |i: usize| match args.get(i).and_then(|a| a.konst.as_ref()) {
        Some(Lit::Int(n)) => Some(*n),
        _ => None,
    };
    let chars: Vec<char> = s.chars().collect();
    Some(match (name, args.len()) {
        ("charAt", 1) => Lit::Str(chars.get(usize::try_from(arg_int(0)?).ok()?)?.to_string()),
        ("length" | "__len__", 0) => Lit::Int(chars.len() as i64),
        ("equals", 1) => Lit::Bool(arg_str(0)? == s),
        ("equalsIgnoreCase", 1) => Lit::Bool(arg_str(0)?.eq_ignore_ascii_case(s)),
        ("toUpperCase" | "upper", 0) => Lit::Str(s.to_uppercase()),
        ("toLowerCase" | "lower", 0) => Lit::Str(s.to_lowercase()),
        ("trim" | "strip", 0) => Lit::Str(s.trim().to_string()),
        ("toString" | "intern", 0) => Lit::Str(s.to_string()),
        ("contains", 1) => Lit::Bool(s.contains(arg_str(0)?)),
        ("startsWith" | "startswith", 1) => Lit::Bool(s.starts_with(arg_str(0)?)),
        ("endsWith" | "endswith", 1) => Lit::Bool(s.ends_with(arg_str(0)?)),
        ("indexOf" | "find", 1) => Lit::Int(
            s.find(arg_str(0)?)
                .map(|i| s[..i].chars().count() as i64)
                .unwrap_or(-1),
        ),
        ("isEmpty", 0) => Lit::Bool(s.is_empty()),
        ("substring", 1) => Lit::Str(
            chars
                .get(usize::try_from(arg_int(0)?).ok()?..)?
                .iter()
                .collect(),
        ),
        ("substring", 2) => {
            let a = usize::try_from(arg_int(0)?).ok()?;
            let b = usize::try_from(arg_int(1)?).ok()?;
            Lit::Str(chars.get(a..b)?.iter().collect())
        }
        ("concat", 1) => bounded(format!("{s}{}", arg_str(0)?))?,
        ("replace", 2) if !arg_str(0)?.is_empty() => {
            let (from, to) = (arg_str(0)?, arg_str(1)?);
            // Size first: building a huge string only to drop it is the cost to avoid.
            if s.len() + s.matches(from).count() * to.len() > MAX_CONST {
                return None;
            }
            Lit::Str(s.replace(from, to))
        }
        _ => return None,
    })
}
