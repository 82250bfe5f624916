//! Excluded paths: gitignore-like globs, relative to a root (the folder of `vigil.toml`,
//! or the working folder for `--exclude`).
//!
//! - `vendor/` or `vendor` — a name without a `/` inside matches at any depth, and
//!   everything under it;
//! - `src/generated/**`, `/build` — a pattern with a `/` inside (or at the start) is
//!   anchored at the root;
//! - `**/test/**`, `*.min.js` — glob syntax of the `globset` crate.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};

/// A compiled set of exclusion patterns.
#[derive(Debug, Clone)]
pub struct Excludes {
    set: GlobSet,
    root: PathBuf,
    patterns: usize,
}

impl Default for Excludes {
    fn default() -> Self {
        Excludes {
            set: GlobSet::empty(),
            root: PathBuf::new(),
            patterns: 0,
        }
    }
}

impl Excludes {
    /// Compiles `patterns`, relative to `root` (an absolute folder). A pattern that is not
    /// a valid glob is an error naming it.
    pub fn new(patterns: &[String], root: &Path) -> Result<Excludes, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            for glob in expand(p) {
                let g = GlobBuilder::new(&glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| format!("bad exclude pattern `{p}`: {e}"))?;
                b.add(g);
            }
        }
        let set = b
            .build()
            .map_err(|e| format!("bad exclude patterns: {e}"))?;
        Ok(Excludes {
            set,
            root: lexical(root),
            patterns: patterns.len(),
        })
    }

    /// Whether no pattern was given.
    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// Whether `path` (taken from `cwd` when relative) is excluded.
    pub fn matches(&self, path: &Path, cwd: &Path) -> bool {
        if self.patterns == 0 {
            return false;
        }
        let abs = if path.is_absolute() {
            lexical(path)
        } else {
            lexical(&cwd.join(path))
        };
        match abs.strip_prefix(&self.root) {
            Ok(rel) => self.set.is_match(rel),
            // Outside the root: only patterns that float (`**/x`) can match.
            Err(_) => self.set.is_match(&abs),
        }
    }
}

/// The globs one user pattern stands for.
fn expand(pattern: &str) -> Vec<String> {
    let p = pattern.trim();
    let p = p.strip_prefix("./").unwrap_or(p);
    let trimmed = p.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.contains('/');
    let body = trimmed.trim_start_matches('/');
    if body.is_empty() {
        return Vec::new();
    }
    let base = if anchored || body.starts_with("**") {
        body.to_owned()
    } else {
        format!("**/{body}")
    };
    if base.ends_with("/**") {
        vec![base]
    } else {
        vec![base.clone(), format!("{base}/**")]
    }
}

/// `path` without `.` components and with `..` applied, without touching the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Excludes {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        Excludes::new(&p, Path::new("/repo")).expect("valid patterns")
    }

    #[test]
    fn names_match_at_any_depth_and_anchored_paths_at_the_root() {
        let e = ex(&[
            "vendor/",
            "**/test/**",
            "/build",
            "src/gen/*.java",
            "*.min.js",
        ]);
        let cwd = Path::new("/repo");
        for yes in [
            "vendor/a/B.java",
            "lib/vendor/x.py",
            "src/test/java/T.java",
            "build/X.java",
            "src/gen/A.java",
            "web/app.min.js",
            "./vendor/x.py",
        ] {
            assert!(e.matches(Path::new(yes), cwd), "{yes} should be excluded");
        }
        for no in [
            "src/main/A.java",
            "lib/build/X.java",
            "src/gen/sub/A.java",
            "vendors/a.py",
            "src/testing/A.java",
        ] {
            assert!(
                !e.matches(Path::new(no), cwd),
                "{no} should not be excluded"
            );
        }
    }

    #[test]
    fn paths_are_taken_relative_to_the_root() {
        let e = ex(&["/src/legacy"]);
        assert!(e.matches(Path::new("legacy/A.java"), Path::new("/repo/src")));
        assert!(e.matches(
            Path::new("/repo/src/legacy/A.java"),
            Path::new("/elsewhere")
        ));
        assert!(!e.matches(Path::new("/other/src/legacy/A.java"), Path::new("/")));
    }

    #[test]
    fn a_bad_glob_is_an_error() {
        let err = Excludes::new(&["src/[a".into()], Path::new("/r")).expect_err("bad");
        assert!(err.contains("`src/[a`"), "{err}");
    }
}
