//! Java adapter: tree-sitter-java syntax tree → [`crate::ir`].

use crate::MAX_DEPTH;
use crate::ir::*;
use crate::lower::{
    c_like_binop, field, fields, named_children, simple_type, span, text, unescape,
};
use tree_sitter::Node;

pub fn lower(root: Node, src: &[u8]) -> Module {
    let mut l = Lower {
        src,
        depth: 0,
        dups: 0,
    };
    let mut module = Module {
        lang: Lang::Java,
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
            "package_declaration" => {
                if let Some(n) = named_children(child)
                    .into_iter()
                    .find(|n| matches!(n.kind(), "scoped_identifier" | "identifier"))
                {
                    module.package = Some(text(n, src).to_string());
                }
            }
            "import_declaration" => {
                let path: String = text(child, src)
                    .trim_start_matches("import")
                    .trim()
                    .trim_start_matches("static")
                    .trim()
                    .trim_end_matches(';')
                    .trim()
                    .to_string();
                let alias = path.rsplit('.').next().unwrap_or(&path).to_string();
                module.imports.push(Import { alias, path });
            }
            "class_declaration"
            | "interface_declaration"
            | "enum_declaration"
            | "record_declaration" => {
                if let Some(c) = l.class(child) {
                    module.classes.push(c);
                }
            }
            _ => {}
        }
    }
    module
}

struct Lower<'s> {
    src: &'s [u8],
    depth: usize,
    /// Enclosing constructs whose body is lowered twice (`do … while`); past [`MAX_DUPS`]
    /// the copy is left out, so nesting them cannot grow the output exponentially.
    dups: usize,
}

/// See [`Lower::dups`]: at most 2^MAX_DUPS copies of any statement.
const MAX_DUPS: usize = 4;

fn has_modifier(node: Node, src: &[u8], word: &str) -> bool {
    named_children(node)
        .into_iter()
        .filter(|c| c.kind() == "modifiers")
        .any(|m| text(m, src).split_whitespace().any(|w| w == word))
}

impl<'s> Lower<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn class(&mut self, node: Node) -> Option<Class> {
        // Classes nest through class bodies, outside `stmt`/`expr`: guard them too.
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let c = self.class_inner(node);
        self.depth -= 1;
        c
    }

    fn class_inner(&mut self, node: Node) -> Option<Class> {
        let name = self.t(field(node, "name")?).to_string();
        let mut supers = Vec::new();
        if let Some(sc) = field(node, "superclass") {
            for t in named_children(sc) {
                supers.push(simple_type(self.t(t)));
            }
        }
        for key in ["interfaces", "extends"] {
            if let Some(list) = field(node, key) {
                collect_types(list, self.src, &mut supers);
            }
        }
        // interface_declaration keeps `extends_interfaces` as an unnamed child.
        for c in named_children(node) {
            if c.kind() == "extends_interfaces" {
                collect_types(c, self.src, &mut supers);
            }
        }
        let mut class = Class {
            name,
            supers,
            fields: Vec::new(),
            methods: Vec::new(),
            classes: Vec::new(),
            is_interface: node.kind() == "interface_declaration",
            annotations: annotations_of(node, self.src),
            is_public: has_modifier(node, self.src, "public"),
            span: span(node),
        };
        if let Some(body) = field(node, "body") {
            self.class_body(body, &mut class);
        }
        // Members of an interface are public without saying so.
        if class.is_interface {
            for m in &mut class.methods {
                m.is_public = true;
            }
        }
        Some(class)
    }

    fn class_body(&mut self, body: Node, class: &mut Class) {
        for member in named_children(body) {
            match member.kind() {
                "field_declaration" | "constant_declaration" => {
                    let ty = field(member, "type").map(|t| self.t(t).to_string());
                    let is_static = has_modifier(member, self.src, "static")
                        || member.kind() == "constant_declaration";
                    for d in fields(member, "declarator") {
                        let Some(n) = field(d, "name") else { continue };
                        let init = field(d, "value").map(|v| self.expr(v));
                        class.fields.push(Field {
                            name: self.t(n).to_string(),
                            ty: ty.clone(),
                            is_static,
                            init,
                            span: span(d),
                        });
                    }
                }
                "method_declaration"
                | "constructor_declaration"
                | "compact_constructor_declaration" => {
                    if let Some(f) = self.method(member) {
                        class.methods.push(f);
                    }
                }
                "class_declaration"
                | "interface_declaration"
                | "enum_declaration"
                | "record_declaration" => {
                    if let Some(c) = self.class(member) {
                        class.classes.push(c);
                    }
                }
                "static_initializer" | "block" => {
                    let body = named_children(member)
                        .into_iter()
                        .find(|c| c.kind() == "block")
                        .map(|b| self.block(b))
                        .unwrap_or_else(|| self.block(member));
                    class.methods.push(Function {
                        name: "<clinit>".into(),
                        params: Vec::new(),
                        body,
                        ret_ty: None,
                        decorators: Vec::new(),
                        is_static: true,
                        is_public: false,
                        span: span(member),
                    });
                }
                "enum_body_declarations" => self.class_body(member, class),
                _ => {}
            }
        }
    }

    fn method(&mut self, node: Node) -> Option<Function> {
        let name = if node.kind() == "method_declaration" {
            self.t(field(node, "name")?).to_string()
        } else {
            "<init>".to_string()
        };
        let mut params = Vec::new();
        if let Some(ps) = field(node, "parameters") {
            for p in named_children(ps) {
                if !matches!(p.kind(), "formal_parameter" | "spread_parameter") {
                    continue;
                }
                let ty = named_children(p)
                    .into_iter()
                    .find(|c| c.kind().ends_with("type") || c.kind() == "type_identifier")
                    .map(|t| self.t(t).to_string());
                let pname = field(p, "name")
                    .or_else(|| {
                        named_children(p)
                            .into_iter()
                            .find(|c| c.kind() == "variable_declarator")
                            .and_then(|d| field(d, "name"))
                    })
                    .map(|n| self.t(n).to_string())
                    .unwrap_or_default();
                let annotations = annotations_of(p, self.src);
                params.push(Param {
                    name: pname,
                    ty,
                    default: None,
                    annotations,
                });
            }
        }
        let decorators = annotations_of(node, self.src)
            .into_iter()
            .map(Expr::Name)
            .collect();
        let body = field(node, "body")
            .map(|b| self.block(b))
            .unwrap_or_default();
        Some(Function {
            name,
            params,
            body,
            ret_ty: field(node, "type").map(|t| self.t(t).to_string()),
            decorators,
            is_static: has_modifier(node, self.src, "static"),
            is_public: has_modifier(node, self.src, "public"),
            span: span(node),
        })
    }

    fn block(&mut self, node: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        for c in named_children(node) {
            self.stmt(c, &mut out);
        }
        out
    }

    /// A statement or a block, flattened into a list.
    fn body(&mut self, node: Option<Node>) -> Vec<Stmt> {
        let mut out = Vec::new();
        if let Some(n) = node {
            self.stmt(n, &mut out);
        }
        out
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
            "block" | "constructor_body" => out.push(Stmt::Block(self.block(node))),
            "local_variable_declaration" => {
                let ty = field(node, "type").map(|t| self.t(t).to_string());
                for d in fields(node, "declarator") {
                    let Some(n) = field(d, "name") else { continue };
                    let value = field(d, "value").map(|v| self.expr(v));
                    out.push(Stmt::Assign {
                        target: Target::Var(self.t(n).to_string()),
                        value,
                        ty: ty.clone(),
                        op: None,
                        span: span(d),
                    });
                }
            }
            "expression_statement" => {
                if let Some(e) = named_children(node).into_iter().next() {
                    self.expr_stmt(e, out);
                }
            }
            "if_statement" => {
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Unknown(vec![]));
                let then = self.body(field(node, "consequence"));
                let other = self.body(field(node, "alternative"));
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
                    .unwrap_or(Expr::Unknown(vec![]));
                let is_do = node.kind() == "do_statement";
                self.dups += usize::from(is_do);
                let body = self.body(field(node, "body"));
                self.dups -= usize::from(is_do);
                // `do` runs its body once before the loop; nested deeper than MAX_DUPS the
                // copy is left out (the loop alone still covers the body).
                if is_do && self.dups < MAX_DUPS {
                    out.push(Stmt::Block(body.clone()));
                }
                out.push(Stmt::While { cond, body });
            }
            "for_statement" => {
                let mut inner = Vec::new();
                for i in fields(node, "init") {
                    if i.kind() == "local_variable_declaration" {
                        self.stmt(i, &mut inner);
                    } else {
                        self.expr_stmt(i, &mut inner);
                    }
                }
                let cond = field(node, "condition")
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Unknown(vec![]));
                let mut body = self.body(field(node, "body"));
                for u in fields(node, "update") {
                    self.expr_stmt(u, &mut body);
                }
                inner.push(Stmt::While { cond, body });
                out.push(Stmt::Block(inner));
            }
            "enhanced_for_statement" => {
                let ty = field(node, "type").map(|t| self.t(t).to_string());
                let name = field(node, "name")
                    .map(|n| self.t(n).to_string())
                    .unwrap_or_default();
                let iter = field(node, "value")
                    .map(|v| self.expr(v))
                    .unwrap_or(Expr::Unknown(vec![]));
                let body = self.body(field(node, "body"));
                out.push(Stmt::ForEach {
                    target: Target::Var(name),
                    ty,
                    iter,
                    body,
                    span: sp,
                });
            }
            "switch_expression" | "switch_statement" => {
                if let Some(s) = self.switch(node) {
                    out.push(s);
                }
            }
            "return_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .next()
                    .map(|e| self.expr(e));
                out.push(Stmt::Return(e, sp));
            }
            "yield_statement" => {
                // Inside switch expressions; modelled as the value of the arm.
                if let Some(e) = named_children(node).into_iter().next() {
                    out.push(Stmt::Expr(self.expr(e), sp));
                }
            }
            "throw_statement" => {
                let e = named_children(node)
                    .into_iter()
                    .next()
                    .map(|e| self.expr(e))
                    .unwrap_or(Expr::Unknown(vec![]));
                out.push(Stmt::Throw(e));
            }
            "break_statement" => out.push(Stmt::Break),
            "continue_statement" => out.push(Stmt::Continue),
            "try_statement" | "try_with_resources_statement" => {
                let mut body = Vec::new();
                if let Some(res) = field(node, "resources") {
                    for r in named_children(res) {
                        let ty = field(r, "type").map(|t| self.t(t).to_string());
                        match (field(r, "name"), field(r, "value")) {
                            (Some(n), Some(v)) => body.push(Stmt::Assign {
                                target: Target::Var(self.t(n).to_string()),
                                value: Some(self.expr(v)),
                                ty,
                                op: None,
                                span: span(r),
                            }),
                            _ => body.push(Stmt::Expr(self.expr(r), span(r))),
                        }
                    }
                }
                body.extend(self.body(field(node, "body")));
                let mut handlers = Vec::new();
                let mut finally = Vec::new();
                for c in named_children(node) {
                    match c.kind() {
                        "catch_clause" => {
                            let var = named_children(c)
                                .into_iter()
                                .find(|p| p.kind() == "catch_formal_parameter")
                                .and_then(|p| field(p, "name"))
                                .map(|n| self.t(n).to_string());
                            let body = self.body(field(c, "body"));
                            handlers.push(Handler { var, body });
                        }
                        "finally_clause" => {
                            if let Some(b) = named_children(c).into_iter().next() {
                                finally = self.body(Some(b));
                            }
                        }
                        _ => {}
                    }
                }
                out.push(Stmt::Try {
                    body,
                    handlers,
                    finally,
                });
            }
            "labeled_statement" | "synchronized_statement" => {
                for c in named_children(node) {
                    if c.kind() != "identifier" && c.kind() != "parenthesized_expression" {
                        self.stmt(c, out);
                    }
                }
            }
            "class_declaration"
            | "local_class_declaration"
            | "interface_declaration"
            | "enum_declaration"
            | "record_declaration" => {
                if let Some(c) = self.class(node) {
                    out.push(Stmt::ClassDef(Box::new(c)));
                }
            }
            "line_comment" | "block_comment" | "assert_statement" | ";" => {}
            _ => {
                // Anything else that holds expressions still matters for taint.
                let e = self.expr(node);
                out.push(Stmt::Expr(e, sp));
            }
        }
    }

    /// Assignments, increments and calls used as statements.
    fn expr_stmt(&mut self, e: Node, out: &mut Vec<Stmt>) {
        let sp = span(e);
        match e.kind() {
            "assignment_expression" => {
                let (Some(l), Some(r)) = (field(e, "left"), field(e, "right")) else {
                    out.push(Stmt::Expr(self.expr(e), sp));
                    return;
                };
                let op = field(e, "operator").map(|o| self.t(o)).unwrap_or("=");
                let op = match op {
                    "=" => None,
                    "+=" => Some(BinOp::Add),
                    "-=" => Some(BinOp::Sub),
                    "*=" => Some(BinOp::Mul),
                    _ => Some(BinOp::Other),
                };
                let target = self.target(l);
                let value = Some(self.expr(r));
                out.push(Stmt::Assign {
                    target,
                    value,
                    ty: None,
                    op,
                    span: sp,
                });
            }
            _ => out.push(Stmt::Expr(self.expr(e), sp)),
        }
    }

    fn target(&mut self, l: Node) -> Target {
        if self.depth > MAX_DEPTH {
            return Target::Other(Expr::Unknown(vec![]));
        }
        self.depth += 1;
        let t = self.target_inner(l);
        self.depth -= 1;
        t
    }

    fn target_inner(&mut self, l: Node) -> Target {
        match l.kind() {
            "identifier" => Target::Var(self.t(l).to_string()),
            "field_access" => {
                let obj = field(l, "object")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let name = field(l, "field")
                    .map(|f| self.t(f).to_string())
                    .unwrap_or_default();
                Target::Field(obj, name)
            }
            "array_access" => {
                let obj = field(l, "array")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                let idx = field(l, "index")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Target::Index(obj, idx)
            }
            "parenthesized_expression" => match named_children(l).into_iter().next() {
                Some(inner) => self.target(inner),
                None => Target::Other(Expr::Unknown(vec![])),
            },
            _ => Target::Other(self.expr(l)),
        }
    }

    fn switch(&mut self, node: Node) -> Option<Stmt> {
        let subject = self.expr(field(node, "condition")?);
        let body = field(node, "body")?;
        let mut cases = Vec::new();
        let mut fallthrough = true;
        for group in named_children(body) {
            let mut labels = Vec::new();
            let mut stmts = Vec::new();
            let mut is_default = false;
            for c in named_children(group) {
                match c.kind() {
                    "switch_label" => {
                        let vals = named_children(c);
                        if vals.is_empty() {
                            is_default = true;
                        }
                        for v in vals {
                            labels.push(self.expr(v));
                        }
                    }
                    _ => {
                        if group.kind() == "switch_rule" {
                            fallthrough = false;
                            if c.kind() == "expression_statement" || c.kind() == "block" {
                                self.stmt(c, &mut stmts);
                            } else {
                                // `case X -> expr;` used as a value.
                                let e = self.expr(c);
                                stmts.push(Stmt::Expr(e, span(c)));
                            }
                        } else {
                            self.stmt(c, &mut stmts);
                        }
                    }
                }
            }
            if is_default {
                labels.clear();
            }
            cases.push(SwitchCase {
                labels,
                body: stmts,
            });
        }
        Some(Stmt::Switch {
            subject,
            cases,
            fallthrough,
        })
    }

    fn exprs(&mut self, node: Option<Node>) -> Vec<Expr> {
        node.map(|n| {
            named_children(n)
                .into_iter()
                .filter(|c| !c.kind().ends_with("comment"))
                .map(|c| self.expr(c))
                .collect()
        })
        .unwrap_or_default()
    }

    /// `Type::method`, `obj::method`, `Type::new` as the lambda it stands for, taking one
    /// argument: `x -> Type.method(x)`, `x -> obj.method(x)`, `x -> new Type(x)`. An
    /// unbound instance method (`String::trim`) becomes a static-looking call that still
    /// carries its argument.
    fn method_reference(&mut self, node: Node) -> Expr {
        const ARG: &str = "$arg";
        let sp = span(node);
        let kids = named_children(node);
        let Some(&owner) = kids.first() else {
            return Expr::Unknown(vec![]);
        };
        let arg = Expr::Name(ARG.into());
        let body = match kids.get(1) {
            Some(&m) if m.kind() == "identifier" => Expr::Call(Box::new(Call {
                receiver: Some(self.expr(owner)),
                name: self.t(m).to_string(),
                args: vec![arg],
                kwargs: Vec::new(),
                span: sp,
            })),
            _ => Expr::New {
                class: self.t(owner).to_string(),
                args: vec![arg],
                body: None,
                span: sp,
            },
        };
        Expr::Lambda(Box::new(Function {
            name: "<lambda>".into(),
            params: vec![Param {
                name: ARG.into(),
                ty: None,
                default: None,
                annotations: Vec::new(),
            }],
            body: vec![Stmt::Return(Some(body), sp)],
            ret_ty: None,
            decorators: Vec::new(),
            is_static: false,
            is_public: false,
            span: sp,
        }))
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
            "identifier" | "type_identifier" => Expr::Name(self.t(node).to_string()),
            "this" => Expr::Name("this".into()),
            "super" => Expr::Name("super".into()),
            "string_literal" | "text_block" => {
                let mut s = String::new();
                for c in named_children(node) {
                    match c.kind() {
                        "string_fragment" | "multiline_string_fragment" => s.push_str(self.t(c)),
                        "escape_sequence" => s.push_str(&unescape(self.t(c))),
                        _ => {}
                    }
                }
                Expr::Lit(Lit::Str(s))
            }
            "character_literal" => {
                let raw = self.t(node);
                let inner = raw.strip_prefix('\'').unwrap_or(raw);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                Expr::Lit(Lit::Str(unescape(inner)))
            }
            "decimal_integer_literal"
            | "hex_integer_literal"
            | "octal_integer_literal"
            | "binary_integer_literal" => {
                let raw = self.t(node).replace('_', "");
                let raw = raw.trim_end_matches(['l', 'L']);
                let v = if let Some(h) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok()
                } else if let Some(b) = raw.strip_prefix("0b").or_else(|| raw.strip_prefix("0B")) {
                    i64::from_str_radix(b, 2).ok()
                } else if raw.len() > 1 && raw.starts_with('0') {
                    // `010` is octal in Java.
                    i64::from_str_radix(&raw[1..], 8).ok()
                } else {
                    raw.parse::<i64>().ok()
                };
                v.map(|v| Expr::Lit(Lit::Int(v)))
                    .unwrap_or(Expr::Unknown(vec![]))
            }
            "decimal_floating_point_literal" => self
                .t(node)
                .trim_end_matches(['f', 'F', 'd', 'D'])
                .parse::<f64>()
                .map(|v| Expr::Lit(Lit::Float(v)))
                .unwrap_or(Expr::Unknown(vec![])),
            "true" => Expr::Lit(Lit::Bool(true)),
            "false" => Expr::Lit(Lit::Bool(false)),
            "null_literal" => Expr::Lit(Lit::Null),
            "parenthesized_expression" => match named_children(node).into_iter().next() {
                Some(inner) => self.expr(inner),
                None => Expr::Unknown(vec![]),
            },
            "field_access" => {
                let obj = field(node, "object")
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
            "scoped_identifier" | "scoped_type_identifier" => {
                let full = self.t(node);
                let parts: Vec<&str> = full.split('.').map(|p| p.trim()).collect();
                // One `Field` level per dot: past MAX_DEPTH levels the rest stays one name,
                // so a hostile `a.b.c…` cannot nest the output without bound.
                let (head, tail) = parts.split_at(parts.len().min(MAX_DEPTH));
                let mut e = Expr::Name(head.first().copied().unwrap_or("").to_string());
                for p in head.iter().skip(1) {
                    e = Expr::Field {
                        obj: Box::new(e),
                        name: p.to_string(),
                    };
                }
                if !tail.is_empty() {
                    e = Expr::Field {
                        obj: Box::new(e),
                        name: tail.join("."),
                    };
                }
                e
            }
            "method_invocation" => {
                let receiver = field(node, "object").map(|o| self.expr(o));
                let name = field(node, "name")
                    .map(|n| self.t(n).to_string())
                    .unwrap_or_default();
                let args = self.exprs(field(node, "arguments"));
                Expr::Call(Box::new(Call {
                    receiver,
                    name,
                    args,
                    kwargs: Vec::new(),
                    span: sp,
                }))
            }
            "object_creation_expression" => {
                let class = field(node, "type")
                    .map(|t| self.t(t).to_string())
                    .unwrap_or_default();
                let args = self.exprs(field(node, "arguments"));
                let body = named_children(node)
                    .into_iter()
                    .find(|c| c.kind() == "class_body")
                    .map(|b| {
                        let mut c = Class {
                            name: format!("{}$anon", simple_type(&class)),
                            supers: vec![simple_type(&class)],
                            fields: Vec::new(),
                            methods: Vec::new(),
                            classes: Vec::new(),
                            is_interface: false,
                            annotations: Vec::new(),
                            is_public: false,
                            span: span(b),
                        };
                        self.class_body(b, &mut c);
                        Box::new(c)
                    });
                // `outer.new Inner()` keeps the outer object as a dependency.
                Expr::New {
                    class,
                    args,
                    body,
                    span: sp,
                }
            }
            "array_creation_expression" => {
                if let Some(init) = field(node, "value") {
                    self.expr(init)
                } else {
                    Expr::List(Vec::new())
                }
            }
            "array_initializer" => Expr::List(self.exprs(Some(node))),
            "array_access" => {
                let obj = field(node, "array")
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
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("") {
                    "!" => UnOp::Not,
                    "-" => UnOp::Neg,
                    _ => UnOp::Other,
                };
                let e = field(node, "operand")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Unary {
                    op,
                    expr: Box::new(e),
                }
            }
            "ternary_expression" => {
                let c = field(node, "condition").map(|o| self.expr(o));
                let t = field(node, "consequence").map(|o| self.expr(o));
                let o = field(node, "alternative").map(|o| self.expr(o));
                match (c, t, o) {
                    (Some(c), Some(t), Some(o)) => Expr::Cond {
                        cond: Box::new(c),
                        then: Box::new(t),
                        other: Box::new(o),
                    },
                    (c, t, o) => Expr::Unknown(c.into_iter().chain(t).chain(o).collect()),
                }
            }
            "cast_expression" => {
                let ty = field(node, "type")
                    .map(|t| self.t(t).to_string())
                    .unwrap_or_default();
                let e = field(node, "value")
                    .map(|o| self.expr(o))
                    .unwrap_or(Expr::Unknown(vec![]));
                Expr::Cast {
                    ty,
                    expr: Box::new(e),
                }
            }
            "lambda_expression" => {
                let mut params = Vec::new();
                if let Some(ps) = field(node, "parameters") {
                    if ps.kind() == "identifier" {
                        params.push(Param {
                            name: self.t(ps).to_string(),
                            ty: None,
                            default: None,
                            annotations: Vec::new(),
                        });
                    } else {
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
                }
                let body = match field(node, "body") {
                    Some(b) if b.kind() == "block" => self.block(b),
                    Some(b) => vec![Stmt::Return(Some(self.expr(b)), span(b))],
                    None => Vec::new(),
                };
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
            "switch_expression" => {
                // A switch used as a value: keep the arms' values as an unknown mix.
                let mut stmts = Vec::new();
                self.stmt(node, &mut stmts);
                let mut vals = Vec::new();
                collect_expr_stmts(&stmts, &mut vals);
                Expr::Unknown(vals)
            }
            "instanceof_expression" => {
                // A boolean: it carries no data of its operand.
                Expr::Unknown(vec![])
            }
            "class_literal" => Expr::Unknown(vec![]),
            "method_reference" => self.method_reference(node),
            "update_expression" => {
                // `i++` / `--i`: an assignment of `i ± 1`, so constants do not go stale.
                let text = self.t(node);
                let op = if text.contains("--") {
                    BinOp::Sub
                } else {
                    BinOp::Add
                };
                match named_children(node).into_iter().next() {
                    Some(inner) => Expr::Assign {
                        target: Box::new(self.target(inner)),
                        value: Box::new(Expr::Lit(Lit::Int(1))),
                        op: Some(op),
                    },
                    None => Expr::Unknown(vec![]),
                }
            }
            "assignment_expression" => {
                // Assignment used as a value: `(line = r.readLine()) != null`.
                let (Some(l), Some(r)) = (field(node, "left"), field(node, "right")) else {
                    return Expr::Unknown(vec![]);
                };
                let op = match field(node, "operator").map(|o| self.t(o)).unwrap_or("=") {
                    "=" => None,
                    "+=" => Some(BinOp::Add),
                    "-=" => Some(BinOp::Sub),
                    "*=" => Some(BinOp::Mul),
                    _ => Some(BinOp::Other),
                };
                Expr::Assign {
                    target: Box::new(self.target(l)),
                    value: Box::new(self.expr(r)),
                    op,
                }
            }
            _ => {
                let kids = named_children(node)
                    .into_iter()
                    .filter(|c| !c.kind().ends_with("comment"))
                    .map(|c| self.expr(c))
                    .collect();
                Expr::Unknown(kids)
            }
        }
    }
}

fn collect_expr_stmts(stmts: &[Stmt], out: &mut Vec<Expr>) {
    for s in stmts {
        match s {
            Stmt::Expr(e, _) => out.push(e.clone()),
            Stmt::Block(b) => collect_expr_stmts(b, out),
            Stmt::Switch { cases, .. } => {
                for c in cases {
                    collect_expr_stmts(&c.body, out);
                }
            }
            _ => {}
        }
    }
}

fn collect_types(node: Node, src: &[u8], out: &mut Vec<String>) {
    for c in named_children(node) {
        match c.kind() {
            "type_list" => collect_types(c, src, out),
            _ => out.push(simple_type(text(c, src))),
        }
    }
}

fn annotations_of(node: Node, src: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for m in named_children(node) {
        if m.kind() == "modifiers" {
            for a in named_children(m) {
                if matches!(a.kind(), "annotation" | "marker_annotation")
                    && let Some(n) = field(a, "name")
                {
                    out.push(simple_type(text(n, src)));
                }
            }
        }
        if matches!(m.kind(), "annotation" | "marker_annotation")
            && let Some(n) = field(m, "name")
        {
            out.push(simple_type(text(n, src)));
        }
    }
    out
}
