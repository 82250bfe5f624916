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
mod semantics;
mod sinks;
mod stmt;
mod value;

use crate::project::{ClassRef, Index};
use crate::rules::{Library, Rule, RuleKind};
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
    /// The language's answers to what differs between languages.
    sem: &'static dyn LanguageSemantics,
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
            work: 0,
            file_work: 0,
            pending: Vec::new(),
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
            if let Some(label) = self.sem.request_param_label(p, &fr.view_decorators) {
                v.taint = Some(Taint::new(
                    self.rules.all,
                    file,
                    f.span,
                    format!("{label} `{}`", p.name),
                ));
            }
            st.set(&p.name, v);
        }
        // Where the language declares the receiver, it is a parameter like the others.
        if let Some(c) = class
            && !self.sem.methods_declare_receiver()
        {
            st.set(self.sem.receiver_name(), Val::typed(&c.class.name));
        }
        self.stack.push(f as *const Function);
        self.block(&mut fr, &mut st, &f.body);
        self.stack.pop();
    }
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
    use vigil_code::Lang;

    /// What the built-in rules find in `files` (path, source), as (path, rule id, line).
    pub fn findings(files: &[(&str, &str)]) -> Vec<(String, String, u32)> {
        let units: Vec<Unit> = files
            .iter()
            .map(|(path, source)| {
                let path = PathBuf::from(path);
                let lang = Lang::from_path(&path).expect("test file has a known extension");
                Unit {
                    module: vigil_code::parse(lang, source).expect("test program parses"),
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
