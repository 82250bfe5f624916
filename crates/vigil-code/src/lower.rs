//! Helpers shared by the language adapters.

use crate::ir::Span;
use tree_sitter::Node;

pub fn span(node: Node) -> Span {
    let s = node.start_position();
    let e = node.end_position();
    Span {
        start_line: s.row as u32 + 1,
        start_col: s.column as u32 + 1,
        end_line: e.row as u32 + 1,
        end_col: e.column as u32 + 1,
    }
}

pub fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

pub fn field<'t>(node: Node<'t>, name: &str) -> Option<Node<'t>> {
    node.child_by_field_name(name)
}

/// All children for a field that can repeat (e.g. several declarators).
pub fn fields<'t>(node: Node<'t>, name: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children_by_field_name(name, &mut cursor).collect()
}

/// Record ERROR and MISSING regions. Iterative so that deep trees cannot overflow the stack.
pub fn collect_errors(root: Node, out: &mut Vec<Span>) {
    if !root.has_error() {
        return;
    }
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            out.push(span(n));
            if out.len() >= 100 {
                return;
            }
            continue;
        }
        if n.has_error() {
            let mut cursor = n.walk();
            stack.extend(n.children(&mut cursor));
        }
    }
}

/// Simple name of a type: `java.util.List<String>` → `List`, `String[]` → `String[]`.
pub fn simple_type(ty: &str) -> String {
    let base = ty.split('<').next().unwrap_or(ty).trim();
    let array = ty.trim_end().ends_with("[]") && !base.ends_with("[]");
    let name = base.rsplit('.').next().unwrap_or(base).trim();
    if array {
        format!("{name}[]")
    } else {
        name.to_string()
    }
}

/// Decode the common escapes of a string literal body; unknown escapes are kept as written.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The operator of a binary expression in the C family's spelling (Java, Go); `Other` for
/// the rest (bit operations, shifts), which carry data but fold to nothing.
pub fn c_like_binop(op: &str) -> crate::BinOp {
    use crate::BinOp;
    match op {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Mod,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "&&" => BinOp::And,
        "||" => BinOp::Or,
        _ => BinOp::Other,
    }
}
