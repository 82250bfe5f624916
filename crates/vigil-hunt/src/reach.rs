//! Diff scans: which files' analysis can reach changed code.
//!
//! A finding of a diff scan must touch a changed line, so its path runs through a changed
//! file. Analysis starts from each file's own functions and follows calls into other files,
//! so only the changed files, and the files that may call into them (directly or through
//! other files), can produce such a finding. The rest are still parsed, since their
//! functions may be callees, but are not analysed from.
//!
//! "May call" is decided by name, over-approximating: file `R` depends on file `D` when `R`
//! mentions a name `D` declares (a function, class, method, field, module-level variable, or
//! the module's own name, which covers `require('./d')` and `import d`). A name `R` declares
//! itself counts only where written as a member of another object (`obj.name`, not
//! `this.name`): a servlet's `doPost(..)` calls its own `doPost`, not every other servlet's.

use crate::project::Unit;
use std::collections::{HashMap, HashSet};
use vigil_code::{Class, Stmt, Target};

/// For each unit, whether analysis must start from it: the units in `changed` and every
/// unit that may call into them, transitively.
pub fn units_reaching(units: &[Unit], changed: &[bool]) -> Vec<bool> {
    let defs: Vec<HashSet<&str>> = units.iter().map(declared_names).collect();
    // Name → the units that may use it from outside.
    let mut users: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        for name in mentioned_names(&u.source, &defs[i]) {
            users.entry(name).or_default().push(i);
        }
    }
    let mut roots = changed.to_vec();
    roots.resize(units.len(), false);
    let mut work: Vec<usize> = (0..units.len()).filter(|&i| roots[i]).collect();
    while let Some(d) = work.pop() {
        for name in &defs[d] {
            for &r in users.get(name).map(Vec::as_slice).unwrap_or_default() {
                if !roots[r] {
                    roots[r] = true;
                    work.push(r);
                }
            }
        }
    }
    roots
}

/// The names a file declares for other files to use.
fn declared_names(u: &Unit) -> HashSet<&str> {
    let m = &u.module;
    let mut out = HashSet::new();
    // The module's own name: `import views`, `require('./routes/user')`, `pkg.Func`; an
    // `index.js` or `__init__.py` is imported by its folder's name.
    let stem = u.path.file_stem().and_then(|s| s.to_str());
    out.extend(stem);
    if matches!(stem, Some("index" | "__init__")) {
        out.extend(
            u.path
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|s| s.to_str()),
        );
    }
    // Not the package: every file of a Java or Go package declares it, and other packages
    // reach its code through the names declared here (`pkg.Func`, `import a.b.C`).
    out.extend(m.functions.iter().map(|f| f.name.as_str()));
    for c in &m.classes {
        class_names(c, &mut out);
    }
    for s in &m.body {
        if let Stmt::Assign { target, .. } = s {
            target_names(target, &mut out);
        }
    }
    // Module-system plumbing every file writes (`module.exports = ..`, `__all__ = [..]`),
    // not names another file calls.
    out.retain(|n| !n.is_empty() && !PLUMBING.contains(n));
    out
}

const PLUMBING: &[&str] = &["exports", "module", "default", "prototype", "__all__"];

fn class_names<'a>(c: &'a Class, out: &mut HashSet<&'a str>) {
    out.insert(&c.name);
    out.extend(c.methods.iter().map(|f| f.name.as_str()));
    out.extend(c.fields.iter().map(|f| f.name.as_str()));
    for inner in &c.classes {
        class_names(inner, out);
    }
}

fn target_names<'a>(t: &'a Target, out: &mut HashSet<&'a str>) {
    match t {
        Target::Var(n) => {
            out.insert(n);
        }
        Target::Field(_, n) => {
            out.insert(n);
        }
        Target::Tuple(ts) => ts.iter().for_each(|t| target_names(t, out)),
        Target::Index(..) | Target::Other(_) => {}
    }
}

/// The identifiers a file's text mentions that may name another file's declarations: all
/// of them (strings and comments included: `require('./user')` names a module), except the
/// file's own names where not written as a member of another object.
fn mentioned_names<'s>(source: &'s str, own: &HashSet<&str>) -> HashSet<&'s str> {
    let b = source.as_bytes();
    let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c == b'$';
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let mut out = HashSet::new();
    let mut prev: &str = "";
    let mut i = 0;
    while i < b.len() {
        if !ident_start(b[i]) {
            if !b[i].is_ascii_whitespace() && b[i] != b'.' {
                prev = "";
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        let name = &source[start..i];
        let before = source[..start].trim_end();
        // In a string or a path (`require('./users')`, `from 'lodash'`): never a declaration.
        let quoted = before.ends_with(['/', '\'', '"', '`']);
        let foreign_member = before.ends_with('.') && !matches!(prev, "this" | "self" | "cls");
        if quoted || foreign_member || !own.contains(name) {
            out.insert(name);
        }
        prev = name;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn unit(path: &str, source: &str) -> Unit {
        let module = vigil_code::parse_path(std::path::Path::new(path), source).unwrap();
        Unit {
            path: PathBuf::from(path),
            module,
            source: source.to_string(),
        }
    }

    fn reaching(units: &[Unit], changed: &[&str]) -> Vec<String> {
        let mask: Vec<bool> = units
            .iter()
            .map(|u| changed.iter().any(|c| u.path.ends_with(c)))
            .collect();
        let roots = units_reaching(units, &mask);
        units
            .iter()
            .zip(roots)
            .filter(|(_, r)| *r)
            .map(|(u, _)| u.path.display().to_string())
            .collect()
    }

    #[test]
    fn callers_of_changed_code_are_analysed_and_unrelated_files_are_not() {
        let units = [
            unit(
                "web/A.java",
                "class A extends HttpServlet { void doGet(Req r) { doPost(r); } void doPost(Req r) { Db.run(r.p()); } }",
            ),
            unit(
                "web/B.java",
                "class B extends HttpServlet { void doGet(Req r) { doPost(r); } void doPost(Req r) { new Helper().clean(r.p()); } }",
            ),
            unit(
                "web/Helper.java",
                "class Helper { String clean(String s) { return Util.trim(s); } }",
            ),
            unit(
                "web/Util.java",
                "class Util { static String trim(String s) { return s; } }",
            ),
            unit("web/Db.java", "class Db { static void run(String q) {} }"),
        ];
        // A changed servlet: nobody calls it (the other servlets' doGet/doPost are their own).
        assert_eq!(reaching(&units, &["A.java"]), ["web/A.java"]);
        // A changed utility: its callers, and their callers, up to the servlet.
        assert_eq!(
            reaching(&units, &["Util.java"]),
            ["web/B.java", "web/Helper.java", "web/Util.java"]
        );
        assert_eq!(
            reaching(&units, &["Db.java"]),
            ["web/A.java", "web/Db.java"]
        );
    }

    #[test]
    fn modules_are_reached_by_name_and_member_calls_of_own_names_count() {
        let units = [
            unit(
                "app/routes/index.js",
                "const users = require('./users')\nmodule.exports = (app) => app.use('/u', users)\n",
            ),
            unit(
                "app/routes/users.js",
                "const db = require('../db')\nmodule.exports = function (req, res) { db.query(req.query.q) }\n",
            ),
            unit("app/db.js", "exports.query = function (q) { return q }\n"),
            unit(
                "app/other.py",
                "def query(q):\n    return helper.query(q)\n",
            ),
        ];
        assert_eq!(
            reaching(&units, &["users.js"]),
            ["app/routes/index.js", "app/routes/users.js"]
        );
        // `helper.query` is another object's `query`, though the file declares one itself.
        let r = reaching(&units, &["db.js"]);
        assert!(r.contains(&"app/other.py".to_string()), "{r:?}");
        assert!(r.contains(&"app/routes/users.js".to_string()), "{r:?}");
    }
}
