//! The project index: every parsed file, classes by name, implementations of interfaces,
//! Python modules by dotted name, and `.properties` values, so that calls resolve across files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vigil_code::{Class, Function, Module, Stmt};

/// One parsed source file.
pub struct Unit {
    /// The path as reported (relative to the scan root when possible).
    pub path: PathBuf,
    pub module: Module,
    pub source: String,
}

/// A class and the file it lives in.
#[derive(Clone, Copy)]
pub struct ClassRef<'p> {
    pub file: usize,
    pub class: &'p Class,
    /// The class this one is nested in, for calls to outer methods.
    pub outer: Option<&'p Class>,
}

pub struct Index<'p> {
    pub units: &'p [Unit],
    pub properties: &'p HashMap<String, String>,
    classes: HashMap<&'p str, Vec<ClassRef<'p>>>,
    implementors: HashMap<&'p str, Vec<ClassRef<'p>>>,
    /// Module or package names (every suffix of the file path, as the language's semantics
    /// spells them) → files.
    modules: HashMap<String, Vec<usize>>,
    /// Each file's most specific module name.
    package_of: Vec<Option<String>>,
    /// (module name, function name) → the module's functions of that name, in file order.
    package_functions: HashMap<(String, &'p str), Vec<(usize, &'p Function)>>,
    /// Per file: it is a library package's entry module (see [`library_entry_files`]).
    pub library_entries: Vec<bool>,
}

impl<'p> Index<'p> {
    pub fn new(units: &'p [Unit], properties: &'p HashMap<String, String>) -> Index<'p> {
        let mut idx = Index {
            units,
            properties,
            classes: HashMap::new(),
            implementors: HashMap::new(),
            modules: HashMap::new(),
            package_of: Vec::new(),
            package_functions: HashMap::new(),
            library_entries: library_entry_files(units),
        };
        for (i, u) in units.iter().enumerate() {
            for c in &u.module.classes {
                idx.add_class(i, c, None);
            }
            let names = crate::engine::semantics::of(u.module.lang).module_names(&u.path);
            if let Some(own) = names.last() {
                for f in &u.module.functions {
                    idx.package_functions
                        .entry((own.clone(), f.name.as_str()))
                        .or_default()
                        .push((i, f));
                }
            }
            idx.package_of.push(names.last().cloned());
            for name in names {
                idx.modules.entry(name).or_default().push(i);
            }
            // Classes defined inside functions are still classes of the file.
            for f in &u.module.functions {
                idx.add_nested(i, &f.body);
            }
        }
        idx
    }

    fn add_nested(&mut self, file: usize, body: &'p [Stmt]) {
        for s in body {
            if let Stmt::ClassDef(c) = s {
                self.add_class(file, c, None);
            }
        }
    }

    fn add_class(&mut self, file: usize, c: &'p Class, outer: Option<&'p Class>) {
        let r = ClassRef {
            file,
            class: c,
            outer,
        };
        self.classes.entry(c.name.as_str()).or_default().push(r);
        for s in &c.supers {
            self.implementors.entry(s.as_str()).or_default().push(r);
        }
        for inner in &c.classes {
            self.add_class(file, inner, Some(c));
        }
        for m in &c.methods {
            self.add_local_classes(file, &m.body, c);
        }
    }

    fn add_local_classes(&mut self, file: usize, body: &'p [Stmt], outer: &'p Class) {
        for s in body {
            if let Stmt::ClassDef(c) = s {
                self.add_class(file, c, Some(outer));
            }
        }
    }

    /// Classes named `name` (simple name). A class of that name in `file` itself shadows
    /// the others (Java nested classes, Python local classes).
    pub fn classes_named(&self, name: &str, file: usize) -> Vec<ClassRef<'p>> {
        let all = self.classes.get(name).map(|v| v.as_slice()).unwrap_or(&[]);
        let local: Vec<ClassRef<'p>> = all.iter().filter(|c| c.file == file).copied().collect();
        if local.is_empty() {
            all.to_vec()
        } else {
            local
        }
    }

    /// Classes that name `name` among their supertypes, transitively, at most `limit`.
    pub fn implementors(&self, name: &str, limit: usize) -> Vec<ClassRef<'p>> {
        let mut out: Vec<ClassRef<'p>> = Vec::new();
        let mut queue = vec![name.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = queue.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            for c in self.implementors.get(n.as_str()).into_iter().flatten() {
                if out.len() >= limit {
                    return out;
                }
                out.push(*c);
                queue.push(c.class.name.clone());
            }
        }
        out
    }

    /// A method of `class` or of its supertypes in the project, by name and arity.
    pub fn find_method(
        &self,
        class: ClassRef<'p>,
        name: &str,
        arity: usize,
    ) -> Option<(ClassRef<'p>, &'p Function)> {
        let mut todo = vec![class];
        let mut seen = 0;
        while let Some(c) = todo.pop() {
            seen += 1;
            if seen > 16 {
                break;
            }
            if let Some(f) = pick_overload(&c.class.methods, name, arity) {
                return Some((c, f));
            }
            for s in &c.class.supers {
                todo.extend(self.classes_named(s, c.file));
            }
        }
        None
    }

    /// Files whose module name is `name` (`helpers.utils`). An import path
    /// (`example.com/shop/store`) that names no folder in full is found by its longest tail
    /// that does (`shop/store`, `store`): the scan root is rarely the module root.
    pub fn modules_named(&self, name: &str) -> &[usize] {
        let mut rest = name;
        loop {
            if let Some(v) = self.modules.get(rest) {
                return v.as_slice();
            }
            match rest.split_once('/') {
                Some((_, tail)) if !tail.is_empty() => rest = tail,
                _ => return &[],
            }
        }
    }

    /// A function `name` of `file`'s module declared in another of its files (a Go
    /// package spans its folder); looked up once per call, so kept in a map.
    pub fn module_function_elsewhere(
        &self,
        file: usize,
        name: &str,
    ) -> Option<(usize, &'p Function)> {
        let own = self.package_of.get(file)?.as_ref()?;
        let lang = self.units.get(file)?.module.lang;
        self.package_functions
            .get(&(own.clone(), name))?
            .iter()
            .find(|(f, _)| *f != file && self.units[*f].module.lang == lang)
            .copied()
    }
}

/// The overload of `name` that takes `arity` arguments, else any of that name.
pub fn pick_overload<'p>(
    methods: &'p [Function],
    name: &str,
    arity: usize,
) -> Option<&'p Function> {
    let mut fallback = None;
    for m in methods.iter().filter(|m| m.name == name) {
        let required = m.params.iter().filter(|p| p.default.is_none()).count();
        let self_param = usize::from(
            m.params
                .first()
                .is_some_and(|p| p.name == "self" || p.name == "cls"),
        );
        if m.params.len() == arity
            || m.params.len() == arity + self_param
            || (required <= arity + self_param && arity + self_param <= m.params.len())
        {
            return Some(m);
        }
        fallback.get_or_insert(m);
    }
    fallback
}

/// Read `key=value` lines from every `.properties` file found under the scanned roots, so that
/// configuration lookups with constant keys resolve to their configured values.
pub fn load_properties(files: &[PathBuf]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            if let Some((k, v)) = line.split_once(['=', ':']) {
                map.entry(k.trim().to_string())
                    .or_insert_with(|| v.trim().to_string());
            }
        }
    }
    map
}

/// Dependencies that make a package an application (a server, a site, a desktop app) rather
/// than a library whose functions other code calls with its own data.
const APP_FRAMEWORKS: &[&str] = &[
    "express",
    "koa",
    "fastify",
    "@nestjs/core",
    "next",
    "nuxt",
    "@hapi/hapi",
    "hapi",
    "restify",
    "sails",
    "loopback",
    "@loopback/core",
    "@adonisjs/core",
    "electron",
    "react-scripts",
    "@sveltejs/kit",
    "@remix-run/node",
    "meteor-node-stubs",
    "socket.io",
];

/// The JavaScript files that are the entry module of a library package: the `main` (or
/// `exports["."]`, default `index.js`) of the `package.json` beside them, where that package
/// depends on no web or app framework. Their module functions are the package's API, called
/// with whatever its users pass (CodeQL's "library input").
pub fn library_entry_files(units: &[Unit]) -> Vec<bool> {
    let mut packages: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    units
        .iter()
        .map(|u| {
            if u.module.lang != vigil_code::Lang::JavaScript {
                return false;
            }
            let Some(dir) = u.path.parent() else {
                return false;
            };
            // The entry may sit in a sub-folder (`lib/index.js`): look up to two levels.
            dir.ancestors().take(3).any(|d| {
                packages
                    .entry(d.to_path_buf())
                    .or_insert_with(|| library_main(d))
                    .as_deref()
                    .is_some_and(|m| same_file(m, &u.path))
            })
        })
        .collect()
}

/// The entry module of the library package in `dir`, if `dir` holds one.
fn library_main(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let pkg: serde_json::Value = serde_json::from_str(&text).ok()?;
    for key in ["dependencies", "peerDependencies"] {
        if let Some(deps) = pkg.get(key).and_then(|d| d.as_object())
            && APP_FRAMEWORKS.iter().any(|f| deps.contains_key(*f))
        {
            return None;
        }
    }
    let from_exports = pkg.get("exports").and_then(|e| {
        let dot = e.get(".").unwrap_or(e);
        dot.as_str().map(str::to_string).or_else(|| {
            ["require", "node", "default", "import"]
                .iter()
                .find_map(|k| dot.get(*k).and_then(|v| v.as_str()).map(str::to_string))
        })
    });
    let main = pkg
        .get("main")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or(from_exports)
        .unwrap_or_else(|| "index.js".into());
    let mut path = dir.join(main.trim_start_matches("./"));
    if path.is_dir() {
        path = path.join("index.js");
    } else if path.extension().is_none() {
        path.set_extension("js");
    }
    Some(path)
}

/// `a` and `b` name the same file (`./x/../y.js` and `y.js` alike).
fn same_file(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| -> PathBuf {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    };
    norm(a) == norm(b)
}
