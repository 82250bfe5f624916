//! Java: classes hold everything, the receiver is implicit, `+` converts to text.

use super::{LanguageSemantics, StaticNames};
use crate::engine::constfold::StrMethod;
use vigil_code::{Lit, Param};

pub struct Java;

impl LanguageSemantics for Java {
    fn const_text(&self, l: &Lit) -> String {
        match l {
            Lit::Str(s) => s.clone(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => f.to_string(),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "null".into(),
        }
    }

    // Checked: `Long.MIN_VALUE / -1` overflows, and hostile code may write it.
    fn int_div(&self, x: i64, y: i64) -> Option<i64> {
        x.checked_div(y)
    }

    fn int_rem(&self, x: i64, y: i64) -> Option<i64> {
        x.checked_rem(y)
    }

    fn adding_text_converts_left_operand(&self) -> bool {
        true
    }

    fn multiplying_text_repeats(&self) -> bool {
        false
    }

    fn string_method(&self, name: &str) -> Option<StrMethod> {
        use StrMethod::*;
        Some(match name {
            "charAt" => CharAt,
            "length" => Length,
            "equals" => Equals,
            "equalsIgnoreCase" => EqualsIgnoreCase,
            "toUpperCase" => Upper,
            "toLowerCase" => Lower,
            "trim" => Trim,
            "toString" | "intern" => Copy,
            "contains" => Contains,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            "indexOf" => IndexOf,
            "isEmpty" => IsEmpty,
            "substring" => Substring,
            "concat" => Concat,
            "replace" => Replace,
            _ => return None,
        })
    }

    fn static_names(&self) -> StaticNames {
        StaticNames::ClassMembers
    }

    fn bare_names_reach_fields(&self) -> bool {
        true
    }

    fn classes_are_called_like_functions(&self) -> bool {
        false
    }

    fn is_length_attribute(&self, name: &str) -> bool {
        name == "length"
    }

    fn receiver_name(&self) -> &'static str {
        "this"
    }

    fn refers_to_receiver(&self, name: &str) -> bool {
        matches!(name, "this" | "super")
    }

    fn methods_declare_receiver(&self) -> bool {
        false
    }

    fn is_receiver_param(&self, _p: &Param) -> bool {
        false
    }

    fn constructor_name(&self) -> &'static str {
        "<init>"
    }

    // `Queue.remove()` and `Deque.pop()` take the head.
    fn pop_index(&self, len: usize) -> Option<usize> {
        (len > 0).then_some(0)
    }

    // `+=` works on numbers and text only.
    fn augmented_add_extends_lists(&self) -> bool {
        false
    }

    fn imports_are_objects(&self) -> bool {
        false
    }
}
