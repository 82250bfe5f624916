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
    /// Where files are modules (Python, JavaScript): dotted module name (every suffix of
    /// the file path) → file.
    modules: HashMap<String, Vec<usize>>,
}

impl<'p> Index<'p> {
    pub fn new(units: &'p [Unit], properties: &'p HashMap<String, String>) -> Index<'p> {
        let mut idx = Index {
            units,
            properties,
            classes: HashMap::new(),
            implementors: HashMap::new(),
            modules: HashMap::new(),
        };
        for (i, u) in units.iter().enumerate() {
            for c in &u.module.classes {
                idx.add_class(i, c, None);
            }
            let sem = crate::engine::semantics::of(u.module.lang);
            if sem.files_are_modules() {
                for name in module_names(&u.path, sem.package_file_stem()) {
                    idx.modules.entry(name).or_default().push(i);
                }
                // Classes defined inside functions are still classes of the file.
                for f in &u.module.functions {
                    idx.add_nested(i, &f.body);
                }
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

    /// Python files whose dotted module name is `name` (`helpers.utils`).
    pub fn modules_named(&self, name: &str) -> &[usize] {
        self.modules.get(name).map(|v| v.as_slice()).unwrap_or(&[])
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

/// `a/b/helpers/utils.py` → `utils`, `helpers.utils`, `b.helpers.utils`, `a.b.helpers.utils`.
/// A package file (`__init__.py`, `index.js`) is named by its folder.
fn module_names(path: &Path, package_stem: Option<&str>) -> Vec<String> {
    let mut parts: Vec<String> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
        .collect();
    if let Some(last) = parts.last_mut() {
        if let Some((stem, _ext)) = last.rsplit_once('.') {
            *last = stem.to_string();
        }
        if package_stem.is_some_and(|p| last == p) && parts.len() > 1 {
            parts.pop();
        }
    }
    let mut out = Vec::new();
    for start in (0..parts.len()).rev() {
        out.push(parts[start..].join("."));
    }
    out
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
