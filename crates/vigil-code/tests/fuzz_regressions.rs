//! Inputs that once crashed, hung or blew up `parse` (found by the `parse_lower` fuzz target
//! in `fuzz/`, or by reading the lowering for recursion the fuzzer is slow to build), kept so
//! they stay fixed. Each must return (`Ok` or `Err`) on the test harness's default 2 MiB
//! thread, in a debug build, with output whose nesting stays bounded, so that the analyses
//! recursing over it, and dropping it, cannot overflow either.
//!
//! Minimized fuzzer artifacts live in `tests/fuzz/` (`java-*` / `python-*` / `go-*`, the raw
//! source without the fuzz target's leading language byte); they are all replayed by `artifacts`.

use std::time::{Duration, Instant};
use vigil_code::{Lang, MAX_DEPTH, Module, parse};

/// Bracket nesting of the `Debug` form: a cheap stand-in for the depth of the IR.
fn nesting(m: &Module) -> usize {
    let text = format!("{m:?}");
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_str, mut escaped) = (false, false);
    for c in text.chars() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A few `Debug` brackets per IR level, and at most MAX_DEPTH lowered levels.
const NESTING_BOUND: usize = 8 * MAX_DEPTH;

fn check(name: &str, lang: Lang, src: &str) {
    let start = Instant::now();
    let result = parse(lang, src);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "{name}: parse took {took:?} for {} bytes",
        src.len()
    );
    if let Ok(m) = &result {
        let n = nesting(m);
        assert!(n <= NESTING_BOUND, "{name}: output nests {n} deep");
        // A clone and two drops: no recursion over the output may overflow either.
        drop(m.clone());
    }
    drop(result);
}

fn java_method(body: &str) -> String {
    format!("class A {{ void f() {{ {body} }} }}")
}

/// `prefix` nested lines, each indented one more space, then `leaf`.
fn py_nested(prefix: &str, n: usize, leaf: &str) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&" ".repeat(i));
        s.push_str(prefix);
        s.push('\n');
    }
    s.push_str(&" ".repeat(n));
    s.push_str(leaf);
    s.push('\n');
    s
}

// --- stack depth of the lowering -------------------------------------------------------------
// The lowering recursed through paths the MAX_DEPTH guard did not count (nested classes, `elif`
// chains, `a = b = c`, nested targets), and even within the guard, 120 levels of a debug
// build's frames need more than a 2 MiB thread: `parse` now lowers on its own large stack.

#[test]
fn java_nested_classes() {
    // Overflowed: class → class body → class was not depth-guarded.
    let n = 2500;
    check(
        "java_nested_classes",
        Lang::Java,
        &format!("{}{}", "class A{".repeat(n), "}".repeat(n)),
    );
}

#[test]
fn java_nested_anonymous_classes() {
    let n = 600;
    check(
        "java_nested_anonymous_classes",
        Lang::Java,
        &java_method(&"new B(){void g(){".repeat(n)),
    );
}

#[test]
fn java_nested_ifs() {
    let n = 400;
    check(
        "java_nested_ifs",
        Lang::Java,
        &java_method(&format!("{}x();{}", "if(a){".repeat(n), "}".repeat(n))),
    );
}

#[test]
fn java_nested_blocks_unclosed() {
    check(
        "java_nested_blocks_unclosed",
        Lang::Java,
        &java_method(&"{".repeat(5000)),
    );
    check("java_garbage_nesting", Lang::Java, &"{(".repeat(5000));
}

#[test]
fn java_nested_parentheses() {
    let n = 5000;
    let (open, close) = ("(".repeat(n), ")".repeat(n));
    check(
        "java_paren_value",
        Lang::Java,
        &java_method(&format!("x = {open}1{close};")),
    );
    // Assignment targets recurse through parentheses: now depth-guarded too.
    check(
        "java_paren_target",
        Lang::Java,
        &java_method(&format!("{open}x{close} = 1;")),
    );
}

#[test]
fn java_long_scoped_identifier() {
    // `a.b.c…` became one `Field` level per dot, unguarded: 3000 levels of output.
    // Now the dots past MAX_DEPTH stay in one name.
    let chain = ".b".repeat(3000);
    check(
        "java_scoped_import_in_method",
        Lang::Java,
        &java_method(&format!("import a{chain};")),
    );
    check(
        "java_scoped_case_label",
        Lang::Java,
        &java_method(&format!("switch(o){{ case a{chain} c -> 1; }}")),
    );
    check(
        "java_scoped_package",
        Lang::Java,
        &format!("package a{chain};"),
    );
}

#[test]
fn python_nested_blocks() {
    // Each overflowed a 2 MiB debug thread, though within MAX_DEPTH (~17 KiB per level).
    check(
        "python_nested_ifs",
        Lang::Python,
        &py_nested("if a:", 400, "b"),
    );
    check(
        "python_nested_defs",
        Lang::Python,
        &py_nested("def f():", 300, "b"),
    );
    check(
        "python_nested_classes",
        Lang::Python,
        &py_nested("class C:", 300, "b"),
    );
}

#[test]
fn python_long_elif_chain() {
    // Overflowed: each `elif` recursed (and nested the output) outside the depth guard.
    let src = format!("if a:\n  b\n{}", "elif a:\n  b\n".repeat(3000));
    check("python_long_elif_chain", Lang::Python, &src);
}

#[test]
fn python_chained_assignment() {
    // Overflowed: `a = a = … = 1` recursed once per `=` outside the depth guard.
    check(
        "python_chained_assignment",
        Lang::Python,
        &format!("{}1\n", "a = ".repeat(5000)),
    );
}

#[test]
fn python_nested_target() {
    // Overflowed: nested list/tuple targets recursed outside the depth guard.
    let n = 3000;
    check(
        "python_nested_list_target",
        Lang::Python,
        &format!("{}a{} = 1\n", "[".repeat(n), "]".repeat(n)),
    );
    check(
        "python_nested_tuple_target",
        Lang::Python,
        &format!("{}a,{} = 1\n", "(".repeat(n), ")".repeat(n)),
    );
}

#[test]
fn python_nested_expressions() {
    let n = 5000;
    for (name, open, close) in [
        ("python_parens", "(", ")"),
        ("python_lists", "[", "]"),
        ("python_calls", "f(", ")"),
        ("python_dicts", "{1:", "}"),
    ] {
        check(
            name,
            Lang::Python,
            &format!("x = {}1{}\n", open.repeat(n), close.repeat(n)),
        );
    }
    check("python_unclosed", Lang::Python, &"[(".repeat(5000));
    check(
        "python_nested_fstrings",
        Lang::Python,
        &format!("x = {}1{}\n", "f'{".repeat(200), "}'".repeat(200)),
    );
    check(
        "python_nested_lambdas",
        Lang::Python,
        &format!("x = {}1\n", "lambda: ".repeat(3000)),
    );
}

#[test]
fn python_long_comparison_chain() {
    // `a < a < … < a` became one `and` level per operator, unguarded: 5000 levels of output
    // (formatting it overflowed).
    check(
        "python_long_comparison_chain",
        Lang::Python,
        &format!("x = {}a\n", "a < ".repeat(5000)),
    );
}

// --- size of the output ----------------------------------------------------------------------
// Constructs lowered by copying part of themselves doubled the output per nesting level.

#[test]
fn java_nested_do_while() {
    // Ran out of memory: `do B while (c)` became `B; while (c) B`, so 40 nested loops made
    // 2^40 copies of the innermost statement.
    let n = 40;
    let src = java_method(&format!("{}x();{}", "do ".repeat(n), "while(a);".repeat(n)));
    check("java_nested_do_while", Lang::Java, &src);
    let m = parse(Lang::Java, &src).unwrap();
    assert!(format!("{m:?}").len() < 1_000_000);
}

#[test]
fn python_nested_comparison_chains() {
    // Ran out of memory: `a < b < c` copies `b` into `a < b and b < c`, so chains nested in
    // the middle operand doubled per level.
    let n = 40;
    let src = format!("x = {}a{}\n", "a < (".repeat(n), ") < a".repeat(n));
    check("python_nested_comparison_chains", Lang::Python, &src);
    let m = parse(Lang::Python, &src).unwrap();
    assert!(format!("{m:?}").len() < 1_000_000);
}

// --- Go: nesting the lowering recurses over -------------------------------------------------

fn go_func(body: &str) -> String {
    format!("package p\nfunc f() {{\n{body}\n}}\n")
}

#[test]
fn go_nested_blocks_and_ifs() {
    let n = 3000;
    check(
        "go_nested_blocks",
        Lang::Go,
        &go_func(&format!("{}x := 1{}", "{".repeat(n), "}".repeat(n))),
    );
    let ifs = format!("{}y(){}", "if a { ".repeat(n), " }".repeat(n));
    check("go_nested_ifs", Lang::Go, &go_func(&ifs));
    check(
        "go_nested_ifs_unclosed",
        Lang::Go,
        &go_func(&"if a { for { switch { case true: ".repeat(n)),
    );
}

#[test]
fn go_nested_expressions() {
    let n = 5000;
    check(
        "go_nested_parens",
        Lang::Go,
        &go_func(&format!("x := {}1{}", "(".repeat(n), ")".repeat(n))),
    );
    check(
        "go_nested_calls",
        Lang::Go,
        &go_func(&format!("x := {}1{}", "f(".repeat(n), ")".repeat(n))),
    );
    check(
        "go_long_selector",
        Lang::Go,
        &go_func(&format!("x := a{}", ".b".repeat(n))),
    );
    check(
        "go_long_sum",
        Lang::Go,
        &go_func(&format!("x := a{}", " + a".repeat(n))),
    );
    let lits = format!("x := {}{}", "[]T{{".repeat(n), "}}".repeat(n));
    check("go_nested_composite_literals", Lang::Go, &go_func(&lits));
    let target = format!("{}x{} = 1", "(*".repeat(n), ")".repeat(n));
    check("go_nested_assignment_target", Lang::Go, &go_func(&target));
    let funcs = format!(
        "x := {}1{}",
        "func() int { return ".repeat(n),
        " }()".repeat(n)
    );
    check("go_nested_func_literals", Lang::Go, &go_func(&funcs));
}

#[test]
fn go_broken_sources_lower_what_they_can() {
    for (name, src) in [
        ("go_empty", ""),
        ("go_only_package", "package"),
        (
            "go_bad_receiver",
            "package p\nfunc (*) f() {}\nfunc (a, b T) g() {}\n",
        ),
        (
            "go_mismatched_assign",
            "package p\nfunc f() { a, b, c := 1, 2; _ = a }\n",
        ),
        ("go_unterminated_raw", "package p\nvar s = `abc"),
        (
            "go_bad_import",
            "package p\nimport ( \"\" . _ x \"a/b\" )\n",
        ),
    ] {
        check(name, Lang::Go, src);
    }
    let m = parse(
        Lang::Go,
        "package p\nfunc (s *S) H(w W, r *R) { x, err := f(r) }\n",
    )
    .unwrap();
    assert_eq!(m.classes.len(), 1);
    assert_eq!(m.classes[0].methods[0].params.len(), 2);
}

// --- minimized fuzzer artifacts --------------------------------------------------------------

#[test]
fn artifacts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let lang = if name.starts_with("java-") {
            Lang::Java
        } else if name.starts_with("python-") {
            Lang::Python
        } else if name.starts_with("go-") {
            Lang::Go
        } else {
            continue;
        };
        let bytes = std::fs::read(&path).unwrap();
        check(&name, lang, &String::from_utf8_lossy(&bytes));
        n += 1;
    }
    eprintln!("replayed {n} fuzz artifacts from {}", dir.display());
}

/// [`check`] for a file kind whose grammar the extension picks (`.ts`, `.tsx`, `.jsx`).
fn check_as(name: &str, file: &str, src: &str) {
    let start = Instant::now();
    let result = vigil_code::parse_path(std::path::Path::new(file), src);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "{name}: parse took {took:?} for {} bytes",
        src.len()
    );
    if let Ok(m) = &result {
        let n = nesting(m);
        assert!(n <= NESTING_BOUND, "{name}: output nests {n} deep");
        drop(m.clone());
    }
    drop(result);
}

#[test]
fn javascript_deep_nesting_stays_bounded() {
    // The shapes of the lowering's recursion: blocks, callbacks, else-if chains, chained
    // assignment, member chains, templates, destructuring, JSX.
    let n = 3000;
    let cases = [
        (
            "js_nested_blocks",
            "x.js",
            format!("{}a{}", "{".repeat(n), "}".repeat(n)),
        ),
        (
            "js_nested_arrows",
            "x.js",
            format!("{}1{}", "f(() => ".repeat(n), ")".repeat(n)),
        ),
        (
            "js_else_if_chain",
            "x.js",
            format!("if (a) b()\n{}", "else if (a) b()\n".repeat(n)),
        ),
        (
            "js_chained_assignment",
            "x.js",
            format!("{}1", "a = ".repeat(n)),
        ),
        (
            "js_member_chain",
            "x.js",
            format!("const v = require('m'){}", ".a".repeat(n)),
        ),
        (
            "js_nested_templates",
            "x.js",
            format!("{}x{}", "`${".repeat(n), "}`".repeat(n)),
        ),
        (
            "js_nested_updates",
            "x.js",
            format!("{}i{}", "x[".repeat(40), "++]++".repeat(40)),
        ),
        (
            "js_nested_destructuring",
            "x.js",
            format!("const {}a{} = v", "{ a: ".repeat(n), " }".repeat(n)),
        ),
        (
            "js_nested_params",
            "x.js",
            format!("function f({}a{}) {{}}", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "jsx_nested_elements",
            "x.jsx",
            format!("const e = {}x{}", "<div>".repeat(n), "</div>".repeat(n)),
        ),
        (
            "ts_nested_casts",
            "x.ts",
            format!("const v = {}x{}", "(".repeat(n), " as any)".repeat(n)),
        ),
        (
            "tsx_nested_classes",
            "x.tsx",
            format!(
                "{}{}",
                "class A { m() { return class { ".repeat(300),
                "} } }".repeat(300)
            ),
        ),
        ("js_garbage", "x.js", "({[`${".repeat(2000)),
        ("ts_garbage", "x.ts", "<(a: {".repeat(2000)),
    ];
    for (name, file, src) in cases {
        check_as(name, file, &src);
    }
}
