//! Diff scope (`vigil hunt --diff BASE_REF`): the whole project is analysed, so that flows
//! through unchanged files are still followed, but only findings whose path (source, steps
//! or sink) touches a line changed since the merge base of `HEAD` and `BASE_REF` are
//! reported. The worktree is compared as it is on disk (uncommitted changes count).
//!
//! Git is read with `gix` (no `git` process): the merge base's tree gives each file's old
//! text, and a histogram line diff (`imara-diff`) gives the changed lines of the new one.

use crate::PolicyError;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use vigil_core::{Finding, Location, Report};

/// How a file differs from the merge base.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// New since the base (or outside the repository: nothing to compare with).
    All,
    /// These lines (1-based) of the current file are new or changed, or border a deletion.
    Lines(BTreeSet<u32>),
}

/// The lines changed in the scanned files since a base revision.
#[derive(Debug, Clone, Default)]
pub struct ChangedLines {
    /// Absolute, lexically normalised path → change; unchanged files are absent.
    files: HashMap<PathBuf, Change>,
    cwd: PathBuf,
    /// The merge base, for messages.
    pub base: String,
}

impl ChangedLines {
    /// Compares `files` (as scanned, relative to `cwd` when relative) with the merge base
    /// of `HEAD` and `base_ref` in the repository that holds `cwd`'s first file.
    pub fn since(
        base_ref: &str,
        files: &[PathBuf],
        cwd: &Path,
    ) -> Result<ChangedLines, PolicyError> {
        let start = files
            .first()
            .map(|f| absolute(f, cwd))
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.to_path_buf());
        let git = |message: String| PolicyError::Invalid {
            path: start.clone(),
            message,
        };
        let repo =
            gix::discover(&start).map_err(|e| git(format!("not in a git repository: {e}")))?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| git("a bare repository has no worktree to compare".into()))?;
        let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
        let base = repo
            .rev_parse_single(base_ref)
            .map_err(|e| git(format!("--diff {base_ref}: {e}")))?;
        let head = repo
            .head_id()
            .map_err(|e| git(format!("HEAD does not name a commit: {e}")))?;
        let merge_base = repo
            .merge_base(head.detach(), base.detach())
            .map_err(|e| git(format!("no merge base of HEAD and {base_ref}: {e}")))?
            .ok_or_else(|| {
                git(format!(
                    "HEAD and {base_ref} have no common ancestor (a shallow clone? fetch with depth 0)"
                ))
            })?;
        let tree = merge_base
            .object()
            .and_then(|o| o.peel_to_commit())
            .and_then(|c| c.tree())
            .map_err(|e| git(format!("cannot read the tree of {merge_base}: {e}")))?;

        // Every file of the base, read once: looking each scanned path up from the root
        // would decompress the same large folders again for every file.
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut recorder)
            .map_err(|e| git(format!("cannot read the tree of {merge_base}: {e}")))?;
        let base_files: HashMap<Vec<u8>, gix::ObjectId> = recorder
            .records
            .into_iter()
            .filter(|e| e.mode.is_blob())
            .map(|e| (e.filepath.to_vec(), e.oid))
            .collect();

        let mut changed = HashMap::new();
        for f in files {
            let abs = absolute(f, cwd);
            let Ok(rel) = abs.strip_prefix(&workdir) else {
                changed.insert(abs, Change::All);
                continue;
            };
            let Ok(now) = std::fs::read(&abs) else {
                continue;
            };
            // Git's paths use `/` whatever the platform.
            let key: Vec<u8> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
                .into_bytes();
            let Some(&old_id) = base_files.get(&key) else {
                changed.insert(abs, Change::All);
                continue;
            };
            // Unchanged content hashes to the same blob: nothing to read or diff.
            let now_id = gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &now)
                .map_err(|e| git(format!("cannot hash {}: {e}", rel.display())))?;
            if now_id == old_id {
                continue;
            }
            let old = repo
                .find_object(old_id)
                .map_err(|e| git(format!("cannot read {} at the base: {e}", rel.display())))?
                .detach()
                .data;
            let lines = changed_lines(
                &String::from_utf8_lossy(&old),
                &String::from_utf8_lossy(&now),
            );
            if !lines.is_empty() {
                changed.insert(abs, Change::Lines(lines));
            }
        }
        Ok(ChangedLines {
            files: changed,
            cwd: cwd.to_path_buf(),
            base: merge_base.to_string(),
        })
    }

    /// Whether the file (as scanned) has a changed line.
    pub fn changes_file(&self, path: &Path) -> bool {
        self.files.contains_key(&absolute(path, &self.cwd))
    }

    /// Whether a location lies on a changed line.
    pub fn touches_location(&self, loc: &Location) -> bool {
        match self.files.get(&absolute(&loc.path, &self.cwd)) {
            None => false,
            Some(Change::All) => true,
            Some(Change::Lines(lines)) => {
                let end = loc.end_line.max(loc.start_line);
                lines.range(loc.start_line..=end).next().is_some()
            }
        }
    }

    /// Whether the finding's sink or any step of its path lies on a changed line.
    pub fn touches(&self, f: &Finding) -> bool {
        self.touches_location(&f.location)
            || f.path.iter().any(|s| self.touches_location(&s.location))
    }

    /// Drops the findings that touch no changed line; counted in `report.hidden.outside_diff`.
    pub fn apply(&self, report: &mut Report) -> usize {
        let before = report.findings.len();
        report.findings.retain(|f| self.touches(f));
        let hidden = before - report.findings.len();
        report.hidden.outside_diff += hidden;
        hidden
    }
}

/// The lines (1-based) of `new` that are added or changed relative to `old`; a deletion
/// marks the lines on either side of it.
pub fn changed_lines(old: &str, new: &str) -> BTreeSet<u32> {
    use imara_diff::intern::InternedInput;
    let input = InternedInput::new(old, new);
    let mut lines = BTreeSet::new();
    imara_diff::diff(
        imara_diff::Algorithm::Histogram,
        &input,
        |_: Range<u32>, after: Range<u32>| {
            if after.is_empty() {
                // Lines removed between `after.start` and `after.start + 1` (1-based).
                if after.start > 0 {
                    lines.insert(after.start);
                }
                lines.insert(after.start + 1);
            } else {
                lines.extend((after.start + 1)..=after.end);
            }
        },
    );
    lines
}

/// `path` taken from `cwd`, without `.` components and with `..` applied.
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
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

    #[test]
    fn changed_lines_are_added_and_modified_lines_and_deletion_borders() {
        let old = "a\nb\nc\nd\ne\n";
        let new = "a\nB\nc\nx\ny\nd\ne\n";
        let got: Vec<u32> = changed_lines(old, new).into_iter().collect();
        assert_eq!(got, vec![2, 4, 5]);
        let removed: Vec<u32> = changed_lines("a\nb\nc\n", "a\nc\n").into_iter().collect();
        assert_eq!(removed, vec![1, 2]);
        assert!(changed_lines("same\n", "same\n").is_empty());
        // Moving code down marks the moved lines, not those it moved past... as a diff sees it.
        let moved: Vec<u32> = changed_lines("x\n", "new\nx\n").into_iter().collect();
        assert_eq!(moved, vec![1]);
    }

    #[test]
    fn findings_touch_changed_lines_through_sink_or_steps() {
        let cwd = PathBuf::from("/repo");
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("/repo/a.py"),
            Change::Lines([5u32].into_iter().collect()),
        );
        files.insert(PathBuf::from("/repo/new.py"), Change::All);
        let scope = ChangedLines {
            files,
            cwd,
            base: String::new(),
        };
        let at = |p: &str, line: u32| Location {
            path: PathBuf::from(p),
            start_line: line,
            start_column: 1,
            end_line: line,
            end_column: 2,
        };
        assert!(scope.touches_location(&at("a.py", 5)));
        assert!(scope.touches_location(&at("./a.py", 5)));
        assert!(!scope.touches_location(&at("a.py", 6)));
        assert!(scope.touches_location(&at("new.py", 99)));
        assert!(!scope.touches_location(&at("old.py", 5)));
        let mut f = Finding {
            rule_id: "r".into(),
            cwe: vec![],
            severity: vigil_core::Severity::High,
            confidence: vigil_core::Confidence::High,
            message: String::new(),
            location: at("b.py", 1),
            path: vec![vigil_core::FlowStep {
                location: at("a.py", 5),
                message: "source".into(),
            }],
            snippet: String::new(),
            triage: None,
            suppression: None,
        };
        assert!(scope.touches(&f), "a changed source line counts");
        f.path.clear();
        assert!(!scope.touches(&f));
    }
}
