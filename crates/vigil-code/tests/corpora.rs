//! Every file of both OWASP Benchmark corpora parses without a panic, and so do truncated
//! and garbled copies of them; the untouched originals are almost all free of syntax errors.
//! The corpora live outside the repository (see `vigil_testdata`); without them the test
//! prints a note and passes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use vigil_code::{Lang, parse};

fn data_dir(name: &str) -> PathBuf {
    vigil_testdata::root().join(name)
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The first half of the text, cut back to a char boundary.
fn truncated(text: &str) -> &str {
    let mut cut = text.len() / 2;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// Every 97th byte replaced, alternately, by `{` and `)`; re-decoded lossily, since a
/// replaced byte may have been part of a multi-byte character.
fn garbled(bytes: &[u8]) -> String {
    let mut b = bytes.to_vec();
    for (n, i) in (96..b.len()).step_by(97).enumerate() {
        b[i] = if n % 2 == 0 { b'{' } else { b')' };
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Parse and report a panic as `Err(message)`; `Ok(n)` is the number of syntax errors.
fn try_parse(lang: Lang, text: &str) -> Result<usize, String> {
    match catch_unwind(AssertUnwindSafe(|| parse(lang, text))) {
        Ok(Ok(m)) => Ok(m.syntax_errors.len()),
        Ok(Err(_)) => Ok(0),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())),
    }
}

fn check_corpus(name: &str, lang: Lang, ext: &str) {
    let dir = data_dir(name);
    if !dir.is_dir() {
        eprintln!("note: corpus {} not found; skipping {name}", dir.display());
        return;
    }
    let mut paths = Vec::new();
    files(&dir, ext, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no .{ext} files under {}", dir.display());

    let start = std::time::Instant::now();
    let mut panics = Vec::new();
    let mut with_errors = Vec::new();
    let mut variants = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let rel = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        match try_parse(lang, &text) {
            Ok(0) => {}
            Ok(n) => with_errors.push(format!("{rel} ({n} regions)")),
            Err(msg) => panics.push(format!("{rel}: {msg}")),
        }
        variants += 2;
        if let Err(msg) = try_parse(lang, truncated(&text)) {
            panics.push(format!("{rel} (truncated): {msg}"));
        }
        if let Err(msg) = try_parse(lang, &garbled(&bytes)) {
            panics.push(format!("{rel} (garbled): {msg}"));
        }
    }
    eprintln!(
        "{name}: {} files and {variants} truncated/garbled copies in {:.1?}; \
         {} originals with syntax errors{}",
        paths.len(),
        start.elapsed(),
        with_errors.len(),
        if with_errors.is_empty() {
            String::new()
        } else {
            format!(": {}", with_errors.join(", "))
        }
    );
    assert!(
        panics.is_empty(),
        "parse panicked on:\n{}",
        panics.join("\n")
    );
    assert!(
        // tree-sitter parses all of them today (Python 3.12 nested f-strings included).
        with_errors.is_empty(),
        "{} of {} originals have syntax errors: {}",
        with_errors.len(),
        paths.len(),
        with_errors.join(", ")
    );
}

#[test]
fn owasp_benchmark_java() {
    check_corpus("owasp-benchmark-java", Lang::Java, "java");
}

#[test]
fn owasp_benchmark_python() {
    check_corpus("owasp-benchmark-python", Lang::Python, "py");
}

#[test]
fn variants_are_deterministic() {
    assert_eq!(truncated("aé"), "a");
    assert_eq!(truncated("abcd"), "ab");
    let src = "x".repeat(300);
    let g = garbled(src.as_bytes());
    assert_eq!(&g[96..97], "{");
    assert_eq!(&g[193..194], ")");
    assert_eq!(&g[290..291], "{");
    assert_eq!(g.matches(['{', ')']).count(), 3);
}
