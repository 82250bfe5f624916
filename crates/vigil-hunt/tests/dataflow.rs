//! Behaviour of the taint engine itself: each test is a small program where precision or
//! recall depends on one feature (constant branches, element-sensitive collections,
//! interprocedural flow, validation guards). Each asserts both the vulnerable and the safe
//! variant, so a regression in either direction fails.

use std::path::{Path, PathBuf};
use vigil_hunt::rules::RuleSet;
use vigil_hunt::{ScanOptions, scan};

/// Write `files` into a fresh folder and return the rule ids found per file name.
fn run(files: &[(&str, &str)]) -> Vec<(String, String, u32)> {
    let dir = tempdir();
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&p, text).expect("write fixture");
    }
    let rules = RuleSet::builtin().expect("built-in rules load");
    let (report, _) = scan(std::slice::from_ref(&dir), &rules, &ScanOptions::default());
    let out = report
        .findings
        .iter()
        .map(|f| {
            let file = f
                .location
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (file, f.rule_id.clone(), f.location.start_line)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "vigil-dataflow-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn has(found: &[(String, String, u32)], file: &str, rule: &str) -> bool {
    found
        .iter()
        .any(|(f, r, _)| f == file && r == rule && Path::new(f).extension().is_some())
}

fn servlet(class: &str, body: &str, extra: &str) -> String {
    format!(
        r#"
import java.io.IOException;
import javax.servlet.http.*;

public class {class} extends HttpServlet {{
    public void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {{
        String param = request.getParameter("p");
        String bar;
{body}
        java.sql.Statement st = null;
        try {{ st.executeQuery("SELECT * FROM t WHERE a = '" + bar + "'"); }} catch (Exception e) {{ }}
    }}
{extra}
}}
"#
    )
}

#[test]
fn constant_conditions_prune_branches() {
    let vulnerable = servlet(
        "Vuln",
        "        int num = 86;\n        if ((7 * 42) - num > 300) bar = \"safe\"; else bar = param;",
        "",
    );
    let safe = servlet(
        "Safe",
        "        int num = 86;\n        if ((7 * 42) - num > 200) bar = \"safe\"; else bar = param;",
        "",
    );
    let ternary_safe = servlet(
        "Tern",
        "        int num = 106;\n        bar = (7 * 18) + num > 200 ? \"safe\" : param;",
        "",
    );
    let found = run(&[
        ("Vuln.java", &vulnerable),
        ("Safe.java", &safe),
        ("Tern.java", &ternary_safe),
    ]);
    assert!(has(&found, "Vuln.java", "java/sql-injection"), "{found:?}");
    assert!(!has(&found, "Safe.java", "java/sql-injection"), "{found:?}");
    assert!(!has(&found, "Tern.java", "java/sql-injection"), "{found:?}");
}

#[test]
fn switch_on_constant_takes_one_case() {
    let body = |idx: u32| {
        format!(
            "        String guess = \"ABC\";\n        char t = guess.charAt({idx});\n        switch (t) {{\n          case 'A': bar = param; break;\n          case 'B': bar = \"bob\"; break;\n          default: bar = \"x\"; break;\n        }}"
        )
    };
    let found = run(&[
        ("SwA.java", &servlet("SwA", &body(0), "")),
        ("SwB.java", &servlet("SwB", &body(1), "")),
    ]);
    assert!(has(&found, "SwA.java", "java/sql-injection"), "{found:?}");
    assert!(!has(&found, "SwB.java", "java/sql-injection"), "{found:?}");
}

#[test]
fn maps_and_lists_are_element_sensitive() {
    let map = |key: &str| {
        format!(
            "        java.util.HashMap<String,Object> m = new java.util.HashMap<String,Object>();\n        m.put(\"keyA\", \"a\");\n        m.put(\"keyB\", param);\n        bar = (String) m.get(\"{key}\");"
        )
    };
    let list = |idx: u32| {
        format!(
            "        java.util.List<String> l = new java.util.ArrayList<String>();\n        l.add(\"safe\");\n        l.add(param);\n        l.add(\"moresafe\");\n        l.remove(0);\n        bar = l.get({idx});"
        )
    };
    let found = run(&[
        ("MapB.java", &servlet("MapB", &map("keyB"), "")),
        ("MapA.java", &servlet("MapA", &map("keyA"), "")),
        ("List0.java", &servlet("List0", &list(0), "")),
        ("List1.java", &servlet("List1", &list(1), "")),
    ]);
    assert!(has(&found, "MapB.java", "java/sql-injection"), "{found:?}");
    assert!(!has(&found, "MapA.java", "java/sql-injection"), "{found:?}");
    assert!(has(&found, "List0.java", "java/sql-injection"), "{found:?}");
    assert!(
        !has(&found, "List1.java", "java/sql-injection"),
        "{found:?}"
    );
}

#[test]
fn flows_through_helpers_in_other_files_and_interfaces() {
    let helper = r#"
package app.util;
public class Text {
    public static String wrap(String s) { StringBuilder b = new StringBuilder(); b.append("<").append(s); return b.toString(); }
    public static String constant(String s) { return "fixed"; }
}
"#;
    let iface = r#"
package app.util;
public interface Transformer { String apply(String s); }
"#;
    let impl_ = r#"
package app.util;
public class Identity implements Transformer { public String apply(String s) { String r = s; return r; } }
"#;
    let viahelper = servlet("ViaHelper", "        bar = app.util.Text.wrap(param);", "");
    let viaconst = servlet(
        "ViaConst",
        "        bar = app.util.Text.constant(param);",
        "",
    );
    let viaiface = servlet(
        "ViaIface",
        "        app.util.Transformer t = make();\n        bar = t.apply(param);",
        "    static app.util.Transformer make() { return null; }",
    );
    let found = run(&[
        ("util/Text.java", helper),
        ("util/Transformer.java", iface),
        ("util/Identity.java", impl_),
        ("ViaHelper.java", &viahelper),
        ("ViaConst.java", &viaconst),
        ("ViaIface.java", &viaiface),
    ]);
    assert!(
        has(&found, "ViaHelper.java", "java/sql-injection"),
        "{found:?}"
    );
    assert!(
        !has(&found, "ViaConst.java", "java/sql-injection"),
        "{found:?}"
    );
    assert!(
        has(&found, "ViaIface.java", "java/sql-injection"),
        "{found:?}"
    );
}

#[test]
fn sanitizers_apply_to_their_own_rule_only() {
    let xss = |class: &str, expr: &str| {
        format!(
            r#"
import javax.servlet.http.*;
public class {class} extends HttpServlet {{
    public void doGet(HttpServletRequest request, HttpServletResponse response) throws java.io.IOException {{
        String p = request.getParameter("p");
        String out = {expr};
        response.getWriter().println(out);
        new java.io.File(out);
    }}
}}
"#
        )
    };
    let found = run(&[
        ("Raw.java", &xss("Raw", "\"Hi \" + p")),
        (
            "Enc.java",
            &xss("Enc", "org.owasp.esapi.ESAPI.encoder().encodeForHTML(p)"),
        ),
    ]);
    assert!(has(&found, "Raw.java", "java/xss"), "{found:?}");
    assert!(!has(&found, "Enc.java", "java/xss"), "{found:?}");
    // HTML encoding does nothing for a file path.
    assert!(has(&found, "Enc.java", "java/path-traversal"), "{found:?}");
}

#[test]
fn python_guards_dicts_and_config_keys() {
    let view = |name: &str, body: &str| {
        format!(
            r#"
from flask import request
import helpers_db

def init(app):
    @app.route('/{name}', methods=['POST'])
    def {name}():
        param = request.form.get("p")
{body}
        return open(f"/srv/files/{{bar}}").read()
"#
        )
    };
    let found = run(&[
        (
            "guarded.py",
            &view(
                "guarded",
                "        bar = param\n        if '../' in bar:\n            return 'no'",
            ),
        ),
        ("unguarded.py", &view("unguarded", "        bar = param")),
        (
            "dict_b.py",
            &view(
                "dict_b",
                "        m = {}\n        m['a'] = 'x'\n        m['b'] = param\n        bar = m['b']",
            ),
        ),
        (
            "dict_a.py",
            &view(
                "dict_a",
                "        m = {}\n        m['a'] = 'x'\n        m['b'] = param\n        bar = m['a']",
            ),
        ),
        (
            "conf_a.py",
            &view(
                "conf_a",
                "        import configparser\n        c = configparser.ConfigParser()\n        c.add_section('s')\n        c.set('s', 'a', 'x')\n        c.set('s', 'b', param)\n        bar = c.get('s', 'a')",
            ),
        ),
        (
            "copy.py",
            &view(
                "copy",
                "        s = 'x'\n        copy = s\n        s += param\n        copy += 'y'\n        bar = copy",
            ),
        ),
    ]);
    let pt = "python/path-traversal";
    assert!(has(&found, "unguarded.py", pt), "{found:?}");
    assert!(!has(&found, "guarded.py", pt), "{found:?}");
    assert!(has(&found, "dict_b.py", pt), "{found:?}");
    assert!(!has(&found, "dict_a.py", pt), "{found:?}");
    assert!(!has(&found, "conf_a.py", pt), "{found:?}");
    assert!(!has(&found, "copy.py", pt), "{found:?}");
}

#[test]
fn findings_carry_the_path_from_source_to_sink() {
    let dir = tempdir();
    let file = dir.join("Path.java");
    std::fs::write(
        &file,
        servlet(
            "Path",
            "        String tmp = param + \"x\";\n        bar = tmp;",
            "",
        ),
    )
    .expect("write");
    let rules = RuleSet::builtin().expect("rules");
    let (report, _) = scan(&[file], &rules, &ScanOptions::default());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "java/sql-injection")
        .expect("a finding");
    let msgs: Vec<&str> = f.path.iter().map(|s| s.message.as_str()).collect();
    assert!(msgs[0].contains("getParameter"), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("`tmp`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("`bar`")), "{msgs:?}");
    assert!(
        msgs.last().is_some_and(|m| m.contains("executeQuery")),
        "{msgs:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_constants_do_not_blow_up_or_panic() {
    // Doubling a constant string 200 times, and the one integer division that overflows.
    let mut py = String::from("def f():\n    s = 'ab'\n");
    let mut java = String::from("class B { long f() { String s = \"ab\"; ");
    for _ in 0..200 {
        py.push_str("    s = s + s\n");
        java.push_str("s = s + s; ");
    }
    py.push_str(
        "    x = -9223372036854775807 - 1\n    y = x // -1\n    z = x % -1\n    return s\n",
    );
    java.push_str("long x = -9223372036854775807L - 1; long y = x / -1; return x % -1; } }");
    let found = run(&[("blow.py", &py), ("Blow.java", &java)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn assignments_inside_expressions_loops_and_handlers_keep_taint() {
    let java = r#"
import javax.servlet.http.*;
class Flows {
    void counter(HttpServletRequest req) throws Exception {
        int count = 0;
        for (int i = 0; i < 3; i++) count++;
        if (count > 0) Runtime.getRuntime().exec(req.getParameter("c"));
    }
    void lines(HttpServletRequest req) throws Exception {
        java.io.BufferedReader r = req.getReader();
        String line;
        while ((line = r.readLine()) != null) { Runtime.getRuntime().exec(line); }
    }
    void lambda(HttpServletRequest req, java.util.List<String> xs) {
        String c = req.getParameter("c");
        xs.forEach(x -> { try { Runtime.getRuntime().exec(c); } catch (Exception e) {} });
    }
}
"#;
    let python = r#"
import os
from flask import request

def walrus():
    if (cmd := request.args.get("c")) is not None:
        os.system(cmd)

def carried_by_continue(items):
    cmd = "ls"
    for i in items:
        if i:
            cmd = request.args.get("c")
            continue
        os.system(cmd)

def in_handler():
    cmd = request.args.get("c")
    try:
        int(cmd)
        return
    except ValueError:
        os.system(cmd)

def named_lambda():
    get = lambda: request.args.get("c")
    os.system(get())
"#;
    let found = run(&[("Flows.java", java), ("flows.py", python)]);
    let lines = |file: &str, rule: &str| -> Vec<u32> {
        let mut v: Vec<u32> = found
            .iter()
            .filter(|(f, r, _)| f == file && r == rule)
            .map(|(_, _, l)| *l)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        lines("Flows.java", "java/command-injection"),
        vec![7, 12, 16],
        "{found:?}"
    );
    assert_eq!(
        lines("flows.py", "python/command-injection"),
        vec![7, 15, 23, 27],
        "{found:?}"
    );
}

#[test]
fn setters_static_methods_relative_imports_and_guard_direction() {
    let java = r#"
import javax.servlet.http.*;
class Holder {
    private String cmd;
    void setCmd(String c) { this.cmd = c; }
    String getCmd() { return cmd; }
}
class UseHolder {
    void run(HttpServletRequest req) throws Exception {
        Holder h = new Holder();
        h.setCmd(req.getParameter("c"));
        Runtime.getRuntime().exec(h.getCmd());
    }
}
"#;
    let util = "import os\n\ndef run(cmd):\n    os.system(cmd)\n";
    let views = r#"
from flask import request
from .util import run

class Runner:
    @staticmethod
    def go(cmd):
        import os
        os.system(cmd)

def relative():
    run(request.args.get("c"))

def through_class():
    Runner.go(request.args.get("c"))
"#;
    let guards = r#"
import os
from flask import request

ALLOWED = ["ls", "df"]

def deny_equal():
    cmd = request.args.get("c")
    if cmd == "reboot":
        return "no"
    os.system(cmd)

def allow_list():
    cmd = request.args.get("c")
    if cmd not in ALLOWED:
        return "no"
    os.system(cmd)
"#;
    let found = run(&[
        ("Holder.java", java),
        ("app/util.py", util),
        ("app/views.py", views),
        ("guards.py", guards),
    ]);
    let lines = |file: &str, rule: &str| -> Vec<u32> {
        let mut v: Vec<u32> = found
            .iter()
            .filter(|(f, r, _)| f == file && r == rule)
            .map(|(_, _, l)| *l)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        lines("Holder.java", "java/command-injection"),
        vec![12],
        "{found:?}"
    );
    assert_eq!(
        lines("util.py", "python/command-injection"),
        vec![4],
        "{found:?}"
    );
    assert_eq!(
        lines("views.py", "python/command-injection"),
        vec![9],
        "{found:?}"
    );
    // `== "reboot"` then exit leaves every other command; the allow list pins it.
    assert_eq!(
        lines("guards.py", "python/command-injection"),
        vec![11],
        "{found:?}"
    );
}

#[test]
fn folding_follows_each_language_and_columns_count_characters() {
    let python = "import os\nfrom flask import request\n\ndef f():\n    c = request.args['c']\n    if 7 / 2 > 3:\n        os.system(c)\n    if -7 // 2 == -4:\n        os.system(c)\n    if -7 % 2 == 1:\n        os.system(c)\n    x = 'ü'; os.system(c)\n";
    let java = "class Oct { void f(javax.servlet.http.HttpServletRequest r) throws Exception {\n  if (010 == 8) Runtime.getRuntime().exec(r.getParameter(\"c\"));\n} }\n";
    let dir = tempdir();
    std::fs::write(dir.join("fold.py"), python).expect("write");
    std::fs::write(dir.join("Oct.java"), java).expect("write");
    let rules = RuleSet::builtin().expect("rules");
    let (report, _) = scan(std::slice::from_ref(&dir), &rules, &ScanOptions::default());
    let mut at: Vec<(String, u32, u32)> = report
        .findings
        .iter()
        .map(|f| {
            let name = f
                .location
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, f.location.start_line, f.location.start_column)
        })
        .collect();
    at.sort();
    // 7 / 2 is 3.5 (> 3), -7 // 2 is -4, -7 % 2 is 1 in Python; 010 is 8 in Java.
    // On line 12 the call starts at character 14 (byte 15: `ü` takes two bytes).
    assert_eq!(
        at,
        vec![
            ("Oct.java".into(), 2, 17),
            ("fold.py".into(), 7, 9),
            ("fold.py".into(), 9, 9),
            ("fold.py".into(), 11, 9),
            ("fold.py".into(), 12, 14),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Library calls without a rule of their own carry their inputs' data into their result
/// (the pass-through summaries the rule libraries rely on); the listed yes/no answers do not.
#[test]
fn java_library_calls_pass_data_through() {
    let passes = [
        "bar = org.apache.commons.lang3.StringUtils.trim(param);",
        "bar = StringUtils.defaultString(param, \"x\");",
        "bar = StringUtils.substring(param, 1, 4);",
        "bar = StringUtils.join(java.util.Arrays.asList(\"a\", param), \",\");",
        "bar = StringUtils.strip(param);",
        "bar = String.format(\"%s-%s\", \"a\", param);",
        "bar = new StringBuilder(\"x\").append(param).toString();",
        "bar = java.util.Optional.ofNullable(param).orElse(\"none\");",
        "bar = java.util.Objects.toString(param);",
        "bar = java.util.Objects.requireNonNull(param);",
        "bar = java.net.URLDecoder.decode(param, \"UTF-8\");",
        "bar = new String(java.util.Base64.getDecoder().decode(param));",
        "bar = new String(param.getBytes());",
        "bar = java.util.List.of(\"a\", param).get(1);",
        "bar = java.util.Map.of(\"k\", param).get(\"k\");",
        "bar = param.trim().toLowerCase().replace(\"a\", \"b\");",
    ];
    let files: Vec<(String, String)> = passes
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let class = format!("Pass{i}");
            let src = servlet(&class, &format!("        {body}"), "");
            (format!("{class}.java"), src)
        })
        .collect();
    let yes_no = servlet(
        "YesNo",
        "        bar = String.valueOf(StringUtils.isBlank(param)) + StringUtils.length(param);",
        "",
    );
    let mut all: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    all.push(("YesNo.java", &yes_no));
    let found = run(&all);
    for (i, body) in passes.iter().enumerate() {
        assert!(
            has(&found, &format!("Pass{i}.java"), "java/sql-injection"),
            "`{body}` lost the data: {found:?}"
        );
    }
    assert!(
        !has(&found, "YesNo.java", "java/sql-injection"),
        "{found:?}"
    );
}

#[test]
fn python_library_calls_pass_data_through() {
    let passes = [
        "cmd = \"ls {}\".format(arg)",
        "cmd = f\"ls {arg}\"",
        "cmd = \" \".join([\"ls\", arg])",
        "cmd = \"ls \" + os.path.join(\"/srv\", arg)",
        "cmd = \"curl \" + urllib.parse.urljoin(\"https://example.com/\", arg)",
        "cmd = \"ls \" + urllib.parse.unquote(arg)",
        "cmd = \"ls \" + base64.b64decode(arg).decode()",
        "cmd = \"ls %s\" % arg.strip().lower()",
    ];
    let mut files: Vec<(String, String)> = passes
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let src = format!(
                "import base64\nimport os\nimport urllib.parse\n\ndef f():\n    arg = input()\n    {line}\n    os.system(cmd)\n"
            );
            (format!("pass{i}.py"), src)
        })
        .collect();
    files.push((
        "quoted.py".into(),
        "import os\nimport shlex\n\ndef f():\n    os.system(\"ls \" + shlex.quote(input()))\n"
            .into(),
    ));
    let all: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let found = run(&all);
    for (i, line) in passes.iter().enumerate() {
        assert!(
            has(&found, &format!("pass{i}.py"), "python/command-injection"),
            "`{line}` lost the data: {found:?}"
        );
    }
    assert!(
        !has(&found, "quoted.py", "python/command-injection"),
        "{found:?}"
    );
}

/// An argument vector that starts with a fixed program is not a command line: only the
/// program can be injected, unless it is a shell (`["sh", "-c", cmd]`) or unknown.
#[test]
fn python_argument_vectors_inject_only_the_program_or_a_shell() {
    let src = r#"import subprocess

def f():
    arg = input()
    subprocess.run(["ls", "-l", arg])
    subprocess.run(["/bin/sh", "-c", "ls " + arg])
    subprocess.run([arg, "--version"])
    argv = ["cmd.exe" if arg else "sh", "-c", "echo " + arg]
    subprocess.run(argv)
    subprocess.run("ls " + arg, shell=True)
    subprocess.run(["ls", arg], shell=True)
"#;
    let found = run(&[("argv.py", src)]);
    let lines: Vec<u32> = found
        .iter()
        .filter(|(_, r, _)| r == "python/command-injection")
        .map(|(_, _, l)| *l)
        .collect();
    assert_eq!(lines, [6, 7, 9, 10], "{found:?}");
}

/// A rule with its own sources (zip slip: archive entry names) is not fired by request data,
/// and archive entry names do not reach the other rules.
#[test]
fn own_source_rules_take_only_their_own_data() {
    let src = r#"
import java.io.*;
import java.util.zip.*;
import javax.servlet.http.*;

public class Unzip extends HttpServlet {
    public void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        new FileOutputStream(new File("/tmp", request.getParameter("name")));
        ZipInputStream zis = new ZipInputStream(request.getInputStream());
        ZipEntry entry = zis.getNextEntry();
        new FileOutputStream(new File("/tmp", entry.getName()));
        response.getWriter().println(entry.getName());
    }
}
"#;
    let found = run(&[("Unzip.java", src)]);
    let of = |rule: &str| -> Vec<u32> {
        found
            .iter()
            .filter(|(_, r, _)| r == rule)
            .map(|(_, _, l)| *l)
            .collect()
    };
    assert_eq!(of("java/zip-slip"), [11], "{found:?}");
    assert_eq!(of("java/path-traversal"), [8], "{found:?}");
    assert!(of("java/xss").is_empty(), "{found:?}");
}

/// The lines of `src` that carry `marker` (1-based): where a test expects a finding.
fn marked(src: &str, marker: &str) -> Vec<u32> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// The sorted lines of `file` where `rule` was found.
fn found_lines(found: &[(String, String, u32)], file: &str, rule: &str) -> Vec<u32> {
    let mut v: Vec<u32> = found
        .iter()
        .filter(|(f, r, _)| f == file && r == rule)
        .map(|(_, _, l)| *l)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

const JAVA_DTO: &str = r#"
class Dto {
    String name;
    String other = "ls";
    void setName(String n) { this.name = n; }
    String getName() { return name; }
}
"#;

const PY_BOX: &str = r#"
class Box:
    def __init__(self):
        self.name = "ls"
        self.other = "ls"
"#;

#[test]
fn callees_that_mutate_their_arguments_taint_them_in_the_caller() {
    let java = r#"import java.util.*;
import javax.servlet.http.*;
class Mut {
    static void fill(List<String> l, HttpServletRequest req) { l.add(req.getParameter("c")); }
    static void fillConst(List<String> l) { l.add("ls"); }
    static void build(StringBuilder sb, String v) { sb.append(v); }
    static void rebind(StringBuilder sb, String v) { sb = new StringBuilder(); sb.append(v); }
    static void name(Dto d, String v) { d.name = v; }
    static void viaSetter(Dto d, String v) { d.setName(v); }
    static void copy(List<String> from, List<String> to) { to.add(from.get(0)); }
    void lists(HttpServletRequest req) throws Exception {
        List<String> l = new ArrayList<>();
        fill(l, req);
        Runtime.getRuntime().exec(l.get(0)); // FIRE
        List<String> k = new ArrayList<>();
        fillConst(k);
        Runtime.getRuntime().exec(k.get(0));
    }
    void builders(HttpServletRequest req) throws Exception {
        StringBuilder sb = new StringBuilder("ls ");
        build(sb, req.getParameter("c"));
        Runtime.getRuntime().exec(sb.toString()); // FIRE
        StringBuilder ok = new StringBuilder("ls ");
        build(ok, "-l");
        rebind(ok, req.getParameter("c"));
        Runtime.getRuntime().exec(ok.toString());
    }
    void objects(HttpServletRequest req) throws Exception {
        Dto d = new Dto();
        name(d, req.getParameter("c"));
        Runtime.getRuntime().exec(d.name); // FIRE
        Runtime.getRuntime().exec(d.other);
        Dto e = new Dto();
        viaSetter(e, req.getParameter("c"));
        Runtime.getRuntime().exec(e.getName()); // FIRE
        Runtime.getRuntime().exec(e.other);
    }
    void between(HttpServletRequest req) throws Exception {
        List<String> src = new ArrayList<>();
        src.add(req.getParameter("c"));
        List<String> dst = new ArrayList<>();
        copy(src, dst);
        Runtime.getRuntime().exec(dst.get(0)); // FIRE
        List<String> clean = new ArrayList<>();
        clean.add("ls");
        List<String> dst2 = new ArrayList<>();
        copy(clean, dst2);
        Runtime.getRuntime().exec(dst2.get(0));
    }
}
"#;
    let python = r#"import os
from flask import request
from box import Box

def fill(lst):
    lst.append(request.args["c"])

def fill_const(lst):
    lst.append("ls")

def set_name(box, v):
    box.name = v

def rebind(lst, v):
    lst = []
    lst.append(v)

def copy(src, dst):
    dst.append(src[0])

def put(d, v):
    d["k"] = v

def extend(lst, v):
    lst += [v]

def concat(s, v):
    s += v

def lists():
    lst = []
    fill(lst)
    os.system(lst[0])  # FIRE
    ok = []
    fill_const(ok)
    os.system(ok[0])

def objects():
    box = Box()
    set_name(box, request.args["c"])
    os.system(box.name)  # FIRE
    os.system(box.other)

def between():
    ok = ["ls"]
    rebind(ok, request.args["c"])
    os.system(ok[0])
    src = [request.args["c"]]
    dst = []
    copy(src, dst)
    os.system(dst[0])  # FIRE
    d = {"k": "ls", "j": "ls"}
    put(d, request.args["c"])
    os.system(d["k"])  # FIRE
    os.system(d["j"])
    ext = ["ls"]
    extend(ext, request.args["c"])
    os.system(ext[1])  # FIRE
    os.system(ext[0])
    text = "ls"
    concat(text, request.args["c"])
    os.system(text)
"#;
    let found = run(&[
        ("Mut.java", java),
        ("Dto.java", JAVA_DTO),
        ("mut.py", python),
        ("box.py", PY_BOX),
    ]);
    assert_eq!(
        found_lines(&found, "Mut.java", "java/command-injection"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
    assert_eq!(
        found_lines(&found, "mut.py", "python/command-injection"),
        marked(python, "# FIRE"),
        "{found:?}"
    );
}

#[test]
fn locals_assigned_from_each_other_alias_one_object() {
    let java = r#"import java.util.*;
import javax.servlet.http.*;
class Alias {
    void lists(HttpServletRequest req) throws Exception {
        List<String> a = new ArrayList<>();
        List<String> b = a;
        b.add(req.getParameter("c"));
        Runtime.getRuntime().exec(a.get(0)); // FIRE
    }
    void rebound(HttpServletRequest req) throws Exception {
        List<String> a = new ArrayList<>();
        a.add("ls");
        List<String> b = a;
        b = new ArrayList<>();
        b.add(req.getParameter("c"));
        Runtime.getRuntime().exec(a.get(0));
    }
    void fields(HttpServletRequest req) throws Exception {
        Dto d = new Dto();
        Dto e = d;
        e.name = req.getParameter("c");
        Runtime.getRuntime().exec(d.name); // FIRE
        Runtime.getRuntime().exec(d.other);
        Dto f = new Dto();
        Dto g = f;
        g.setName(req.getParameter("c"));
        Runtime.getRuntime().exec(f.getName()); // FIRE
    }
    void maybe(HttpServletRequest req, boolean c) throws Exception {
        List<String> a = new ArrayList<>();
        a.add("ls");
        List<String> b = new ArrayList<>();
        if (c) b = a;
        b.add(req.getParameter("c"));
        // A may-alias updates weakly: `a` may or may not hold the new element.
        Runtime.getRuntime().exec(a.get(1)); // FIRE
    }
    void values(HttpServletRequest req) throws Exception {
        String s = "ls";
        String t = s;
        t = t + req.getParameter("c");
        Runtime.getRuntime().exec(s);
        StringBuilder x = new StringBuilder("ls");
        StringBuilder y = x;
        y.append(req.getParameter("c"));
        Runtime.getRuntime().exec(x.toString()); // FIRE
    }
}
"#;
    let python = r#"import os
from flask import request
from box import Box

def lists():
    a = []
    b = a
    b.append(request.args["c"])
    os.system(a[0])  # FIRE

def rebound():
    a = ["ls"]
    b = a
    b = []
    b.append(request.args["c"])
    os.system(a[0])

def fields():
    box = Box()
    alias = box
    alias.name = request.args["c"]
    os.system(box.name)  # FIRE
    os.system(box.other)

def dicts():
    d = {"k": "ls"}
    e = d
    e["k"] = request.args["c"]
    os.system(d["k"])  # FIRE
    s = "ls"
    t = s
    t += request.args["c"]
    os.system(s)

def extended():
    a = ["ls"]
    b = a
    b += [request.args["c"]]
    os.system(a[1])  # FIRE
    os.system(a[0])
"#;
    let found = run(&[
        ("Alias.java", java),
        ("Dto.java", JAVA_DTO),
        ("alias.py", python),
        ("box.py", PY_BOX),
    ]);
    assert_eq!(
        found_lines(&found, "Alias.java", "java/command-injection"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
    assert_eq!(
        found_lines(&found, "alias.py", "python/command-injection"),
        marked(python, "# FIRE"),
        "{found:?}"
    );
}

#[test]
fn lambdas_streams_and_comprehensions_run_over_the_elements() {
    let java = r#"import java.util.*;
import java.util.stream.*;
import javax.servlet.http.*;
class Streams {
    void streams(HttpServletRequest req) throws Exception {
        List<String> l = new ArrayList<>();
        l.add(req.getParameter("c"));
        String s = l.stream().map(x -> "ls " + x).collect(Collectors.joining(" "));
        Runtime.getRuntime().exec(s); // FIRE
        String f = l.stream().filter(x -> !x.isEmpty()).findFirst().orElse("ls");
        Runtime.getRuntime().exec(f); // FIRE
        String m = l.stream().map(String::trim).collect(Collectors.joining());
        Runtime.getRuntime().exec(m); // FIRE
        String j = String.join(",", l);
        Runtime.getRuntime().exec(j); // FIRE
        String c = l.stream().map(x -> "ls").collect(Collectors.joining());
        Runtime.getRuntime().exec(c);
    }
    void each(HttpServletRequest req) throws Exception {
        List<String> l = new ArrayList<>();
        l.add(req.getParameter("c"));
        StringBuilder sb = new StringBuilder();
        l.forEach(x -> sb.append(x));
        Runtime.getRuntime().exec(sb.toString()); // FIRE
        StringBuilder sb2 = new StringBuilder();
        l.forEach(sb2::append);
        Runtime.getRuntime().exec(sb2.toString()); // FIRE
        StringBuilder ok = new StringBuilder();
        l.forEach(x -> ok.append("-"));
        Runtime.getRuntime().exec(ok.toString());
    }
    void optionals(HttpServletRequest req) throws Exception {
        String o = Optional.ofNullable(req.getParameter("c")).map(x -> "ls " + x).orElse("ls");
        Runtime.getRuntime().exec(o); // FIRE
        String safe = Optional.ofNullable(req.getParameter("c")).map(x -> "ls").orElse("pwd");
        Runtime.getRuntime().exec(safe);
        List<String> k = new ArrayList<>();
        k.add("ls");
        String cap = req.getParameter("c");
        String built = k.stream().map(x -> x + cap).collect(Collectors.joining());
        Runtime.getRuntime().exec(built); // FIRE
        String kept = k.stream().filter(x -> x.equals(cap)).collect(Collectors.joining());
        Runtime.getRuntime().exec(kept);
    }
}
"#;
    let python = r#"import os
from flask import request

def comprehensions():
    items = [request.args["c"]]
    os.system(" ".join(x.strip() for x in items))  # FIRE
    os.system(" ".join([x for x in items]))  # FIRE
    os.system(" ".join(map(lambda x: "ls " + x, items)))  # FIRE
    os.system(" ".join(map(lambda x: "ls", items)))
    os.system(" ".join("ls" for x in items))
    os.system(" ".join({k: "ls" for k in ["a"]}.values()))
    [os.system(x) for x in items]  # FIRE
    safe = ["ls"]
    [os.system(x) for x in safe]
    names = {k: v for k, v in [("a", request.args["c"])]}
    os.system(names["a"])  # FIRE
"#;
    let found = run(&[("Streams.java", java), ("comp.py", python)]);
    assert_eq!(
        found_lines(&found, "Streams.java", "java/command-injection"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
    assert_eq!(
        found_lines(&found, "comp.py", "python/command-injection"),
        marked(python, "# FIRE"),
        "{found:?}"
    );
}

#[test]
fn object_fields_travel_between_methods() {
    let java = r#"import javax.servlet.http.*;
class User {
    private String name;
    private String role = "user";
    User() {}
    User(String name) { this.name = name; }
    String getName() { return name; }
    void setName(String n) { name = n; }
    String getRole() { return role; }
}
class UserDao {
    void save(User u) throws Exception {
        java.sql.Statement st = null;
        st.executeQuery("SELECT * FROM users WHERE name = '" + u.getName() + "'"); // FIRE
    }
    void saveRole(User u) throws Exception {
        java.sql.Statement st = null;
        st.executeQuery("SELECT * FROM users WHERE role = '" + u.getRole() + "'");
    }
}
class Controller {
    private UserDao dao = new UserDao();
    void setter(HttpServletRequest req) throws Exception {
        User u = new User();
        u.setName(req.getParameter("n"));
        dao.save(u);
        dao.saveRole(u);
    }
    void constructor(HttpServletRequest req) throws Exception {
        User u = new User(req.getParameter("n"));
        new UserDao().saveRole(u);
    }
    void built(HttpServletRequest req) throws Exception {
        User u = make(req);
        dao.saveRole(u);
    }
    User make(HttpServletRequest req) {
        User u = new User();
        u.setName(req.getParameter("n"));
        return u;
    }
}
"#;
    let python = r#"import os
from dataclasses import dataclass
from flask import request

@dataclass
class User:
    name: str
    role: str = "user"

class Account:
    def __init__(self, owner):
        self.owner = owner
        self.kind = "basic"

def run_name(user):
    os.system(user.name)  # FIRE

def run_role(user):
    os.system(user.role)

def run_owner(acct):
    os.system(acct.owner)  # FIRE

def run_kind(acct):
    os.system(acct.kind)

def make():
    acct = Account("x")
    acct.owner = request.args["c"]
    return acct

def create():
    user = User(request.args["c"])
    run_name(user)
    run_role(user)
    by_kw = User(role="admin", name=request.args["c"])
    run_role(by_kw)
    acct = make()
    run_owner(acct)
    run_kind(acct)
"#;
    let found = run(&[("Users.java", java), ("users.py", python)]);
    assert_eq!(
        found_lines(&found, "Users.java", "java/sql-injection"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
    assert_eq!(
        found_lines(&found, "users.py", "python/command-injection"),
        marked(python, "# FIRE"),
        "{found:?}"
    );
}

#[test]
fn functions_passed_as_values_are_called_with_their_arguments() {
    let java = r#"import java.util.*;
import java.util.function.*;
import javax.servlet.http.*;
class Higher {
    static void each(List<String> l, Consumer<String> f) { for (String s : l) f.accept(s); }
    static String twice(Function<String, String> f, String v) { return f.apply(v); }
    void run(HttpServletRequest req) throws Exception {
        List<String> bad = new ArrayList<>();
        bad.add(req.getParameter("c"));
        List<String> good = new ArrayList<>();
        good.add("ls");
        each(bad, x -> { try { Runtime.getRuntime().exec(x); } catch (Exception e) {} }); // FIRE
        each(good, y -> { try { Runtime.getRuntime().exec(y); } catch (Exception e) {} });
        Runtime.getRuntime().exec(twice(s -> "ls " + s, req.getParameter("c"))); // FIRE
        Runtime.getRuntime().exec(twice(s -> "ls", req.getParameter("c")));
    }
}
"#;
    let python = r#"import os
from flask import request

def shell(x):
    return "ls " + x

def const(x):
    return "ls"

def each(xs, f):
    for x in xs:
        f(x)

def run(cmd):
    os.system(cmd)  # FIRE

def view():
    items = [request.args["c"]]
    os.system(" ".join(map(shell, items)))  # FIRE
    os.system(" ".join(map(const, items)))
    os.system(" ".join(sorted(items, key=const)))  # FIRE
    each(items, run)
"#;
    let found = run(&[("Higher.java", java), ("higher.py", python)]);
    assert_eq!(
        found_lines(&found, "Higher.java", "java/command-injection"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
    assert_eq!(
        found_lines(&found, "higher.py", "python/command-injection"),
        marked(python, "# FIRE"),
        "{found:?}"
    );
}

#[test]
fn nested_lambdas_and_alias_chains_stay_bounded() {
    // Forty lambdas nested in each other and a chain of four hundred aliases: analysis
    // ends (bounded depth, bounded alias sets) and finds the flow at the bottom.
    let mut java = String::from(
        "import java.util.*;\nimport javax.servlet.http.*;\nclass Deep {\n    void f(HttpServletRequest req, List<String> l) throws Exception {\n        List<String> a0 = new ArrayList<>();\n",
    );
    for i in 1..400 {
        java.push_str(&format!("        List<String> a{i} = a{};\n", i - 1));
    }
    java.push_str("        a399.add(req.getParameter(\"c\"));\n        Runtime.getRuntime().exec(a399.get(0));\n");
    for _ in 0..40 {
        java.push_str("        l.forEach(x -> {\n");
    }
    for _ in 0..40 {
        java.push_str("        });\n");
    }
    java.push_str("    }\n}\n");
    let found = run(&[("Deep.java", &java)]);
    assert!(
        has(&found, "Deep.java", "java/command-injection"),
        "{found:?}"
    );
}

/// Test credentials and random test data are not findings; the same lines in application
/// code are. Test code is told by the test runners' conventions below the scanned folder.
#[test]
fn secrets_and_weak_randomness_in_test_code_are_not_reported() {
    let secret = "import random\n\nDB_PASSWORD = \"s3cr3t-Pa55w0rd!\"\n\ndef make_token():\n    return str(random.random())\n";
    let go = "package store\n\nconst apiPassword = \"s3cr3t-Pa55w0rd!\"\n";
    let found = run(&[
        ("app/settings.py", secret),
        ("app/tests/test_login.py", secret),
        ("app/conftest.py", secret),
        ("pkg/store.go", go),
        ("pkg/store_test.go", go),
    ]);
    // `run` names findings by file name.
    assert!(
        has(&found, "settings.py", "python/hardcoded-secret"),
        "{found:?}"
    );
    assert!(
        has(&found, "settings.py", "python/weak-random"),
        "{found:?}"
    );
    assert!(has(&found, "store.go", "go/hardcoded-secret"), "{found:?}");
    for test_file in ["test_login.py", "conftest.py", "store_test.go"] {
        assert!(
            !found.iter().any(|(f, _, _)| f == test_file),
            "{test_file}: {found:?}"
        );
    }
}

/// The project's own validators (`is_safe_url(x)`, `isSafeRedirect(x)`) validate the data on
/// the branch where they returned true; describing checks (`startswith`) and a failed check
/// that is only logged do not.
#[test]
fn validator_calls_validate_on_the_branch_where_they_hold() {
    let py = r#"
from flask import Flask, redirect, request, url_for

app = Flask(__name__)

def get_safe_redirect(url):
    if url and is_safe_redirect_url(url):
        return url
    return "/"

@app.route("/a")
def a():
    return redirect(get_safe_redirect(request.args.get("next", "")))

@app.route("/b")
def b():
    nxt = request.args.get("next", "")
    if not is_safe_url(nxt):
        nxt = url_for("index")
    return redirect(nxt)

@app.route("/c")
def c():
    nxt = request.args.get("next", "")
    if nxt.startswith("http"):
        return redirect(nxt)  # FIRE
    return "ok"

@app.route("/d")
def d():
    nxt = request.args.get("next", "")
    if not is_safe_url(nxt):
        print("unsafe redirect", nxt)
    return redirect(nxt)  # FIRE
"#;
    let java = r#"
import java.io.IOException;
import javax.servlet.http.*;

public class Login extends HttpServlet {
    public void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String next = request.getParameter("next");
        if (isSafeRedirect(next)) {
            response.sendRedirect(next);
        }
        String other = request.getParameter("other");
        if (other.startsWith("/")) {
            response.sendRedirect(other); // FIRE
        }
    }

    private boolean isSafeRedirect(String url) {
        return url != null && url.startsWith("/") && !url.startsWith("//");
    }
}
"#;
    let found = run(&[("views.py", py), ("Login.java", java)]);
    let lines = |file: &str, rule: &str| -> Vec<u32> {
        found
            .iter()
            .filter(|(f, r, _)| f == file && r == rule)
            .map(|(_, _, l)| *l)
            .collect()
    };
    assert_eq!(
        lines("views.py", "python/open-redirect"),
        marked(py, "# FIRE"),
        "{found:?}"
    );
    assert_eq!(
        lines("Login.java", "java/open-redirect"),
        marked(java, "// FIRE"),
        "{found:?}"
    );
}
