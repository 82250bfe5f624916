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
    /// Pattern: a string literal assigned to a variable, field or key whose name matches
    /// this regex (hard-coded secrets). Literals shorter than 4 characters are ignored.
    #[serde(default)]
    pub assigns: Option<String>,
    /// Pattern: matches only when this regex finds a hit in the text of the statement or in
    /// the name of the enclosing function (`Math.random()` for a `token`, not an animation).
    #[serde(default)]
    pub context: Option<String>,
    /// Sources (`attrs`): only these rules see the data, by id (the browser's `location`
    /// is attacker data for a page's DOM, not for a server-side request).
    #[serde(default)]
    pub only_rules: Vec<String>,
    /// Sources (`attrs`, `fields`): rules that do not see the data, by id.
    #[serde(default)]
    pub except_rules: Vec<String>,
    /// Human label for a source (`HTTP request parameter`).
    #[serde(default)]
    pub label: Option<String>,
    #[serde(skip)]
    pub compiled: Option<regex::Regex>,
    #[serde(skip)]
    pub name_re: Option<regex::Regex>,
    #[serde(skip)]
    pub unless_re: Option<regex::Regex>,
    #[serde(skip)]
    pub assigns_re: Option<regex::Regex>,
    #[serde(skip)]
    pub context_re: Option<regex::Regex>,
}

fn yes() -> bool {
    true
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

/// A language's shared library file (`_*.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    #[serde(default)]
    pub sources: Vec<CallSpec>,
    /// Calls whose result carries no attacker data at all (numbers, booleans, hashes).
    #[serde(default)]
    pub cleansers: Vec<CallSpec>,
    #[serde(default)]
    pub returns: Vec<ReturnType>,
    /// Methods that store their arguments into the receiver (`sb.append(x)`, `list.add(x)`).
    #[serde(default)]
    pub mutators: Vec<String>,
    /// Calls that switch their receiver (an XML parser) to resolving external entities,
    /// when their last argument is true.
    #[serde(default)]
    pub unsafe_parsers: Vec<CallSpec>,
    /// Parameters that web frameworks fill from the request.
    #[serde(default)]
    pub params: Vec<ParamSource>,
    /// Types whose values carry no characters chosen by an attacker (numbers, booleans):
    /// a request parameter declared with one of them is not tainted.
    #[serde(default)]
    pub scalar_types: Vec<String>,
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
static JAVASCRIPT_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules/javascript");

fn lang_of_dir(name: &str) -> Option<Lang> {
    match name {
        "java" => Some(Lang::Java),
        "python" => Some(Lang::Python),
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
                            .chain(lib.unsafe_parsers.iter_mut())
                        {
                            if let Err(e) = compile(spec) {
                                errors.push(invalid(&path, e));
                            }
                        }
                        let entry = set.libraries.entry(lang).or_default();
                        entry.sources.extend(lib.sources);
                        entry.cleansers.extend(lib.cleansers);
                        entry.returns.extend(lib.returns);
                        entry.mutators.extend(lib.mutators);
                        entry.unsafe_parsers.extend(lib.unsafe_parsers);
                        entry.params.extend(lib.params);
                        entry.scalar_types.extend(lib.scalar_types);
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
    spec.context_re = re(&spec.context)?;
    Ok(())
}
