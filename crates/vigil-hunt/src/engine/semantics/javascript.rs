//! JavaScript and TypeScript: modules hold names, `this` is implicit, `+` converts to text.

use super::{LanguageSemantics, StaticNames};
use crate::engine::constfold::StrMethod;
use std::path::Path;
use vigil_code::{Lit, Param};

pub struct JavaScript;

impl LanguageSemantics for JavaScript {
    fn const_text(&self, l: &Lit) -> String {
        match l {
            Lit::Str(s) => s.clone(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => f.to_string(),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "null".into(),
        }
    }

    // `/` yields a fraction; the adapter never asks for integer division, but answer as
    // `Math.trunc(x / y)` would.
    fn int_div(&self, x: i64, y: i64) -> Option<i64> {
        x.checked_div(y)
    }

    // `%` keeps the dividend's sign, as in Java.
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
            "toUpperCase" => Upper,
            "toLowerCase" => Lower,
            "trim" => Trim,
            "toString" | "valueOf" => Copy,
            "includes" => Contains,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            "indexOf" => IndexOf,
            "substring" => Substring,
            "concat" => Concat,
            // `replace` with a string pattern replaces the first match only.
            "replaceAll" => Replace,
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
        false
    }

    fn is_length_attribute(&self, name: &str) -> bool {
        name == "length"
    }

    fn receiver_name(&self) -> &'static str {
        "this"
    }

    fn refers_to_receiver(&self, name: &str) -> bool {
        name == "this" || name == "super"
    }

    fn methods_declare_receiver(&self) -> bool {
        false
    }

    fn is_receiver_param(&self, _p: &Param) -> bool {
        false
    }

    fn constructor_name(&self) -> &'static str {
        "constructor"
    }

    // `pop()` takes the last element (`shift()` the first).
    fn pop_index(&self, len: usize) -> Option<usize> {
        len.checked_sub(1)
    }

    fn imports_are_objects(&self) -> bool {
        true
    }

    // `+=` on an array converts it to a string: it never extends it in place.
    fn augmented_add_extends_lists(&self) -> bool {
        false
    }

    /// `src/lib/db.js` → `db`, `lib.db`, `src.lib.db`; `lib/db/index.ts` is `db`, `lib.db`.
    fn module_names(&self, path: &Path) -> Vec<String> {
        let mut parts: Vec<String> = path
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        if let Some(last) = parts.last_mut() {
            if let Some((stem, _ext)) = last.rsplit_once('.') {
                *last = stem.to_string();
            }
            if last == "index" && parts.len() > 1 {
                parts.pop();
            }
        }
        let mut out = Vec::new();
        for start in (0..parts.len()).rev() {
            out.push(parts[start..].join("."));
        }
        out
    }
}
