//! Python: modules hold names, `self` is declared, integer division floors.

use super::{LanguageSemantics, StaticNames};
use crate::engine::constfold::StrMethod;
use std::path::Path;
use vigil_code::{Lit, Param};

pub struct Python;

impl LanguageSemantics for Python {
    fn const_text(&self, l: &Lit) -> String {
        // Element keys are spelled the Python way already.
        crate::engine::collections::key_text(l)
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

    // `list.__iadd__` extends the list.
    fn augmented_add_extends_lists(&self) -> bool {
        true
    }

    /// `a/b/helpers/utils.py` → `utils`, `helpers.utils`, `b.helpers.utils`, `a.b.helpers.utils`.
    fn module_names(&self, path: &Path) -> Vec<String> {
        let mut parts: Vec<String> = path
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        if let Some(last) = parts.last_mut() {
            if let Some(stem) = last.strip_suffix(".py") {
                *last = stem.to_string();
            }
            if last == "__init__" {
                parts.pop();
            }
        }
        let mut out = Vec::new();
        for start in (0..parts.len()).rev() {
            out.push(parts[start..].join("."));
        }
        out
    }

    fn imports_are_objects(&self) -> bool {
        false
    }
}
