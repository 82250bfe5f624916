//! The ground truth: OWASP Benchmark expected-results CSV.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use super::cwe::parse_cwe;
use crate::EvalError;

/// One labelled test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Test name, e.g. `CaseA0001`; matched against result file stems.
    pub name: String,
    /// Vulnerability category, e.g. `pathtraver`.
    pub category: String,
    /// Whether the test case really is vulnerable.
    pub real: bool,
    /// The CWE a tool must report to detect it.
    pub cwe: u32,
}

/// All test cases of a corpus, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The test cases, in file order; names are unique.
    pub cases: Vec<Case>,
}

/// Reads an expected-results CSV: `#` comment lines, then rows
/// `test name, category, real vulnerability (true/false), cwe`. Blank lines are skipped.
pub fn read_expected(text: &str) -> Result<Expected, EvalError> {
    let mut cases = Vec::new();
    let mut names = HashSet::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let row = raw.trim_start_matches('\u{feff}').trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let bad = |message: String| EvalError::Csv {
            line,
            text: raw.to_string(),
            message,
        };
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        let [name, category, real, cwe] = fields[..] else {
            return Err(bad(format!("expected 4 fields, found {}", fields.len())));
        };
        if name.is_empty() {
            return Err(bad("empty test name".into()));
        }
        if category.is_empty() {
            return Err(bad("empty category".into()));
        }
        let real = if real.eq_ignore_ascii_case("true") {
            true
        } else if real.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(bad(format!(
                "real vulnerability must be true or false, not {real:?}"
            )));
        };
        let cwe = parse_cwe(cwe, true).ok_or_else(|| bad(format!("bad CWE {cwe:?}")))?;
        if !names.insert(name.to_string()) {
            return Err(bad(format!("test {name} listed twice")));
        }
        cases.push(Case {
            name: name.to_string(),
            category: category.to_string(),
            real,
            cwe,
        });
    }
    if cases.is_empty() {
        return Err(EvalError::NoCases);
    }
    Ok(Expected { cases })
}

/// Reads an expected-results CSV from a file; see [`read_expected`].
pub fn read_expected_file(path: &Path) -> Result<Expected, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_expected(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_skips_comments() {
        let text = "\u{feff}# test name, category, real vulnerability, cwe\r\n\
                    CaseA0001,pathtraver,true,22\r\n\
                    \r\n\
                    CaseA0002 , sqli , FALSE , CWE-89\n";
        let expected = read_expected(text).unwrap();
        assert_eq!(
            expected.cases,
            vec![
                Case {
                    name: "CaseA0001".into(),
                    category: "pathtraver".into(),
                    real: true,
                    cwe: 22
                },
                Case {
                    name: "CaseA0002".into(),
                    category: "sqli".into(),
                    real: false,
                    cwe: 89
                },
            ]
        );
    }

    fn error_line(text: &str) -> (usize, String) {
        match read_expected(text) {
            Err(EvalError::Csv { line, message, .. }) => (line, message),
            other => panic!("expected a CSV error, got {other:?}"),
        }
    }

    #[test]
    fn bad_rows_name_their_line() {
        let head = "# header\nCaseA0001,sqli,true,89\n";
        let (line, message) = error_line(&format!("{head}CaseA0002,sqli,maybe,89\n"));
        assert_eq!(line, 3);
        assert!(message.contains("true or false"), "{message}");
        let (line, message) = error_line(&format!("{head}CaseA0002,sqli,true\n"));
        assert_eq!((line, message.as_str()), (3, "expected 4 fields, found 3"));
        let (line, message) = error_line(&format!("{head}CaseA0002,sqli,true,sql\n"));
        assert_eq!(line, 3);
        assert!(message.contains("bad CWE"), "{message}");
        let (line, message) = error_line(&format!("{head}CaseA0001,sqli,true,89\n"));
        assert_eq!(line, 3);
        assert!(message.contains("twice"), "{message}");
        let (line, _) = error_line(&format!("{head},sqli,true,89\n"));
        assert_eq!(line, 3);
    }

    #[test]
    fn error_message_shows_line_and_text() {
        let err = read_expected("# h\nCaseA0001;sqli;true;89\n").unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("line 2"), "{shown}");
        assert!(shown.contains("CaseA0001;sqli;true;89"), "{shown}");
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(
            read_expected("# only a header\n"),
            Err(EvalError::NoCases)
        ));
    }
}
