//! JavaScript and TypeScript adapter: tree-sitter-javascript / tree-sitter-typescript syntax
//! tree → [`crate::ir`]. One lowering serves both grammars: TypeScript adds type annotations
//! (kept as parameter and variable types) and declarations that carry no code (skipped).
//!
//! Modules: `require('x')` and `import` become [`Import`]s named like Python's dotted modules
//! (`./lib/db` → `lib.db`), so that calls resolve across files the same way. Top-level
//! `const f = () => ..`, `exports.f = ..` and the functions of `module.exports = {..}` are
//! module functions.

use crate::MAX_DEPTH;
use crate::ir::*;
use crate::lower::{field, named_children, span, text, unescape};
use tree_sitter::Node;

pub fn lower(root: Node, src: &[u8]) -> Module {
    let mut l = Lower {
        src,
        depth: 0,
        imports: Vec::new(),
        temps: 0,
    };
    let body = l.block_nodes(root);
    Module::from_top_level(Lang::JavaScript, std::mem::take(&mut l.imports), body)
}

/// The dotted module name of an import specifier: `node:fs/promises` → `fs.promises`,
/// `../lib/db.js` → `lib.db`, `./routes/index` → `routes`, `@/lib/db` (a project alias) → `lib.db`.
pub fn module_path(spec: &str) -> String {
    let mut s = spec.trim();
    s = s.strip_prefix("node:").unwrap_or(s);
    for alias in ["@/", "~/"] {
        s = s.strip_prefix(alias).unwrap_or(s);
    }
    loop {
        if let Some(r) = s.strip_prefix("./") {
            s = r;
        } else if let Some(r) = s.strip_prefix("../") {
            s = r;
        } else {
            break;
        }
    }
    for ext in [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"] {
        if let Some(r) = s.strip_suffix(ext) {
            s = r;
            break;
        }
    }
    s = s.strip_suffix("/index").unwrap_or(s);
    let s = s.trim_matches('/');
    if s.is_empty() || s == "." || s == ".." {
        return "index".to_string();
    }
    s.replace('/', ".")
}

struct Lower<'s> {
    src: &'s [u8],
    depth: usize,
    imports: Vec<Import>,
    /// Counter for the temporaries that hold a destructured value.
    temps: usize,
}

fn unknown() -> Expr {
    Expr::Unknown(vec![])
}

/// Node kinds that are TypeScript declarations without run-time code.
const TYPE_ONLY: &[&str] = &[
    "type_alias_declaration",
    "interface_declaration",
    "enum_declaration",
    "ambient_declaration",
    "function_signature",
    "abstract_method_signature",
    "method_signature",
    "index_signature",
    "import_alias",
    "module",
    "internal_module",
    "comment",
    "empty_statement",
    "debugger_statement",
    "hash_bang_line",
    "html_comment",
    "decorator",
];

impl<'s> Lower<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn block_nodes(&mut self, node: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        for c in named_children(node) {
            self.stmt(c, &mut out);
        }
        out
    }

    /// The body of an `if`, loop or function: a block's statements, or one statement.
    fn body(&mut self, node: Option<Node>) -> Vec<Stmt> {
        match node {
            Some(n) if n.kind() == "statement_block" || n.kind() == "class_body" => {
                self.block_nodes(n)
            }
            Some(n) => {
                let mut out = Vec::new();
                self.stmt(n, &mut out);
                out
            }
            None => Vec::new(),
        }
    }

    fn stmt(&mut self, node: Node, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(node, out);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, node: Node, out: &mut Vec<Stmt>) {
        let sp = stmt_span(node);
        let kind = node.kind();
        if TYPE_ONLY.contains(&kind) {
            return;
        }
        match kind {
            "expression_statement" => {
                for e in named_children(node) {
                    self.expr_stmt(e, out);
                }
            }
            "lexical_declaration" | "variable_declaration" => {
                for d in named_children(node) {
                    if d.kind() == "variable_declarator" {
                        self.declarator(d, out);
                    }
                }
            }
            "import_statement" => self.import(node),
            "export_statement" => self.export(node, out),
            "if_statement" => {
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let then = self.body(field(node, "consequence"));
                let other = match field(node, "alternative") {
                    Some(alt) => self.body(named_children(alt).into_iter().next()),
                    None => Vec::new(),
                };
                out.push(Stmt::If {
                    cond,
                    then,
                    other,
                    span: sp,
                });
            }
            "while_statement" | "do_statement" => {
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let body = self.body(field(node, "body"));
                out.push(Stmt::While { cond, body });
            }
            "for_statement" => {
                if let Some(init) = field(node, "initializer") {
                    self.stmt(init, out);
                }
                let cond = field(node, "condition")
                    .filter(|c| c.kind() != "empty_statement")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let mut body = self.body(field(node, "body"));
                if let Some(inc) = field(node, "increment") {
                    self.expr_stmt(inc, &mut body);
                }
                out.push(Stmt::While { cond, body });
            }
            "for_in_statement" => {
                let target = field(node, "left")
                    .map(|l| self.target(l))
                    .unwrap_or(Target::Other(unknown()));
                let iter = field(node, "right")
                    .map(|r| self.expr(r))
                    .unwrap_or_else(unknown);
                let body = self.body(field(node, "body"));
                out.push(Stmt::ForEach {
                    target,
                    ty: None,
                    iter,
                    body,
                    span: sp,
                });
            }
            "try_statement" => {
                let body = self.body(field(node, "body"));
                let mut handlers = Vec::new();
                if let Some(h) = field(node, "handler") {
                    let var = field(h, "parameter")
                        .filter(|p| p.kind() == "identifier")
                        .map(|p| self.t(p).to_string());
                    let hbody = self.body(field(h, "body"));
                    handlers.push(Handler { var, body: hbody });
                }
                let finally = field(node, "finalizer")
                    .map(|f| self.body(field(f, "body")))
                    .unwrap_or_default();
                out.push(Stmt::Try {
                    body,
                    handlers,
                    finally,
                });
            }
            "switch_statement" => {
                let subject = field(node, "value")
                    .map(|v| self.expr(v))
                    .unwrap_or_else(unknown);
                let mut cases = Vec::new();
                if let Some(b) = field(node, "body") {
                    for c in named_children(b) {
                        let value = field(c, "value");
                        let labels = match (c.kind(), value) {
                            ("switch_case", Some(v)) => vec![self.expr(v)],
                            ("switch_default", _) => Vec::new(),
                            _ => continue,
                        };
                        let mut body = Vec::new();
                        for s in named_children(c) {
                            if Some(s) != value {
                                self.stmt(s, &mut body);
                            }
                        }
                        cases.push(SwitchCase { labels, body });
                    }
                }
                out.push(Stmt::Switch {
                    subject,
                    cases,
                    fallthrough: true,
                });
            }
            "return_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .find(|c| c.kind() != "comment")
                    .map(|e| self.expr(e));
                out.push(Stmt::Return(e, sp));
            }
            "throw_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .next()
                    .map(|e| self.expr(e))
                    .unwrap_or_else(unknown);
                out.push(Stmt::Throw(e));
            }
            "break_statement" => out.push(Stmt::Break),
            "continue_statement" => out.push(Stmt::Continue),
            "statement_block" => out.push(Stmt::Block(self.block_nodes(node))),
            "labeled_statement" => out.extend(self.body(field(node, "body"))),
            "with_statement" => out.extend(self.body(field(node, "body"))),
            "function_declaration" | "generator_function_declaration" => {
                if let Some(f) = self.function(node, None) {
                    out.push(Stmt::FuncDef(Box::new(f)));
                }
            }
            "class_declaration" | "abstract_class_declaration" => {
                if let Some(c) = self.class(node, None) {
                    out.push(Stmt::ClassDef(Box::new(c)));
                }
            }
            _ => {
                let e = self.expr(node);
                out.push(Stmt::Expr(e, sp));
            }
        }
    }

    /// `import a from 'm'`, `import {b as c} from 'm'`, `import * as d from 'm'`.
    fn import(&mut self, node: Node) {
        let Some(source) = field(node, "source") else {
            return;
        };
        let module = module_path(&self.string_text(source));
        for c in named_children(node) {
            if c.kind() != "import_clause" {
                continue;
            }
            for k in named_children(c) {
                match k.kind() {
                    // Default import: the module's default export; named like the module.
                    "identifier" => self.imports.push(Import {
                        alias: self.t(k).to_string(),
                        path: module.clone(),
                    }),
                    "namespace_import" => {
                        if let Some(id) = named_children(k)
                            .into_iter()
                            .find(|n| n.kind() == "identifier")
                        {
                            self.imports.push(Import {
                                alias: self.t(id).to_string(),
                                path: module.clone(),
                            });
                        }
                    }
                    "named_imports" => {
                        for spec in named_children(k) {
                            if spec.kind() != "import_specifier" {
                                continue;
                            }
                            let Some(name) = field(spec, "name") else {
                                continue;
                            };
                            let name = self.string_text(name);
                            let alias = field(spec, "alias")
                                .map(|a| self.t(a).to_string())
                                .unwrap_or_else(|| name.clone());
                            self.imports.push(Import {
                                alias,
                                path: format!("{module}.{name}"),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn export(&mut self, node: Node, out: &mut Vec<Stmt>) {
        if let Some(d) = field(node, "declaration") {
            self.stmt(d, out);
            return;
        }
        let Some(v) = field(node, "value") else {
            // `export { a, b }`, `export * from 'm'`: nothing runs.
            return;
        };
        // `export default function (req, res) {..}`: the default export is a function.
        match v.kind() {
            "function_expression" | "function" | "arrow_function" | "generator_function" => {
                if let Some(f) = self.function(v, Some("default")) {
                    out.push(Stmt::FuncDef(Box::new(f)));
                }
            }
            "class" => {
                if let Some(c) = self.class(v, Some("default")) {
                    out.push(Stmt::ClassDef(Box::new(c)));
                }
            }
            "function_declaration" | "generator_function_declaration" | "class_declaration" => {
                self.stmt(v, out)
            }
            _ => {
                let e = self.expr(v);
                out.push(Stmt::Expr(e, span(v)));
            }
        }
    }

    /// The module named by `require('m')` (or `require('m').x`), when `node` is one.
    fn require_path(&self, node: Node) -> Option<String> {
        self.require_path_at(node, 0)
    }

    fn require_path_at(&self, node: Node, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match node.kind() {
            "call_expression" => {
                let f = field(node, "function")?;
                if f.kind() != "identifier" || self.t(f) != "require" {
                    return None;
                }
                let args = named_children(field(node, "arguments")?);
                let [arg] = args.as_slice() else { return None };
                (arg.kind() == "string").then(|| module_path(&self.string_text(*arg)))
            }
            "member_expression" => {
                let base = self.require_path_at(field(node, "object")?, depth + 1)?;
                Some(format!("{base}.{}", self.t(field(node, "property")?)))
            }
            "await_expression" | "parenthesized_expression" => {
                self.require_path_at(named_children(node).into_iter().next()?, depth + 1)
            }
            _ => None,
        }
    }

    fn declarator(&mut self, d: Node, out: &mut Vec<Stmt>) {
        let sp = span(d);
        let Some(name) = field(d, "name") else { return };
        let ty = field(d, "type").map(|t| type_text(self.t(t)));
        let value = field(d, "value");
        if let Some(v) = value
            && let Some(path) = self.require_path(v)
        {
            self.bind_import(name, &path);
            return;
        }
        if name.kind() == "identifier"
            && let Some(v) = value
            && is_function(v)
        {
            let n = self.t(name).to_string();
            if let Some(f) = self.function(v, Some(&n)) {
                out.push(Stmt::FuncDef(Box::new(f)));
            }
            return;
        }
        let value = value.map(|v| self.expr(v));
        let sp2 = sp;
        self.assign(name, value, ty, sp2, out);
    }

    /// `const m = require('m')`, `const { a, b: c } = require('m')`.
    fn bind_import(&mut self, name: Node, path: &str) {
        match name.kind() {
            "identifier" => self.imports.push(Import {
                alias: self.t(name).to_string(),
                path: path.to_string(),
            }),
            "object_pattern" => {
                for p in named_children(name) {
                    let (key, alias) = match p.kind() {
                        "shorthand_property_identifier_pattern" => (self.t(p), self.t(p)),
                        "pair_pattern" => match (field(p, "key"), field(p, "value")) {
                            (Some(k), Some(v)) if v.kind() == "identifier" => {
                                (self.t(k), self.t(v))
                            }
                            _ => continue,
                        },
                        _ => continue,
                    };
                    self.imports.push(Import {
                        alias: alias.to_string(),
                        path: format!("{path}.{key}"),
                    });
                }
            }
            _ => {}
        }
    }

    /// Assign `value` to a declared name or pattern; patterns take each member from the value.
    fn assign(
        &mut self,
        target: Node,
        value: Option<Expr>,
        ty: Option<String>,
        sp: Span,
        out: &mut Vec<Stmt>,
    ) {
        match target.kind() {
            "object_pattern" | "array_pattern" => {
                let Some(value) = value else { return };
                let src = self.temp_for(value, sp, out);
                self.destructure(target, &src, sp, out);
            }
            _ => {
                let target = self.target(target);
                out.push(Stmt::Assign {
                    target,
                    value,
                    ty,
                    op: None,
                    span: sp,
                });
            }
        }
    }

    /// A name holding `value`, so that each destructured member reads it once.
    fn temp_for(&mut self, value: Expr, sp: Span, out: &mut Vec<Stmt>) -> Expr {
        if value.dotted().is_some() {
            return value;
        }
        self.temps += 1;
        let name = format!("$tmp{}", self.temps);
        out.push(Stmt::Assign {
            target: Target::Var(name.clone()),
            value: Some(value),
            ty: None,
            op: None,
            span: sp,
        });
        Expr::Name(name)
    }

    fn destructure(&mut self, pattern: Node, src: &Expr, sp: Span, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let is_array = pattern.kind() == "array_pattern";
        for (i, p) in named_children(pattern).into_iter().enumerate() {
            let member = |key: Expr| {
                if is_array {
                    Expr::Index {
                        obj: Box::new(src.clone()),
                        index: Box::new(key),
                    }
                } else {
                    match key {
                        Expr::Lit(Lit::Str(name)) => Expr::Field {
                            obj: Box::new(src.clone()),
                            name,
                        },
                        other => Expr::Index {
                            obj: Box::new(src.clone()),
                            index: Box::new(other),
                        },
                    }
                }
            };
            let pos = Expr::Lit(Lit::Int(i as i64));
            match p.kind() {
                "identifier" | "shorthand_property_identifier_pattern" => {
                    let name = self.t(p).to_string();
                    let key = if is_array {
                        pos
                    } else {
                        Expr::Lit(Lit::Str(name.clone()))
                    };
                    out.push(Stmt::Assign {
                        target: Target::Var(name),
                        value: Some(member(key)),
                        ty: None,
                        op: None,
                        span: sp,
                    });
                }
                "pair_pattern" => {
                    let (Some(k), Some(v)) = (field(p, "key"), field(p, "value")) else {
                        continue;
                    };
                    let key = self.property_key(k);
                    let inner = member(key);
                    self.assign_pattern(v, inner, sp, out);
                }
                "assignment_pattern" | "object_assignment_pattern" => {
                    let Some(l) = field(p, "left") else { continue };
                    let key = if is_array {
                        pos
                    } else {
                        Expr::Lit(Lit::Str(self.t(l).to_string()))
                    };
                    let inner = member(key);
                    self.assign_pattern(l, inner, sp, out);
                }
                "rest_pattern" => {
                    if let Some(n) = named_children(p).into_iter().next() {
                        self.assign_pattern(n, src.clone(), sp, out);
                    }
                }
                "object_pattern" | "array_pattern" => {
                    let inner = member(pos);
                    self.assign_pattern(p, inner, sp, out);
                }
                _ => {}
            }
        }
        self.depth -= 1;
    }

    fn assign_pattern(&mut self, target: Node, value: Expr, sp: Span, out: &mut Vec<Stmt>) {
        match target.kind() {
            "object_pattern" | "array_pattern" => {
                let src = self.temp_for(value, sp, out);
                self.destructure(target, &src, sp, out);
            }
            _ => {
                let target = self.target(target);
                out.push(Stmt::Assign {
                    target,
                    value: Some(value),
                    ty: None,
                    op: None,
                    span: sp,
                });
            }
        }
    }

    fn expr_stmt(&mut self, e: Node, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_stmt_inner(e, out);
        self.depth -= 1;
    }

    fn expr_stmt_inner(&mut self, e: Node, out: &mut Vec<Stmt>) {
        let sp = span(e);
        match e.kind() {
            "assignment_expression" => {
                let (Some(l), Some(r)) = (field(e, "left"), field(e, "right")) else {
                    out.push(Stmt::Expr(self.expr(e), sp));
                    return;
                };
                // `exports.f = function ..`, `module.exports.f = (..) => ..`: module functions.
                if is_function(r)
                    && let Some(name) = self.export_name(l)
                {
                    if let Some(f) = self.function(r, Some(&name)) {
                        out.push(Stmt::FuncDef(Box::new(f)));
                    }
                    return;
                }
                // `module.exports = function name(..) {..}`: the module's one function.
                if self.t(l) == "module.exports" && is_function(r) {
                    let own = field(r, "name").map(|n| self.t(n).to_string());
                    let name = own.unwrap_or_else(|| "exports".to_string());
                    if let Some(f) = self.function(r, Some(&name)) {
                        out.push(Stmt::FuncDef(Box::new(f)));
                    }
                    return;
                }
                // `module.exports = { f() {..}, g: (..) => .. }`: each function is exported.
                if self.t(l) == "module.exports" && r.kind() == "object" {
                    for p in named_children(r) {
                        let f = match p.kind() {
                            "method_definition" => self.function(p, None),
                            "pair" => match (field(p, "key"), field(p, "value")) {
                                (Some(k), Some(v)) if is_function(v) => {
                                    let n = self.t(k).to_string();
                                    self.function(v, Some(&n))
                                }
                                _ => None,
                            },
                            _ => None,
                        };
                        if let Some(f) = f {
                            out.push(Stmt::FuncDef(Box::new(f)));
                        }
                    }
                }
                if let Some(r2) = field(e, "right")
                    && r2.kind() == "assignment_expression"
                {
                    // `a = b = v`: the inner assignment first.
                    self.expr_stmt(r2, out);
                    let v = field(r2, "right").map(|x| self.expr(x));
                    self.assign(l, v, None, sp, out);
                    return;
                }
                let v = self.expr(r);
                self.assign(l, Some(v), None, sp, out);
            }
            "augmented_assignment_expression" => {
                let (Some(l), Some(r)) = (field(e, "left"), field(e, "right")) else {
                    return;
                };
                let op = match field(e, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "+=" => BinOp::Add,
                    "-=" => BinOp::Sub,
                    "*=" => BinOp::Mul,
                    _ => BinOp::Other,
                };
                let target = self.target(l);
                let value = Some(self.expr(r));
                out.push(Stmt::Assign {
                    target,
                    value,
                    ty: None,
                    op: Some(op),
                    span: sp,
                });
            }
            "sequence_expression" => {
                for c in named_children(e) {
                    self.expr_stmt(c, out);
                }
            }
            _ => out.push(Stmt::Expr(self.expr(e), sp)),
        }
    }

    /// `exports.f` or `module.exports.f` → `f`.
    fn export_name(&self, l: Node) -> Option<String> {
        if l.kind() != "member_expression" {
            return None;
        }
        let obj = self.t(field(l, "object")?);
        (obj == "exports" || obj == "module.exports").then(|| {
            field(l, "property")
                .map(|p| self.t(p).to_string())
                .unwrap_or_default()
        })
    }

    fn target(&mut self, l: Node) -> Target {
        if self.depth > MAX_DEPTH {
            return Target::Other(unknown());
        }
        self.depth += 1;
        let t = self.target_inner(l);
        self.depth -= 1;
        t
    }

    fn target_inner(&mut self, l: Node) -> Target {
        match l.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                Target::Var(self.t(l).to_string())
            }
            "member_expression" => {
                let obj = field(l, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let name = field(l, "property")
                    .map(|a| self.t(a).to_string())
                    .unwrap_or_default();
                Target::Field(obj, name)
            }
            "subscript_expression" => {
                let obj = field(l, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let idx = field(l, "index")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Target::Index(obj, idx)
            }
            "parenthesized_expression" | "non_null_expression" | "as_expression" => {
                match named_children(l).into_iter().next() {
                    Some(inner) => self.target(inner),
                    None => Target::Other(unknown()),
                }
            }
            // `for (const x of xs)`: the declaration's name.
            "lexical_declaration" | "variable_declaration" => {
                match named_children(l)
                    .into_iter()
                    .find(|d| d.kind() == "variable_declarator")
                    .and_then(|d| field(d, "name"))
                {
                    Some(n) => self.target(n),
                    None => Target::Other(unknown()),
                }
            }
            "object_pattern" | "array_pattern" => {
                // Loop variables that destructure: each name gets the element's data.
                let mut names = Vec::new();
                collect_pattern_names(l, self.src, &mut names, 0);
                Target::Tuple(names.into_iter().map(Target::Var).collect())
            }
            _ => Target::Other(self.expr(l)),
        }
    }

    /// A function declaration, expression, arrow function or method. `name` overrides the
    /// node's own name (the variable or export it is bound to).
    fn function(&mut self, node: Node, name: Option<&str>) -> Option<Function> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let f = self.function_inner(node, name);
        self.depth -= 1;
        Some(f)
    }

    fn function_inner(&mut self, node: Node, name: Option<&str>) -> Function {
        let own = field(node, "name").map(|n| self.t(n).to_string());
        let name = name
            .map(str::to_string)
            .or(own)
            .unwrap_or_else(|| "<lambda>".to_string());
        let mut params = Vec::new();
        let mut prologue = Vec::new();
        let sp = span(node);
        if let Some(p) = field(node, "parameter") {
            // `x => ..`: one bare parameter.
            params.push(plain_param(self.t(p)));
        }
        if let Some(ps) = field(node, "parameters") {
            for (i, p) in named_children(ps).into_iter().enumerate() {
                if let Some(param) = self.param(p, i, sp, &mut prologue) {
                    params.push(param);
                }
            }
        }
        let mut body = prologue;
        match field(node, "body") {
            Some(b) if b.kind() == "statement_block" => body.extend(self.block_nodes(b)),
            // Concise arrow body: its value is returned.
            Some(b) => body.push(Stmt::Return(Some(self.expr(b)), span(b))),
            None => {}
        }
        let is_static = named_children(node).iter().any(|c| self.t(*c) == "static")
            || node
                .child(0)
                .is_some_and(|c| !c.is_named() && self.t(c) == "static");
        Function {
            is_public: !name.starts_with('_') && !name.starts_with('#'),
            name,
            params,
            body,
            ret_ty: field(node, "return_type").map(|t| type_text(self.t(t))),
            decorators: Vec::new(),
            is_static,
            span: sp,
        }
    }

    fn param(&mut self, p: Node, i: usize, sp: Span, prologue: &mut Vec<Stmt>) -> Option<Param> {
        match p.kind() {
            "identifier" => Some(plain_param(self.t(p))),
            "assignment_pattern" => {
                let l = field(p, "left")?;
                let mut param = self.param(l, i, sp, prologue)?;
                param.default = field(p, "right").map(|r| self.expr(r));
                Some(param)
            }
            "rest_pattern" => named_children(p)
                .into_iter()
                .next()
                .and_then(|n| self.param(n, i, sp, prologue)),
            // `function f({ a, b })`: a parameter of our own, destructured in the body.
            "object_pattern" | "array_pattern" => {
                let name = format!("$param{i}");
                self.destructure(p, &Expr::Name(name.clone()), sp, prologue);
                Some(plain_param(&name))
            }
            // TypeScript: `req: Request`, `id?: string`, `private db: Db`.
            "required_parameter" | "optional_parameter" => {
                let pat = field(p, "pattern")?;
                let mut param = self.param(pat, i, sp, prologue)?;
                param.ty = field(p, "type").map(|t| type_text(self.t(t)));
                if let Some(v) = field(p, "value") {
                    param.default = Some(self.expr(v));
                }
                param.annotations = named_children(p)
                    .into_iter()
                    .filter(|c| c.kind() == "decorator")
                    .map(|d| decorator_name(self.t(d)))
                    .collect();
                Some(param)
            }
            "this" => None,
            _ => None,
        }
    }

    fn class(&mut self, node: Node, name: Option<&str>) -> Option<Class> {
        let name = name
            .map(str::to_string)
            .or_else(|| field(node, "name").map(|n| self.t(n).to_string()))?;
        let mut supers = Vec::new();
        for c in named_children(node) {
            if c.kind() == "class_heritage" {
                collect_supers(c, self.src, &mut supers);
            }
        }
        let mut class = Class {
            is_public: !name.starts_with('_'),
            name,
            supers,
            fields: Vec::new(),
            methods: Vec::new(),
            classes: Vec::new(),
            is_interface: false,
            annotations: named_children(node)
                .into_iter()
                .filter(|c| c.kind() == "decorator")
                .map(|d| decorator_name(self.t(d)))
                .collect(),
            span: span(node),
        };
        let Some(body) = field(node, "body") else {
            return Some(class);
        };
        let mut decorators = Vec::new();
        for m in named_children(body) {
            match m.kind() {
                "decorator" => decorators.push(self.decorator(m)),
                "method_definition" => {
                    if let Some(mut f) = self.function(m, None) {
                        f.decorators = std::mem::take(&mut decorators);
                        class.methods.push(f);
                    }
                }
                "field_definition" | "public_field_definition" => {
                    decorators.clear();
                    let Some(n) = field(m, "property").or_else(|| field(m, "name")) else {
                        continue;
                    };
                    let fname = self.t(n).to_string();
                    let value = field(m, "value");
                    if let Some(v) = value
                        && is_function(v)
                    {
                        // `handle = (req) => {..}`: a method bound to the instance.
                        if let Some(f) = self.function(v, Some(&fname)) {
                            class.methods.push(f);
                        }
                        continue;
                    }
                    let is_static = named_children(m).iter().any(|c| self.t(*c) == "static")
                        || (0..m.child_count())
                            .filter_map(|i| m.child(i))
                            .any(|c| !c.is_named() && self.t(c) == "static");
                    class.fields.push(Field {
                        name: fname,
                        ty: field(m, "type").map(|t| type_text(self.t(t))),
                        is_static,
                        init: value.map(|v| self.expr(v)),
                        span: span(m),
                    });
                }
                _ => decorators.clear(),
            }
        }
        Some(class)
    }

    fn decorator(&mut self, d: Node) -> Expr {
        match named_children(d).into_iter().next() {
            Some(e) => self.expr(e),
            None => unknown(),
        }
    }

    /// Text of a string literal, with escapes decoded.
    fn string_text(&self, node: Node) -> String {
        if node.kind() != "string" {
            return self.t(node).to_string();
        }
        let mut out = String::new();
        for c in named_children(node) {
            match c.kind() {
                "string_fragment" => out.push_str(self.t(c)),
                "escape_sequence" => out.push_str(&unescape(self.t(c))),
                _ => {}
            }
        }
        out
    }

    fn template(&mut self, node: Node) -> Expr {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let inner_start = node.start_byte() + 1;
        let inner_end = node.end_byte().saturating_sub(1).max(inner_start);
        let mut pos = inner_start;
        for c in named_children(node) {
            if c.start_byte() > pos {
                let slice = self.src.get(pos..c.start_byte()).unwrap_or(&[]);
                lit.push_str(&String::from_utf8_lossy(slice));
            }
            match c.kind() {
                "template_substitution" => {
                    if !lit.is_empty() {
                        parts.push(Expr::Lit(Lit::Str(std::mem::take(&mut lit))));
                    }
                    if let Some(e) = named_children(c).into_iter().next() {
                        parts.push(self.expr(e));
                    }
                }
                "escape_sequence" => lit.push_str(&unescape(self.t(c))),
                _ => lit.push_str(self.t(c)),
            }
            pos = c.end_byte();
        }
        if inner_end > pos {
            let slice = self.src.get(pos..inner_end).unwrap_or(&[]);
            lit.push_str(&String::from_utf8_lossy(slice));
        }
        if parts.is_empty() {
            return Expr::Lit(Lit::Str(lit));
        }
        if !lit.is_empty() {
            parts.push(Expr::Lit(Lit::Str(lit)));
        }
        Expr::Concat(parts)
    }

    fn args(&mut self, node: Option<Node>) -> (Vec<Expr>, Vec<(String, Expr)>) {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let Some(n) = node else {
            return (args, kwargs);
        };
        if n.kind() == "template_string" {
            // A tagged template: the tag is called with the template.
            args.push(self.template(n));
            return (args, kwargs);
        }
        let kids: Vec<Node> = named_children(n)
            .into_iter()
            .filter(|c| c.kind() != "comment")
            .collect();
        for (i, a) in kids.iter().enumerate() {
            // An options object last (`{ shell: true }`, `{ root: dir }`) also gives its
            // constant keys as keyword arguments, so that rules can ask for an option.
            if i + 1 == kids.len() && i > 0 && a.kind() == "object" {
                for p in named_children(*a) {
                    if p.kind() == "pair"
                        && let (Some(k), Some(v)) = (field(p, "key"), field(p, "value"))
                        && matches!(k.kind(), "property_identifier" | "string")
                    {
                        let key = self.string_text(k);
                        let val = self.expr(v);
                        kwargs.push((key, val));
                    }
                }
            }
            args.push(self.expr(*a));
        }
        (args, kwargs)
    }

    fn expr(&mut self, node: Node) -> Expr {
        if self.depth > MAX_DEPTH {
            return unknown();
        }
        self.depth += 1;
        let e = self.expr_inner(node);
        self.depth -= 1;
        e
    }

    fn property_key(&mut self, k: Node) -> Expr {
        match k.kind() {
            "property_identifier" | "private_property_identifier" => {
                Expr::Lit(Lit::Str(self.t(k).to_string()))
            }
            "string" => Expr::Lit(Lit::Str(self.string_text(k))),
            "computed_property_name" => match named_children(k).into_iter().next() {
                Some(e) => self.expr(e),
                None => unknown(),
            },
            _ => self.expr(k),
        }
    }

    fn expr_inner(&mut self, node: Node) -> Expr {
        let sp = span(node);
        match node.kind() {
            "identifier" | "shorthand_property_identifier" => match self.t(node) {
                "undefined" => Expr::Lit(Lit::Null),
                n => Expr::Name(n.to_string()),
            },
            "this" | "super" => Expr::Name(self.t(node).to_string()),
            "string" => Expr::Lit(Lit::Str(self.string_text(node))),
            "template_string" => self.template(node),
            "number" => {
                let raw = self.t(node).replace('_', "");
                let v = if let Some(h) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok().map(Lit::Int)
                } else if let Ok(i) = raw.parse::<i64>() {
                    Some(Lit::Int(i))
                } else {
                    raw.parse::<f64>().ok().map(Lit::Float)
                };
                v.map(Expr::Lit).unwrap_or_else(unknown)
            }
            "true" => Expr::Lit(Lit::Bool(true)),
            "false" => Expr::Lit(Lit::Bool(false)),
            "null" | "undefined" => Expr::Lit(Lit::Null),
            "parenthesized_expression"
            | "await_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion"
            | "spread_element"
            | "yield_expression" => {
                // The value is the (first) expression inside; types are not values.
                match named_children(node).into_iter().find(|c| {
                    c.kind() != "comment"
                        && !c.kind().ends_with("type")
                        && c.kind() != "type_arguments"
                }) {
                    Some(inner) => self.expr(inner),
                    None => unknown(),
                }
            }
            "member_expression" => {
                let obj = field(node, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let name = field(node, "property")
                    .map(|a| self.t(a).to_string())
                    .unwrap_or_default();
                Expr::Field {
                    obj: Box::new(obj),
                    name,
                }
            }
            "subscript_expression" => {
                let obj = field(node, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let index = field(node, "index")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Expr::Index {
                    obj: Box::new(obj),
                    index: Box::new(index),
                }
            }
            "call_expression" => {
                if let Some(e) = self.membership(node) {
                    return e;
                }
                let (args, kwargs) = self.args(field(node, "arguments"));
                let (receiver, name) = match field(node, "function") {
                    Some(f) if f.kind() == "member_expression" => (
                        field(f, "object").map(|o| self.expr(o)),
                        field(f, "property")
                            .map(|a| self.t(a).to_string())
                            .unwrap_or_default(),
                    ),
                    Some(f) if f.kind() == "identifier" => (None, self.t(f).to_string()),
                    // `import('m')`: nothing we model.
                    Some(f) if f.kind() == "import" => return Expr::Unknown(args),
                    Some(f) => (Some(self.expr(f)), "__call__".to_string()),
                    None => (None, String::new()),
                };
                Expr::Call(Box::new(Call {
                    receiver,
                    name,
                    args,
                    kwargs,
                    span: sp,
                }))
            }
            "new_expression" => {
                let class = field(node, "constructor")
                    .map(|c| self.t(c).to_string())
                    .unwrap_or_default();
                let (args, _) = self.args(field(node, "arguments"));
                Expr::New {
                    class,
                    args,
                    body: None,
                    span: sp,
                }
            }
            "binary_expression" => {
                if let Some(e) = self.index_of_test(node) {
                    return e;
                }
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    // `/` gives a fraction: not folded as integer division.
                    "%" => BinOp::Mod,
                    "==" | "===" => BinOp::Eq,
                    "!=" | "!==" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "&&" => BinOp::And,
                    "||" | "??" => BinOp::Or,
                    _ => BinOp::Other,
                };
                let left = field(node, "left")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let right = field(node, "right")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Expr::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                }
            }
            "unary_expression" => {
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "!" => UnOp::Not,
                    "-" => UnOp::Neg,
                    // `typeof x` names a type: no data of `x`, and no constant either.
                    "typeof" => return unknown(),
                    _ => UnOp::Other,
                };
                let e = field(node, "argument")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Expr::Unary {
                    op,
                    expr: Box::new(e),
                }
            }
            "update_expression" => {
                // `i++`: the variable becomes some number. Lowered once, as a target only:
                // lowering it again as a value would double the work at each nesting level.
                let Some(arg) = field(node, "argument") else {
                    return unknown();
                };
                Expr::Assign {
                    target: Box::new(self.target(arg)),
                    value: Box::new(unknown()),
                    op: None,
                }
            }
            "ternary_expression" => {
                let c = field(node, "condition").map(|x| self.expr(x));
                let t = field(node, "consequence").map(|x| self.expr(x));
                let o = field(node, "alternative").map(|x| self.expr(x));
                match (c, t, o) {
                    (Some(c), Some(t), Some(o)) => Expr::Cond {
                        cond: Box::new(c),
                        then: Box::new(t),
                        other: Box::new(o),
                    },
                    (c, t, o) => Expr::Unknown(c.into_iter().chain(t).chain(o).collect()),
                }
            }
            "array" => Expr::List(
                named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() != "comment")
                    .map(|c| self.expr(c))
                    .collect(),
            ),
            "object" => {
                let mut pairs = Vec::new();
                let mut rest = Vec::new();
                for p in named_children(node) {
                    match p.kind() {
                        "pair" => {
                            let k = field(p, "key")
                                .map(|k| self.property_key(k))
                                .unwrap_or_else(unknown);
                            let v = field(p, "value")
                                .map(|o| self.expr(o))
                                .unwrap_or_else(unknown);
                            pairs.push((k, v));
                        }
                        "shorthand_property_identifier" => {
                            let n = self.t(p).to_string();
                            pairs.push((Expr::Lit(Lit::Str(n.clone())), Expr::Name(n)));
                        }
                        "method_definition" => {
                            let key = field(p, "name")
                                .map(|k| self.property_key(k))
                                .unwrap_or_else(unknown);
                            if let Some(f) = self.function(p, None) {
                                pairs.push((key, Expr::Lambda(Box::new(f))));
                            }
                        }
                        "comment" => {}
                        _ => rest.push(self.expr(p)),
                    }
                }
                if rest.is_empty() {
                    Expr::Dict(pairs)
                } else {
                    let mut all: Vec<Expr> = pairs.into_iter().map(|(_, v)| v).collect();
                    all.extend(rest);
                    Expr::Unknown(all)
                }
            }
            "arrow_function" | "function_expression" | "function" | "generator_function" => {
                match self.function(node, None) {
                    Some(f) => Expr::Lambda(Box::new(f)),
                    None => unknown(),
                }
            }
            "assignment_expression" => {
                let value = field(node, "right")
                    .map(|v| self.expr(v))
                    .unwrap_or_else(unknown);
                match field(node, "left") {
                    Some(l) if !matches!(l.kind(), "object_pattern" | "array_pattern") => {
                        Expr::Assign {
                            target: Box::new(self.target(l)),
                            value: Box::new(value),
                            op: None,
                        }
                    }
                    _ => value,
                }
            }
            "augmented_assignment_expression" => {
                let value = field(node, "right")
                    .map(|v| self.expr(v))
                    .unwrap_or_else(unknown);
                match field(node, "left") {
                    Some(l) => Expr::Assign {
                        target: Box::new(self.target(l)),
                        value: Box::new(value),
                        op: Some(BinOp::Other),
                    },
                    None => value,
                }
            }
            "jsx_element" | "jsx_self_closing_element" | "jsx_opening_element" | "jsx_fragment" => {
                self.jsx(node)
            }
            "class" => {
                // A class expression's methods are still analysed, as a class of the file.
                unknown()
            }
            "comment" | "regex" | "import" | "meta_property" => unknown(),
            _ => {
                let kids = named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() != "comment")
                    .map(|c| self.expr(c))
                    .collect();
                Expr::Unknown(kids)
            }
        }
    }

    /// `list.includes(x)`, `set.has(x)`, `obj.hasOwnProperty(k)`,
    /// `Object.prototype.hasOwnProperty.call(obj, k)`: membership, as Python's `x in list`,
    /// so that an allow-list check before an early exit validates `x`.
    fn membership(&mut self, call: Node) -> Option<Expr> {
        let f = field(call, "function")?;
        if f.kind() != "member_expression" {
            return None;
        }
        let name = self.t(field(f, "property")?);
        let args: Vec<Node> = named_children(field(call, "arguments")?)
            .into_iter()
            .filter(|a| a.kind() != "comment")
            .collect();
        let obj = field(f, "object")?;
        let (item, container) = match (name, args.as_slice()) {
            ("includes" | "has" | "hasOwnProperty", [x]) => (*x, obj),
            ("call", [o, k]) if self.t(obj).ends_with("hasOwnProperty") => (*k, *o),
            _ => return None,
        };
        Some(Expr::Binary {
            op: BinOp::In,
            left: Box::new(self.expr(item)),
            right: Box::new(self.expr(container)),
        })
    }

    /// `list.indexOf(x) === -1` (or `< 0`): `x not in list`; `!== -1`, `>= 0`, `> -1`: `x in list`.
    fn index_of_test(&mut self, node: Node) -> Option<Expr> {
        let (l, r) = (field(node, "left")?, field(node, "right")?);
        let op = self.t(field(node, "operator")?);
        let f = field(l, "function").filter(|_| l.kind() == "call_expression")?;
        if f.kind() != "member_expression" || self.t(field(f, "property")?) != "indexOf" {
            return None;
        }
        let args = named_children(field(l, "arguments")?);
        let [x] = args.as_slice() else { return None };
        let bound = self.t(r).replace(' ', "");
        let member = match (op, bound.as_str()) {
            ("===" | "==" | "<=", "-1") | ("<", "0") => false,
            ("!==" | "!=" | ">", "-1") | (">=", "0") => true,
            _ => return None,
        };
        let container = field(f, "object")?;
        Some(Expr::Binary {
            op: if member { BinOp::In } else { BinOp::NotIn },
            left: Box::new(self.expr(*x)),
            right: Box::new(self.expr(container)),
        })
    }

    /// JSX: the embedded expressions, and each `attr={value}` as a call of
    /// `<jsx>.attr(value)` so that rules can name attributes (`dangerouslySetInnerHTML`).
    fn jsx(&mut self, node: Node) -> Expr {
        let mut parts = Vec::new();
        let mut stack = vec![node];
        let mut seen = 0;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > 10_000 {
                break;
            }
            match n.kind() {
                "jsx_attribute" => {
                    let kids = named_children(n);
                    let name = kids.first().map(|k| self.t(*k).to_string());
                    let value = kids
                        .get(1)
                        .and_then(|v| {
                            if v.kind() == "jsx_expression" {
                                named_children(*v).into_iter().next()
                            } else {
                                Some(*v)
                            }
                        })
                        .map(|v| self.expr(v));
                    if let (Some(name), Some(value)) = (name, value) {
                        parts.push(Expr::Call(Box::new(Call {
                            receiver: None,
                            name: format!("<jsx>.{name}"),
                            args: vec![value],
                            kwargs: Vec::new(),
                            span: span(n),
                        })));
                    }
                }
                "jsx_expression" => {
                    if let Some(e) = named_children(n).into_iter().next() {
                        parts.push(self.expr(e));
                    }
                }
                _ => {
                    let mut kids = named_children(n);
                    kids.reverse();
                    stack.extend(kids);
                }
            }
        }
        Expr::Unknown(parts)
    }
}

/// A statement's span without the comments that automatic semicolon insertion leaves inside
/// it (`return x // note` ends after the comment).
fn stmt_span(node: Node) -> Span {
    let mut sp = span(node);
    let mut last = None;
    for i in (0..node.child_count()).rev() {
        match node.child(i) {
            Some(c) if c.kind() == "comment" || c.byte_range().is_empty() => continue,
            Some(c) => {
                last = Some(c);
                break;
            }
            None => break,
        }
    }
    if let Some(c) = last {
        let end = span(c);
        sp.end_line = end.end_line;
        sp.end_col = end.end_col;
    }
    sp
}

fn plain_param(name: &str) -> Param {
    Param {
        name: name.to_string(),
        ty: None,
        default: None,
        annotations: Vec::new(),
    }
}

fn is_function(n: Node) -> bool {
    matches!(
        n.kind(),
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

/// `: Request` → `Request`.
fn type_text(t: &str) -> String {
    t.trim().trim_start_matches(':').trim().to_string()
}

/// `@Get('/x')` → `Get`.
fn decorator_name(t: &str) -> String {
    let t = t.trim().trim_start_matches('@');
    let t = t.split('(').next().unwrap_or(t);
    t.rsplit('.').next().unwrap_or(t).trim().to_string()
}

/// Simple names of the classes in an `extends` / `implements` clause.
fn collect_supers(node: Node, src: &[u8], out: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "identifier" | "type_identifier" | "member_expression" | "nested_type_identifier" => {
                let t = text(n, src);
                out.push(t.rsplit('.').next().unwrap_or(t).to_string());
            }
            "type_arguments" | "arguments" => {}
            _ => stack.extend(named_children(n)),
        }
        if out.len() > 16 {
            return;
        }
    }
}

fn collect_pattern_names(node: Node, src: &[u8], out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for c in named_children(node) {
        match c.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                out.push(text(c, src).to_string())
            }
            "pair_pattern" => {
                if let Some(v) = field(c, "value") {
                    if v.kind() == "identifier" {
                        out.push(text(v, src).to_string());
                    } else {
                        collect_pattern_names(v, src, out, depth + 1);
                    }
                }
            }
            _ => collect_pattern_names(c, src, out, depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::module_path;

    #[test]
    fn import_specifiers_become_dotted_module_names() {
        assert_eq!(module_path("node:fs/promises"), "fs.promises");
        assert_eq!(module_path("../lib/db.js"), "lib.db");
        assert_eq!(module_path("./routes/index"), "routes");
        assert_eq!(module_path("@/lib/db"), "lib.db");
        assert_eq!(module_path("@scope/pkg"), "@scope.pkg");
        assert_eq!(module_path("."), "index");
    }
}
