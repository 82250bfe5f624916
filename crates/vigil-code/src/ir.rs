//! The small shared representation that dataflow reads. Each language adapter lowers its
//! tree-sitter syntax tree into these types; the analysis never sees tree-sitter nodes.
//!
//! It keeps structure (if/loop/switch/try stay nested) because the taint engine interprets
//! it abstractly: constant conditions pick one branch, loops run to a fixpoint.

/// A source range. Lines and columns are 1-based.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start_line: u32,
    pub start_col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

/// Constant values the engine can fold.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// Python `in`.
    In,
    NotIn,
    /// Bitwise and other operators whose result the engine does not fold.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Lit),
    /// A local, parameter, field of `this`, or a class/module name; the engine decides.
    Name(String),
    Field {
        obj: Box<Expr>,
        name: String,
    },
    Call(Box<Call>),
    /// `new T(args)`; an anonymous class body is lowered into `body`.
    New {
        class: String,
        args: Vec<Expr>,
        body: Option<Box<Class>>,
        span: Span,
    },
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Cond {
        cond: Box<Expr>,
        then: Box<Expr>,
        other: Box<Expr>,
    },
    Index {
        obj: Box<Expr>,
        index: Box<Expr>,
    },
    /// Array initialisers, lists, tuples, sets.
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// String built from parts: f-strings, template literals.
    Concat(Vec<Expr>),
    Cast {
        ty: String,
        expr: Box<Expr>,
    },
    Lambda(Box<Function>),
    /// An assignment used as a value: `(line = r.readLine())`, `i++`, `(x := f())`.
    /// The value is what was assigned.
    Assign {
        target: Box<Target>,
        value: Box<Expr>,
        op: Option<BinOp>,
    },
    /// `[elem for x in xs if c]` and the other comprehensions: the clauses bind in order
    /// and `elem` (with `key`, for a dict) is evaluated for each binding.
    Comprehension {
        clauses: Vec<Clause>,
        key: Option<Box<Expr>>,
        elem: Box<Expr>,
    },
    /// Something the adapter does not model; its children still carry their taint.
    Unknown(Vec<Expr>),
}

/// One clause of a comprehension.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `for target in iter`
    For(Target, Expr),
    /// `if cond`
    If(Expr),
}

impl Expr {
    /// `a.b.c` as a dotted string when the expression is a chain of names and fields.
    pub fn dotted(&self) -> Option<String> {
        match self {
            Expr::Name(n) => Some(n.clone()),
            Expr::Field { obj, name } => obj.dotted().map(|d| format!("{d}.{name}")),
            _ => None,
        }
    }

    pub fn str_lit(&self) -> Option<&str> {
        match self {
            Expr::Lit(Lit::Str(s)) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `None` for a plain function call `f(x)`.
    pub receiver: Option<Expr>,
    pub name: String,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(String, Expr)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Var(String),
    Field(Expr, String),
    Index(Expr, Expr),
    Tuple(Vec<Target>),
    /// Assignment to something the engine cannot name (e.g. a call result).
    Other(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchCase {
    /// Empty for `default` / `case _`.
    pub labels: Vec<Expr>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    pub var: Option<String>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// Declaration or assignment. `op` is set for compound assignment (`+=`).
    Assign {
        target: Target,
        value: Option<Expr>,
        ty: Option<String>,
        op: Option<BinOp>,
        span: Span,
    },
    Expr(Expr, Span),
    If {
        cond: Expr,
        then: Vec<Stmt>,
        other: Vec<Stmt>,
        span: Span,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    ForEach {
        target: Target,
        ty: Option<String>,
        iter: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    Switch {
        subject: Expr,
        cases: Vec<SwitchCase>,
        /// Java's classic switch falls through between cases until `break`.
        fallthrough: bool,
    },
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        finally: Vec<Stmt>,
    },
    Return(Option<Expr>, Span),
    Throw(Expr),
    Break,
    Continue,
    Block(Vec<Stmt>),
    FuncDef(Box<Function>),
    ClassDef(Box<Class>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: Option<String>,
    pub default: Option<Expr>,
    /// Annotations/decorations on the parameter (`@RequestParam`), by simple name.
    pub annotations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub ret_ty: Option<String>,
    /// Python decorators and Java annotations, as expressions (`app.route("/x")`).
    pub decorators: Vec<Expr>,
    pub is_static: bool,
    /// Callable from outside its module or package: Java `public` (interface members
    /// included), a Python name without a leading `_`.
    pub is_public: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: Option<String>,
    pub is_static: bool,
    pub init: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub name: String,
    pub supers: Vec<String>,
    pub fields: Vec<Field>,
    pub methods: Vec<Function>,
    pub classes: Vec<Class>,
    pub is_interface: bool,
    /// Java annotations on the class (`@RestController`), by simple name.
    pub annotations: Vec<String>,
    /// See [`Function::is_public`].
    pub is_public: bool,
    pub span: Span,
}

/// `import a.b.C` (alias `C`, path `a.b.C`); `from a import b as c` (alias `c`, path `a.b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub alias: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Java,
    Python,
    Go,
    /// JavaScript and TypeScript: one rule family, the grammar chosen by extension.
    JavaScript,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Java => "java",
            Lang::Python => "python",
            Lang::Go => "go",
            Lang::JavaScript => "javascript",
        }
    }

    /// The language of a file, by extension.
    pub fn from_path(path: &std::path::Path) -> Option<Lang> {
        match path.extension()?.to_str()? {
            "java" => Some(Lang::Java),
            "py" => Some(Lang::Python),
            "go" => Some(Lang::Go),
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Some(Lang::JavaScript),
            _ => None,
        }
    }
}

impl Module {
    /// A module of `lang` from its top-level statements: definitions become the module's
    /// functions and classes, the rest stays as module code (Python, JavaScript).
    pub fn from_top_level(lang: Lang, imports: Vec<Import>, body: Vec<Stmt>) -> Module {
        let mut module = Module {
            lang,
            package: None,
            imports,
            classes: Vec::new(),
            functions: Vec::new(),
            body: Vec::new(),
            lines: 0,
            syntax_errors: Vec::new(),
        };
        for s in body {
            match s {
                Stmt::FuncDef(f) => module.functions.push(*f),
                Stmt::ClassDef(c) => module.classes.push(*c),
                other => module.body.push(other),
            }
        }
        module
    }
}

/// One lowered source file.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub lang: Lang,
    /// Java package, Go package name, or Python module path guessed from the file path.
    pub package: Option<String>,
    pub imports: Vec<Import>,
    pub classes: Vec<Class>,
    pub functions: Vec<Function>,
    /// Module-level statements (Python).
    pub body: Vec<Stmt>,
    pub lines: usize,
    /// Regions tree-sitter could not parse; the rest of the file is still lowered.
    pub syntax_errors: Vec<Span>,
}
