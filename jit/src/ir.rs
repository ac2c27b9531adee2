//! The typed loop IR: the one input of every backend.
//!
//! It is structured (loops and ifs stay loops and ifs, not a CFG) because every consumer wants
//! the structure: the Cranelift backend builds blocks from it, the OpenCL C backend will print
//! it back as C, and parallel loops are outlined from a `For` node whole. Every expression
//! carries its type; operands of arithmetic are already converted to one type by the lowering,
//! so backends never decide promotion. Value semantics only: reference counting of arrays
//! and strings is the backend's job.

use crate::syntax::ast::{Span, Target};
use crate::types::Ty;
use kiln_runtime::DType;
use std::fmt::{self, Write};
use std::rc::Rc;

pub type VarId = u32;
pub type FuncId = u32;
pub type GlobalId = u32;
/// Index into [`Program::sites`]: where in the source a fallible operation sits.
pub type SiteId = u32;

#[derive(Clone, Debug)]
pub struct Program {
    pub funcs: Vec<Func>,
    /// The cell's own code: `fn(ctx)`.
    pub entry: FuncId,
    pub globals: Vec<GlobalRef>,
    pub sites: Vec<Site>,
    /// Types of the values `display(v)` shows, by the index in `Builtin::Display`.
    pub display_types: Vec<Ty>,
}

/// A session global the program reads or writes: its flattened slot lives in the session.
#[derive(Clone, Debug)]
pub struct GlobalRef {
    pub name: String,
    pub ty: Ty,
    /// Address of the first of `ty.slots()` 8-byte words.
    pub addr: usize,
}

#[derive(Clone, Debug)]
pub struct Site {
    /// The function (`<cell>` for top level) the operation is in.
    pub func: String,
    pub cell: usize,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub ty: Ty,
}

#[derive(Clone, Debug)]
pub struct Func {
    /// Unique symbol, e.g. `mandel(f64, f64, i64)`.
    pub name: String,
    /// The user's name for it (`mandel`, or `<cell>`).
    pub display: String,
    pub params: Vec<VarId>,
    pub ret: Ty,
    pub vars: Vec<Var>,
    pub body: Vec<Stmt>,
    /// Site of the function entry (for RecursionError).
    pub entry_site: SiteId,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Assign {
        place: Place,
        value: Expr,
    },
    /// Evaluate for its effects and drop the value.
    Eval(Expr),
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// A (possibly multi-dimensional) counted loop: `vars[k]` runs over `ranges[k]`,
    /// row-major, the last fastest. `break` leaves the whole nest.
    For {
        vars: Vec<Place>,
        ranges: Vec<Range>,
        body: Vec<Stmt>,
        target: Target,
        /// Site of the loop header (a zero step raises here).
        site: SiteId,
        /// Set for a loop whose iterations run in parallel (`@par`, `prange`): its body is
        /// outlined into a function the runtime calls on worker threads.
        par: Option<ParInfo>,
    },
    /// `dest[...] = map` (slice assignment, `a += b` on arrays): the map is broadcast to the
    /// destination's shape and written through its strides (via a temporary when an input
    /// may overlap the destination).
    MapInto {
        dest: Expr,
        map: ArrayMap,
        site: SiteId,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    /// The statements that follow come from the source line of this site: no code, only a
    /// source location for the machine code listing (`%%asm`, `%%clif`). The lowering emits
    /// these only when a listing is asked for.
    Line(SiteId),
    Print {
        args: Vec<Expr>,
        sep: Option<Expr>,
        end: Option<Expr>,
        stderr: bool,
    },
}

/// A parallel loop: variables assigned in its body are private to an iteration; the
/// reductions are accumulated per worker from the operator's identity and combined, in a fixed
/// order, with the value the outer variable had before the loop.
#[derive(Clone, Debug)]
pub struct ParInfo {
    /// Unique within the program.
    pub id: u32,
    pub reductions: Vec<ParReduction>,
}

#[derive(Clone, Debug)]
pub struct ParReduction {
    pub op: RedOp,
    /// The body's accumulator.
    pub acc: VarId,
    /// Where the combined value goes (and whose value before the loop starts the combine).
    pub outer: Place,
    pub ty: Ty,
}

/// Reduction operators (codes shared with the runtime's `kiln_par_for`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedOp {
    Add = 0,
    Mul = 1,
    Min = 2,
    Max = 3,
    BitOr = 4,
    BitAnd = 5,
    /// NumPy's float `min`/`max` (a NaN wins), for threaded whole-array reductions; `Min`
    /// and `Max` are Python's `min(s, e)`/`max(s, e)` of parallel loops.
    NpMin = 6,
    NpMax = 7,
}

#[derive(Clone, Debug)]
pub struct Range {
    pub start: Expr,
    pub stop: Expr,
    pub step: Expr,
}

#[derive(Clone, Debug)]
pub enum Place {
    Var(VarId),
    Global(GlobalId),
    /// `array[index...] = v` (bounds-checked at `site`).
    Elem {
        array: Expr,
        index: Vec<Expr>,
        site: SiteId,
    },
    Tuple(Vec<Place>),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    None,
    Bool(bool),
    Int(i64),
    /// A float constant of type `f64` or `f32`.
    Float(f64),
    Complex(f64, f64),
    Str(Rc<str>),
    Var(VarId),
    Global(GlobalId),
    /// Numeric conversion of the operand to `self.ty`.
    Cast(Box<Expr>),
    Unary(UnOp, Box<Expr>),
    /// Both operands have the same type, except `Shl`/`Shr` (i64) and `Pow` (see lowering).
    Binary(BinOp, Box<Expr>, Box<Expr>, SiteId),
    /// Both operands have the same type; the result is `Bool`.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// Short-circuit logic on two operands of the result's type (Python's value semantics).
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// Evaluate the value into the variable, then the body (a chained comparison's middle
    /// operand is evaluated once).
    Let(VarId, Box<Expr>, Box<Expr>),
    /// `a if cond else b`, lazily.
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
    Call {
        func: FuncId,
        args: Vec<Expr>,
        site: SiteId,
    },
    Builtin {
        op: Builtin,
        args: Vec<Expr>,
        site: SiteId,
    },
    /// Element read `array[index...]` (bounds-checked at `site` unless `checked` is false).
    Index {
        array: Box<Expr>,
        index: Vec<Expr>,
        site: SiteId,
    },
    Tuple(Vec<Expr>),
    TupleGet(Box<Expr>, u32),
    /// A fused whole-array expression: one loop nest, a new array as the result.
    Map(Box<ArrayMap>, SiteId),
    /// A reduction over a fused expression, without materialising it.
    MapReduce(Box<ArrayMap>, Reduce, SiteId),
    /// Inside a map's body: the current element of input k.
    Elem(u32),
    /// Inside a map's body: scalar operand k (evaluated once, before the loop).
    MapScalar(u32),
}

/// An elementwise computation over the broadcast shape of its inputs (NumPy semantics).
#[derive(Clone, Debug)]
pub struct ArrayMap {
    /// Array operands, evaluated once.
    pub inputs: Vec<Expr>,
    /// Scalar operands, evaluated once.
    pub scalars: Vec<Expr>,
    /// The element's value: a scalar expression over `Elem`/`MapScalar` leaves.
    pub body: Expr,
    pub ndim: u8,
    /// Where the loop runs: on the worker pool from a size threshold on, or as an annotation
    /// on the assignment (`@par`, `@serial`) says.
    pub threads: MapThreads,
}

/// Whether a whole-array loop runs on the worker pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MapThreads {
    /// From `PAR_MAP_THRESHOLD` elements on (an unannotated statement).
    #[default]
    Auto,
    /// Always (`@par` on the assignment).
    Par,
    /// Never (`@serial` on the assignment).
    Serial,
    /// As an OpenCL kernel (`@gpu` on the assignment): the lowering rewrites such a map into
    /// a `@gpu` loop over the broadcast shape, so no backend sees one.
    Gpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    /// Logical not of a `Bool`.
    Not,
    /// Bitwise not of an `I64` (or logical not of a `Bool`, as NumPy's `~`).
    Invert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// True division (float operands).
    Div,
    FloorDiv,
    Mod,
    Pow,
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
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Array reductions (codes shared with `kiln_array_reduce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum = 0,
    Prod = 1,
    Min = 2,
    Max = 3,
    Mean = 4,
}

/// A typed call of a C function, as its declaration (ctypes' `argtypes`/`restype`, or a
/// `%%c` prototype) and the arguments given decided it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FfiCall {
    /// The C function's name, for a fault's message.
    pub name: Rc<str>,
    pub args: Vec<FfiArg>,
    /// The C return type (None: `void`). Integers come back as `i64`, `bool` as `bool`,
    /// `float` and `double` as `f64`.
    pub ret: Option<crate::ffi::CScalar>,
}

/// One argument of a C call, as the C function receives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FfiArg {
    /// A scalar of this C type. The operand is an `i64` for integers and pointers
    /// (`U64`), a `bool`, an `f32` for `F32`, an `f64` for `F64`.
    Value(crate::ffi::CScalar),
    /// An array passed as the address of its first element, after its flags (`ctype::FLAG_*`)
    /// are checked (ctypes' ArgumentError for argument `argno`, 1-based). The array operand
    /// stays held until the call returns.
    Array { flags: i64, argno: u32 },
}

/// Operations the backends implement by instruction or by a runtime call. Argument types are
/// fixed by the lowering (noted per variant); the result type is the expression's.
#[derive(Clone, Debug, PartialEq)]
pub enum Builtin {
    /// Unary float math on `f64`/`f32` (or `c128` where noted by the lowering).
    Math(MathFn),
    /// `math.sqrt` etc.: like `Math` but a domain error is a ValueError (Python's `math`).
    MathChecked(MathFn),
    /// `abs` of any numeric.
    Abs,
    /// `min(a, b)` / `max(a, b)` on scalars of one type.
    Min,
    Max,
    /// `round(x)` → i64 (half to even).
    RoundInt,
    /// `round(x, n)` → f64.
    RoundN,
    /// `round(i, n)` of an int → i64.
    RoundIntN,
    /// NumPy's `round(a, n)` of array elements → f64.
    NpRoundN,
    /// `int(x)` of a float: towards zero, raising Python's ValueError for NaN and
    /// OverflowError for ±inf or a value outside int64.
    TruncInt,
    /// An i64 wrapped to the width of a narrow integer dtype and widened back: the value
    /// NumPy's arithmetic on such arrays keeps.
    WrapInt(DType),
    /// An i64 that must lie in a narrow integer dtype's range (NumPy 2's OverflowError for
    /// a Python integer out of bounds, as in `np.uint8(300)` or `a + 300`).
    CheckIntRange(DType),
    /// Float → i64 by floor / ceil (Python's `math.floor`, `math.ceil`).
    FloorInt,
    CeilInt,
    /// `arctan2`, `hypot`, `pow` on two f64 (or f32).
    Atan2,
    Hypot,
    /// Parts of a complex: `real`, `imag`, `conj`, `angle`.
    Real,
    Imag,
    Conj,
    Angle,
    IsNan,
    IsInf,
    Sign,
    /// `complex(re, im)` from two f64.
    MakeComplex,
    /// New arrays: shape is a tuple of i64 (`args[0]`).
    Zeros(DType),
    Ones(DType),
    Empty(DType),
    /// A new array a `@gpu` kernel then writes whole (a whole-array `@gpu` assignment's
    /// result): zeroed on the host like `Empty`, and never copied to the device.
    KernelOut(DType),
    /// `full(shape, v)`: v already cast to the dtype.
    Full(DType),
    ArangeInt,
    ArangeFloat,
    Linspace(DType),
    Copy,
    Reduce(Reduce),
    /// `a.shape[k]` of an array (i64).
    Dim(u8),
    /// `a.size` (i64).
    Size,
    /// `a.shape`: a tuple of `ndim` i64.
    Shape,
    /// `a[specs]`: a view. Args: the array, then per indexed axis 4 i64 (kind 0 = integer
    /// index / 1 = slice, then the index or start, stop, step; i64::MIN = absent).
    Slice(u8),
    /// `a @ b` with a 2-D operand (a new array); `DotScalar` for 1-D · 1-D.
    Dot,
    DotScalar,
    /// `a.astype(d)`: a new array.
    AsType(DType),
    /// `a.reshape(shape)` (args: array, shape tuple): a view when contiguous.
    Reshape,
    /// `a.T`: a view with the axes reversed.
    Transpose,
    /// `a[mask]` (args: array, bool array of its shape): a new 1-D array.
    MaskSelect,
    /// `a[idx]` (args: array, int64 array): a new array of shape `idx.shape + a.shape[1:]`.
    Take,
    /// `a[mask] = v` (args: array, bool array, scalar of the array's dtype).
    MaskAssign,
    /// `a[mask] = values` (args: array, bool array, 1-D array of the array's dtype).
    MaskAssignArray,
    /// NumPy's broadcast shape of array operands (a tuple of i64, the result's length), or a
    /// ValueError. With `into`, `args[0]` is a destination the others must broadcast to,
    /// and the shape is the destination's (a slice assignment).
    BroadcastShape {
        into: bool,
    },
    /// `np.broadcast_to(a, shape)` (args: array, shape tuple): a view of `a` with the
    /// shape's dimensions, stride 0 along the broadcast ones.
    BroadcastTo,
    /// Might writing `args[0]` change what reading `args[1]` sees (bool)? See
    /// `kiln_may_overlap`.
    MayOverlap,
    /// `eye(n)`.
    Eye(DType),
    /// `np.flip(a, axis)` (args: array, axis; `i64::MIN` reverses every axis): a view.
    Flip,
    /// `a.fill(v)`: `v` an i64, f64 or c128, converted to `a`'s dtype by the runtime.
    Fill,
    /// `np.sort(a, axis)`, `np.argsort(a, axis)`, `np.median(a, axis)` (the axis operand:
    /// `sorting::AXIS_NONE` for the flattened array), `a.sort(axis)` (in place, no value).
    Sort,
    ArgSort,
    Median,
    MedianAll,
    SortInPlace,
    /// `concatenate`/`stack`/`hstack`/`vstack` (args: the arrays, then the axis), by the
    /// runtime's join mode: a new array of the result's dtype.
    Join(i64),
    /// Array `which` of `meshgrid(x, y)` (args: x, y), of the result's dtype.
    Meshgrid {
        which: u8,
        ij: bool,
    },
    /// `a.diagonal()` of a 2-D array: a 1-D view.
    Diagonal,
    /// `a.flat` written to (`a.flat[i] = v`): a 1-D view of a contiguous array, else a
    /// ValueError (a copy would lose the write).
    FlatView,
    /// `matrix_power(a, n)` (args: square 2-D array, n).
    MatrixPower,
    /// `cumsum(a)` (flattened).
    Cumsum,
    /// `a.cumsum(axis=k)` (args: array, axis): same shape.
    CumsumAxis,
    /// A reduction along an axis (args: array, axis); the runtime's op code.
    ReduceAxis(i64),
    /// A whole-array reduction done by the runtime, by op code (std, var, argmin, ...).
    ReduceAll(i64),
    /// Random numbers: `rand(*shape)`, `randn(*shape)`, `randint(lo, hi, shape)`, `seed(n)`,
    /// and `rand()` for one float.
    Rand,
    Randn,
    Randint,
    Seed,
    RandScalar,
    /// `display(v)`: shows the value (its type is `Program::display_types[k]`).
    Display(u32),
    /// `clear_output(wait)`.
    ClearOutput,
    /// A figure call (`plot`, `scatter`, `hist`, `imshow`, `title`, `legend`, `show`, ...):
    /// args are the operands of `kiln_plot` in `plot::slot` order (None where not given).
    Plot(crate::plot::PlotOp),
    /// `array([...])` from a nested list literal: the elements, row-major, already cast.
    ArrayLit(DType, Vec<i64>),
    /// `ctypes.CDLL(path)` (args: the path, a str): the library's handle (an OSError
    /// naming the paths tried when it cannot be opened).
    FfiOpen,
    /// `lib.name` (args: the library's handle): the function's address (ctypes'
    /// AttributeError when the library has no such symbol).
    FfiSym(Rc<str>),
    /// `a.ctypes.data` / `a.ctypes.data_as(T)` (args: the array): the address of its first
    /// element.
    FfiDataPtr,
    /// A call of a C function (args: its address, then one operand per `FfiCall::args`).
    FfiCall(Rc<FfiCall>),
    /// Text: `str(v)` / `format(v, spec)` / `repr(v)` of any value.
    Format {
        spec: Rc<str>,
        repr: bool,
    },
    Concat,
    StrLen,
    StrEq,
    /// A failed `assert`: raises AssertionError with the string operand as its message.
    AssertFail,
    /// Raises the error with the string operand as its message (`x, y = p` of an array of
    /// another length).
    Raise(kiln_runtime::ErrorKind),
    /// The value of an optional (a number or None): raises TypeError when it is None.
    Unwrap,
    /// An operation on a list (`builtins/lists.rs`).
    List(ListOp),
}

/// The operations on lists; operand 0 is the list unless said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOp {
    /// `[a, b, c]`: a new list of the operands (the result type gives the element).
    Lit,
    Len,
    /// `l[i]` (IndexError out of range).
    Get,
    /// `l[i] = v`.
    Set,
    Append,
    /// `l.insert(i, v)`.
    Insert,
    /// `l.pop()`, or `l.pop(i)` with an index operand.
    Pop {
        index: bool,
    },
    /// `a + b`: a new list.
    Concat,
    /// `a.extend(b)`, `a += b`: in place.
    Extend,
    /// `list(l)`, `sorted(l)`'s copy.
    Copy,
    /// `l * n`.
    Repeat,
    /// `l *= n`: in place.
    RepeatInPlace,
    /// `list(range(start, stop, step))` (operands: the three ints).
    Range,
    /// `l.reverse()`, or a reversed copy (`list(reversed(l))`).
    Reverse {
        copy: bool,
    },
    /// `l.sort()`, or a sorted copy (`sorted(l)`).
    Sort {
        reverse: bool,
        copy: bool,
    },
    /// `v in l` (operands: the list, the value).
    Contains,
    /// `sum(l)` (0), `min(l)` (1), `max(l)` (2).
    Reduce(u8),
    /// `np.array(l)`.
    ToArray(DType),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Sqrt,
    Exp,
    Expm1,
    Exp2,
    Cbrt,
    Log,
    Log1p,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    Floor,
    Ceil,
    Trunc,
    /// NumPy's `round` (half to even) without digits, float → float.
    Rint,
}

impl MathFn {
    pub fn name(self) -> &'static str {
        match self {
            MathFn::Sqrt => "sqrt",
            MathFn::Exp => "exp",
            MathFn::Expm1 => "expm1",
            MathFn::Exp2 => "exp2",
            MathFn::Cbrt => "cbrt",
            MathFn::Log1p => "log1p",
            MathFn::Log => "log",
            MathFn::Log2 => "log2",
            MathFn::Log10 => "log10",
            MathFn::Sin => "sin",
            MathFn::Cos => "cos",
            MathFn::Tan => "tan",
            MathFn::Arcsin => "arcsin",
            MathFn::Arccos => "arccos",
            MathFn::Arctan => "arctan",
            MathFn::Sinh => "sinh",
            MathFn::Cosh => "cosh",
            MathFn::Tanh => "tanh",
            MathFn::Floor => "floor",
            MathFn::Ceil => "ceil",
            MathFn::Trunc => "trunc",
            MathFn::Rint => "rint",
        }
    }
}

impl Expr {
    pub fn new(kind: ExprKind, ty: Ty) -> Expr {
        Expr { kind, ty }
    }
    pub fn int(v: i64) -> Expr {
        Expr::new(ExprKind::Int(v), Ty::I64)
    }
    pub fn none() -> Expr {
        Expr::new(ExprKind::None, Ty::None)
    }
    /// Is this a literal constant (for NumPy 2's weak-literal promotion)?
    pub fn is_literal(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Complex(..)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Printing: Python-like text, one statement per line, every variable with its id and type on
// its first mention in the header. This is what `%ir` and `--emit ir` show.

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, func) in self.funcs.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", Printer { prog: self, func })?;
        }
        Ok(())
    }
}

struct Printer<'a> {
    prog: &'a Program,
    func: &'a Func,
}

impl fmt::Display for Printer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let func = self.func;
        let params: Vec<String> = func
            .params
            .iter()
            .map(|&p| format!("{}: {}", self.var(p), func.vars[p as usize].ty))
            .collect();
        writeln!(
            f,
            "def {}({}) -> {}:",
            func.display,
            params.join(", "),
            func.ret
        )?;
        let locals: Vec<String> = (0..func.vars.len() as u32)
            .filter(|v| !func.params.contains(v))
            .map(|v| format!("{}: {}", self.var(v), func.vars[v as usize].ty))
            .collect();
        if !locals.is_empty() {
            writeln!(f, "    # locals: {}", locals.join(", "))?;
        }
        let mut out = String::new();
        self.block(&mut out, &func.body, 1);
        if func.body.is_empty() {
            out.push_str("    pass\n");
        }
        f.write_str(&out)
    }
}

impl Printer<'_> {
    fn var(&self, v: VarId) -> String {
        format!("{}.{}", self.func.vars[v as usize].name, v)
    }

    fn block(&self, out: &mut String, body: &[Stmt], depth: usize) {
        for s in body {
            self.stmt(out, s, depth);
        }
    }

    fn stmt(&self, out: &mut String, s: &Stmt, depth: usize) {
        let pad = "    ".repeat(depth);
        match s {
            Stmt::Assign { place, value } => {
                let _ = writeln!(out, "{pad}{} = {}", self.place(place), self.expr(value));
            }
            Stmt::Eval(e) => {
                let _ = writeln!(out, "{pad}{}", self.expr(e));
            }
            Stmt::If { cond, then, els } => {
                let _ = writeln!(out, "{pad}if {}:", self.expr(cond));
                self.block(out, then, depth + 1);
                if then.is_empty() {
                    let _ = writeln!(out, "{pad}    pass");
                }
                if !els.is_empty() {
                    let _ = writeln!(out, "{pad}else:");
                    self.block(out, els, depth + 1);
                }
            }
            Stmt::While { cond, body } => {
                let _ = writeln!(out, "{pad}while {}:", self.expr(cond));
                self.block(out, body, depth + 1);
            }
            Stmt::For {
                vars,
                ranges,
                body,
                target,
                par,
                ..
            } => {
                let vs: Vec<String> = vars.iter().map(|p| self.place(p)).collect();
                let rs: Vec<String> = ranges
                    .iter()
                    .map(|r| {
                        format!(
                            "range({}, {}, {})",
                            self.expr(&r.start),
                            self.expr(&r.stop),
                            self.expr(&r.step)
                        )
                    })
                    .collect();
                let t = match target {
                    Target::Serial => "serial",
                    Target::Par => "par",
                    Target::Gpu => "gpu",
                };
                let _ = writeln!(
                    out,
                    "{pad}for[{t}] {} in {}:",
                    vs.join(", "),
                    rs.join(" x ")
                );
                if let Some(p) = par {
                    for r in &p.reductions {
                        let _ = writeln!(
                            out,
                            "{pad}    # reduction {:?}: {} -> {}",
                            r.op,
                            self.var(r.acc),
                            self.place(&r.outer)
                        );
                    }
                }
                self.block(out, body, depth + 1);
            }
            Stmt::MapInto { dest, map, .. } => {
                let _ = writeln!(
                    out,
                    "{pad}{}[...] = map[{}]",
                    self.expr(dest),
                    self.map(map)
                );
            }
            // Source lines are shown by the machine code listings, not in the IR.
            Stmt::Line(_) => {}
            Stmt::Break => {
                let _ = writeln!(out, "{pad}break");
            }
            Stmt::Continue => {
                let _ = writeln!(out, "{pad}continue");
            }
            Stmt::Return(e) => match e {
                Some(e) => {
                    let _ = writeln!(out, "{pad}return {}", self.expr(e));
                }
                None => {
                    let _ = writeln!(out, "{pad}return");
                }
            },
            Stmt::Print {
                args,
                sep,
                end,
                stderr,
            } => {
                let mut parts: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                if let Some(s) = sep {
                    parts.push(format!("sep={}", self.expr(s)));
                }
                if let Some(e) = end {
                    parts.push(format!("end={}", self.expr(e)));
                }
                if *stderr {
                    parts.push("file=stderr".into());
                }
                let _ = writeln!(out, "{pad}print({})", parts.join(", "));
            }
        }
    }

    fn place(&self, p: &Place) -> String {
        match p {
            Place::Var(v) => self.var(*v),
            Place::Global(g) => format!("global {}", self.prog.globals[*g as usize].name),
            Place::Elem { array, index, .. } => {
                let ix: Vec<String> = index.iter().map(|e| self.expr(e)).collect();
                format!("{}[{}]", self.expr(array), ix.join(", "))
            }
            Place::Tuple(items) => {
                let v: Vec<String> = items.iter().map(|p| self.place(p)).collect();
                format!("({})", v.join(", "))
            }
        }
    }

    fn expr(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::None => "None".into(),
            ExprKind::Bool(b) => if *b { "True" } else { "False" }.into(),
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Float(v) => {
                let s = format!("{v:?}");
                if e.ty == Ty::F32 {
                    format!("f32({s})")
                } else {
                    s
                }
            }
            ExprKind::Complex(re, im) => format!("complex({re:?}, {im:?})"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Var(v) => self.var(*v),
            ExprKind::Global(g) => self.prog.globals[*g as usize].name.clone(),
            ExprKind::Cast(x) => format!("{}({})", e.ty, self.expr(x)),
            ExprKind::Unary(op, x) => {
                let s = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "not ",
                    UnOp::Invert => "~",
                };
                format!("{s}{}", self.expr(x))
            }
            ExprKind::Binary(op, a, b, _) => {
                format!("({} {} {})", self.expr(a), op.symbol(), self.expr(b))
            }
            ExprKind::Compare(op, a, b) => {
                format!("({} {} {})", self.expr(a), op.symbol(), self.expr(b))
            }
            ExprKind::And(a, b) => format!("({} and {})", self.expr(a), self.expr(b)),
            ExprKind::Or(a, b) => format!("({} or {})", self.expr(a), self.expr(b)),
            ExprKind::Let(v, x, body) => {
                format!(
                    "(let {} = {} in {})",
                    self.var(*v),
                    self.expr(x),
                    self.expr(body)
                )
            }
            ExprKind::Select(c, a, b) => {
                format!(
                    "({} if {} else {})",
                    self.expr(a),
                    self.expr(c),
                    self.expr(b)
                )
            }
            ExprKind::Call { func, args, .. } => {
                let a: Vec<String> = args.iter().map(|x| self.expr(x)).collect();
                format!("{}({})", self.prog.funcs[*func as usize].name, a.join(", "))
            }
            ExprKind::Builtin { op, args, .. } => {
                let a: Vec<String> = args.iter().map(|x| self.expr(x)).collect();
                format!("{}({}) -> {}", builtin_name(op), a.join(", "), e.ty)
            }
            ExprKind::Index { array, index, .. } => {
                let ix: Vec<String> = index.iter().map(|x| self.expr(x)).collect();
                format!("{}[{}]", self.expr(array), ix.join(", "))
            }
            ExprKind::Tuple(items) => {
                let v: Vec<String> = items.iter().map(|x| self.expr(x)).collect();
                if v.len() == 1 {
                    format!("({},)", v[0])
                } else {
                    format!("({})", v.join(", "))
                }
            }
            ExprKind::TupleGet(t, k) => format!("{}.{k}", self.expr(t)),
            ExprKind::Map(m, _) => format!("map[{}]", self.map(m)),
            ExprKind::MapReduce(m, r, _) => {
                format!("{}(map[{}])", format!("{r:?}").to_lowercase(), self.map(m))
            }
            ExprKind::Elem(k) => format!("${k}"),
            ExprKind::MapScalar(k) => format!("%{k}"),
        }
    }

    fn map(&self, m: &ArrayMap) -> String {
        let ins: Vec<String> = m
            .inputs
            .iter()
            .enumerate()
            .map(|(k, e)| format!("${k}={}", self.expr(e)))
            .collect();
        let sc: Vec<String> = m
            .scalars
            .iter()
            .enumerate()
            .map(|(k, e)| format!("%{k}={}", self.expr(e)))
            .collect();
        let mut parts = ins;
        parts.extend(sc);
        let threads = match m.threads {
            MapThreads::Auto => "",
            MapThreads::Par => " @par",
            MapThreads::Serial => " @serial",
            MapThreads::Gpu => " @gpu",
        };
        format!(
            "{}; {} -> {}{threads}",
            parts.join(", "),
            self.expr(&m.body),
            m.body.ty
        )
    }
}

pub fn builtin_name(op: &Builtin) -> String {
    match op {
        Builtin::Math(m) => m.name().to_string(),
        Builtin::MathChecked(m) => format!("math.{}", m.name()),
        Builtin::Zeros(d) => format!("zeros[{}]", d.numpy_name()),
        Builtin::Ones(d) => format!("ones[{}]", d.numpy_name()),
        Builtin::Empty(d) => format!("empty[{}]", d.numpy_name()),
        Builtin::Full(d) => format!("full[{}]", d.numpy_name()),
        Builtin::Linspace(d) => format!("linspace[{}]", d.numpy_name()),
        Builtin::Reduce(r) => format!("{r:?}").to_lowercase(),
        Builtin::Dim(k) => format!("shape{k}"),
        Builtin::KernelOut(d) => format!("kernel_out[{}]", d.numpy_name()),
        Builtin::BroadcastShape { into: false } => "broadcast_shape".into(),
        Builtin::BroadcastShape { into: true } => "broadcast_shape_into".into(),
        Builtin::BroadcastTo => "broadcast_to".into(),
        Builtin::MayOverlap => "may_overlap".into(),
        Builtin::Format { spec, repr } => {
            if *repr {
                "repr".into()
            } else {
                format!("format{spec:?}")
            }
        }
        Builtin::Raise(k) => format!("raise[{}]", k.name()),
        Builtin::List(op) => format!("list_{op:?}").to_lowercase(),
        Builtin::FfiSym(name) => format!("c_symbol[{name}]"),
        Builtin::FfiCall(c) => format!("c_call[{}]", c.name),
        other => format!("{other:?}").to_lowercase(),
    }
}

// ---------------------------------------------------------------------------------------------
// The verifier: run between passes. It checks the invariants the backends rely on, so a
// lowering bug is reported as an InternalError naming the broken rule instead of miscompiling.

pub fn verify(prog: &Program) -> Result<(), String> {
    for func in &prog.funcs {
        let mut v = Verifier {
            prog,
            func,
            loop_depth: 0,
        };
        v.block(&func.body)
            .map_err(|e| format!("IR verifier: in {}: {e}", func.name))?;
    }
    if prog.entry as usize >= prog.funcs.len() {
        return Err("IR verifier: entry function out of range".into());
    }
    Ok(())
}

struct Verifier<'a> {
    prog: &'a Program,
    func: &'a Func,
    loop_depth: usize,
}

impl Verifier<'_> {
    fn block(&mut self, body: &[Stmt]) -> Result<(), String> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), String> {
        match s {
            Stmt::Assign { place, value } => {
                self.expr(value)?;
                let pt = self.place(place)?;
                if pt != value.ty {
                    return Err(format!(
                        "assignment of {} to a place of type {pt}",
                        value.ty
                    ));
                }
            }
            Stmt::Eval(e) => self.expr(e)?,
            Stmt::If { cond, then, els } => {
                self.cond(cond)?;
                self.block(then)?;
                self.block(els)?;
            }
            Stmt::While { cond, body } => {
                self.cond(cond)?;
                self.loop_body(body)?;
            }
            Stmt::For {
                vars, ranges, body, ..
            } => {
                if vars.len() != ranges.len() || vars.is_empty() {
                    return Err("for loop with mismatched variables and ranges".into());
                }
                for (p, r) in vars.iter().zip(ranges) {
                    if self.place(p)? != Ty::I64 {
                        return Err("for loop variable is not i64".into());
                    }
                    for e in [&r.start, &r.stop, &r.step] {
                        self.expr(e)?;
                        if e.ty != Ty::I64 {
                            return Err("range bound is not i64".into());
                        }
                    }
                }
                self.loop_body(body)?;
            }
            Stmt::MapInto { dest, map, .. } => {
                self.expr(dest)?;
                let Ty::Array { dtype, .. } = dest.ty else {
                    return Err("map into a non-array".into());
                };
                self.map(map)?;
                if Ty::from_dtype(dtype) != map.body.ty {
                    return Err("map into an array of another dtype".into());
                }
            }
            Stmt::Line(site) => {
                if *site as usize >= self.prog.sites.len() {
                    return Err("a line mark names no site".into());
                }
            }
            Stmt::Break | Stmt::Continue => {
                if self.loop_depth == 0 {
                    return Err("break/continue outside a loop".into());
                }
            }
            Stmt::Return(e) => {
                let t = match e {
                    Some(e) => {
                        self.expr(e)?;
                        e.ty.clone()
                    }
                    None => Ty::None,
                };
                if t != self.func.ret {
                    return Err(format!(
                        "return of {t} from a function returning {}",
                        self.func.ret
                    ));
                }
            }
            Stmt::Print { args, sep, end, .. } => {
                for a in args {
                    self.expr(a)?;
                }
                for e in [sep, end].into_iter().flatten() {
                    self.expr(e)?;
                    if e.ty != Ty::Str {
                        return Err("print sep/end is not a str".into());
                    }
                }
            }
        }
        Ok(())
    }

    fn map(&mut self, m: &ArrayMap) -> Result<(), String> {
        for i in &m.inputs {
            self.expr(i)?;
            if !matches!(i.ty, Ty::Array { .. }) {
                return Err("map input is not an array".into());
            }
        }
        for x in &m.scalars {
            self.expr(x)?;
        }
        self.expr(&m.body)
    }

    fn loop_body(&mut self, body: &[Stmt]) -> Result<(), String> {
        self.loop_depth += 1;
        let r = self.block(body);
        self.loop_depth -= 1;
        r
    }

    fn cond(&mut self, e: &Expr) -> Result<(), String> {
        self.expr(e)?;
        if e.ty != Ty::Bool {
            return Err(format!("condition of type {}", e.ty));
        }
        Ok(())
    }

    fn var_ty(&self, v: VarId) -> Result<Ty, String> {
        self.func
            .vars
            .get(v as usize)
            .map(|x| x.ty.clone())
            .ok_or_else(|| format!("variable {v} out of range"))
    }

    fn place(&mut self, p: &Place) -> Result<Ty, String> {
        Ok(match p {
            Place::Var(v) => self.var_ty(*v)?,
            Place::Global(g) => self
                .prog
                .globals
                .get(*g as usize)
                .ok_or("global out of range")?
                .ty
                .clone(),
            Place::Elem { array, index, .. } => self.elem(array, index)?,
            Place::Tuple(items) => {
                let mut tys = Vec::new();
                for p in items {
                    tys.push(self.place(p)?);
                }
                Ty::tuple(tys)
            }
        })
    }

    fn elem(&mut self, array: &Expr, index: &[Expr]) -> Result<Ty, String> {
        self.expr(array)?;
        let Ty::Array { dtype, ndim } = array.ty else {
            return Err(format!("indexing a {}", array.ty));
        };
        if index.len() != ndim as usize {
            return Err(format!("{} indices into a {ndim}-d array", index.len()));
        }
        for i in index {
            self.expr(i)?;
            if i.ty != Ty::I64 {
                return Err(format!("index of type {}", i.ty));
            }
        }
        Ok(Ty::from_dtype(dtype))
    }

    fn expr(&mut self, e: &Expr) -> Result<(), String> {
        let same = |a: &Expr, b: &Expr| -> Result<(), String> {
            if a.ty != b.ty {
                Err(format!("operands of types {} and {}", a.ty, b.ty))
            } else {
                Ok(())
            }
        };
        match &e.kind {
            ExprKind::Var(v) => {
                if self.var_ty(*v)? != e.ty {
                    return Err(format!("variable {v} read with the wrong type"));
                }
            }
            ExprKind::Global(g) => {
                let gt = &self
                    .prog
                    .globals
                    .get(*g as usize)
                    .ok_or("global out of range")?
                    .ty;
                if *gt != e.ty {
                    return Err("global read with the wrong type".into());
                }
            }
            ExprKind::Cast(x) => {
                self.expr(x)?;
                if !(x.ty.is_numeric() && e.ty.is_numeric()) {
                    return Err(format!("cast from {} to {}", x.ty, e.ty));
                }
            }
            ExprKind::Unary(_, x) => self.expr(x)?,
            ExprKind::Binary(op, a, b, _) => {
                self.expr(a)?;
                self.expr(b)?;
                match op {
                    BinOp::Shl | BinOp::Shr => {}
                    _ => same(a, b)?,
                }
            }
            ExprKind::Compare(_, a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                same(a, b)?;
                if e.ty != Ty::Bool {
                    return Err("comparison not of type bool".into());
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                same(a, b)?;
            }
            ExprKind::Let(v, x, body) => {
                self.expr(x)?;
                self.expr(body)?;
                if self.var_ty(*v)? != x.ty || body.ty != e.ty {
                    return Err("let of the wrong type".into());
                }
            }
            ExprKind::Select(c, a, b) => {
                self.cond(c)?;
                self.expr(a)?;
                self.expr(b)?;
                same(a, b)?;
                if a.ty != e.ty {
                    return Err("select of the wrong type".into());
                }
            }
            ExprKind::Call { func, args, .. } => {
                let f = self
                    .prog
                    .funcs
                    .get(*func as usize)
                    .ok_or("call of a function out of range")?;
                if f.params.len() != args.len() {
                    return Err(format!("call of {} with {} arguments", f.name, args.len()));
                }
                for (a, p) in args.iter().zip(&f.params) {
                    self.expr(a)?;
                    if a.ty != f.vars[*p as usize].ty {
                        return Err(format!("argument of type {} to {}", a.ty, f.name));
                    }
                }
                if f.ret != e.ty {
                    return Err(format!("call of {} typed {}", f.name, e.ty));
                }
            }
            ExprKind::Builtin { args, .. } => {
                for a in args {
                    self.expr(a)?;
                }
            }
            ExprKind::Index { array, index, .. } => {
                let t = self.elem(array, index)?;
                if t != e.ty {
                    return Err("element read of the wrong type".into());
                }
            }
            ExprKind::Tuple(items) => {
                let mut tys = Vec::new();
                for x in items {
                    self.expr(x)?;
                    tys.push(x.ty.clone());
                }
                if Some(tys) != e.ty.items() {
                    return Err("tuple of the wrong type".into());
                }
            }
            ExprKind::TupleGet(t, k) => {
                self.expr(t)?;
                match &t.ty.items() {
                    Some(items) if (*k as usize) < items.len() => {
                        if items[*k as usize] != e.ty {
                            return Err("tuple item of the wrong type".into());
                        }
                    }
                    _ => return Err("tuple item out of range".into()),
                }
            }
            ExprKind::Map(m, _) => {
                self.map(m)?;
                m.body.ty.dtype().ok_or("map body not numeric")?;
                // A narrow integer map's body computes in i64.
                let fits = matches!(e.ty, Ty::Array { dtype, ndim }
                    if ndim == m.ndim && Ty::from_dtype(dtype) == m.body.ty);
                if !fits {
                    return Err("map of the wrong type".into());
                }
            }
            ExprKind::MapReduce(m, _, _) => self.map(m)?,
            ExprKind::Elem(_) | ExprKind::MapScalar(_) => {}
            ExprKind::None
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Complex(..)
            | ExprKind::Str(_) => {}
        }
        Ok(())
    }
}
