//! The abstract syntax tree of one Kiln cell (SPEC.md §1, §4, §5).
//!
//! The tree mirrors Python's `ast` module closely enough that a reader who knows one knows the
//! other. Every node carries a [`Span`] (byte offsets into the cell's source) so that the
//! checker and the runtime can point at the exact text of an error. Every expression also has
//! an [`ExprId`], unique within one parse, which the checker uses as the key of its type table.

use std::rc::Rc;

/// Byte range `lo..hi` into the source of one cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub lo: u32,
    pub hi: u32,
}

impl Span {
    pub fn new(lo: usize, hi: usize) -> Span {
        Span {
            lo: lo as u32,
            hi: hi as u32,
        }
    }
    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }
}

/// Unique per expression within one parsed cell; keys the checker's type table.
pub type ExprId = u32;

#[derive(Clone, Debug)]
pub struct Module {
    pub body: Vec<Stmt>,
}

/// Execution target written on the line before a loop or an array assignment (SPEC §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Serial,
    Par,
    Gpu,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
    /// `@serial` / `@par` / `@gpu` on the line before this statement (only `For` and
    /// assignments may carry one; the parser reports it anywhere else).
    pub target: Option<(Target, Span)>,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// An expression statement (a call, or the cell's result when it is the last statement).
    Expr(Expr),
    /// `a = b = value`: one or more targets (Name, Tuple of targets, Subscript, Attribute).
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    /// `target op= value`.
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    /// `target: ann = value` (value optional).
    AnnAssign {
        target: Expr,
        annotation: Expr,
        value: Option<Expr>,
    },
    /// `if`/`elif`/`else`: an `elif` is an `If` that is the only statement of `orelse`.
    If {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    While {
        test: Expr,
        body: Vec<Stmt>,
    },
    /// `for target in iter:` — target is a Name or a Tuple of targets (nested tuples of Names).
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
    },
    /// `assert test, msg`.
    Assert {
        test: Expr,
        msg: Option<Expr>,
    },
    Break,
    Continue,
    Pass,
    Return(Option<Expr>),
    FunctionDef(Rc<FunctionDef>),
    /// `global a, b`
    Global(Vec<(String, Span)>),
    /// `import numpy as np`, `from math import sqrt`, ...: the module path (dotted) and the
    /// names imported (empty for a plain `import`). Accepted and ignored by the checker for
    /// the modules SPEC §3 lists; anything else is an error there.
    Import {
        module: String,
        names: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct FunctionDef {
    pub name: String,
    pub name_span: Span,
    pub params: Vec<Param>,
    /// `-> T` (an expression interpreted as a type by the checker).
    pub returns: Option<Expr>,
    pub body: Vec<Stmt>,
    /// `@njit`, `@numba.njit(cache=True)`, ...: kept for diagnostics, otherwise ignored.
    pub decorators: Vec<Expr>,
    /// The whole `def` statement.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub span: Span,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    pub id: ExprId,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    /// The imaginary literal `2.5j` holds 2.5.
    Imag(f64),
    Bool(bool),
    None,
    Str(String),
    FString(Vec<FStringPart>),
    Name(String),
    Attribute {
        value: Box<Expr>,
        attr: String,
        attr_span: Span,
    },
    /// `value[i, j]`: one entry per comma-separated index; slices appear as `Slice`.
    Subscript {
        value: Box<Expr>,
        index: Vec<Expr>,
    },
    /// `lower:upper:step`, only inside a subscript.
    Slice {
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a and b and c` / `a or b`.
    BoolOp {
        op: BoolOp,
        values: Vec<Expr>,
    },
    /// `a < b <= c`: the left operand and each (operator, right operand).
    Compare {
        left: Box<Expr>,
        ops: Vec<(CmpOp, Expr)>,
    },
    /// `body if test else orelse`
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    /// `[elt for target in iter if cond]` (one `for`, an optional `if`); also a generator
    /// expression as a call's only argument, `sum(x * x for x in xs)`.
    ListComp {
        elt: Box<Expr>,
        target: Box<Expr>,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
}

#[derive(Clone, Debug)]
pub enum FStringPart {
    Lit(String),
    /// `{expr!conv:spec}`; spec is the raw text after `:` (nested `{}` in specs unsupported).
    Expr {
        expr: Expr,
        conversion: Option<char>,
        spec: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Keyword {
    pub name: String,
    pub span: Span,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
    Invert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    MatMul,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::MatMul => "@",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::LtE => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtE => ">=",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
        }
    }
}
