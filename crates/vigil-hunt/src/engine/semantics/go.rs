//! Go: packages hold names (a package is a folder), the receiver is lowered as `this`,
//! results come in several values of which the first carries the data.

use super::{LanguageSemantics, StaticNames};
use crate::engine::constfold::StrMethod;
use std::path::Path;
use vigil_code::{Lit, Param};

pub struct Go;

impl LanguageSemantics for Go {
    fn const_text(&self, l: &Lit) -> String {
        match l {
            Lit::Str(s) => s.clone(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => f.to_string(),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "<nil>".into(),
        }
    }

    // Truncates like Java; checked for the overflow hostile code may write.
    fn int_div(&self, x: i64, y: i64) -> Option<i64> {
        x.checked_div(y)
    }

    fn int_rem(&self, x: i64, y: i64) -> Option<i64> {
        x.checked_rem(y)
    }

    // `1 + "a"` does not compile.
    fn adding_text_converts_left_operand(&self) -> bool {
        false
    }

    fn multiplying_text_repeats(&self) -> bool {
        false
    }

    // Go's string operations are functions of `strings`, not methods.
    fn string_method(&self, _name: &str) -> Option<StrMethod> {
        None
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

    fn is_length_attribute(&self, _name: &str) -> bool {
        false
    }

    // The adapter renames each method's receiver to this.
    fn receiver_name(&self) -> &'static str {
        "this"
    }

    fn refers_to_receiver(&self, name: &str) -> bool {
        name == "this"
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

    fn pop_index(&self, _len: usize) -> Option<usize> {
        None
    }

    // A package's exported names are reached through it, never through an object.
    fn imports_are_objects(&self) -> bool {
        false
    }

    // Slices grow with `append`; `+=` only adds numbers and strings.
    fn augmented_add_extends_lists(&self) -> bool {
        false
    }

    /// A package is its folder: `a/b/store/db.go` is `store`, `b/store` and `a/b/store`, so
    /// that an import path (`example.com/shop/store`) finds it by its tail.
    fn module_names(&self, path: &Path) -> Vec<String> {
        let parts: Vec<String> = path
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => s.to_str().map(str::to_string),
                _ => None,
            })
            .collect();
        (0..parts.len())
            .rev()
            .map(|start| parts[start..].join("/"))
            .collect()
    }

    fn only_imports_name_modules(&self) -> bool {
        true
    }

    // `v, err := f()`: the error (or `ok`) is not the data.
    fn unpacking_one_value_fills_the_first_only(&self) -> bool {
        true
    }
}
