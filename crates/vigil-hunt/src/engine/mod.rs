//! The taint engine: an abstract interpreter over the lowered code.
//!
//! Flow-sensitive within a function (branches join, loops iterate to a fixpoint), with
//! constant folding so that branches that can never run contribute nothing, element-sensitive
//! collections, and interprocedural by analysing callees in the caller's context (bounded
//! depth, cached by argument signature), including interface calls with few implementations.
//!
//! The parts: `stmt` statements, branches and loops; `expr` expressions and names; `calls`
//! calls into project code and library calls; `collections` containers element by element;
//! `sinks` rule matching and findings; `constfold` constants; `value` the abstract values.
//! What differs between languages is asked of `semantics`, one file per language.

mod calls;
mod collections;
mod constfold;
mod expr;
pub(crate) mod semantics;
mod sinks;
mod stmt;
mod value;
mod vars;

use crate::project::{ClassRef, Index};
use crate::rules::{Library, ParamSource, Rule, RuleKind, UrlFixed};
use semantics::LanguageSemantics;
use std::collections::HashMap;
use std::rc::Rc;
use value::*;
use vigil_code::*;
use vigil_core::Finding;

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

/// Where attacker data enters, besides the library's sources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EntryPoints {
    /// Applications: request data, as the rule library describes it.
    #[default]
    Requests,
    /// Libraries: the parameters of public functions and methods are attacker data too.
    Public,
}

/// The rules of one language, with taint bits assigned.
pub struct LangRules<'r> {
    pub lang: Lang,
    pub taint: Vec<(Mask, &'r Rule)>,
    pub patterns: Vec<&'r Rule>,
    pub lib: &'r Library,
    /// The rules that general sources (request data) taint for.
    pub all: Mask,
    /// The rules with a nested-key sink (prototype pollution).
    pub nested_keys: Mask,
    /// The rules that a library package's entry parameters taint for (`library_inputs`),
    /// shifted by `CONSTRUCTED_SHIFT`: the caller passing a whole command or a whole
    /// program is the function's purpose; one built around the input is the finding.
    pub library: Mask,
    /// Whether public API parameters count as attacker data.
    pub entry: EntryPoints,
    /// Rules for which data appended after a fixed host, or a fixed query start, is
    /// harmless (`safe_after_fixed`).
    after_host: Mask,
    after_query: Mask,
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
        // Request data and other general sources taint for every rule but those that
        // name their own sources.
        let all = taint
            .iter()
            .filter(|(_, r)| !r.own_sources)
            .fold(0, |m, (b, _)| m | b);
        let safe_from = |level: UrlFixed| {
            taint
                .iter()
                .filter(|(_, r)| {
                    r.safe_after_fixed != UrlFixed::None && r.safe_after_fixed <= level
                })
                .fold(0, |m, (b, _)| m | b)
        };
        let (after_host, after_query) = (safe_from(UrlFixed::Host), safe_from(UrlFixed::Query));
        let library = if taint.len() <= CONSTRUCTED_SHIFT as usize {
            taint
                .iter()
                .filter(|(_, r)| r.library_inputs)
                .fold(0, |m: Mask, (b, _)| m | (b << CONSTRUCTED_SHIFT))
        } else {
            0
        };
        let nested_keys = taint
            .iter()
            .filter(|(_, r)| r.sinks.iter().any(|s| s.nested_keys))
            .fold(0, |m, (b, _)| m | b);
        LangRules {
            lang,
            taint,
            patterns,
            lib,
            all,
            nested_keys,
            library,
            entry: EntryPoints::Requests,
            after_host,
            after_query,
        }
    }

    /// The rules still dangerous for data appended after text that settles `fixed`.
    pub fn after_fixed(&self, fixed: UrlFixed) -> Mask {
        match fixed {
            UrlFixed::None => !0,
            UrlFixed::Host => !self.after_host,
            UrlFixed::Query => !self.after_query,
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
    /// The first argument is written as a constant absolute path joined with the rest
    /// (`"/" + p`): cleaning it cannot climb above the root.
    rooted_first_arg: bool,
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
    /// The states at `return`, joined: what a callee leaves its arguments and receiver as.
    /// Kept only where a caller reads them (`track_exits`).
    exits: Option<State<'p>>,
    track_exits: bool,
    /// Names rebound by plain assignment here: a rebound parameter no longer names the
    /// caller's object, so what it holds afterwards is not written back.
    rebound: Vec<String>,
    /// The statement being run, for findings in expressions that carry no span of their own.
    stmt_span: Option<Span>,
}

impl<'p> Frame<'p> {
    /// The state where the function ends: its fall-through joined with every `return`.
    fn exit_state(&mut self, st: &State<'p>) -> State<'p> {
        match self.exits.take() {
            Some(e) => e.join(st),
            None => st.clone(),
        }
    }
}

/// What analysing a call found: the value returned, the receiver afterwards, and the
/// arguments the callee stored into (see `Engine::last_args`).
type CallEffect<'p> = (Val<'p>, Option<Val<'p>>, Vec<(usize, &'p str, Val<'p>)>);

pub struct Engine<'p> {
    idx: &'p Index<'p>,
    rules: &'p LangRules<'p>,
    /// The language's answers to what differs between languages.
    sem: &'static dyn LanguageSemantics,
    pub findings: Vec<Finding>,
    stack: Vec<*const Function>,
    /// Call results by callee and argument signature: (return value, the object after).
    cache: HashMap<(usize, u64), CallEffect<'p>>,
    /// The receiver object as the last analysed method left it (its fields), so that
    /// setters and other field writes reach the caller.
    last_this: Option<Val<'p>>,
    /// What the last analysed call left in the objects passed to it: (argument position,
    /// parameter name, value), for the parameters it mutated without rebinding.
    last_args: Vec<(usize, &'p str, Val<'p>)>,
    work: usize,
    /// Work done for the whole file; past `MAX_FILE_WORK` analysis of the file stops.
    file_work: usize,
    /// Nested classes and functions met while analysing, analysed as roots afterwards.
    pending: Vec<(usize, &'p Class)>,
    /// Whether a file reaches a sink's `imports` packages: (file, packages) → answer.
    imports_seen: HashMap<(usize, *const Vec<String>), bool>,
}

impl<'p> Engine<'p> {
    pub fn new(idx: &'p Index<'p>, rules: &'p LangRules<'p>) -> Engine<'p> {
        Engine {
            idx,
            rules,
            sem: semantics::of(rules.lang),
            findings: Vec::new(),
            stack: Vec::new(),
            cache: HashMap::new(),
            last_this: None,
            last_args: Vec::new(),
            work: 0,
            file_work: 0,
            pending: Vec::new(),
            imports_seen: HashMap::new(),
        }
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
        // Module-level code runs first; its variables are what every function starts from.
        let mut globals = State::default();
        let mut fr = self.frame(file, None, None);
        self.work = 0;
        self.block(&mut fr, &mut globals, &module.body);
        globals.dead = false;
        for f in &module.functions {
            self.work = 0;
            self.root(file, None, f, &globals);
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
        // The class's annotations count too: a Spring `@RestController`'s methods answer
        // requests like a method annotated `@ResponseBody`.
        let view_decorators = func
            .map(|f| {
                let mut names = decorator_names(f);
                if let Some(c) = class {
                    names.extend(c.class.annotations.iter().cloned());
                }
                names
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
            exits: None,
            track_exits: false,
            rebound: Vec::new(),
            stmt_span: None,
        }
    }

    fn root(&mut self, file: usize, class: Option<ClassRef<'p>>, f: &'p Function, env: &State<'p>) {
        let mut st = env.clone();
        st.dead = false;
        let mut fr = self.frame(file, class, Some(f));
        let decorators = decorator_names(f);
        let entry = self.public_entry_name(file, class, f);
        let receiver_declared = class.is_some()
            && self.sem.methods_declare_receiver()
            && f.params
                .first()
                .is_some_and(|p| self.sem.is_receiver_param(p));
        for (i, p) in f.params.iter().enumerate() {
            let mut v = match &p.ty {
                Some(t) => Val::typed(&simple_type(t)),
                None => Val::default(),
            };
            if receiver_declared && i == 0 {
                // `self` of a handler class may itself be the request (Tornado).
                if let Some(ty) = self.receiver_binding(class, f, &decorators, "self") {
                    v.ty = Some(ty);
                }
                st.set(&p.name, v);
                continue;
            }
            let position = i - usize::from(receiver_declared);
            let scalar = p.ty.as_deref().is_some_and(|t| self.is_scalar_type(t));
            match self.param_source(class, f, &decorators, p, position) {
                Some(spec) if spec.bind.is_some() => {
                    v.ty = spec.bind.as_deref().map(Rc::from);
                }
                Some(spec) if !scalar => {
                    let label = spec.label.as_deref().unwrap_or("request parameter");
                    v.taint = Some(Taint::new(
                        self.rules.all,
                        file,
                        f.span,
                        format!("{label} `{}`", p.name),
                    ));
                }
                _ => {}
            }
            if v.taint.is_none()
                && !scalar
                && let Some(name) = &entry
            {
                v.taint = Some(Taint::new(
                    self.rules.all,
                    file,
                    f.span,
                    format!("parameter `{}` of public entry point `{name}`", p.name),
                ));
            }
            if v.taint.is_none()
                && !scalar
                && self.rules.library != 0
                && class.is_none()
                && self.idx.library_entries.get(file).copied().unwrap_or(false)
                && self.idx.units[file]
                    .module
                    .functions
                    .iter()
                    .any(|g| std::ptr::eq(g, f))
            {
                v.taint = Some(Taint::new(
                    self.rules.library,
                    file,
                    f.span,
                    format!("parameter `{}` of library function `{}`", p.name, f.name),
                ));
            }
            // A recursive merge passes `target[key]` down as this parameter: it is an object
            // reached by a key.
            if v.ty.is_none() && self.rules.nested_keys != 0 && recursive_keyed_param(f, i) {
                v.ty = Some(KEYED.into());
            }
            st.set(&p.name, v);
        }
        // Where the language declares the receiver, it is a parameter like the others.
        if let Some(c) = class
            && !self.sem.methods_declare_receiver()
        {
            st.set(self.sem.receiver_name(), Val::typed(&c.class.name));
        }
        // Attributes of the receiver that the framework sets to the request (`self.request`).
        if class.is_some() {
            for spec in &self.rules.lib.params {
                let Some(ty) = &spec.bind else { continue };
                if !self.function_matches(spec, class, f, &decorators) {
                    continue;
                }
                for field in spec.receiver_fields.iter().filter(|n| *n != "self") {
                    st.set(
                        &format!("{}.{field}", self.sem.receiver_name()),
                        Val::typed(ty),
                    );
                }
            }
        }
        self.stack.push(f as *const Function);
        self.block(&mut fr, &mut st, &f.body);
        self.stack.pop();
    }

    /// The first of the library's framework parameter sources that `p` (at `position`
    /// among the parameters after any declared receiver) matches.
    fn param_source(
        &self,
        class: Option<ClassRef<'p>>,
        f: &Function,
        decorators: &[String],
        p: &Param,
        position: usize,
    ) -> Option<&'p ParamSource> {
        let lib: &'p Library = self.rules.lib;
        let ty = p.ty.as_deref().map(simple_type);
        lib.params.iter().find(|spec| {
            spec.receiver_fields.is_empty()
                && self.function_matches(spec, class, f, decorators)
                && (spec.annotations.is_empty()
                    || p.annotations.iter().any(|a| spec.annotations.contains(a)))
                && (spec.names.is_empty() || spec.names.contains(&p.name))
                && (spec.types.is_empty() || ty.as_ref().is_some_and(|t| spec.types.contains(t)))
                && (!spec.first || position == 0)
                && (!spec.unannotated
                    || p
                        .annotations
                        .iter()
                        .all(|a| spec.ignore_annotations.contains(a)))
                && !ty.as_ref().is_some_and(|t| spec.except_types.contains(t))
                && !(spec.no_default && p.default.is_some())
                && !matches!(&p.default, Some(Expr::Call(c)) if spec.except_defaults.contains(&c.name))
        })
    }

    /// The function-level conditions of a parameter source: annotations, class, name.
    fn function_matches(
        &self,
        spec: &ParamSource,
        class: Option<ClassRef<'p>>,
        f: &Function,
        decorators: &[String],
    ) -> bool {
        let class_annotations = class.map(|c| c.class.annotations.as_slice()).unwrap_or(&[]);
        let supers = class.map(|c| c.class.supers.as_slice()).unwrap_or(&[]);
        (spec.function_annotations.is_empty()
            || decorators
                .iter()
                .any(|d| spec.function_annotations.contains(d)))
            && (spec.class_annotations.is_empty()
                || class_annotations
                    .iter()
                    .any(|a| spec.class_annotations.contains(a)))
            && (spec.class_supers.is_empty()
                || supers.iter().any(|s| spec.class_supers.contains(s)))
            && (spec.function_names.is_empty() || spec.function_names.contains(&f.name))
    }

    /// The type the framework gives the receiver attribute `field` (`self` for the receiver).
    fn receiver_binding(
        &self,
        class: Option<ClassRef<'p>>,
        f: &Function,
        decorators: &[String],
        field: &str,
    ) -> Option<Rc<str>> {
        self.rules.lib.params.iter().find_map(|spec| {
            (spec.receiver_fields.iter().any(|n| n == field)
                && self.function_matches(spec, class, f, decorators))
            .then(|| spec.bind.as_deref().map(Rc::from))
            .flatten()
        })
    }

    /// A declared type whose values carry no attacker text: `int`, `Optional[int]`, `int | None`.
    fn is_scalar_type(&self, ty: &str) -> bool {
        let ty = ty.trim();
        let inner = ty
            .strip_prefix("Optional[")
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(ty);
        let scalars = &self.rules.lib.scalar_types;
        let mut parts = inner.split('|').map(str::trim).filter(|t| *t != "None");
        let mut any = false;
        parts.all(|t| {
            any = true;
            scalars.iter().any(|s| *s == simple_type(t))
        }) && any
    }

    /// With public entry points on: the name of `f` as an entry point when it is one
    /// (`Class.method`, `module.function`).
    fn public_entry_name(
        &self,
        file: usize,
        class: Option<ClassRef<'p>>,
        f: &'p Function,
    ) -> Option<String> {
        if self.rules.entry != EntryPoints::Public || !f.is_public {
            return None;
        }
        let module = &self.idx.units[file].module;
        match class {
            Some(c) => {
                // Top-level public classes, and classes nested in them.
                let top_level = module.classes.iter().any(|k| std::ptr::eq(k, c.class))
                    || c.outer.is_some_and(|o| o.is_public);
                (c.class.is_public && top_level).then(|| {
                    if f.name == self.sem.constructor_name() {
                        format!("{}.{}", c.class.name, c.class.name)
                    } else {
                        format!("{}.{}", c.class.name, f.name)
                    }
                })
            }
            // Module functions only: a nested function is not callable from outside.
            None => {
                let unit = &self.idx.units[file];
                let owner = unit.module.package.clone().or_else(|| {
                    unit.path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                });
                module
                    .functions
                    .iter()
                    .any(|g| std::ptr::eq(g, f))
                    .then(|| match owner {
                        Some(m) => format!("{m}.{}", f.name),
                        None => f.name.clone(),
                    })
            }
        }
    }
}

/// The last names of a function's decorators or annotations: `@app.route("/x")` → `route`.
pub(super) fn decorator_names(f: &Function) -> Vec<String> {
    f.decorators
        .iter()
        .filter_map(|d| match d {
            Expr::Call(c) => Some(c.name.clone()),
            Expr::Name(n) => Some(n.clone()),
            Expr::Field { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The simple name of a type: `pkg.Map<K, V>` → `Map`.
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

/// Runs the engine with the built-in rules over small programs, for the parts' tests.
#[cfg(test)]
mod testing {
    use crate::project::Unit;
    use crate::rules::RuleSet;
    use std::collections::HashMap;
    use std::path::PathBuf;

    /// What the built-in rules find in `files` (path, source), as (path, rule id, line).
    pub fn findings(files: &[(&str, &str)]) -> Vec<(String, String, u32)> {
        let units: Vec<Unit> = files
            .iter()
            .map(|(path, source)| {
                let path = PathBuf::from(path);
                Unit {
                    module: vigil_code::parse_path(&path, source).expect("test program parses"),
                    path,
                    source: source.to_string(),
                }
            })
            .collect();
        let rules = RuleSet::builtin().expect("built-in rules load");
        crate::analyse(&units, &HashMap::new(), &rules, &|| {})
            .into_iter()
            .map(|f| {
                let path = f.location.path.to_string_lossy().into_owned();
                (path, f.rule_id, f.location.start_line)
            })
            .collect()
    }

    /// The lines of one file `path` where `rule` is found.
    pub fn lines(path: &str, source: &str, rule: &str) -> Vec<u32> {
        let mut out: Vec<u32> = findings(&[(path, source)])
            .into_iter()
            .filter(|(_, r, _)| r == rule)
            .map(|(_, _, line)| line)
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::lines;

    #[test]
    fn route_parameters_declared_as_numbers_carry_no_text() {
        let src = r#"from typing import Optional
import os
from fastapi import Depends, FastAPI
app = FastAPI()
@app.get("/a")
def a(n: Optional[int] = None, m: int | None = None, s: Optional[str] = None, d=Depends(db)):
    os.system("x" + str(n))
    os.system("x" + str(m))
    os.system("x" + d)
    os.system("x" + s)
"#;
        assert_eq!(lines("f.py", src, "python/command-injection"), [10]);
    }

    #[test]
    fn a_parameter_named_request_is_the_request_object_not_data() {
        let src = r#"import os
def view(request):
    os.system(request.method)
    os.system(request.GET["c"])
"#;
        assert_eq!(lines("v.py", src, "python/command-injection"), [4]);
    }

    #[test]
    fn javascript_helpers_are_followed_through_require_and_import() {
        let db = "const { Pool } = require('pg')\nconst pool = new Pool()\nexports.byName = (n) => pool.query(`SELECT * FROM u WHERE n = '${n}'`)\n";
        let cjs = "const db = require('./lib/db')\nconst app = require('express')()\napp.get('/u', (req, res) => db.byName(req.query.n))\n";
        let esm = "import { byName } from '../lib/db.js'\nexport default function handler(req, res) {\n  return byName(req.body.n)\n}\n";
        let found = super::testing::findings(&[
            ("app/lib/db.js", db),
            ("app/routes.js", cjs),
            ("app/pages/api/u.ts", esm),
        ]);
        let sqli: Vec<_> = found
            .iter()
            .filter(|(_, r, _)| r == "javascript/sql-injection")
            .map(|(p, _, l)| (p.as_str(), *l))
            .collect();
        assert_eq!(sqli, [("app/lib/db.js", 3)], "{found:?}");
        // Each importer alone reaches it too.
        for (path, src) in [("app/routes.js", cjs), ("app/pages/api/u.ts", esm)] {
            let found = super::testing::findings(&[("app/lib/db.js", db), (path, src)]);
            assert!(
                found
                    .iter()
                    .any(|(_, r, _)| r == "javascript/sql-injection"),
                "{path}: {found:?}"
            );
        }
    }

    #[test]
    fn javascript_typeof_checks_do_not_prune_the_branch() {
        let src = "exports.run = function (req, res) {\n  const o = req.body\n  if (typeof o.code === 'string') {\n    eval(o.code)\n  }\n}\n";
        assert_eq!(lines("r.js", src, "javascript/code-injection"), [4]);
    }

    #[test]
    fn javascript_options_in_a_variable_count() {
        let src = "const { spawn } = require('child_process')\nfunction run(req, res) {\n  const opts = { shell: true }\n  spawn(req.query.cmd, [], opts)\n  spawn(req.query.cmd, [], { cwd: '/tmp' })\n  const root = { root: '/srv/files' }\n  res.sendFile(req.params.name, root, () => {})\n  res.sendFile(req.params.name)\n}\n";
        assert_eq!(lines("r.js", src, "javascript/command-injection"), [4]);
        assert_eq!(lines("r.js", src, "javascript/path-traversal"), [8]);
    }

    #[test]
    fn javascript_allow_lists_before_an_early_exit_validate() {
        let src = "const fs = require('fs')\nconst TYPES = ['pdf', 'txt']\nfunction a(req, res) {\n  if (TYPES.indexOf(req.params.t) === -1) return res.sendStatus(404)\n  fs.readFile('/x.' + req.params.t)\n}\nfunction b(req, res) {\n  if (!TYPES.includes(req.params.t)) return\n  fs.readFile('/x.' + req.params.t)\n}\nfunction c(req, res) {\n  if (TYPES.indexOf(req.params.t) !== -1) return\n  fs.readFile('/x.' + req.params.t)\n}\n";
        assert_eq!(lines("g.js", src, "javascript/path-traversal"), [13]);
    }
}

/// `f` calls itself with an indexed value (`merge(target[key], source[key])`) at parameter
/// position `i`, in its body or a callback inside it.
fn recursive_keyed_param(f: &Function, i: usize) -> bool {
    f.body.iter().any(|s| stmt_calls_keyed(s, &f.name, i))
}

fn stmt_calls_keyed(s: &Stmt, name: &str, i: usize) -> bool {
    let e = |x: &Expr| expr_calls_keyed(x, name, i);
    let b = |xs: &[Stmt]| xs.iter().any(|x| stmt_calls_keyed(x, name, i));
    match s {
        Stmt::Assign { value, .. } => value.as_ref().is_some_and(e),
        Stmt::Expr(x, _) | Stmt::Throw(x) => e(x),
        Stmt::Return(x, _) => x.as_ref().is_some_and(e),
        Stmt::If {
            cond, then, other, ..
        } => e(cond) || b(then) || b(other),
        Stmt::While { cond, body } => e(cond) || b(body),
        Stmt::ForEach { iter, body, .. } => e(iter) || b(body),
        Stmt::Switch { subject, cases, .. } => e(subject) || cases.iter().any(|c| b(&c.body)),
        Stmt::Try {
            body,
            handlers,
            finally,
        } => b(body) || handlers.iter().any(|h| b(&h.body)) || b(finally),
        Stmt::Block(xs) => b(xs),
        _ => false,
    }
}

fn expr_calls_keyed(x: &Expr, name: &str, i: usize) -> bool {
    let e = |y: &Expr| expr_calls_keyed(y, name, i);
    match x {
        Expr::Call(c) => {
            (c.name == name
                && c.receiver
                    .as_ref()
                    .is_none_or(|r| matches!(r, Expr::Name(n) if n == "this"))
                && matches!(c.args.get(i), Some(Expr::Index { .. })))
                || c.receiver.as_ref().is_some_and(e)
                || c.args.iter().any(e)
        }
        Expr::Lambda(f) => f.body.iter().any(|s| stmt_calls_keyed(s, name, i)),
        Expr::Binary { left, right, .. } => e(left) || e(right),
        Expr::Unary { expr, .. } | Expr::Cast { expr, .. } => e(expr),
        Expr::Cond { cond, then, other } => e(cond) || e(then) || e(other),
        Expr::Assign { value, .. } => e(value),
        Expr::List(xs) | Expr::Concat(xs) | Expr::Unknown(xs) => xs.iter().any(e),
        _ => false,
    }
}
