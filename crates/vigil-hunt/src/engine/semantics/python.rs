//! Python: modules hold names, `self` is declared, integer division floors.

use super::{LanguageSemantics, StaticNames};
use crate::engine::constfold::StrMethod;
use vigil_code::{Lit, Param};

pub struct Python;

/// Decorators (by last name) that make a function a web route: Flask, FastAPI.
const ROUTE_DECORATORS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "api_route",
];

impl LanguageSemantics for Python {
    fn const_text(&self, l: &Lit) -> String {
        match l {
            Lit::Str(s) => s.clone(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => f.to_string(),
            Lit::Bool(true) => "True".into(),
            Lit::Bool(false) => "False".into(),
            Lit::Null => "None".into(),
        }
    }

    // `//` rounds toward negative infinity.
    fn int_div(&self, x: i64, y: i64) -> Option<i64> {
        let q = x.checked_div(y)?;
        Some(if x % y != 0 && ((x < 0) != (y < 0)) {
            q - 1
        } else {
            q
        })
    }

    // `%` takes the divisor's sign.
    fn int_rem(&self, x: i64, y: i64) -> Option<i64> {
        let r = x.checked_rem(y)?;
        Some(if r != 0 && ((r < 0) != (y < 0)) {
            r + y
        } else {
            r
        })
    }

    // `1 + "a"` raises.
    fn adding_text_converts_left_operand(&self) -> bool {
        false
    }

    fn multiplying_text_repeats(&self) -> bool {
        true
    }

    fn string_method(&self, name: &str) -> Option<StrMethod> {
        use StrMethod::*;
        Some(match name {
            "__len__" => Length,
            "upper" => Upper,
            "lower" => Lower,
            "strip" => Trim,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "find" => IndexOf,
            "replace" => Replace,
            _ => return None,
        })
    }

    fn static_names(&self) -> StaticNames {
        StaticNames::ModuleMembers
    }

    fn bare_names_reach_fields(&self) -> bool {
        false
    }

    fn classes_are_called_like_functions(&self) -> bool {
        true
    }

    fn is_length_attribute(&self, _name: &str) -> bool {
        false
    }

    fn receiver_name(&self) -> &'static str {
        "self"
    }

    fn refers_to_receiver(&self, name: &str) -> bool {
        name == "self"
    }

    fn methods_declare_receiver(&self) -> bool {
        true
    }

    fn is_receiver_param(&self, p: &Param) -> bool {
        p.name == "self" || p.name == "cls"
    }

    fn constructor_name(&self) -> &'static str {
        "__init__"
    }

    fn pop_index(&self, len: usize) -> Option<usize> {
        len.checked_sub(1)
    }

    fn request_param_label(&self, p: &Param, decorators: &[String]) -> Option<&'static str> {
        let is_route = decorators
            .iter()
            .any(|d| ROUTE_DECORATORS.contains(&d.as_str()));
        (is_route && p.name != "self" && p.default.is_none()).then_some("route parameter")
    }
}
