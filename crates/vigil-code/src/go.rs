//! Go adapter: tree-sitter-go syntax tree → [`crate::ir`].
//!
//! Functions are module functions; methods are grouped into one [`Class`] per receiver
//! type (with the fields of its struct when the file declares it). The receiver, whatever
//! the method calls it, is lowered as `this`, so the engine treats it as Java's implicit
//! receiver. `x, err := f()` is a tuple assignment; `return a, b` returns a list, so the
//! caller's unpacking keeps each result apart. Composite literals become dicts (structs and
//! maps, typed through a cast) or lists (slices), so fields keep their own values.

use crate::MAX_DEPTH;
use crate::ir::*;
use crate::lower::{c_like_binop, field, fields, named_children, span, text, unescape};
use tree_sitter::Node;

pub fn lower(root: Node, src: &[u8]) -> Module {
    let mut l = Lower {
        src,
        depth: 0,
        receiver: None,
    };
    let mut module = Module {
        lang: Lang::Go,
        package: None,
        imports: Vec::new(),
        classes: Vec::new(),
        functions: Vec::new(),
        body: Vec::new(),
        lines: 0,
        syntax_errors: Vec::new(),
    };
    for child in named_children(root) {
        match child.kind() {
            "package_clause" => {
                if let Some(n) = named_children(child).into_iter().next() {
                    module.package = Some(text(n, src).to_string());
                }
            }
            "import_declaration" => {
                for spec in import_specs(child) {
                    if let Some(i) = l.import(spec) {
                        module.imports.push(i);
                    }
                }
            }
            "function_declaration" => {
                if let Some(f) = l.function(child) {
                    module.functions.push(f);
                }
            }
            "method_declaration" => {
                let recv = receiver(child, src);
                l.receiver = recv.as_ref().and_then(|(n, _)| n.clone());
                let f = l.function(child);
                l.receiver = None;
                if let (Some(f), Some((_, ty))) = (f, recv) {
                    class_for(&mut module.classes, &ty, span(child))
                        .methods
                        .push(f);
                }
            }
            "type_declaration" => {
                for spec in named_children(child) {
                    if spec.kind() == "type_spec" {
                        l.type_spec(spec, &mut module.classes);
                    }
                }
            }
            "var_declaration" | "const_declaration" => {
                l.stmt(child, &mut module.body);
            }
            _ => {}
        }
    }
    module
}

fn import_specs(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    for c in named_children(node) {
        match c.kind() {
            "import_spec" => out.push(c),
            "import_spec_list" => out.extend(
                named_children(c)
                    .into_iter()
                    .filter(|s| s.kind() == "import_spec"),
            ),
            _ => {}
        }
    }
    out
}

/// The receiver's name (none for `func (Server) f()`) and its type name without `*` or
/// type parameters.
fn receiver(method: Node, src: &[u8]) -> Option<(Option<String>, String)> {
    let list = field(method, "receiver")?;
    let decl = named_children(list)
        .into_iter()
        .find(|c| c.kind() == "parameter_declaration")?;
    let name = field(decl, "name").map(|n| text(n, src).to_string());
    let ty = base_type(text(field(decl, "type")?, src));
    Some((name, ty))
}

/// A declared type as the engine names it: a pointer is the type it points to (Go reaches
/// fields and methods through it alike), so `*store` is `store` and `*sql.DB` is `sql.DB`.
fn declared_type(ty: &str) -> String {
    ty.trim().trim_start_matches('*').trim().to_string()
}

/// `*pkg.Server[T]` → `Server`.
fn base_type(ty: &str) -> String {
    let t = ty.trim().trim_start_matches('*').trim();
    let t = t.split('[').next().unwrap_or(t);
    t.rsplit('.').next().unwrap_or(t).trim().to_string()
}

fn class_for<'c>(classes: &'c mut Vec<Class>, name: &str, sp: Span) -> &'c mut Class {
    let i = match classes.iter().position(|c| c.name == name) {
        Some(i) => i,
        None => {
            classes.push(Class {
                name: name.to_string(),
                supers: Vec::new(),
                fields: Vec::new(),
                methods: Vec::new(),
                classes: Vec::new(),
                is_interface: false,
                annotations: Vec::new(),
                is_public: is_exported(name),
                span: sp,
            });
            classes.len() - 1
        }
    };
    &mut classes[i]
}

fn is_exported(name: &str) -> bool {
    name.starts_with(|c: char| c.is_uppercase())
}

/// The package name an import path is used under when no alias is given: its last element,
/// skipping a major-version suffix (`echo/v4` → `echo`, `yaml.v3` → `yaml`) and the
/// conventional `go-` prefix and `-go` suffix of repository names.
pub fn default_import_alias(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let is_version = |p: &str| {
        p.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    if parts.len() > 1 && parts.last().is_some_and(|p| is_version(p)) {
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or(path);
    let last = match last.rsplit_once('.') {
        Some((head, v)) if is_version(v) => head,
        _ => last,
    };
    let last = last.strip_prefix("go-").unwrap_or(last);
    let last = last.strip_suffix("-go").unwrap_or(last);
    last.replace(['-', '.'], "_")
}

struct Lower<'s> {
    src: &'s [u8],
    depth: usize,
    /// The receiver's name inside a method: lowered as `this`.
    receiver: Option<String>,
}

impl<'s> Lower<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn import(&self, spec: Node) -> Option<Import> {
        let raw = self.t(field(spec, "path")?);
        let path = raw.trim_matches(|c| c == '"' || c == '`').to_string();
        let alias = match field(spec, "name") {
            // `_` imports only run the package's init; `.` imports merge names (not modelled).
            Some(n) if matches!(n.kind(), "blank_identifier" | "dot") => return None,
            Some(n) => self.t(n).to_string(),
            None => default_import_alias(&path),
        };
        Some(Import { alias, path })
    }

    fn type_spec(&mut self, spec: Node, classes: &mut Vec<Class>) {
        let (Some(name), Some(ty)) = (field(spec, "name"), field(spec, "type")) else {
            return;
        };
        let name = self.t(name).to_string();
        let class = class_for(classes, &name, span(spec));
        match ty.kind() {
            "struct_type" => {
                for list in named_children(ty) {
                    for decl in named_children(list) {
                        if decl.kind() != "field_declaration" {
                            continue;
                        }
                        let fty = field(decl, "type").map(|t| declared_type(self.t(t)));
                        let names = fields(decl, "name");
                        if names.is_empty() {
                            // An embedded type: its methods are promoted.
                            if let Some(t) = &fty {
                                class.supers.push(base_type(t));
                            }
                        }
                        for n in names {
                            class.fields.push(Field {
                                name: self.t(n).to_string(),
                                ty: fty.clone(),
                                is_static: false,
                                init: None,
                                span: span(decl),
                            });
                        }
                    }
                }
            }
            "interface_type" => class.is_interface = true,
            _ => {}
        }
    }

    fn params(&self, list: Option<Node>) -> Vec<Param> {
        let mut out = Vec::new();
        let Some(list) = list else { return out };
        for p in named_children(list) {
            if !matches!(
                p.kind(),
                "parameter_declaration" | "variadic_parameter_declaration"
            ) {
                continue;
            }
            let ty = field(p, "type").map(|t| {
                let t = declared_type(self.t(t));
                if p.kind() == "variadic_parameter_declaration" {
                    format!("[]{t}")
                } else {
                    t
                }
            });
            let names = fields(p, "name");
            if names.is_empty() {
                out.push(Param {
                    name: "_".into(),
                    ty: ty.clone(),
                    default: None,
                    annotations: Vec::new(),
                });
            }
            for n in names {
                out.push(Param {
                    name: self.t(n).to_string(),
                    ty: ty.clone(),
                    default: None,
                    annotations: Vec::new(),
                });
            }
        }
        out
    }

    /// The declared result type when there is exactly one unnamed or named result.
    fn result_type(&self, node: Node) -> Option<String> {
        let r = field(node, "result")?;
        if r.kind() != "parameter_list" {
            return Some(declared_type(self.t(r)));
        }
        let ps = self.params(Some(r));
        match ps.as_slice() {
            [one] => one.ty.clone(),
            _ => None,
        }
    }

    fn function(&mut self, node: Node) -> Option<Function> {
        let name = match field(node, "name") {
            Some(n) => self.t(n).to_string(),
            None => "<lambda>".to_string(),
        };
        let params = self.params(field(node, "parameters"));
        let body = field(node, "body")
            .map(|b| self.block(b))
            .unwrap_or_default();
        Some(Function {
            is_public: is_exported(&name),
            name,
            params,
            body,
            ret_ty: self.result_type(node),
            decorators: Vec::new(),
            is_static: false,
            span: span(node),
        })
    }

    fn block(&mut self, node: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        for c in named_children(node) {
            if c.kind() == "statement_list" {
                for s in named_children(c) {
                    self.stmt(s, &mut out);
                }
            } else {
                self.stmt(c, &mut out);
            }
        }
        out
    }

    fn body(&mut self, node: Option<Node>) -> Vec<Stmt> {
        match node {
            Some(n) if n.kind() == "block" => self.block(n),
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
        let sp = span(node);
        match node.kind() {
            "block" => out.push(Stmt::Block(self.block(node))),
            "statement_list" => {
                for s in named_children(node) {
                    self.stmt(s, out);
                }
            }
            "expression_statement" => {
                if let Some(e) = named_children(node).into_iter().next() {
                    out.push(Stmt::Expr(self.expr(e), sp));
                }
            }
            "short_var_declaration" | "assignment_statement" => {
                let op = field(node, "operator").map(|o| self.t(o)).unwrap_or("=");
                let op = match op {
                    "=" | ":=" => None,
                    "+=" => Some(BinOp::Add),
                    "-=" => Some(BinOp::Sub),
                    "*=" => Some(BinOp::Mul),
                    _ => Some(BinOp::Other),
                };
                let left = field(node, "left").map(named_children).unwrap_or_default();
                let right = field(node, "right").map(named_children).unwrap_or_default();
                self.assign(&left, &right, None, op, sp, out);
            }
            "var_declaration" | "const_declaration" => {
                for spec in named_children(node) {
                    let specs = if spec.kind() == "var_spec_list" {
                        named_children(spec)
                    } else {
                        vec![spec]
                    };
                    for s in specs {
                        if !matches!(s.kind(), "var_spec" | "const_spec") {
                            continue;
                        }
                        let names = fields(s, "name");
                        let ty = field(s, "type").map(|t| declared_type(self.t(t)));
                        let values = field(s, "value").map(named_children).unwrap_or_default();
                        self.assign(&names, &values, ty, None, span(s), out);
                    }
                }
            }
            "inc_statement" | "dec_statement" => {
                if let Some(e) = named_children(node).into_iter().next() {
                    let op = if node.kind() == "inc_statement" {
                        BinOp::Add
                    } else {
                        BinOp::Sub
                    };
                    out.push(Stmt::Assign {
                        target: self.target(e),
                        value: Some(Expr::Lit(Lit::Int(1))),
                        ty: None,
                        op: Some(op),
                        span: sp,
                    });
                }
            }
            "if_statement" => {
                let mut inner = Vec::new();
                if let Some(init) = field(node, "initializer") {
                    self.stmt(init, &mut inner);
                }
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Unknown(vec![]));
                let then = self.body(field(node, "consequence"));
                let other = self.body(field(node, "alternative"));
                let s = Stmt::If {
                    cond,
                    then,
                    other,
                    span: sp,
                };
                if inner.is_empty() {
                    out.push(s);
                } else {
                    inner.push(s);
                    out.push(Stmt::Block(inner));
                }
            }
            "for_statement" => self.for_stmt(node, out),
            "expression_switch_statement" | "type_switch_statement" => {
                self.switch(node, out);
            }
            "select_statement" => {
                let mut cases = Vec::new();
                for c in named_children(node) {
                    let mut body = Vec::new();
                    for part in named_children(c) {
                        match part.kind() {
                            "statement_list" => {
                                for s in named_children(part) {
                                    self.stmt(s, &mut body);
                                }
                            }
                            _ => self.stmt(part, &mut body),
                        }
                    }
                    let labels = if c.kind() == "default_case" {
                        Vec::new()
                    } else {
                        vec![Expr::Unknown(vec![])]
                    };
                    cases.push(SwitchCase { labels, body });
                }
                out.push(Stmt::Switch {
                    subject: Expr::Unknown(vec![]),
                    cases,
                    fallthrough: false,
                });
            }
            "receive_statement" => {
                let left = field(node, "left").map(named_children).unwrap_or_default();
                let right: Vec<Node> = field(node, "right").into_iter().collect();
                if left.is_empty() {
                    if let Some(r) = right.first() {
                        out.push(Stmt::Expr(self.expr(*r), sp));
                    }
                } else {
                    self.assign(&left, &right, None, None, sp, out);
                }
            }
            "send_statement" => {
                // `ch <- v`: the channel now holds the value.
                if let (Some(ch), Some(v)) = (field(node, "channel"), field(node, "value")) {
                    out.push(Stmt::Assign {
                        target: self.target(ch),
                        value: Some(self.expr(v)),
                        ty: None,
                        op: Some(BinOp::Add),
                        span: sp,
                    });
                }
            }
            "return_statement" => {
                let vals: Vec<Expr> = named_children(node)
                    .into_iter()
                    .flat_map(named_children)
                    .map(|e| self.expr(e))
                    .collect();
                let e = match vals.len() {
                    0 => None,
                    1 => vals.into_iter().next(),
                    _ => Some(Expr::List(vals)),
                };
                out.push(Stmt::Return(e, sp));
            }
            // Deferred and concurrent calls are analysed where they are written.
            "defer_statement" | "go_statement" => {
                if let Some(e) = named_children(node).into_iter().next() {
                    out.push(Stmt::Expr(self.expr(e), sp));
                }
            }
            "labeled_statement" => {
                for c in named_children(node) {
                    if c.kind() != "label_name" {
                        self.stmt(c, out);
                    }
                }
            }
            "break_statement" => out.push(Stmt::Break),
            "continue_statement" => out.push(Stmt::Continue),
            "function_declaration" => {
                if let Some(f) = self.function(node) {
                    out.push(Stmt::FuncDef(Box::new(f)));
                }
            }
            _ => {}
        }
    }

    /// `a, b := x, y` pairs up; `a, err := f()` unpacks the one value.
    fn assign(
        &mut self,
        left: &[Node],
        right: &[Node],
        ty: Option<String>,
        op: Option<BinOp>,
        sp: Span,
        out: &mut Vec<Stmt>,
    ) {
        if left.len() == right.len() || right.is_empty() {
            for (i, l) in left.iter().enumerate() {
                out.push(Stmt::Assign {
                    target: self.target(*l),
                    value: right.get(i).map(|r| self.expr(*r)),
                    ty: ty.clone(),
                    op,
                    span: sp,
                });
            }
        } else if left.len() > 1 && right.len() == 1 {
            let targets = left.iter().map(|l| self.target(*l)).collect();
            out.push(Stmt::Assign {
                target: Target::Tuple(targets),
                value: Some(self.expr(right[0])),
                ty: None,
                op,
                span: sp,
            });
        } else {
            // Mismatched counts only come from broken code: keep the values' taint.
            let vals = right.iter().map(|r| self.expr(*r)).collect();
            out.push(Stmt::Expr(Expr::Unknown(vals), sp));
        }
    }

    fn for_stmt(&mut self, node: Node, out: &mut Vec<Stmt>) {
        let sp = span(node);
        let body = field(node, "body");
        let head = named_children(node)
            .into_iter()
            .find(|c| Some(*c) != body && c.kind() != "comment");
        match head {
            Some(h) if h.kind() == "range_clause" => {
                let iter = field(h, "right")
                    .map(|r| self.expr(r))
                    .unwrap_or(Expr::Unknown(vec![]));
                let left = field(h, "left").map(named_children).unwrap_or_default();
                let mut inner = Vec::new();
                // `for i, v := range xs`: the element is the second name; the first is an
                // index or key, which carries no element data.
                let target = match left.as_slice() {
                    [] => Target::Var("_".into()),
                    [one] => self.target(*one),
                    [first, second, ..] => {
                        inner.push(Stmt::Assign {
                            target: self.target(*first),
                            value: Some(Expr::Unknown(vec![])),
                            ty: None,
                            op: None,
                            span: sp,
                        });
                        self.target(*second)
                    }
                };
                inner.extend(self.body(body));
                out.push(Stmt::ForEach {
                    target,
                    ty: None,
                    iter,
                    body: inner,
                    span: sp,
                });
            }
            Some(h) if h.kind() == "for_clause" => {
                let mut block = Vec::new();
                if let Some(i) = field(h, "initializer") {
                    self.stmt(i, &mut block);
                }
                let cond = field(h, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Unknown(vec![]));
                let mut b = self.body(body);
                if let Some(u) = field(h, "update") {
                    self.stmt(u, &mut b);
                }
                block.push(Stmt::While { cond, body: b });
                out.push(Stmt::Block(block));
            }
            Some(cond) => {
                let cond = self.expr(cond);
                let body = self.body(body);
                out.push(Stmt::While { cond, body });
            }
            None => {
                let body = self.body(body);
                out.push(Stmt::While {
                    cond: Expr::Unknown(vec![]),
                    body,
                });
            }
        }
    }

    fn switch(&mut self, node: Node, out: &mut Vec<Stmt>) {
        let mut inner = Vec::new();
        if let Some(init) = field(node, "initializer") {
            self.stmt(init, &mut inner);
        }
        let is_type_switch = node.kind() == "type_switch_statement";
        let subject = field(node, "value")
            .map(|v| self.expr(v))
            .unwrap_or(if is_type_switch {
                Expr::Unknown(vec![])
            } else {
                Expr::Lit(Lit::Bool(true))
            });
        // `switch v := x.(type)`: every case binds `v` to the value.
        let alias = field(node, "alias")
            .and_then(|a| named_children(a).into_iter().next())
            .map(|a| self.t(a).to_string());
        let mut cases = Vec::new();
        for c in named_children(node) {
            let (labels, is_case) = match c.kind() {
                "expression_case" => (
                    field(c, "value")
                        .map(named_children)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|v| self.expr(v))
                        .collect(),
                    true,
                ),
                "type_case" => (vec![Expr::Unknown(vec![])], true),
                "default_case" => (Vec::new(), true),
                _ => (Vec::new(), false),
            };
            if !is_case {
                continue;
            }
            let mut body = Vec::new();
            if let Some(a) = &alias {
                body.push(Stmt::Assign {
                    target: Target::Var(a.clone()),
                    value: Some(subject.clone()),
                    ty: None,
                    op: None,
                    span: span(c),
                });
            }
            for part in named_children(c) {
                if part.kind() == "statement_list" {
                    for s in named_children(part) {
                        self.stmt(s, &mut body);
                    }
                }
            }
            cases.push(SwitchCase { labels, body });
        }
        let subject = if is_type_switch {
            Expr::Unknown(vec![])
        } else {
            subject
        };
        inner.push(Stmt::Switch {
            subject,
            cases,
            fallthrough: false,
        });
        out.push(Stmt::Block(inner));
    }

    fn target(&mut self, node: Node) -> Target {
        // `((((x)))) = v` recurses here, outside `stmt`/`expr`: guard it too.
        if self.depth > MAX_DEPTH {
            return Target::Other(Expr::Unknown(vec![]));
        }
        self.depth += 1;
        let t = self.target_inner(node);
        self.depth -= 1;
        t
    }

    fn target_inner(&mut self, node: Node) -> Target {
        match node.kind() {
            "identifier" => Target::Var(self.name(node)),
            "selector_expression" => {
                let obj = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let name = field(node, "field")
                    .map(|f| self.t(f).to_string())
                    .unwrap_or_default();
                Target::Field(obj, name)
            }
            "index_expression" => {
                let obj = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let idx = field(node, "index")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Target::Index(obj, idx)
            }
            "parenthesized_expression" => match named_children(node).into_iter().next() {
                Some(inner) => self.target(inner),
                None => Target::Other(Expr::Unknown(vec![])),
            },
            // `*p = v` writes through the pointer: the variable itself, for the analysis.
            "unary_expression" => match field(node, "operand") {
                Some(inner) => self.target(inner),
                None => Target::Other(Expr::Unknown(vec![])),
            },
            _ => Target::Other(self.expr(node)),
        }
    }

    fn name(&self, node: Node) -> String {
        let n = self.t(node);
        if self.receiver.as_deref() == Some(n) {
            "this".to_string()
        } else {
            n.to_string()
        }
    }

    fn exprs(&mut self, node: Option<Node>) -> Vec<Expr> {
        let Some(n) = node else { return Vec::new() };
        named_children(n)
            .into_iter()
            .filter(|c| c.kind() != "comment")
            .map(|c| self.expr(c))
            .collect()
    }

    fn expr(&mut self, node: Node) -> Expr {
        if self.depth > MAX_DEPTH {
            return Expr::Unknown(vec![]);
        }
        self.depth += 1;
        let e = self.expr_inner(node);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, node: Node) -> Expr {
        let sp = span(node);
        match node.kind() {
            "identifier" | "type_identifier" | "package_identifier" | "field_identifier" => {
                Expr::Name(self.name(node))
            }
            "nil" => Expr::Lit(Lit::Null),
            "true" => Expr::Lit(Lit::Bool(true)),
            "false" => Expr::Lit(Lit::Bool(false)),
            "interpreted_string_literal" => {
                let mut s = String::new();
                for c in named_children(node) {
                    match c.kind() {
                        "interpreted_string_literal_content" => s.push_str(self.t(c)),
                        "escape_sequence" => s.push_str(&unescape(self.t(c))),
                        _ => {}
                    }
                }
                Expr::Lit(Lit::Str(s))
            }
            "raw_string_literal" => {
                let raw = self.t(node);
                let inner = raw.strip_prefix('`').unwrap_or(raw);
                let inner = inner.strip_suffix('`').unwrap_or(inner);
                Expr::Lit(Lit::Str(inner.to_string()))
            }
            "rune_literal" => {
                let raw = self.t(node);
                let inner = raw.strip_prefix('\'').unwrap_or(raw);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                Expr::Lit(Lit::Str(unescape(inner)))
            }
            "int_literal" => {
                let raw = self.t(node).replace('_', "");
                let v = if let Some(h) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok()
                } else if let Some(b) = raw.strip_prefix("0b").or_else(|| raw.strip_prefix("0B")) {
                    i64::from_str_radix(b, 2).ok()
                } else if let Some(o) = raw.strip_prefix("0o").or_else(|| raw.strip_prefix("0O")) {
                    i64::from_str_radix(o, 8).ok()
                } else if raw.len() > 1 && raw.starts_with('0') {
                    i64::from_str_radix(&raw[1..], 8).ok()
                } else {
                    raw.parse::<i64>().ok()
                };
                v.map(|v| Expr::Lit(Lit::Int(v)))
                    .unwrap_or(Expr::Unknown(vec![]))
            }
            "float_literal" => self
                .t(node)
                .replace('_', "")
                .parse::<f64>()
                .map(|v| Expr::Lit(Lit::Float(v)))
                .unwrap_or(Expr::Unknown(vec![])),
            "parenthesized_expression" => match named_children(node).into_iter().next() {
                Some(inner) => self.expr(inner),
                None => Expr::Unknown(vec![]),
            },
            "selector_expression" => {
                let obj = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let name = field(node, "field")
                    .map(|f| self.t(f).to_string())
                    .unwrap_or_default();
                Expr::Field {
                    obj: Box::new(obj),
                    name,
                }
            }
            "call_expression" => self.call(node, sp),
            // `T(x)` and `x.(T)`: the value, seen as a `T`.
            "type_conversion_expression" | "type_assertion_expression" => {
                let ty = field(node, "type")
                    .map(|t| self.t(t).to_string())
                    .unwrap_or_default();
                let e = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Cast {
                    ty: base_type(&ty),
                    expr: Box::new(e),
                }
            }
            "composite_literal" => self.composite(node),
            "literal_value" => self.literal_value(node, false),
            "func_literal" => match self.function(node) {
                Some(f) => Expr::Lambda(Box::new(Function { span: sp, ..f })),
                None => Expr::Unknown(vec![]),
            },
            "index_expression" => {
                let obj = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let index = field(node, "index")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Index {
                    obj: Box::new(obj),
                    index: Box::new(index),
                }
            }
            // `s[a:b]` is part of `s`; the bounds are numbers.
            "slice_expression" => {
                let obj = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Unknown(vec![obj])
            }
            "binary_expression" => {
                let op = c_like_binop(field(node, "operator").map(|o| self.t(o)).unwrap_or(""));
                let left = field(node, "left")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let right = field(node, "right")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                }
            }
            "unary_expression" => {
                let operand = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    // Pointers are the value they point to, for the analysis.
                    "&" | "*" | "+" => operand,
                    "!" => Expr::Unary {
                        op: UnOp::Not,
                        expr: Box::new(operand),
                    },
                    "-" => Expr::Unary {
                        op: UnOp::Neg,
                        expr: Box::new(operand),
                    },
                    // `<-ch` receives what was sent.
                    "<-" => Expr::Unknown(vec![operand]),
                    _ => Expr::Unary {
                        op: UnOp::Other,
                        expr: Box::new(operand),
                    },
                }
            }
            "variadic_argument" => match named_children(node).into_iter().next() {
                Some(inner) => self.expr(inner),
                None => Expr::Unknown(vec![]),
            },
            // Types, `iota` and the like carry no data.
            "iota" | "imaginary_literal" | "func_type" | "qualified_type" | "pointer_type"
            | "slice_type" | "array_type" | "map_type" | "channel_type" | "struct_type"
            | "interface_type" | "function_type" | "generic_type" => Expr::Unknown(vec![]),
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

    fn call(&mut self, node: Node, sp: Span) -> Expr {
        let args = self.exprs(field(node, "arguments"));
        let Some(func) = field(node, "function") else {
            return Expr::Unknown(args);
        };
        match func.kind() {
            "identifier" => Expr::Call(Box::new(Call {
                receiver: None,
                name: self.name(func),
                args,
                kwargs: Vec::new(),
                span: sp,
            })),
            "selector_expression" => {
                let receiver = field(func, "operand").map(|o| self.expr(o));
                let name = field(func, "field")
                    .map(|f| self.t(f).to_string())
                    .unwrap_or_default();
                Expr::Call(Box::new(Call {
                    receiver,
                    name,
                    args,
                    kwargs: Vec::new(),
                    span: sp,
                }))
            }
            // `[]byte(s)`, `(*T)(p)`: a conversion.
            "slice_type" | "array_type" | "map_type" | "pointer_type" | "parenthesized_type"
            | "qualified_type" | "channel_type" | "function_type" | "interface_type" => {
                let ty = self.t(func).to_string();
                let mut args = args.into_iter();
                Expr::Cast {
                    ty: base_type(&ty),
                    expr: Box::new(args.next().unwrap_or(Expr::Unknown(vec![]))),
                }
            }
            // `f[T](x)`: the generic function `f`.
            "index_expression" | "generic_type" | "type_instantiation_expression" => {
                let inner = field(func, "operand").or_else(|| field(func, "type"));
                match inner.filter(|i| i.kind() == "identifier") {
                    Some(i) => Expr::Call(Box::new(Call {
                        receiver: None,
                        name: self.name(i),
                        args,
                        kwargs: Vec::new(),
                        span: sp,
                    })),
                    None => {
                        let mut kids = vec![self.expr(func)];
                        kids.extend(args);
                        Expr::Unknown(kids)
                    }
                }
            }
            // `func() {..}()` and calls of computed functions: the callee is analysed where
            // it is written; the result carries what went in.
            _ => {
                let mut kids = vec![self.expr(func)];
                kids.extend(args);
                Expr::Unknown(kids)
            }
        }
    }

    fn composite(&mut self, node: Node) -> Expr {
        let ty = field(node, "type");
        let Some(body) = field(node, "body") else {
            return Expr::Unknown(vec![]);
        };
        match ty.map(|t| t.kind()) {
            Some("slice_type" | "array_type" | "implicit_length_array_type") => {
                self.literal_value(body, false)
            }
            Some("map_type") => self.literal_value(body, false),
            Some(_) => {
                let name = ty.map(|t| base_type(self.t(t))).unwrap_or_default();
                Expr::Cast {
                    ty: name,
                    expr: Box::new(self.literal_value(body, true)),
                }
            }
            None => self.literal_value(body, false),
        }
    }

    /// `{a, b}` is a list; `{k: v}` a dict. In a struct literal (`is_struct`) bare keys are
    /// field names.
    fn literal_value(&mut self, node: Node, is_struct: bool) -> Expr {
        let elems = named_children(node);
        let keyed = elems.iter().any(|e| e.kind() == "keyed_element");
        if !keyed {
            let items = elems
                .into_iter()
                .filter(|e| e.kind() == "literal_element")
                .map(|e| self.element(e))
                .collect();
            return Expr::List(items);
        }
        let mut pairs = Vec::new();
        for e in elems {
            if e.kind() != "keyed_element" {
                continue;
            }
            let (Some(k), Some(v)) = (field(e, "key"), field(e, "value")) else {
                continue;
            };
            let key_node = named_children(k).into_iter().next();
            let key = match key_node {
                Some(kn) if is_struct && kn.kind() == "identifier" => {
                    Expr::Lit(Lit::Str(self.t(kn).to_string()))
                }
                Some(kn) => self.expr(kn),
                None => Expr::Unknown(vec![]),
            };
            pairs.push((key, self.element(v)));
        }
        Expr::Dict(pairs)
    }

    fn element(&mut self, node: Node) -> Expr {
        match named_children(node).into_iter().next() {
            Some(inner) => self.expr(inner),
            None => Expr::Unknown(vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_import_alias;

    #[test]
    fn import_aliases_are_the_package_names_go_uses() {
        assert_eq!(default_import_alias("os/exec"), "exec");
        assert_eq!(default_import_alias("github.com/labstack/echo/v4"), "echo");
        assert_eq!(default_import_alias("gopkg.in/yaml.v3"), "yaml");
        assert_eq!(
            default_import_alias("github.com/mattn/go-sqlite3"),
            "sqlite3"
        );
        assert_eq!(default_import_alias("github.com/go-chi/chi/v5"), "chi");
        assert_eq!(default_import_alias("v2"), "v2");
    }
}
