//! Rule packs: data files under `rules/<language>/`, loaded at run time.
//!
//! A file `NAME.toml` is one rule (`kind = "taint"` or `"pattern"`). Files whose name starts
//! with `_` are the language's shared library: sources, cleansers (calls whose result
//! carries no data, e.g. `Integer.parseInt`), and return types of well-known APIs.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vigil_code::Lang;
use vigil_core::{Confidence, RuleMeta, Severity};

/// Which calls, constructors or attributes a source, sink, sanitizer or pattern talks about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// Qualified function names: `os.system`, `URLDecoder.decode`, `subprocess.*`.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Receiver types (simple names) for `methods`.
    #[serde(default)]
    pub types: Vec<String>,
    /// Method names; on `types` when given, else on any receiver.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Constructed classes (simple or qualified names).
    #[serde(default)]
    pub new: Vec<String>,
    /// Attribute paths whose value (and whose members) are sources: `flask.request.args`.
    #[serde(default)]
    pub attrs: Vec<String>,
    /// Sources: attributes read from a value of one of `types` (`request.GET` where
    /// `request` is an `HttpRequest`).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Positional arguments that matter (sinks); all when absent.
    #[serde(default)]
    pub args: Option<Vec<usize>>,
    /// Keyword arguments that matter (sinks).
    #[serde(default)]
    pub kwargs: Vec<String>,
    /// Whether `methods` also match a receiver whose type the analysis does not know.
    #[serde(default = "yes")]
    pub untyped: bool,
    /// Pattern condition: this positional argument's constant value matches `regex`.
    #[serde(default)]
    pub arg: Option<usize>,
    /// Pattern condition: this keyword argument's constant value matches `regex`;
    /// with `missing = true` a call without the keyword matches too.
    #[serde(default)]
    pub kwarg: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub missing: bool,
    /// Sink: the function's return value when it is decorated by one of these
    /// (a web view's response), e.g. `route`, `get`, `post`.
    #[serde(default)]
    pub returns_of: Vec<String>,
    /// With `returns_of`: only functions declared to return one of these types (a Spring
    /// `@ResponseBody` method returning `String` is the page; one returning an object is JSON).
    #[serde(default)]
    pub return_types: Vec<String>,
    /// With `returns_of`: only functions that carry one of these annotations themselves
    /// (a handler method of a `@RestController`, not a helper it calls).
    #[serde(default)]
    pub handler_annotations: Vec<String>,
    /// Sanitizers: any function or method whose name matches (`(?i)escape.*html`).
    #[serde(default)]
    pub name_regex: Option<String>,
    /// The call does not match when this keyword argument's constant or type matches
    /// `unless_regex` (e.g. `Loader=SafeLoader`).
    #[serde(default)]
    pub unless_kwarg: Option<String>,
    #[serde(default)]
    pub unless_regex: Option<String>,
    /// Item assignments into these objects are sinks: `flask.session[k] = v`.
    #[serde(default)]
    pub stores: Vec<String>,
    /// Sink: stores into these attributes of any value (`el.innerHTML = v`).
    #[serde(default)]
    pub field_stores: Vec<String>,
    /// Sink: `obj[a][b] = v` where both keys carry the rule's taint (prototype pollution).
    #[serde(default)]
    pub nested_keys: bool,
    /// Sink only when this positional argument is a parser made unsafe by a call in the
    /// library's `unsafe_parsers` (XXE).
    #[serde(default)]
    pub parser_arg: Option<usize>,
    /// Matches only when the first argument is written as a constant absolute path joined
    /// with the rest (`path.Clean("/" + p)`).
    #[serde(default)]
    pub rooted: bool,
    /// Matches only when this positional argument's type is one of `arg_types`
    /// (`fmt.Fprintf(w, ..)` writes the page only when `w` is a `ResponseWriter`).
    #[serde(default)]
    pub typed_arg: Option<usize>,
    #[serde(default)]
    pub arg_types: Vec<String>,
    /// Sink: the arguments count only where they can be text. A struct or map value given
    /// there (gorm's `db.Where(&User{Name: n})`) is bound as parameters, not spliced in.
    #[serde(default)]
    pub text_args: bool,
    /// Pattern: a string literal assigned to a variable, field or key whose name matches
    /// this regex (hard-coded secrets). Literals shorter than 4 characters are ignored.
    #[serde(default)]
    pub assigns: Option<String>,
    /// Pattern: only inside a function or method whose name matches this regex
    /// (`math/rand` is a finding where a token or secret is made, not for jitter).
    #[serde(default)]
    pub functions: Option<String>,
    /// Pattern: matches only when this regex finds a hit in the text of the statement or in
    /// the name of the enclosing function (`Math.random()` for a `token`, not an animation).
    #[serde(default)]
    pub context: Option<String>,
    /// Sources (`attrs`, `fields`): rules that do not see the data, by id.
    #[serde(default)]
    pub except_rules: Vec<String>,
    /// Human label for a source (`HTTP request parameter`).
    #[serde(default)]
    pub label: Option<String>,
    /// Sources: the data is attacker data only for these rule ids (an archive entry's name
    /// is a path traversal, not an SQL injection; the browser's `location` is attacker data
    /// for a page's DOM, not for a server-side request); all rules when empty.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Sinks taking a program and its arguments (`subprocess.run([prog, *args])`): when the
    /// argument is a list whose first element is a constant program that does not match
    /// this regex (a shell or an interpreter), only the program can be injected.
    #[serde(default)]
    pub argv_shells: Option<String>,
    /// Sinks: only in files that import one of these packages (`mongoose`), themselves or
    /// through the project modules they import (a route file importing a Mongoose model):
    /// the same method name on another library (Sequelize's `findOne`) is not the sink.
    #[serde(default)]
    pub imports: Vec<String>,
    #[serde(skip)]
    pub compiled: Option<regex::Regex>,
    #[serde(skip)]
    pub name_re: Option<regex::Regex>,
    #[serde(skip)]
    pub unless_re: Option<regex::Regex>,
    #[serde(skip)]
    pub assigns_re: Option<regex::Regex>,
    #[serde(skip)]
    pub argv_re: Option<regex::Regex>,
    #[serde(skip)]
    pub functions_re: Option<regex::Regex>,
    #[serde(skip)]
    pub context_re: Option<regex::Regex>,
}

fn yes() -> bool {
    true
}

/// A file of test code, by the conventions of the languages' test runners: under a
/// `test`/`tests`/`__tests__`/`spec` folder, or named `test_*.py`, `*_test.py`, `tests.py`,
/// `conftest.py`, `*_test.go`, `*.test.js`/`*.spec.ts` (and the other JS extensions),
/// `*Test.java`/`*Tests.java`/`*IT.java`. Fixture folders are not test code by name alone:
/// a rule pack's fixtures must still fire.
pub fn is_test_path(path: &Path) -> bool {
    let dirs = path.parent().into_iter().flat_map(|p| p.components());
    let in_test_dir = dirs
        .filter_map(|c| c.as_os_str().to_str())
        .any(|d| matches!(d, "test" | "tests" | "__tests__" | "spec" | "specs"));
    if in_test_dir {
        return true;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    match ext {
        "py" => {
            stem.starts_with("test_")
                || stem.ends_with("_test")
                || stem == "tests"
                || stem == "conftest"
        }
        "go" => stem.ends_with("_test"),
        "java" => stem.ends_with("Test") || stem.ends_with("Tests") || stem.ends_with("IT"),
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts" => {
            stem.ends_with(".test") || stem.ends_with(".spec")
        }
        _ => false,
    }
}

/// How much of a URL a string's fixed text settles: data appended after `"/home/"` or
/// `"https://site/"` cannot change the host; after `"?next="` or `"#"` it is only the query
/// or fragment. Ordered: settling the query settles the host too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlFixed {
    #[default]
    None,
    Host,
    Query,
}

impl UrlFixed {
    /// What this fixed text settles for anything appended after it, by CodeQL's hostname-
    /// and query-sanitizing prefixes: a `?` or `#`; a `/` or `\` after a character that is
    /// not part of a scheme (`"m/"`, not `"://"`); or a leading `/x` (not `//`).
    pub fn of_text(s: &str) -> UrlFixed {
        if s.contains(['?', '#']) {
            return UrlFixed::Query;
        }
        let slash = |c: u8| c == b'/' || c == b'\\';
        let b = s.as_bytes();
        let leading = b.len() >= 2 && slash(b[0]) && !slash(b[1]);
        let inner = b
            .windows(2)
            .any(|w| !matches!(w[0], b':' | b'/' | b'\\') && slash(w[1]));
        if leading || inner {
            UrlFixed::Host
        } else {
            UrlFixed::None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Taint,
    Pattern,
}

/// One rule, as written in its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub kind: RuleKind,
    pub cwe: Vec<u32>,
    pub severity: Severity,
    #[serde(default)]
    pub confidence: Confidence,
    pub message: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub sinks: Vec<CallSpec>,
    #[serde(default)]
    pub sanitizers: Vec<CallSpec>,
    /// Pattern rules: any of these matches is a finding.
    #[serde(default, rename = "match")]
    pub matches: Vec<CallSpec>,
    /// Taint rules whose data comes only from the library sources that name the rule
    /// (`rules = [..]`), not from request data (zip slip: archive entry names).
    #[serde(default)]
    pub own_sources: bool,
    /// The parameters of a library package's entry functions are data for this rule even
    /// without `--entry public` (see [`crate::project::library_entry_files`]): a library's
    /// caller decides what they hold (a shell command, code, a merged object).
    #[serde(default)]
    pub library_inputs: bool,
    /// Reported in test code too. Off for rules whose hits there are test data, not a
    /// risk: the credentials of a test user, random payloads (see [`is_test_path`]).
    #[serde(default = "yes")]
    pub in_tests: bool,
    /// Data appended after fixed text that settles this much of a URL is harmless for the
    /// rule: `"host"` for redirects (`"/login?next=" + x`, `"/user/" + slug`), `"query"`
    /// for server-side requests (a path on a fixed host still reaches internal endpoints).
    #[serde(default)]
    pub safe_after_fixed: UrlFixed,
    #[serde(skip)]
    pub lang: Option<Lang>,
    #[serde(skip)]
    pub file: PathBuf,
}

impl Rule {
    pub fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: self.id.clone(),
            name: self.name.clone(),
            cwe: self.cwe.clone(),
            severity: self.severity,
            short: self.message.clone(),
            help: self.help.clone(),
            tags: self.tags.clone(),
            sanitizers: self.sanitizer_names(),
        }
    }

    /// The names the rule's sanitizers match: qualified calls, methods, name patterns.
    fn sanitizer_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .sanitizers
            .iter()
            .flat_map(|s| {
                s.calls
                    .iter()
                    .chain(&s.methods)
                    .chain(&s.new)
                    .cloned()
                    .chain(s.name_regex.clone())
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnType {
    #[serde(default)]
    pub types: Vec<String>,
    pub methods: Vec<String>,
    #[serde(rename = "type")]
    pub ty: String,
}

/// A call that puts a value into a state the rules care about, by giving it a type of its
/// own: an XML factory told to refuse DTDs becomes `SecureXmlParser` (the receiver of the
/// method call and its result), an `lxml.etree.XMLParser(resolve_entities=True)` an
/// `UnsafeXmlParser`, a `new Yaml(new SafeConstructor())` a `SafeYaml`. Sinks, sanitizers
/// and `returns` then match on that type. Conditions left empty do not restrict.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeState {
    /// Methods that change their receiver (and result).
    #[serde(default)]
    pub methods: Vec<String>,
    /// With `methods`: receiver types (simple names) it applies to.
    #[serde(default)]
    pub types: Vec<String>,
    /// Functions (qualified) whose result is in the state.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Constructed classes whose new object is in the state.
    #[serde(default)]
    pub new: Vec<String>,
    /// Regex on the first argument: its constant text, the name of a constant the analysis
    /// cannot fold (`XMLConstants.FEATURE_SECURE_PROCESSING`), or the type of the value.
    #[serde(default)]
    pub name: Option<String>,
    /// Regex on the last argument, read the same way.
    #[serde(default)]
    pub value: Option<String>,
    /// This keyword argument must be given, with a value matching `kwarg_value`.
    #[serde(default)]
    pub kwarg: Option<String>,
    #[serde(default)]
    pub kwarg_value: Option<String>,
    /// The type the value gets.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip)]
    pub name_re: Option<regex::Regex>,
    #[serde(skip)]
    pub value_re: Option<regex::Regex>,
    #[serde(skip)]
    pub kwarg_re: Option<regex::Regex>,
}

/// Parameters that a framework fills from the request (Spring `@RequestParam`, a FastAPI
/// route function's parameters, a Django view's `request`). A parameter matches when every
/// condition given holds; conditions left empty do not restrict.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSource {
    /// The label of the taint (`Spring request parameter`); the parameter's name is added.
    #[serde(default)]
    pub label: Option<String>,
    /// The function carries one of these annotations or decorators (last name:
    /// `GetMapping`, `route` for `@app.route(..)`).
    #[serde(default)]
    pub function_annotations: Vec<String>,
    /// The enclosing class carries one of these annotations (`RestController`).
    #[serde(default)]
    pub class_annotations: Vec<String>,
    /// The enclosing class extends one of these (simple names: `View`, `RequestHandler`).
    #[serde(default)]
    pub class_supers: Vec<String>,
    /// The function is one of these (`get`, `post` of a class-based view).
    #[serde(default)]
    pub function_names: Vec<String>,
    /// The parameter carries one of these annotations (`RequestParam`, `QueryParam`).
    #[serde(default)]
    pub annotations: Vec<String>,
    /// The parameter is named one of these (`request`).
    #[serde(default)]
    pub names: Vec<String>,
    /// The parameter is declared with one of these types (simple names).
    #[serde(default)]
    pub types: Vec<String>,
    /// Only the first parameter (after a declared receiver).
    #[serde(default)]
    pub first: bool,
    /// Only parameters without annotations (Spring's un-annotated handler parameters,
    /// a JAX-RS resource method's entity parameter).
    #[serde(default)]
    pub unannotated: bool,
    /// With `unannotated`: annotations that do not change where the value comes from
    /// (`@Valid`, `@NotNull`).
    #[serde(default)]
    pub ignore_annotations: Vec<String>,
    /// Parameters of these types are filled by the framework, not from the request.
    #[serde(default)]
    pub except_types: Vec<String>,
    /// Parameters whose default is a call of one of these (`Depends(..)`) are not request data.
    #[serde(default)]
    pub except_defaults: Vec<String>,
    /// Parameters with a default value do not match.
    #[serde(default)]
    pub no_default: bool,
    /// Instead of tainting the parameter, give it this type: a request object whose
    /// attributes and methods are sources of their own (`HttpRequest`).
    #[serde(default)]
    pub bind: Option<String>,
    /// With `bind`: these attributes of the receiver get the type instead (`self.request`
    /// of a Django class-based view); `self` itself when the list holds `self`.
    #[serde(default)]
    pub receiver_fields: Vec<String>,
}

/// A call that changes what the object at the root of its receiver chain is, when its
/// constant arguments match: `w.Header().Set("Content-Type", "application/json")` makes
/// `w` a response that is not an HTML page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retype {
    /// Receiver types (simple names); any receiver when empty.
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    /// Instead of `methods`: a store into one of these fields of the object (Koa's
    /// `ctx.type = 'json'`); `when` then reads the stored constant (any position).
    #[serde(default)]
    pub fields: Vec<String>,
    /// `[position, regex]`: the constant argument at that position matches the regex.
    #[serde(default)]
    pub when: Vec<(usize, String)>,
    /// The type the root variable gets.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip)]
    pub compiled: Vec<(usize, regex::Regex)>,
}

/// A language's shared library file (`_*.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    #[serde(default)]
    pub sources: Vec<CallSpec>,
    /// Calls whose result carries no attacker data at all (numbers, booleans, hashes).
    #[serde(default)]
    pub cleansers: Vec<CallSpec>,
    /// Data-access calls (a database query, a model's `findById`, a file read): their
    /// result is the record stored under the arguments, not the arguments themselves, so
    /// what the arguments carry does not reach it (the receiver's own data still does:
    /// `items.find(..)` gives one of the items). A `name_regex` matches calls of that name
    /// into a module of the project that the analysis cannot follow (`user.getUserData(uid)`
    /// where the function is attached at run time).
    #[serde(default)]
    pub lookups: Vec<CallSpec>,
    #[serde(default)]
    pub returns: Vec<ReturnType>,
    /// Methods that store their arguments into the receiver (`sb.append(x)`, `list.add(x)`).
    #[serde(default)]
    pub mutators: Vec<String>,
    /// Calls whose result is what their function argument returns for each element, none
    /// of the elements themselves (`stream.map(f)`, `optional.map(f)`, Python's `map(f, xs)`).
    #[serde(default)]
    pub mappers: Vec<String>,
    /// Calls that switch their receiver (an XML parser) to resolving external entities,
    /// when their last argument is true.
    #[serde(default)]
    pub unsafe_parsers: Vec<CallSpec>,
    /// Parameters that web frameworks fill from the request.
    #[serde(default)]
    pub params: Vec<ParamSource>,
    /// Calls that write what they produce into the arguments at `args` (`json.Unmarshal`
    /// into `&v`, a framework's `Bind(&v)`).
    #[serde(default)]
    pub fills: Vec<CallSpec>,
    /// Calls that change the type of the variable they are made on (see [`Retype`]).
    #[serde(default)]
    pub retypes: Vec<Retype>,
    /// Types whose values carry no characters chosen by an attacker (numbers, booleans):
    /// a request parameter declared with one of them is not tainted.
    #[serde(default)]
    pub scalar_types: Vec<String>,
    /// Calls that change what their receiver is (see [`TypeState`]).
    #[serde(default)]
    pub states: Vec<TypeState>,
}

impl Library {
    /// Add another file's library to this one. Destructured whole, so that a new list
    /// cannot be forgotten here (user rule folders once lost `mappers` that way).
    fn absorb(&mut self, other: Library) {
        let Library {
            sources,
            cleansers,
            lookups,
            returns,
            mutators,
            mappers,
            unsafe_parsers,
            params,
            fills,
            retypes,
            scalar_types,
            states,
        } = other;
        self.sources.extend(sources);
        self.cleansers.extend(cleansers);
        self.lookups.extend(lookups);
        self.returns.extend(returns);
        self.mutators.extend(mutators);
        self.mappers.extend(mappers);
        self.unsafe_parsers.extend(unsafe_parsers);
        self.params.extend(params);
        self.fills.extend(fills);
        self.retypes.extend(retypes);
        self.scalar_types.extend(scalar_types);
        self.states.extend(states);
    }
}

/// All rules and libraries for all languages.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub libraries: HashMap<Lang, Library>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The rules that ship with Vigil, embedded in the binary (one folder per language; the
/// Sigma rules beside them belong to `vigil guard`).
static JAVA_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/java");
static PYTHON_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/python");
static GO_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/go");
static JAVASCRIPT_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/javascript");

fn lang_of_dir(name: &str) -> Option<Lang> {
    match name {
        "java" => Some(Lang::Java),
        "python" => Some(Lang::Python),
        "go" => Some(Lang::Go),
        "javascript" => Some(Lang::JavaScript),
        _ => None,
    }
}

impl RuleSet {
    /// The rule packs embedded at build time from the repository's `rules/` folder.
    pub fn builtin() -> Result<RuleSet, Vec<RuleError>> {
        let mut files = Vec::new();
        for (lang, name, dir) in [
            (Lang::Java, "java", &JAVA_RULES),
            (Lang::Python, "python", &PYTHON_RULES),
            (Lang::Go, "go", &GO_RULES),
            (Lang::JavaScript, "javascript", &JAVASCRIPT_RULES),
        ] {
            for f in dir.files() {
                if f.path().extension().and_then(|e| e.to_str()) == Some("toml") {
                    let text = String::from_utf8_lossy(f.contents()).into_owned();
                    files.push((lang, PathBuf::from("rules").join(name).join(f.path()), text));
                }
            }
        }
        Self::from_texts(files)
    }

    /// Load rule packs from a folder laid out like `rules/` (`java/`, `python/` inside).
    pub fn load_dir(root: &Path) -> Result<RuleSet, Vec<RuleError>> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        let entries = std::fs::read_dir(root).map_err(|source| {
            vec![RuleError::Io {
                path: root.to_path_buf(),
                source,
            }]
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(lang) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(lang_of_dir)
            else {
                continue;
            };
            let Ok(inner) = std::fs::read_dir(&path) else {
                continue;
            };
            for f in inner.flatten() {
                let p = f.path();
                if p.extension().and_then(|e| e.to_str()) != Some("toml") {
                    continue;
                }
                match std::fs::read_to_string(&p) {
                    Ok(text) => files.push((lang, p, text)),
                    Err(source) => errors.push(RuleError::Io { path: p, source }),
                }
            }
        }
        match Self::from_texts(files) {
            Ok(set) if errors.is_empty() => Ok(set),
            Ok(_) => Err(errors),
            Err(mut e) => {
                e.extend(errors);
                Err(e)
            }
        }
    }

    fn from_texts(mut files: Vec<(Lang, PathBuf, String)>) -> Result<RuleSet, Vec<RuleError>> {
        files.sort_by(|a, b| a.1.cmp(&b.1));
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        let invalid = |path: &Path, message: String| RuleError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        for (lang, path, text) in files {
            let is_library = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('_'));
            if is_library {
                match toml::from_str::<Library>(&text) {
                    Ok(mut lib) => {
                        for spec in lib
                            .sources
                            .iter_mut()
                            .chain(lib.cleansers.iter_mut())
                            .chain(lib.lookups.iter_mut())
                            .chain(lib.unsafe_parsers.iter_mut())
                            .chain(lib.fills.iter_mut())
                        {
                            if let Err(e) = compile(spec) {
                                errors.push(invalid(&path, e));
                            }
                        }
                        for state in &mut lib.states {
                            if let Err(e) = compile_state(state) {
                                errors.push(invalid(&path, e));
                            }
                        }
                        for r in &mut lib.retypes {
                            for (i, re) in &r.when {
                                match regex::Regex::new(re) {
                                    Ok(c) => r.compiled.push((*i, c)),
                                    Err(e) => errors
                                        .push(invalid(&path, format!("bad regex `{re}`: {e}"))),
                                }
                            }
                        }
                        set.libraries.entry(lang).or_default().absorb(lib);
                    }
                    Err(e) => errors.push(invalid(&path, e.to_string())),
                }
                continue;
            }
            match toml::from_str::<Rule>(&text) {
                Ok(mut rule) => {
                    rule.lang = Some(lang);
                    rule.file = path.clone();
                    if rule.cwe.is_empty() {
                        errors.push(invalid(&path, "a rule needs at least one CWE".into()));
                        continue;
                    }
                    let specs = rule
                        .sinks
                        .iter_mut()
                        .chain(rule.sanitizers.iter_mut())
                        .chain(rule.matches.iter_mut());
                    let mut ok = true;
                    for spec in specs {
                        if let Err(e) = compile(spec) {
                            errors.push(invalid(&path, e));
                            ok = false;
                        }
                    }
                    match rule.kind {
                        RuleKind::Taint if rule.sinks.is_empty() => {
                            errors.push(invalid(&path, "a taint rule needs [[sinks]]".into()));
                            ok = false;
                        }
                        RuleKind::Pattern if rule.matches.is_empty() => {
                            errors.push(invalid(&path, "a pattern rule needs [[match]]".into()));
                            ok = false;
                        }
                        _ => {}
                    }
                    if set.rules.iter().any(|r| r.id == rule.id) {
                        errors.push(invalid(&path, format!("duplicate rule id `{}`", rule.id)));
                        ok = false;
                    }
                    if ok {
                        set.rules.push(rule);
                    }
                }
                Err(e) => errors.push(invalid(&path, e.to_string())),
            }
        }
        // A source meant for some rules only must name rules of its own language. A rule
        // that is not loaded is no mistake (a pack that copied the library and some of the
        // rules): the source then feeds nothing. The built-in set names only its own rules
        // (tested).
        for (lang, lib) in &set.libraries {
            let prefix = format!("{}/", lang.name());
            for spec in &lib.sources {
                for id in spec.rules.iter().filter(|id| !id.starts_with(&prefix)) {
                    errors.push(RuleError::Invalid {
                        path: PathBuf::from("rules")
                            .join(lang.name())
                            .join("_library.toml"),
                        message: format!(
                            "source `{}` names `{id}`, not a {} rule",
                            spec.label.as_deref().unwrap_or(""),
                            lang.name()
                        ),
                    });
                }
            }
        }
        let taint_rules = set
            .rules
            .iter()
            .filter(|r| r.kind == RuleKind::Taint)
            .count();
        if taint_rules > 128 {
            errors.push(RuleError::Invalid {
                path: PathBuf::from("rules"),
                message: format!("{taint_rules} taint rules; at most 128 are supported"),
            });
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Keep only the rules whose id is in `ids` (or all when empty).
    pub fn select(&mut self, ids: &[String]) {
        if !ids.is_empty() {
            self.rules.retain(|r| ids.contains(&r.id));
        }
    }

    /// Add the rules and library entries of another rule set (a project's own rules
    /// folder). A rule id that is already defined is an error, as within one folder.
    pub fn merge(&mut self, other: RuleSet) -> Result<(), Vec<RuleError>> {
        let errors: Vec<RuleError> = other
            .rules
            .iter()
            .filter(|r| self.rules.iter().any(|mine| mine.id == r.id))
            .map(|r| RuleError::Invalid {
                path: r.file.clone(),
                message: format!("duplicate rule id `{}`", r.id),
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        self.rules.extend(other.rules);
        for (lang, lib) in other.libraries {
            self.libraries.entry(lang).or_default().absorb(lib);
        }
        let taint_rules = self
            .rules
            .iter()
            .filter(|r| r.kind == RuleKind::Taint)
            .count();
        if taint_rules > 128 {
            return Err(vec![RuleError::Invalid {
                path: PathBuf::from("rules"),
                message: format!("{taint_rules} taint rules; at most 128 are supported"),
            }]);
        }
        Ok(())
    }
}

fn compile_state(state: &mut TypeState) -> Result<(), String> {
    let re = |s: &Option<String>| -> Result<Option<regex::Regex>, String> {
        s.as_ref()
            .map(|r| regex::Regex::new(r).map_err(|e| format!("bad regex `{r}`: {e}")))
            .transpose()
    };
    state.name_re = re(&state.name)?;
    state.value_re = re(&state.value)?;
    state.kwarg_re = re(&state.kwarg_value)?;
    Ok(())
}

fn compile(spec: &mut CallSpec) -> Result<(), String> {
    let re = |s: &Option<String>| -> Result<Option<regex::Regex>, String> {
        s.as_ref()
            .map(|r| regex::Regex::new(r).map_err(|e| format!("bad regex `{r}`: {e}")))
            .transpose()
    };
    spec.compiled = re(&spec.regex)?;
    spec.name_re = re(&spec.name_regex)?;
    spec.unless_re = re(&spec.unless_regex)?;
    spec.assigns_re = re(&spec.assigns)?;
    spec.argv_re = re(&spec.argv_shells)?;
    spec.functions_re = re(&spec.functions)?;
    spec.context_re = re(&spec.context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_url_text_settles_host_or_query() {
        use UrlFixed::*;
        for (text, want) in [
            ("/user/", Host),
            ("/u", Host),
            ("https://shop.example/", Host),
            ("..\\a\\", Host),
            ("/login?next=", Query),
            ("#", Query),
            ("/", None),
            ("//", None),
            ("https://", None),
            ("http:", None),
            ("", None),
            ("user", None),
        ] {
            assert_eq!(UrlFixed::of_text(text), want, "{text:?}");
        }
    }

    fn load(files: &[(&str, &str)]) -> Result<RuleSet, Vec<RuleError>> {
        RuleSet::from_texts(
            files
                .iter()
                .map(|(p, t)| (Lang::Java, PathBuf::from(p), t.to_string()))
                .collect(),
        )
    }

    const RULE: &str = r#"
id = "java/zip-slip"
name = "ZipSlip"
kind = "taint"
cwe = [22]
severity = "high"
message = "m"
own_sources = true
[[sinks]]
new = ["FileOutputStream"]
"#;

    #[test]
    fn sources_for_some_rules_must_name_existing_rules() {
        let lib = |id: &str| {
            format!(
                "[[sources]]\nlabel = \"archive entry name\"\ntypes = [\"ZipEntry\"]\nmethods = [\"getName\"]\nrules = [\"{id}\"]\n"
            )
        };
        let good = lib("java/zip-slip");
        let set =
            load(&[("java/_library.toml", &good), ("java/zip-slip.toml", RULE)]).expect("loads");
        assert!(set.rules[0].own_sources);
        // A rule of another language is a mistake; one not loaded is not.
        let bad = lib("python/zip-slip");
        let errors = load(&[("java/_library.toml", &bad), ("java/zip-slip.toml", RULE)])
            .expect_err("another language's rule");
        assert!(
            errors[0].to_string().contains("python/zip-slip"),
            "{errors:?}"
        );
        assert!(load(&[("java/_library.toml", &good)]).is_ok());
    }

    #[test]
    fn test_code_is_told_by_folder_and_by_the_test_runners_file_names() {
        for p in [
            "app/tests/test_views.py",
            "pkg/store_test.go",
            "src/test/java/a/UserServiceTest.java",
            "web/__tests__/login.js",
            "web/login.spec.ts",
            "mod/conftest.py",
            "admin/api/v2/tests.py",
        ] {
            assert!(is_test_path(Path::new(p)), "{p}");
        }
        for p in [
            "src/main/java/a/UserService.java",
            "cases/LoginTest01Case.java",
            "rules/python/fixtures/hardcoded-secret.bad.py",
            "app/contest.py",
            "web/latest.js",
            "pkg/attestation.go",
        ] {
            assert!(!is_test_path(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn built_in_sources_for_some_rules_name_built_in_taint_rules() {
        let set = RuleSet::builtin().expect("built-in rules load");
        for (lang, lib) in &set.libraries {
            for spec in &lib.sources {
                for id in &spec.rules {
                    assert!(
                        set.rules.iter().any(|r| &r.id == id
                            && r.lang == Some(*lang)
                            && r.kind == RuleKind::Taint),
                        "{id} named by a {} source is not a built-in taint rule",
                        lang.name()
                    );
                }
            }
        }
    }

    #[test]
    fn type_states_compile_their_regexes() {
        let lib = "[[states]]\nmethods = [\"setFeature\"]\nname = \"disallow-doctype-decl\"\nvalue = \"^true$\"\ntype = \"SecureXmlParser\"\n";
        let set = load(&[("java/_library.toml", lib)]).expect("loads");
        let state = &set.libraries[&Lang::Java].states[0];
        assert!(state.name_re.as_ref().is_some_and(|r| r.is_match("http://apache.org/xml/features/disallow-doctype-decl")));
        let broken = "[[states]]\nmethods = [\"x\"]\nvalue = \"(\"\ntype = \"T\"\n";
        assert!(load(&[("java/_library.toml", broken)]).is_err());
    }
}
