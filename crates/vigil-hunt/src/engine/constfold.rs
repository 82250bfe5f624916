//! Constant folding: operators and string methods on constants, so that branches that can
//! never run are skipped and constant strings reach sinks as the text they are.

use super::semantics::LanguageSemantics;
use super::value::{Val, truthy};
use vigil_code::{BinOp, Lit};

/// Constant strings longer than this are forgotten: `s = s + s` repeated must not exhaust memory.
pub(super) const MAX_CONST: usize = 4096;

pub(super) fn bounded(s: String) -> Option<Lit> {
    (s.len() <= MAX_CONST).then_some(Lit::Str(s))
}

/// `a op b` on constants; `None` where it does not fold (unknown operator, overflow, too long).
pub(super) fn fold(op: BinOp, a: &Lit, b: &Lit, sem: &dyn LanguageSemantics) -> Option<Lit> {
    use BinOp::*;
    use Lit::*;
    Some(match (op, a, b) {
        (Add, Int(x), Int(y)) => Int(x.checked_add(*y)?),
        (Sub, Int(x), Int(y)) => Int(x.checked_sub(*y)?),
        (Mul, Int(x), Int(y)) => Int(x.checked_mul(*y)?),
        (Div, Int(x), Int(y)) => Int(sem.int_div(*x, *y)?),
        (Mod, Int(x), Int(y)) => Int(sem.int_rem(*x, *y)?),
        (Add, Str(x), y) => bounded(format!("{x}{}", sem.const_text(y)))?,
        (Add, x, Str(y)) if sem.adding_text_converts_left_operand() => {
            bounded(format!("{}{y}", sem.const_text(x)))?
        }
        (Mul, Str(x), Int(n))
            if sem.multiplying_text_repeats()
                && (0..=64).contains(n)
                && x.len() * (*n as usize) <= MAX_CONST =>
        {
            Str(x.repeat(*n as usize))
        }
        (Eq, x, y) => Bool(x == y),
        (Ne, x, y) => Bool(x != y),
        (Lt, Int(x), Int(y)) => Bool(x < y),
        (Le, Int(x), Int(y)) => Bool(x <= y),
        (Gt, Int(x), Int(y)) => Bool(x > y),
        (Ge, Int(x), Int(y)) => Bool(x >= y),
        (And, x, y) => Bool(truthy(x) && truthy(y)),
        (Or, x, y) => Bool(truthy(x) || truthy(y)),
        (In, Str(x), Str(y)) => Bool(y.contains(x.as_str())),
        (NotIn, Str(x), Str(y)) => Bool(!y.contains(x.as_str())),
        _ => return None,
    })
}

/// The string operations folded on constants; each language names its own methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrMethod {
    CharAt,
    Length,
    Equals,
    EqualsIgnoreCase,
    Upper,
    Lower,
    Trim,
    /// The string itself (`toString`).
    Copy,
    Contains,
    StartsWith,
    EndsWith,
    IndexOf,
    IsEmpty,
    Substring,
    Concat,
    Replace,
}

/// A string method called on a constant: `"ABC".charAt(1)`, `"x".upper()`.
pub(super) fn fold_call(
    sem: &dyn LanguageSemantics,
    name: &str,
    recv: Option<&Val>,
    args: &[Val],
) -> Option<Lit> {
    let s = recv?.str_konst()?;
    fold_string_method(sem.string_method(name)?, s, args)
}

fn fold_string_method(method: StrMethod, s: &str, args: &[Val]) -> Option<Lit> {
    use StrMethod::*;
    let arg_str = |i: usize| args.get(i).and_then(|a| a.str_konst());
    let arg_int = |i: usize| match args.get(i).and_then(|a| a.konst.as_ref()) {
        Some(Lit::Int(n)) => Some(*n),
        _ => None,
    };
    let chars: Vec<char> = s.chars().collect();
    Some(match (method, args.len()) {
        (CharAt, 1) => Lit::Str(chars.get(usize::try_from(arg_int(0)?).ok()?)?.to_string()),
        (Length, 0) => Lit::Int(chars.len() as i64),
        (Equals, 1) => Lit::Bool(arg_str(0)? == s),
        (EqualsIgnoreCase, 1) => Lit::Bool(arg_str(0)?.eq_ignore_ascii_case(s)),
        (Upper, 0) => Lit::Str(s.to_uppercase()),
        (Lower, 0) => Lit::Str(s.to_lowercase()),
        (Trim, 0) => Lit::Str(s.trim().to_string()),
        (Copy, 0) => Lit::Str(s.to_string()),
        (Contains, 1) => Lit::Bool(s.contains(arg_str(0)?)),
        (StartsWith, 1) => Lit::Bool(s.starts_with(arg_str(0)?)),
        (EndsWith, 1) => Lit::Bool(s.ends_with(arg_str(0)?)),
        (IndexOf, 1) => Lit::Int(
            s.find(arg_str(0)?)
                .map(|i| s[..i].chars().count() as i64)
                .unwrap_or(-1),
        ),
        (IsEmpty, 0) => Lit::Bool(s.is_empty()),
        (Substring, 1) => Lit::Str(
            chars
                .get(usize::try_from(arg_int(0)?).ok()?..)?
                .iter()
                .collect(),
        ),
        (Substring, 2) => {
            let a = usize::try_from(arg_int(0)?).ok()?;
            let b = usize::try_from(arg_int(1)?).ok()?;
            Lit::Str(chars.get(a..b)?.iter().collect())
        }
        (Concat, 1) => bounded(format!("{s}{}", arg_str(0)?))?,
        (Replace, 2) if !arg_str(0)?.is_empty() => {
            let (from, to) = (arg_str(0)?, arg_str(1)?);
            // Size first: building a huge string only to drop it is the cost to avoid.
            if s.len() + s.matches(from).count() * to.len() > MAX_CONST {
                return None;
            }
            Lit::Str(s.replace(from, to))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::semantics;
    use vigil_code::Lang;

    fn s(x: &str) -> Lit {
        Lit::Str(x.into())
    }

    fn java() -> &'static dyn LanguageSemantics {
        semantics::of(Lang::Java)
    }

    fn python() -> &'static dyn LanguageSemantics {
        semantics::of(Lang::Python)
    }

    #[test]
    fn arithmetic_folds_and_refuses_overflow_and_division_by_zero() {
        let j = java();
        assert_eq!(
            fold(BinOp::Add, &Lit::Int(2), &Lit::Int(3), j),
            Some(Lit::Int(5))
        );
        assert_eq!(fold(BinOp::Add, &Lit::Int(i64::MAX), &Lit::Int(1), j), None);
        assert_eq!(fold(BinOp::Mul, &Lit::Int(i64::MAX), &Lit::Int(2), j), None);
        assert_eq!(fold(BinOp::Div, &Lit::Int(1), &Lit::Int(0), j), None);
        assert_eq!(fold(BinOp::Mod, &Lit::Int(1), &Lit::Int(0), python()), None);
        assert_eq!(
            fold(BinOp::Div, &Lit::Int(i64::MIN), &Lit::Int(-1), j),
            None
        );
    }

    #[test]
    fn division_follows_the_language() {
        let (a, b) = (Lit::Int(-7), Lit::Int(2));
        assert_eq!(fold(BinOp::Div, &a, &b, java()), Some(Lit::Int(-3)));
        assert_eq!(fold(BinOp::Div, &a, &b, python()), Some(Lit::Int(-4)));
        assert_eq!(fold(BinOp::Mod, &a, &b, java()), Some(Lit::Int(-1)));
        assert_eq!(fold(BinOp::Mod, &a, &b, python()), Some(Lit::Int(1)));
    }

    #[test]
    fn concatenation_converts_constants_as_the_language_prints_them() {
        let t = Lit::Bool(true);
        assert_eq!(fold(BinOp::Add, &s("a"), &t, java()), Some(s("atrue")));
        assert_eq!(fold(BinOp::Add, &s("a"), &t, python()), Some(s("aTrue")));
        // A number before a string converts in Java, and is an error in Python.
        assert_eq!(
            fold(BinOp::Add, &Lit::Int(1), &s("a"), java()),
            Some(s("1a"))
        );
        assert_eq!(fold(BinOp::Add, &Lit::Int(1), &s("a"), python()), None);
    }

    #[test]
    fn strings_repeat_in_python_only_and_within_bounds() {
        assert_eq!(
            fold(BinOp::Mul, &s("ab"), &Lit::Int(3), python()),
            Some(s("ababab"))
        );
        assert_eq!(fold(BinOp::Mul, &s("ab"), &Lit::Int(3), java()), None);
        assert_eq!(fold(BinOp::Mul, &s("ab"), &Lit::Int(65), python()), None);
        assert_eq!(fold(BinOp::Mul, &s("ab"), &Lit::Int(-1), python()), None);
        let long = "x".repeat(MAX_CONST / 2 + 1);
        assert_eq!(fold(BinOp::Mul, &s(&long), &Lit::Int(2), python()), None);
    }

    #[test]
    fn strings_longer_than_the_bound_are_not_kept() {
        let long = "x".repeat(MAX_CONST);
        assert_eq!(fold(BinOp::Add, &s(&long), &s(""), java()), Some(s(&long)));
        assert_eq!(fold(BinOp::Add, &s(&long), &s("y"), java()), None);
    }

    #[test]
    fn comparisons_and_membership_fold() {
        let j = java();
        assert_eq!(fold(BinOp::Eq, &s("a"), &s("a"), j), Some(Lit::Bool(true)));
        assert_eq!(
            fold(BinOp::Lt, &Lit::Int(1), &Lit::Int(2), j),
            Some(Lit::Bool(true))
        );
        assert_eq!(fold(BinOp::Lt, &s("a"), &s("b"), j), None);
        assert_eq!(
            fold(BinOp::In, &s("b"), &s("abc"), j),
            Some(Lit::Bool(true))
        );
        assert_eq!(
            fold(BinOp::And, &Lit::Int(1), &s(""), j),
            Some(Lit::Bool(false))
        );
    }

    #[test]
    fn string_methods_fold_on_constants_by_the_languages_names() {
        let abc = Val::konst(s("ABC"));
        let one = [Val::konst(Lit::Int(1))];
        assert_eq!(fold_call(java(), "charAt", Some(&abc), &one), Some(s("B")));
        assert_eq!(
            fold_call(java(), "toLowerCase", Some(&abc), &[]),
            Some(s("abc"))
        );
        assert_eq!(
            fold_call(python(), "lower", Some(&abc), &[]),
            Some(s("abc"))
        );
        assert_eq!(fold_call(python(), "toLowerCase", Some(&abc), &[]), None);
        let b = [Val::konst(s("C"))];
        assert_eq!(
            fold_call(python(), "find", Some(&abc), &b),
            Some(Lit::Int(2))
        );
        // Out of range, wrong arity, unknown receiver: no constant.
        let nine = [Val::konst(Lit::Int(9))];
        assert_eq!(fold_call(java(), "charAt", Some(&abc), &nine), None);
        assert_eq!(fold_call(java(), "charAt", Some(&abc), &[]), None);
        assert_eq!(fold_call(java(), "trim", Some(&Val::default()), &[]), None);
        assert_eq!(fold_call(java(), "trim", None, &[]), None);
    }

    #[test]
    fn replace_refuses_to_build_huge_strings() {
        let x = Val::konst(s(&"x".repeat(100)));
        let args = [Val::konst(s("x")), Val::konst(s(&"y".repeat(100)))];
        assert_eq!(fold_call(java(), "replace", Some(&x), &args), None);
        let empty_from = [Val::konst(s("")), Val::konst(s("y"))];
        assert_eq!(fold_call(java(), "replace", Some(&x), &empty_from), None);
    }
}
