//! What differs between languages, behind one trait: the engine core asks these questions
//! and never which language it analyses. Adding a language means one implementation here,
//! one lowering in `vigil-code`, and a rules folder.

mod go;
mod java;
mod javascript;
mod python;

use super::constfold::StrMethod;
use std::path::Path;
use vigil_code::{Lang, Lit, Param};

/// Where a dotted name that is not a value (`Helper.DIR`, `ET.parse`) lives, and where an
/// unqualified call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticNames {
    /// Members of classes, named by the class's simple name; unqualified calls are methods of
    /// the enclosing (or outer) class; a class's static field can be a call's receiver.
    ClassMembers,
    /// Members of modules reached through the file's imports; modules and their constants
    /// are values, and unqualified calls are module functions.
    ModuleMembers,
}

/// The language-specific answers the taint engine needs.
pub trait LanguageSemantics: Sync {
    // ------------------------------------------------------------ constants

    /// The text a constant converts to in string concatenation or formatting
    /// (`true` or `True`, `null` or `None`).
    fn const_text(&self, l: &Lit) -> String;

    /// Integer division of two constants; `None` where it fails (division by zero, overflow).
    fn int_div(&self, x: i64, y: i64) -> Option<i64>;

    /// Integer remainder of two constants; `None` where it fails.
    fn int_rem(&self, x: i64, y: i64) -> Option<i64>;

    /// `1 + "a"` is the text `"1a"`: a string on the right converts the left operand.
    fn adding_text_converts_left_operand(&self) -> bool;

    /// `"ab" * 3` repeats the string.
    fn multiplying_text_repeats(&self) -> bool;

    /// The built-in string method `name` of the language, for folding calls on constants.
    fn string_method(&self, name: &str) -> Option<StrMethod>;

    // ------------------------------------------------------------ names

    /// How names that are not local variables resolve.
    fn static_names(&self) -> StaticNames;

    /// A bare name that is not a local may be a field of the enclosing class: the receiver
    /// is implicit.
    fn bare_names_reach_fields(&self) -> bool;

    /// Calling a class by name constructs an instance (no `new`).
    fn classes_are_called_like_functions(&self) -> bool;

    /// `name` read from any value is an integer attribute (an array's `length`).
    fn is_length_attribute(&self, name: &str) -> bool;

    // ------------------------------------------------------------ receivers and methods

    /// The variable a method's receiver is bound to.
    fn receiver_name(&self) -> &'static str;

    /// Names that always denote the current object, never a class or module.
    fn refers_to_receiver(&self, name: &str) -> bool;

    /// Methods declare their receiver as an explicit first parameter, which counts in their
    /// arity but takes no argument at a call.
    fn methods_declare_receiver(&self) -> bool;

    /// `p` is such a declared receiver (or class) parameter.
    fn is_receiver_param(&self, p: &Param) -> bool;

    /// The name of a class's constructor method.
    fn constructor_name(&self) -> &'static str;

    /// The index `pop()` or `remove()` without an argument takes from a list of `len` items.
    fn pop_index(&self, len: usize) -> Option<usize>;

    /// `xs += ys` on a list extends that list in place (every name of it sees the new
    /// elements) rather than binding a new one.
    fn augmented_add_extends_lists(&self) -> bool;

    // ------------------------------------------------------------ modules and results

    /// The names other files import the file at `path` by (its module or package), most
    /// specific last; empty where files are found through their classes.
    fn module_names(&self, _path: &Path) -> Vec<String> {
        Vec::new()
    }

    /// Unpacking one value that is not a known sequence into several names
    /// (`v, err := f()`) gives the value to the first name only; otherwise every name may
    /// hold part of it (`a, b = s.split()`).
    fn unpacking_one_value_fills_the_first_only(&self) -> bool {
        false
    }

    /// Only imported names denote modules: any other name is a value, a package-level
    /// variable of another file or function included (Go's `db.Query(..)` with a package
    /// `var db *sql.DB`).
    fn only_imports_name_modules(&self) -> bool {
        false
    }
    // ------------------------------------------------------------ modules

    /// Imported modules and the names they export are objects whose methods the rules
    /// name (`const db = require('./db'); db.query(..)`), not only namespaces.
    fn imports_are_objects(&self) -> bool;
}

/// The semantics of `lang`.
pub fn of(lang: Lang) -> &'static dyn LanguageSemantics {
    match lang {
        Lang::Java => &java::Java,
        Lang::Python => &python::Python,
        Lang::Go => &go::Go,
        Lang::JavaScript => &javascript::JavaScript,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> [&'static dyn LanguageSemantics; 2] {
        [of(Lang::Java), of(Lang::Python)]
    }

    fn param(name: &str, annotations: &[&str], default: bool) -> Param {
        Param {
            name: name.into(),
            ty: None,
            default: default.then_some(vigil_code::Expr::Lit(Lit::Null)),
            annotations: annotations.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn constants_convert_to_text_as_each_language_prints_them() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.const_text(&Lit::Bool(true)), "true");
        assert_eq!(python.const_text(&Lit::Bool(true)), "True");
        assert_eq!(java.const_text(&Lit::Null), "null");
        assert_eq!(python.const_text(&Lit::Null), "None");
        for sem in all() {
            assert_eq!(sem.const_text(&Lit::Int(-3)), "-3");
            assert_eq!(sem.const_text(&Lit::Str("x".into())), "x");
        }
    }

    #[test]
    fn integer_division_truncates_in_java_and_floors_in_python() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.int_div(-7, 2), Some(-3));
        assert_eq!(python.int_div(-7, 2), Some(-4));
        assert_eq!(java.int_rem(-7, 2), Some(-1));
        assert_eq!(python.int_rem(-7, 2), Some(1));
        assert_eq!(python.int_rem(7, -2), Some(-1));
        for sem in all() {
            assert_eq!(sem.int_div(1, 0), None);
            assert_eq!(sem.int_rem(1, 0), None);
            assert_eq!(sem.int_div(i64::MIN, -1), None);
            assert_eq!(sem.int_div(6, 3), Some(2));
        }
    }

    #[test]
    fn string_methods_are_the_languages_own() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.string_method("toUpperCase"), Some(StrMethod::Upper));
        assert_eq!(python.string_method("upper"), Some(StrMethod::Upper));
        assert_eq!(java.string_method("upper"), None);
        assert_eq!(python.string_method("equals"), None);
        assert_eq!(python.string_method("find"), Some(StrMethod::IndexOf));
        assert_eq!(java.string_method("indexOf"), Some(StrMethod::IndexOf));
    }

    #[test]
    fn names_resolve_through_classes_or_modules() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.static_names(), StaticNames::ClassMembers);
        assert_eq!(python.static_names(), StaticNames::ModuleMembers);
        assert!(java.bare_names_reach_fields() && !python.bare_names_reach_fields());
        assert!(python.classes_are_called_like_functions());
        assert!(!java.classes_are_called_like_functions());
        assert!(java.is_length_attribute("length") && !python.is_length_attribute("length"));
    }

    #[test]
    fn receivers_are_implicit_in_java_and_declared_in_python() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.receiver_name(), "this");
        assert_eq!(python.receiver_name(), "self");
        assert!(java.refers_to_receiver("super") && !python.refers_to_receiver("this"));
        assert!(python.methods_declare_receiver() && !java.methods_declare_receiver());
        assert!(python.is_receiver_param(&param("cls", &[], false)));
        assert!(!java.is_receiver_param(&param("self", &[], false)));
        assert_eq!(java.constructor_name(), "<init>");
        assert_eq!(python.constructor_name(), "__init__");
    }

    #[test]
    fn go_packages_are_folders_and_python_modules_are_files() {
        let go = of(Lang::Go);
        assert_eq!(
            go.module_names(Path::new("shop/store/db.go")),
            ["store", "shop/store"]
        );
        assert_eq!(
            of(Lang::Python).module_names(Path::new("a/helpers/utils.py")),
            ["utils", "helpers.utils", "a.helpers.utils"]
        );
        assert!(
            of(Lang::Java)
                .module_names(Path::new("a/B.java"))
                .is_empty()
        );
        assert!(go.unpacking_one_value_fills_the_first_only());
        assert!(!of(Lang::Python).unpacking_one_value_fills_the_first_only());
    }

    #[test]
    fn pop_takes_the_head_of_a_java_queue_and_the_end_of_a_python_list() {
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert_eq!(java.pop_index(3), Some(0));
        assert_eq!(python.pop_index(3), Some(2));
        assert!(python.augmented_add_extends_lists() && !java.augmented_add_extends_lists());
        for sem in all() {
            assert_eq!(sem.pop_index(0), None);
        }
    }

    #[test]
    fn javascript_prints_like_java_and_names_like_python() {
        let js = of(Lang::JavaScript);
        assert_eq!(js.const_text(&Lit::Bool(true)), "true");
        assert_eq!(js.const_text(&Lit::Null), "null");
        assert!(js.adding_text_converts_left_operand() && !js.multiplying_text_repeats());
        assert_eq!(js.static_names(), StaticNames::ModuleMembers);
        assert!(js.imports_are_objects());
        // Files are modules named by their path; `index` stands for its folder.
        let names = |p: &str| js.module_names(std::path::Path::new(p));
        assert_eq!(names("src/lib/db.js"), ["db", "lib.db", "src.lib.db"]);
        assert_eq!(names("lib/db/index.ts"), ["db", "lib.db"]);
        assert_eq!(js.receiver_name(), "this");
        assert!(!js.methods_declare_receiver());
        assert_eq!(js.constructor_name(), "constructor");
        assert_eq!(js.string_method("replace"), None);
        assert_eq!(js.string_method("replaceAll"), Some(StrMethod::Replace));
        assert!(js.is_length_attribute("length"));
        let (java, python) = (of(Lang::Java), of(Lang::Python));
        assert!(
            java.module_names(std::path::Path::new("a/B.java"))
                .is_empty()
        );
        assert_eq!(
            python.module_names(std::path::Path::new("pkg/__init__.py")),
            ["pkg"]
        );
        assert!(!java.imports_are_objects() && !python.imports_are_objects());
    }
}
