use std::time::Instant;
use vigil_code::{Lang, parse};

fn run(name: &str, lang: Lang, src: String) {
    let t = Instant::now();
    let r = parse(lang, &src);
    let ok = r.is_ok();
    drop(r);
    eprintln!("{name}: len {} ok {ok} in {:?}", src.len(), t.elapsed());
}

#[test]
fn java_nested_classes() {
    let n = 2500;
    run(
        "jclass",
        Lang::Java,
        format!("{}{}", "class A{".repeat(n), "}".repeat(n)),
    );
}
#[test]
fn java_nested_if() {
    let n = 400;
    run(
        "jif",
        Lang::Java,
        format!(
            "class A{{void f(){{{}{}}}}}",
            "if(a){".repeat(n),
            "}".repeat(n)
        ),
    );
}
#[test]
fn java_nested_paren_expr() {
    let n = 5000;
    run(
        "jparen",
        Lang::Java,
        format!(
            "class A{{void f(){{x={}1{};}}}}",
            "(".repeat(n),
            ")".repeat(n)
        ),
    );
}
#[test]
fn java_paren_target() {
    let n = 5000;
    run(
        "jtarget",
        Lang::Java,
        format!(
            "class A{{void f(){{{}x{}=1;}}}}",
            "(".repeat(n),
            ")".repeat(n)
        ),
    );
}
#[test]
fn java_do_nested() {
    let n = 40;
    run(
        "jdo",
        Lang::Java,
        format!(
            "class A{{void f(){{{}x();{}}}}}",
            "do ".repeat(n),
            "while(a);".repeat(n)
        ),
    );
}
#[test]
fn java_scoped() {
    let n = 5000;
    run(
        "jscoped",
        Lang::Java,
        format!("@a{} class A{{}}", ".b".repeat(n)),
    );
}
#[test]
fn java_scoped2() {
    let n = 5000;
    run(
        "jscoped2",
        Lang::Java,
        format!("class A{{ @a{}(x=1) void f(){{}} }}", ".b".repeat(n)),
    );
}
#[test]
fn java_unclosed() {
    let n = 5000;
    run("junclosed", Lang::Java, "{(".repeat(n));
}
#[test]
fn java_braces() {
    let n = 5000;
    run(
        "jbraces",
        Lang::Java,
        format!("class A{{void f(){{{}}}}}", "{".repeat(n)),
    );
}
#[test]
fn java_anon() {
    let n = 300;
    run(
        "janon",
        Lang::Java,
        format!("class A{{void f(){{{}}}}}", "new B(){void g(){".repeat(n)),
    );
}
#[test]
fn py_cmp_chain() {
    let n = 5000;
    run(
        "pycmp",
        Lang::Python,
        format!("x = {}a\n", "a < ".repeat(n)),
    );
}
#[test]
fn py_cmp_nested() {
    let n = 40;
    run(
        "pycmpn",
        Lang::Python,
        format!("x = {}a{}\n", "a < (".repeat(n), ") < a".repeat(n)),
    );
}
#[test]
fn py_assign_chain() {
    let n = 5000;
    run("pyassign", Lang::Python, format!("{}1\n", "a = ".repeat(n)));
}
#[test]
fn py_target_nested() {
    let n = 3000;
    run(
        "pytarget",
        Lang::Python,
        format!("{}a{} = 1\n", "[".repeat(n), "]".repeat(n)),
    );
}
#[test]
fn py_elif() {
    let n = 3000;
    run(
        "pyelif",
        Lang::Python,
        format!("if a:\n  b\n{}", "elif a:\n  b\n".repeat(n)),
    );
}
#[test]
fn py_nested_if() {
    let n = 400;
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&" ".repeat(i));
        s.push_str("if a:\n");
    }
    s.push_str(&" ".repeat(n));
    s.push_str("b\n");
    run("pyif", Lang::Python, s);
}
#[test]
fn py_parens() {
    let n = 5000;
    run(
        "pyparen",
        Lang::Python,
        format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)),
    );
}
#[test]
fn py_lists() {
    let n = 5000;
    run(
        "pylist",
        Lang::Python,
        format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
    );
}
#[test]
fn py_unclosed() {
    let n = 5000;
    run("pyunclosed", Lang::Python, "[(".repeat(n));
}
#[test]
fn py_fstring() {
    let n = 200;
    run(
        "pyf",
        Lang::Python,
        format!("x = {}1{}\n", "f'{".repeat(n), "}'".repeat(n)),
    );
}
#[test]
fn py_nested_def() {
    let n = 300;
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&" ".repeat(i));
        s.push_str("def f():\n");
    }
    s.push_str(&" ".repeat(n));
    s.push_str("b\n");
    run("pydef", Lang::Python, s);
}
#[test]
fn py_nested_class() {
    let n = 300;
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&" ".repeat(i));
        s.push_str("class C:\n");
    }
    s.push_str(&" ".repeat(n));
    s.push_str("b\n");
    run("pyclass", Lang::Python, s);
}
fn pyif(n: usize) -> String { let mut s=String::new(); for i in 0..n { s.push_str(&" ".repeat(i)); s.push_str("if a:\n"); } s.push_str(&" ".repeat(n)); s.push_str("b\n"); s }
fn with_stack(kb: usize, f: impl FnOnce() + Send + 'static) -> bool { std::thread::Builder::new().stack_size(kb*1024).spawn(f).unwrap().join().is_ok() }
#[test] fn measure_pyif() {
    for n in [20usize, 40, 60, 80, 100, 119, 130] {
        for kb in [256usize, 512, 1024, 2048, 4096, 8192] {
            let s = pyif(n);
            let out = std::process::Command::new(std::env::current_exe().unwrap()).args(["--exact", "probe_child", "--nocapture"]).env("PROBE_N", n.to_string()).env("PROBE_KB", kb.to_string()).output().unwrap();
            let _ = s;
            if out.status.success() { eprintln!("n={n}: ok with {kb} KB"); break; }
        }
    }
}
#[test] fn probe_child() {
    let Ok(n) = std::env::var("PROBE_N") else { return };
    let kb: usize = std::env::var("PROBE_KB").unwrap().parse().unwrap();
    let n: usize = n.parse().unwrap();
    let kind = std::env::var("PROBE_KIND").unwrap_or_default();
    let src = if kind == "jif" { format!("class A{{void f(){{{}{}}}}}", "if(a){".repeat(n), "}".repeat(n)) } else { pyif(n) };
    let lang = if kind == "jif" { Lang::Java } else { Lang::Python };
    assert!(with_stack(kb, move || { let _ = parse(lang, &src); }));
}
