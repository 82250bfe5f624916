//! Parses source with tree-sitter and lowers it to the small shared representation in [`ir`]
//! that Vigil's dataflow reads. One adapter per language; adding a language is one new
//! adapter module plus rules.

mod go;
pub mod ir;
mod java;
mod javascript;
mod lower;
mod python;

pub use ir::*;

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("unsupported language for {0}")]
    Unsupported(String),
    #[error("tree-sitter could not load the {0} grammar: {1}")]
    Grammar(&'static str, String),
    #[error("tree-sitter produced no tree")]
    NoTree,
    #[error("file is not text (it contains NUL bytes)")]
    Binary,
}

/// Nesting deeper than this is not lowered (it stays `Unknown`), so hostile input cannot
/// exhaust the stack of the lowering or of the analyses that recurse over the result.
pub const MAX_DEPTH: usize = 120;

/// Parse `source` as `lang` and lower it. Syntax errors do not fail the parse: the regions
/// are listed in `Module::syntax_errors` and the rest is lowered.
pub fn parse(lang: Lang, source: &str) -> Result<Module, ParseError> {
    parse_as(lang, Grammar::Default, source)
}

/// Which grammar of a language a file needs; only JavaScript has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grammar {
    /// Java, Python; JavaScript with JSX.
    Default,
    TypeScript,
    Tsx,
}

impl Grammar {
    fn of(path: &Path) -> Grammar {
        match path.extension().and_then(|e| e.to_str()) {
            Some("ts" | "mts" | "cts") => Grammar::TypeScript,
            Some("tsx") => Grammar::Tsx,
            _ => Grammar::Default,
        }
    }
}

/// Parse `source` as the file `path` (language and grammar by its extension) and lower it.
pub fn parse_path(path: &Path, source: &str) -> Result<Module, ParseError> {
    let lang =
        Lang::from_path(path).ok_or_else(|| ParseError::Unsupported(path.display().to_string()))?;
    parse_as(lang, Grammar::of(path), source)
}

fn parse_as(lang: Lang, grammar: Grammar, source: &str) -> Result<Module, ParseError> {
    if source.as_bytes().contains(&0) {
        return Err(ParseError::Binary);
    }
    // Lowering recurses up to MAX_DEPTH levels, and a level can take tens of KiB of stack in
    // an unoptimised build: more than the 2 MiB a spawned thread (test harness, rayon) gets.
    // Lower on a thread of our own with a stack sized for that, whatever the caller's stack.
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("vigil-code-parse".into())
            .stack_size(LOWER_STACK)
            .spawn_scoped(scope, || parse_here(lang, grammar, source))
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had (resource limits): lower on the caller's stack.
            Err(_) => parse_here(lang, grammar, source),
        }
    })
}

/// Stack for the lowering thread; only the pages touched are committed.
const LOWER_STACK: usize = 64 * 1024 * 1024;

fn parse_here(lang: Lang, grammar: Grammar, source: &str) -> Result<Module, ParseError> {
    let mut parser = tree_sitter::Parser::new();
    let language: tree_sitter::Language = match (lang, grammar) {
        (Lang::Java, _) => tree_sitter_java::LANGUAGE.into(),
        (Lang::Python, _) => tree_sitter_python::LANGUAGE.into(),
        (Lang::Go, _) => tree_sitter_go::LANGUAGE.into(),
        (Lang::JavaScript, Grammar::Default) => tree_sitter_javascript::LANGUAGE.into(),
        (Lang::JavaScript, Grammar::TypeScript) => {
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()
        }
        (Lang::JavaScript, Grammar::Tsx) => tree_sitter_typescript::LANGUAGE_TSX.into(),
    };
    parser
        .set_language(&language)
        .map_err(|e| ParseError::Grammar(lang.name(), e.to_string()))?;
    let tree = parser.parse(source, None).ok_or(ParseError::NoTree)?;
    let root = tree.root_node();
    let mut errors = Vec::new();
    lower::collect_errors(root, &mut errors);
    let mut module = match lang {
        Lang::Java => java::lower(root, source.as_bytes()),
        Lang::Python => python::lower(root, source.as_bytes()),
        Lang::Go => go::lower(root, source.as_bytes()),
        Lang::JavaScript => javascript::lower(root, source.as_bytes()),
    };
    module.lines = source.lines().count();
    module.syntax_errors = errors;
    Ok(module)
}

/// Read and parse a file; the language comes from the extension.
pub fn parse_file(path: &Path) -> Result<Module, FileError> {
    if Lang::from_path(path).is_none() {
        return Err(FileError::Parse(ParseError::Unsupported(
            path.display().to_string(),
        )));
    }
    let bytes = std::fs::read(path).map_err(FileError::Io)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_path(path, &text).map_err(FileError::Parse)
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Parse(ParseError),
}
