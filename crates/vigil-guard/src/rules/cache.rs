//! An on-disk cache of loaded Sigma rule files, so that rules that have not changed are
//! not parsed and compiled again on every run.
//!
//! Loading SigmaHQ's 2,400 Windows rules costs about 0.4 CPU-seconds, as much as
//! matching 20,000 events; most of it is rsigma's YAML parsing and lowering (0.16 s)
//! and compiling the rules' matchers (0.14 s). The cache keeps, per rule file, what
//! loading it gave: its rules in rsigma's lowered form (`rsigma_ir::IrRule`, which
//! rsigma makes serializable for this use), each with its prefilter gate or its compile
//! error, and the file's messages. A run that finds a file's entry reads that instead
//! of parsing the file, and compiles each of its rules only when an event first opens
//! the rule's gate (on SigmaHQ's attack samples, a quarter of the rules ever are).
//!
//! An entry is used only for a file at the same path whose text hashes the same. The
//! cache file is named by the rule paths and records the build of Vigil that wrote it:
//! a new build, whose parser or prefilter analysis may differ, never reads an old one's
//! entries, and replaces them. A cache that cannot be read or written is reported and left
//! aside; loading never depends on it. Loads with Sigma correlations or filters, which
//! need every rule as parsed, neither read nor write it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rsigma_ir::IrRule;
use rsigma_parser::{Level, LogSource, SigmaRule};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::errors::LoadErrorKind;
use crate::prefilter::Gate;

/// Version of the cache file's layout; entries of another are not read.
const FORMAT: u32 = 1;

/// Cache files kept in the folder (one per list of rule paths, about 10 MB for SigmaHQ's
/// Windows rules): when one is written, all but the most recently written are removed.
pub const MAX_CACHE_FILES: usize = 8;

/// A temporary file of a write that never finished (the writer was killed) is removed
/// once it is this old; a younger one may belong to a write under way.
const STALE_TEMP_FILE: Duration = Duration::from_secs(3600);

/// Where loaded rule files are cached, and the build they are cached for.
#[derive(Debug, Clone)]
pub struct RuleCache {
    dir: PathBuf,
    build: String,
}

impl RuleCache {
    /// A cache in `dir` for the build `build` (a text that changes whenever the program
    /// does: entries written under another build are not read).
    pub fn new(dir: impl Into<PathBuf>, build: impl Into<String>) -> Self {
        RuleCache {
            dir: dir.into(),
            build: build.into(),
        }
    }

    /// The default cache folder: `$VIGIL_CACHE_DIR`, else `$XDG_CACHE_HOME/vigil`, else
    /// `$HOME/.cache/vigil`; `None` when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("VIGIL_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(xdg) = var("XDG_CACHE_HOME") {
            return Some(PathBuf::from(xdg).join("vigil"));
        }
        var("HOME").map(|home| PathBuf::from(home).join(".cache").join("vigil"))
    }

    /// The cache file for a load of these rule files (in this order). The build is not
    /// in the name but in the file: a new build replaces the file of the old one.
    pub(crate) fn file_for<'a>(&self, paths: impl Iterator<Item = &'a Path>) -> PathBuf {
        let mut h = std::hash::DefaultHasher::new();
        for p in paths {
            p.hash(&mut h);
        }
        self.dir.join(format!("sigma-{:016x}.json", h.finish()))
    }

    /// The entries of `file` written by this build; none when there is no such file.
    pub(crate) fn read(&self, file: &Path) -> Result<HashMap<FileKey, CachedFile>, String> {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let doc: CacheDoc = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a rule cache: {e}", file.display()))?;
        if doc.format != FORMAT || doc.build != self.build {
            return Ok(HashMap::new());
        }
        // What loading one file can give; anything else was not written by this build.
        if let Some(e) = doc.files.iter().find(|e| e.file.failed_docs > 1) {
            return Err(format!(
                "{} is not a rule cache: {} failed documents in {}",
                file.display(),
                e.file.failed_docs,
                e.path
            ));
        }
        Ok(doc
            .files
            .into_iter()
            .map(|e| (FileKey::from_parts(e.path, e.hash), e.file))
            .collect())
    }

    /// Replace `file` with these entries (written aside and renamed, so that a reader
    /// never sees half a file).
    pub(crate) fn write(
        &self,
        file: &Path,
        entries: &[(&FileKey, &CachedFile)],
    ) -> Result<(), String> {
        let doc = CacheDocRef {
            format: FORMAT,
            build: &self.build,
            files: entries
                .iter()
                .map(|(key, file)| CacheEntryRef {
                    path: &key.path,
                    hash: key.hash,
                    file,
                })
                .collect(),
        };
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            format!("cannot {what} {}: {e}", file.display())
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| fail("create the folder of", &e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".sigma-")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| fail("write", &e))?;
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        serde_json::to_writer(&mut out, &doc).map_err(|e| fail("write", &e))?;
        out.flush().map_err(|e| fail("write", &e))?;
        drop(out);
        tmp.persist(file).map_err(|e| fail("write", &e.error))?;
        self.prune(file);
        Ok(())
    }

    /// Remove all but the [`MAX_CACHE_FILES`] most recently written cache files (`keep`,
    /// just written, among them) and stale temporary files; other files are left alone.
    fn prune(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut caches: Vec<(SystemTime, PathBuf)> = Vec::new();
        for entry in entries.flatten() {
            let (path, name) = (entry.path(), entry.file_name());
            let (Some(name), Ok(meta)) = (name.to_str(), entry.metadata()) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(now);
            if name.starts_with(".sigma-") && name.ends_with(".tmp") {
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TEMP_FILE)
                {
                    remove(&path);
                }
            } else if name.starts_with("sigma-") && name.ends_with(".json") && path != keep {
                caches.push((modified, path));
            }
        }
        caches.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in caches.iter().skip(MAX_CACHE_FILES - 1) {
            remove(path);
        }
    }
}

/// Remove a file of the cache folder; one that cannot be is left (and tried next time).
fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::debug!("rule cache: cannot remove {}: {e}", path.display());
    }
}

/// A rule file as the cache knows it: its path and a hash of its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    path: String,
    hash: u64,
}

impl FileKey {
    pub(crate) fn new(path: &Path, text: &str) -> Self {
        let mut h = std::hash::DefaultHasher::new();
        text.hash(&mut h);
        FileKey::from_parts(path.to_string_lossy().into_owned(), h.finish())
    }

    fn from_parts(path: String, hash: u64) -> Self {
        FileKey { path, hash }
    }
}

impl CachedFile {
    /// Every rule of the file can be written to the cache and read back.
    pub(crate) fn is_complete(&self) -> bool {
        self.rules.iter().all(|r| {
            !matches!(
                r,
                CachedRule::Compiled {
                    ir: LoweredRule::NotKept,
                    ..
                }
            )
        })
    }
}

/// What loading one rule file gave.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct CachedFile {
    /// Its detection rules, in file order.
    pub rules: Vec<CachedRule>,
    /// Messages about the file (parse errors, parser warnings).
    pub messages: Vec<(LoadErrorKind, String)>,
    /// Documents of the file that gave nothing.
    pub failed_docs: usize,
}

/// One detection rule of a file: lowered and compiled, or why not.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum CachedRule {
    Compiled {
        info: Box<CachedInfo>,
        gate: Gate,
        ir: LoweredRule,
    },
    Failed {
        label: String,
        reason: String,
    },
}

/// What a rule's alerts and routing need of its metadata, read without the rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedInfo {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<Level>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
}

impl CachedInfo {
    pub(crate) fn of(rule: &SigmaRule) -> Self {
        CachedInfo {
            id: rule.id.clone(),
            title: rule.title.clone(),
            level: rule.level,
            tags: rule.tags.clone(),
            logsource: rule.logsource.clone(),
        }
    }
}

/// A rule in rsigma's lowered form, as JSON text: decoded only when the rule is
/// compiled (most cached rules never are, and decoding them all would be a third of a
/// cached load).
#[derive(Debug)]
pub(crate) enum LoweredRule {
    Text(Box<RawValue>),
    /// Not kept: the rule was compiled in this load and no cache is written.
    NotKept,
}

impl LoweredRule {
    pub(crate) fn of(ir: &IrRule) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(ir).map(LoweredRule::Text)
    }

    /// The rule, decoded.
    pub(crate) fn decode(&self) -> Result<IrRule, String> {
        match self {
            LoweredRule::Text(text) => serde_json::from_str(text.get()).map_err(|e| e.to_string()),
            LoweredRule::NotKept => Err("the lowered rule was not kept".to_string()),
        }
    }
}

impl Serialize for LoweredRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LoweredRule::Text(text) => text.serialize(s),
            // Never written: a cache without the rule would be wrong, so writing fails.
            LoweredRule::NotKept => Err(serde::ser::Error::custom("a lowered rule was not kept")),
        }
    }
}

impl<'de> Deserialize<'de> for LoweredRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(LoweredRule::Text)
    }
}

#[derive(Deserialize)]
struct CacheDoc {
    format: u32,
    build: String,
    files: Vec<CacheEntry>,
}

#[derive(Deserialize)]
struct CacheEntry {
    path: String,
    hash: u64,
    file: CachedFile,
}

/// [`CacheDoc`], borrowed for writing.
#[derive(Serialize)]
struct CacheDocRef<'a> {
    format: u32,
    build: &'a str,
    files: Vec<CacheEntryRef<'a>>,
}

#[derive(Serialize)]
struct CacheEntryRef<'a> {
    path: &'a str,
    hash: u64,
    file: &'a CachedFile,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_not_kept_cannot_be_written() {
        let rule = CachedRule::Compiled {
            info: Box::new(CachedInfo {
                id: None,
                title: "t".to_string(),
                level: None,
                tags: Vec::new(),
                logsource: LogSource::default(),
            }),
            gate: None,
            ir: LoweredRule::NotKept,
        };
        let err = serde_json::to_string(&rule).unwrap_err();
        assert!(err.to_string().contains("not kept"), "{err}");
        assert!(LoweredRule::NotKept.decode().is_err());
    }

    #[test]
    fn file_keys_follow_path_and_text() {
        let a = FileKey::new(Path::new("r/a.yml"), "title: a");
        assert_eq!(a, FileKey::new(Path::new("r/a.yml"), "title: a"));
        assert_ne!(a, FileKey::new(Path::new("r/a.yml"), "title: b"));
        assert_ne!(a, FileKey::new(Path::new("r/b.yml"), "title: a"));
    }

    #[test]
    fn cache_files_differ_by_rule_paths_and_a_new_build_replaces_the_old_one() {
        let paths = [Path::new("r/a.yml"), Path::new("r/b.yml")];
        let one = RuleCache::new("/c", "build 1");
        let two = RuleCache::new("/c", "build 2");
        let file = one.file_for(paths.iter().copied());
        assert_eq!(file, one.file_for(paths.iter().copied()));
        assert_eq!(file, two.file_for(paths.iter().copied()));
        assert_ne!(file, one.file_for(paths[..1].iter().copied()));
        assert!(file.starts_with("/c"));
    }
}
