//! Python adapter: tree-sitter-python syntax tree → [`crate::ir`].

use crate::MAX_DEPTH;
use crate::ir::*;
use crate::lower::{field, fields, named_children, span, text, unescape};
use tree_sitter::Node;

pub fn lower(root: Node, src: &[u8]) -> Module {
    let mut l = Lower {
        src,
        depth: 0,
        dups: 0,
        imports: Vec::new(),
    };
    let body = l.block(root);
    Module::from_top_level(Lang::Python, std::mem::take(&mut l.imports), body)
}

struct Lower<'s> {
    src: &'s [u8],
    depth: usize,
    /// Enclosing comparison chains, which copy their middle operands (`a < b < c` is
    /// `a < b and b < c`); past [`MAX_DUPS`] a chain is not expanded, so nesting chains
    /// cannot grow the output exponentially.
    dups: usize,
    /// Imports anywhere in the file (Python allows them inside functions).
    imports: Vec<Import>,
}

/// See [`Lower::dups`]: at most 2^MAX_DUPS copies of any expression.
const MAX_DUPS: usize = 4;

fn unknown() -> Expr {
    Expr::Unknown(vec![])
}

impl<'s> Lower<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn block(&mut self, node: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        for c in named_children(node) {
            self.stmt(c, &mut out);
        }
        out
    }

    fn body(&mut self, node: Option<Node>) -> Vec<Stmt> {
        match node {
            Some(n) => self.block(n),
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
        let sp = span(node);
        match node.kind() {
            "expression_statement" => {
                for e in named_children(node) {
                    self.expr_stmt(e, out);
                }
            }
            "import_statement" => {
                for n in fields(node, "name") {
                    match n.kind() {
                        "aliased_import" => {
                            let path = field(n, "name").map(|x| self.t(x)).unwrap_or("");
                            let alias = field(n, "alias").map(|x| self.t(x)).unwrap_or("");
                            self.imports.push(Import {
                                alias: alias.to_string(),
                                path: path.to_string(),
                            });
                        }
                        _ => {
                            // `import a.b` binds `a`; the engine resolves `a.b.f` itself.
                            let path = self.t(n).to_string();
                            let alias = path.split('.').next().unwrap_or("").to_string();
                            let first = alias.clone();
                            self.imports.push(Import { alias, path: first });
                        }
                    }
                }
            }
            "import_from_statement" => {
                // Relative imports (`from .util import run`, `from . import util`) keep
                // the module's own name; the analysis finds modules by name suffix.
                let module = field(node, "module_name")
                    .map(|m| self.t(m).trim_start_matches('.').to_string())
                    .unwrap_or_default();
                for n in fields(node, "name") {
                    let (name, alias) = match n.kind() {
                        "aliased_import" => (
                            field(n, "name").map(|x| self.t(x)).unwrap_or(""),
                            field(n, "alias").map(|x| self.t(x)).unwrap_or(""),
                        ),
                        _ => (self.t(n), self.t(n)),
                    };
                    self.imports.push(Import {
                        alias: alias.to_string(),
                        path: if module.is_empty() {
                            name.to_string()
                        } else {
                            format!("{module}.{name}")
                        },
                    });
                }
            }
            "if_statement" => {
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let then = self.body(field(node, "consequence"));
                // elif chains nest as else { if ... }
                let alts = fields(node, "alternative");
                let other = self.elif_chain(&alts);
                out.push(Stmt::If {
                    cond,
                    then,
                    other,
                    span: sp,
                });
            }
            "while_statement" => {
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let body = self.body(field(node, "body"));
                out.push(Stmt::While { cond, body });
                if let Some(alt) = field(node, "alternative") {
                    out.extend(self.else_body(alt));
                }
            }
            "for_statement" => {
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
                if let Some(alt) = field(node, "alternative") {
                    out.extend(self.else_body(alt));
                }
            }
            "try_statement" => {
                let body = self.body(field(node, "body"));
                let mut handlers = Vec::new();
                let mut finally = Vec::new();
                let mut else_body = Vec::new();
                for c in named_children(node) {
                    match c.kind() {
                        "except_clause" | "except_group_clause" => {
                            let mut var = None;
                            let mut hbody = Vec::new();
                            for k in named_children(c) {
                                match k.kind() {
                                    "block" => hbody = self.block(k),
                                    "as_pattern" => {
                                        var = field(k, "alias").map(|a| {
                                            self.t(a).trim_start_matches("as").trim().to_string()
                                        })
                                    }
                                    _ => {}
                                }
                            }
                            handlers.push(Handler { var, body: hbody });
                        }
                        "finally_clause" => {
                            finally = named_children(c)
                                .into_iter()
                                .find(|b| b.kind() == "block")
                                .map(|b| self.block(b))
                                .unwrap_or_default();
                        }
                        "else_clause" => else_body = self.else_body(c),
                        _ => {}
                    }
                }
                let mut body = body;
                body.extend(else_body);
                out.push(Stmt::Try {
                    body,
                    handlers,
                    finally,
                });
            }
            "with_statement" => {
                for c in named_children(node) {
                    if c.kind() == "with_clause" {
                        for item in named_children(c) {
                            let Some(v) = field(item, "value") else {
                                continue;
                            };
                            if v.kind() == "as_pattern" {
                                let value = named_children(v)
                                    .into_iter()
                                    .next()
                                    .map(|x| self.expr(x))
                                    .unwrap_or_else(unknown);
                                let target = field(v, "alias")
                                    .and_then(|a| named_children(a).into_iter().next().or(Some(a)))
                                    .map(|a| self.target(a))
                                    .unwrap_or(Target::Other(unknown()));
                                out.push(Stmt::Assign {
                                    target,
                                    value: Some(value),
                                    ty: None,
                                    op: None,
                                    span: span(item),
                                });
                            } else {
                                let e = self.expr(v);
                                out.push(Stmt::Expr(e, span(item)));
                            }
                        }
                    }
                }
                out.push(Stmt::Block(self.body(field(node, "body"))));
            }
            "match_statement" => {
                let subject = fields(node, "subject")
                    .into_iter()
                    .next()
                    .map(|s| self.expr(s))
                    .unwrap_or_else(unknown);
                let mut cases = Vec::new();
                let blocks = fields(node, "body");
                for b in blocks {
                    for clause in named_children(b) {
                        if clause.kind() != "case_clause" {
                            continue;
                        }
                        let mut labels = Vec::new();
                        let mut is_default = false;
                        let mut guarded = false;
                        for k in named_children(clause) {
                            match k.kind() {
                                "case_pattern" => {
                                    let raw = self.t(k).trim();
                                    if raw == "_" {
                                        is_default = true;
                                    } else {
                                        for alt in raw.split('|') {
                                            labels.push(literal_pattern(alt.trim()));
                                        }
                                    }
                                }
                                "if_clause" => guarded = true,
                                _ => {}
                            }
                        }
                        if guarded || labels.iter().any(|l| matches!(l, Expr::Unknown(_))) {
                            // Patterns we cannot compare: treat as reachable for any subject.
                            labels = vec![unknown()];
                        }
                        if is_default {
                            labels.clear();
                        }
                        let body = self.body(field(clause, "consequence"));
                        cases.push(SwitchCase { labels, body });
                    }
                }
                out.push(Stmt::Switch {
                    subject,
                    cases,
                    fallthrough: false,
                });
            }
            "return_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .next()
                    .map(|e| self.expr(e));
                out.push(Stmt::Return(e, sp));
            }
            "raise_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .next()
                    .map(|e| self.expr(e))
                    .unwrap_or_else(unknown);
                out.push(Stmt::Throw(e));
            }
            "break_statement" => out.push(Stmt::Break),
            "continue_statement" => out.push(Stmt::Continue),
            "pass_statement"
            | "comment"
            | "global_statement"
            | "nonlocal_statement"
            | "future_import_statement"
            | "assert_statement" => {}
            "delete_statement" => {}
            "function_definition" => {
                if let Some(f) = self.function(node, Vec::new()) {
                    out.push(Stmt::FuncDef(Box::new(f)));
                }
            }
            "class_definition" => {
                if let Some(c) = self.class(node) {
                    out.push(Stmt::ClassDef(Box::new(c)));
                }
            }
            "decorated_definition" => {
                let decorators: Vec<Expr> = named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() == "decorator")
                    .filter_map(|d| named_children(d).into_iter().next())
                    .map(|e| self.expr(e))
                    .collect();
                if let Some(def) = field(node, "definition") {
                    match def.kind() {
                        "function_definition" => {
                            if let Some(f) = self.function(def, decorators) {
                                out.push(Stmt::FuncDef(Box::new(f)));
                            }
                        }
                        "class_definition" => {
                            if let Some(c) = self.class(def) {
                                out.push(Stmt::ClassDef(Box::new(c)));
                            }
                        }
                        _ => {}
                    }
                }
            }
            "block" => out.push(Stmt::Block(self.block(node))),
            _ => {
                let e = self.expr(node);
                out.push(Stmt::Expr(e, sp));
            }
        }
    }

    fn elif_chain(&mut self, alts: &[Node]) -> Vec<Stmt> {
        // Each `elif` nests one level deeper in the output: guard like `stmt`.
        if self.depth > MAX_DEPTH {
            return Vec::new();
        }
        self.depth += 1;
        let out = self.elif_chain_inner(alts);
        self.depth -= 1;
        out
    }

    fn elif_chain_inner(&mut self, alts: &[Node]) -> Vec<Stmt> {
        let Some((first, rest)) = alts.split_first() else {
            return Vec::new();
        };
        match first.kind() {
            "elif_clause" => {
                let cond = field(*first, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or_else(unknown);
                let then = self.body(field(*first, "consequence"));
                let other = self.elif_chain(rest);
                vec![Stmt::If {
                    cond,
                    then,
                    other,
                    span: span(*first),
                }]
            }
            _ => self.else_body(*first),
        }
    }

    fn else_body(&mut self, node: Node) -> Vec<Stmt> {
        self.body(field(node, "body"))
    }

    fn expr_stmt(&mut self, e: Node, out: &mut Vec<Stmt>) {
        // `a = b = … = v` recurses once per `=`: guard like `stmt`.
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
            "assignment" => {
                let ty = field(e, "type").map(|t| self.t(t).to_string());
                let Some(l) = field(e, "left") else {
                    out.push(Stmt::Expr(self.expr(e), sp));
                    return;
                };
                let target = self.target(l);
                // `a = b = value` nests assignments on the right.
                let value = match field(e, "right") {
                    Some(r) if r.kind() == "assignment" => {
                        let mut inner = Vec::new();
                        self.expr_stmt(r, &mut inner);
                        let v = field(r, "right").map(|x| self.expr(x));
                        out.extend(inner);
                        v
                    }
                    Some(r) => Some(self.expr(r)),
                    None => None,
                };
                out.push(Stmt::Assign {
                    target,
                    value,
                    ty,
                    op: None,
                    span: sp,
                });
            }
            "augmented_assignment" => {
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
            _ => out.push(Stmt::Expr(self.expr(e), sp)),
        }
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
            "identifier" => Target::Var(self.t(l).to_string()),
            "attribute" => {
                let obj = field(l, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let name = field(l, "attribute")
                    .map(|a| self.t(a).to_string())
                    .unwrap_or_default();
                Target::Field(obj, name)
            }
            "subscript" => {
                let obj = field(l, "value")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let idx = field(l, "subscript")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Target::Index(obj, idx)
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => Target::Tuple(
                named_children(l)
                    .into_iter()
                    .map(|c| self.target(c))
                    .collect(),
            ),
            "parenthesized_expression" => match named_children(l).into_iter().next() {
                Some(inner) => self.target(inner),
                None => Target::Other(unknown()),
            },
            _ => Target::Other(self.expr(l)),
        }
    }

    fn function(&mut self, node: Node, decorators: Vec<Expr>) -> Option<Function> {
        let name = self.t(field(node, "name")?).to_string();
        let mut params = Vec::new();
        if let Some(ps) = field(node, "parameters") {
            for p in named_children(ps) {
                let (pname, default, ty) = match p.kind() {
                    "identifier" => (self.t(p).to_string(), None, None),
                    "default_parameter" | "typed_default_parameter" => (
                        field(p, "name")
                            .map(|n| self.t(n).to_string())
                            .unwrap_or_default(),
                        field(p, "value").map(|v| self.expr(v)),
                        field(p, "type").map(|t| self.t(t).to_string()),
                    ),
                    "typed_parameter" => (
                        named_children(p)
                            .into_iter()
                            .find(|c| c.kind() == "identifier")
                            .map(|n| self.t(n).to_string())
                            .unwrap_or_default(),
                        None,
                        field(p, "type").map(|t| self.t(t).to_string()),
                    ),
                    "list_splat_pattern" | "dictionary_splat_pattern" => (
                        named_children(p)
                            .into_iter()
                            .next()
                            .map(|n| self.t(n).to_string())
                            .unwrap_or_default(),
                        None,
                        None,
                    ),
                    _ => continue,
                };
                params.push(Param {
                    name: pname,
                    ty,
                    default,
                    annotations: Vec::new(),
                });
            }
        }
        let body = self.body(field(node, "body"));
        // `__init__` and the other special methods are part of a class's interface.
        let is_public = !name.starts_with('_')
            || (name.len() > 4 && name.starts_with("__") && name.ends_with("__"));
        Some(Function {
            name,
            params,
            body,
            ret_ty: field(node, "return_type").map(|t| self.t(t).to_string()),
            is_public,
            decorators,
            is_static: false,
            span: span(node),
        })
    }

    fn class(&mut self, node: Node) -> Option<Class> {
        let name = self.t(field(node, "name")?).to_string();
        let supers = field(node, "superclasses")
            .map(|s| {
                named_children(s)
                    .into_iter()
                    .filter(|c| c.kind() != "keyword_argument")
                    .map(|c| self.t(c).rsplit('.').next().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let is_public = !name.starts_with('_');
        let mut class = Class {
            name,
            supers,
            fields: Vec::new(),
            methods: Vec::new(),
            classes: Vec::new(),
            is_interface: false,
            annotations: Vec::new(),
            is_public,
            span: span(node),
        };
        for s in self.body(field(node, "body")) {
            match s {
                Stmt::FuncDef(f) => class.methods.push(*f),
                Stmt::ClassDef(c) => class.classes.push(*c),
                Stmt::Assign {
                    target: Target::Var(name),
                    value,
                    ty,
                    span,
                    ..
                } => class.fields.push(Field {
                    name,
                    ty,
                    is_static: true,
                    init: value,
                    span,
                }),
                _ => {}
            }
        }
        Some(class)
    }

    fn args(&mut self, node: Option<Node>) -> (Vec<Expr>, Vec<(String, Expr)>) {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let Some(n) = node else {
            return (args, kwargs);
        };
        if n.kind() == "generator_expression" {
            args.push(self.expr(n));
            return (args, kwargs);
        }
        for a in named_children(n) {
            match a.kind() {
                "keyword_argument" => {
                    let name = field(a, "name")
                        .map(|x| self.t(x).to_string())
                        .unwrap_or_default();
                    let v = field(a, "value")
                        .map(|v| self.expr(v))
                        .unwrap_or_else(unknown);
                    kwargs.push((name, v));
                }
                "comment" => {}
                _ => args.push(self.expr(a)),
            }
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

    fn string(&mut self, node: Node) -> Expr {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let raw_prefix = named_children(node)
            .into_iter()
            .find(|c| c.kind() == "string_start")
            .map(|s| self.t(s).to_ascii_lowercase())
            .unwrap_or_default();
        let is_raw = raw_prefix.contains('r');
        for c in named_children(node) {
            match c.kind() {
                "string_content" => {
                    // Content holds escape_sequence and interpolation children in order.
                    let mut pos = c.start_byte();
                    for k in named_children(c) {
                        if k.start_byte() > pos {
                            let slice = self.src.get(pos..k.start_byte()).unwrap_or(&[]);
                            lit.push_str(&String::from_utf8_lossy(slice));
                        }
                        match k.kind() {
                            "escape_sequence" if !is_raw => lit.push_str(&unescape(self.t(k))),
                            "interpolation" => {
                                if !lit.is_empty() {
                                    parts.push(Expr::Lit(Lit::Str(std::mem::take(&mut lit))));
                                }
                                if let Some(e) = field(k, "expression") {
                                    parts.push(self.expr(e));
                                }
                            }
                            _ => lit.push_str(self.t(k)),
                        }
                        pos = k.end_byte();
                    }
                    if c.end_byte() > pos {
                        let slice = self.src.get(pos..c.end_byte()).unwrap_or(&[]);
                        lit.push_str(&String::from_utf8_lossy(slice));
                    }
                }
                "interpolation" => {
                    if !lit.is_empty() {
                        parts.push(Expr::Lit(Lit::Str(std::mem::take(&mut lit))));
                    }
                    if let Some(e) = field(c, "expression") {
                        parts.push(self.expr(e));
                    }
                }
                _ => {}
            }
        }
        if parts.is_empty() {
            return Expr::Lit(Lit::Str(lit));
        }
        if !lit.is_empty() {
            parts.push(Expr::Lit(Lit::Str(lit)));
        }
        Expr::Concat(parts)
    }

    fn expr_inner(&mut self, node: Node) -> Expr {
        let sp = span(node);
        match node.kind() {
            "identifier" => Expr::Name(self.t(node).to_string()),
            "string" => self.string(node),
            "concatenated_string" => {
                let parts: Vec<Expr> = named_children(node)
                    .into_iter()
                    .map(|c| self.expr(c))
                    .collect();
                if let Some(all) = parts
                    .iter()
                    .map(|p| p.str_lit())
                    .collect::<Option<Vec<&str>>>()
                {
                    Expr::Lit(Lit::Str(all.concat()))
                } else {
                    Expr::Concat(parts)
                }
            }
            "integer" => {
                let raw = self.t(node).replace('_', "");
                let v = if let Some(h) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok()
                } else {
                    raw.parse::<i64>().ok()
                };
                v.map(|v| Expr::Lit(Lit::Int(v))).unwrap_or_else(unknown)
            }
            "float" => self
                .t(node)
                .replace('_', "")
                .parse::<f64>()
                .map(|v| Expr::Lit(Lit::Float(v)))
                .unwrap_or_else(|_| unknown()),
            "true" => Expr::Lit(Lit::Bool(true)),
            "false" => Expr::Lit(Lit::Bool(false)),
            "none" => Expr::Lit(Lit::Null),
            "parenthesized_expression" => match named_children(node)
                .into_iter()
                .find(|c| c.kind() != "comment")
            {
                Some(inner) => self.expr(inner),
                None => unknown(),
            },
            "attribute" => {
                let obj = field(node, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let name = field(node, "attribute")
                    .map(|a| self.t(a).to_string())
                    .unwrap_or_default();
                Expr::Field {
                    obj: Box::new(obj),
                    name,
                }
            }
            "call" => {
                let (args, kwargs) = self.args(field(node, "arguments"));
                let (receiver, name) = match field(node, "function") {
                    Some(f) if f.kind() == "attribute" => (
                        field(f, "object").map(|o| self.expr(o)),
                        field(f, "attribute")
                            .map(|a| self.t(a).to_string())
                            .unwrap_or_default(),
                    ),
                    Some(f) if f.kind() == "identifier" => (None, self.t(f).to_string()),
                    Some(f) => {
                        // `(expr)(args)`: call of a computed value.
                        (Some(self.expr(f)), "__call__".to_string())
                    }
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
            "subscript" => {
                let obj = field(node, "value")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                let subs = fields(node, "subscript");
                let index = match subs.as_slice() {
                    [one] => self.expr(*one),
                    _ => unknown(),
                };
                Expr::Index {
                    obj: Box::new(obj),
                    index: Box::new(index),
                }
            }
            "slice" => {
                let kids = named_children(node)
                    .into_iter()
                    .map(|c| self.expr(c))
                    .collect();
                // A slice index is not a constant key: unknown, but its parts still count.
                Expr::Unknown(kids)
            }
            "binary_operator" => {
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    // True division gives a float: not folded. Floor division is.
                    "//" => BinOp::Div,
                    "%" => BinOp::Mod,
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
            "boolean_operator" => {
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "and" => BinOp::And,
                    _ => BinOp::Or,
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
            "not_operator" => {
                let e = field(node, "argument")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(unknown);
                Expr::Unary {
                    op: UnOp::Not,
                    expr: Box::new(e),
                }
            }
            "unary_operator" => {
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "-" => UnOp::Neg,
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
            "comparison_operator" => self.comparison(node),
            "conditional_expression" => {
                let kids = named_children(node);
                match kids.as_slice() {
                    [t, c, o] => Expr::Cond {
                        then: Box::new(self.expr(*t)),
                        cond: Box::new(self.expr(*c)),
                        other: Box::new(self.expr(*o)),
                    },
                    other => Expr::Unknown(other.iter().map(|k| self.expr(*k)).collect()),
                }
            }
            "list" | "tuple" | "set" | "expression_list" => Expr::List(
                named_children(node)
                    .into_iter()
                    .map(|c| self.expr(c))
                    .collect(),
            ),
            "dictionary" => {
                let mut pairs = Vec::new();
                let mut rest = Vec::new();
                for p in named_children(node) {
                    if p.kind() == "pair" {
                        let k = field(p, "key")
                            .map(|o| self.expr(o))
                            .unwrap_or_else(unknown);
                        let v = field(p, "value")
                            .map(|o| self.expr(o))
                            .unwrap_or_else(unknown);
                        pairs.push((k, v));
                    } else {
                        rest.push(self.expr(p));
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
            "lambda" => {
                let mut params = Vec::new();
                if let Some(ps) = field(node, "parameters") {
                    for p in named_children(ps) {
                        let n = field(p, "name").unwrap_or(p);
                        params.push(Param {
                            name: self.t(n).to_string(),
                            ty: None,
                            default: None,
                            annotations: Vec::new(),
                        });
                    }
                }
                let body = field(node, "body")
                    .map(|b| vec![Stmt::Return(Some(self.expr(b)), span(b))])
                    .unwrap_or_default();
                Expr::Lambda(Box::new(Function {
                    name: "<lambda>".into(),
                    params,
                    body,
                    ret_ty: None,
                    decorators: Vec::new(),
                    is_static: false,
                    is_public: false,
                    span: sp,
                }))
            }
            "keyword_argument" => field(node, "value")
                .map(|v| self.expr(v))
                .unwrap_or_else(unknown),
            "list_splat" | "dictionary_splat" | "await" | "parenthesized_list_splat" => {
                match named_children(node).into_iter().next() {
                    Some(inner) => self.expr(inner),
                    None => unknown(),
                }
            }
            "named_expression" => {
                let value = field(node, "value")
                    .map(|v| self.expr(v))
                    .unwrap_or_else(unknown);
                match field(node, "name") {
                    Some(n) => Expr::Assign {
                        target: Box::new(Target::Var(self.t(n).to_string())),
                        value: Box::new(value),
                        op: None,
                    },
                    None => value,
                }
            }
            "assignment" | "augmented_assignment" => field(node, "right")
                .map(|v| self.expr(v))
                .unwrap_or_else(unknown),
            "comment" | "ellipsis" => unknown(),
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(node),
            _ => {
                // Anything else: a mix of their parts.
                let kids = named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() != "comment")
                    .map(|c| self.expr(c))
                    .collect();
                Expr::Unknown(kids)
            }
        }
    }

    fn comprehension(&mut self, node: Node) -> Expr {
        let (key, elem) = match field(node, "body") {
            Some(b) if b.kind() == "pair" => (
                Some(Box::new(
                    field(b, "key")
                        .map(|k| self.expr(k))
                        .unwrap_or_else(unknown),
                )),
                field(b, "value")
                    .map(|v| self.expr(v))
                    .unwrap_or_else(unknown),
            ),
            Some(b) => (None, self.expr(b)),
            None => (None, unknown()),
        };
        let mut clauses = Vec::new();
        for c in named_children(node) {
            match c.kind() {
                "for_in_clause" => {
                    let target = field(c, "left")
                        .map(|l| self.target(l))
                        .unwrap_or(Target::Other(unknown()));
                    let iter = field(c, "right")
                        .map(|r| self.expr(r))
                        .unwrap_or_else(unknown);
                    clauses.push(Clause::For(target, iter));
                }
                "if_clause" => {
                    if let Some(cond) = named_children(c).into_iter().next() {
                        clauses.push(Clause::If(self.expr(cond)));
                    }
                }
                _ => {}
            }
        }
        Expr::Comprehension {
            clauses,
            key,
            elem: Box::new(elem),
        }
    }

    /// `a < b`, `x in y`, chains `a < b < c` folded left to right with `and`.
    fn comparison(&mut self, node: Node) -> Expr {
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        let mut cursor = node.walk();
        let mut pending_not = false;
        self.dups += 1;
        for c in node.children(&mut cursor) {
            if c.is_named() {
                operands.push(self.expr(c));
                continue;
            }
            let op = self.t(c);
            let op = match op {
                "<" => BinOp::Lt,
                "<=" => BinOp::Le,
                ">" => BinOp::Gt,
                ">=" => BinOp::Ge,
                "==" => BinOp::Eq,
                "!=" | "<>" => BinOp::Ne,
                "in" => {
                    if pending_not {
                        pending_not = false;
                        BinOp::NotIn
                    } else {
                        BinOp::In
                    }
                }
                "not in" => BinOp::NotIn,
                "not" => {
                    pending_not = true;
                    continue;
                }
                "is" => BinOp::Eq,
                "is not" => BinOp::Ne,
                _ => BinOp::Other,
            };
            ops.push(op);
        }
        self.dups -= 1;
        if operands.len() < 2
            || ops.len() + 1 != operands.len()
            || (ops.len() > 1 && self.dups >= MAX_DUPS)
            || self.depth + ops.len() > MAX_DEPTH
        {
            return Expr::Unknown(operands);
        }
        let mut result: Option<Expr> = None;
        for (i, op) in ops.iter().enumerate() {
            let cmp = Expr::Binary {
                op: *op,
                left: Box::new(operands[i].clone()),
                right: Box::new(operands[i + 1].clone()),
            };
            result = Some(match result {
                None => cmp,
                Some(prev) => Expr::Binary {
                    op: BinOp::And,
                    left: Box::new(prev),
                    right: Box::new(cmp),
                },
            });
        }
        result.unwrap_or_else(unknown)
    }
}

/// A `case` pattern that is a literal we can compare; anything else is unknown.
fn literal_pattern(raw: &str) -> Expr {
    let raw = raw.trim();
    if let Ok(i) = raw.parse::<i64>() {
        return Expr::Lit(Lit::Int(i));
    }
    for q in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) {
            return Expr::Lit(Lit::Str(unescape(&raw[1..raw.len() - 1])));
        }
    }
    match raw {
        "True" => Expr::Lit(Lit::Bool(true)),
        "False" => Expr::Lit(Lit::Bool(false)),
        "None" => Expr::Lit(Lit::Null),
        _ => unknown(),
    }
}
