//! Error kinds shared by the compiler and the runtime. The names are Python's (SPEC.md §10).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum ErrorKind {
    SyntaxError = 1,
    IndentationError,
    TabError,
    NameError,
    TypeError,
    ValueError,
    IndexError,
    ZeroDivisionError,
    MemoryError,
    RecursionError,
    KeyboardInterrupt,
    DeviceError,
    InternalError,
    OverflowError,
    /// A file could not be written or read (Python's `OSError` and its subclasses: the
    /// message carries the errno text as Python prints it).
    OSError,
    AssertionError,
    /// `"{x}".format()`: a replacement field names a keyword argument that was not given.
    KeyError,
    /// NumPy's `numpy.exceptions.AxisError` (a ValueError and an IndexError there): an axis
    /// argument out of range.
    AxisError,
    /// ctypes: a library has no such symbol (`lib.foo`), CPython's `AttributeError`.
    AttributeError,
    /// `ctypes.ArgumentError`: a foreign function's argument failed its `argtypes` check
    /// (the message starts `argument N: `, as ctypes prints it).
    ArgumentError,
    /// A C function called through ctypes faulted (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT).
    /// CPython has no such exception (the process dies there); Kiln survives the signal and
    /// reports it, see `ffi/guard.c`.
    ForeignCrash,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::SyntaxError => "SyntaxError",
            ErrorKind::IndentationError => "IndentationError",
            ErrorKind::TabError => "TabError",
            ErrorKind::NameError => "NameError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::ValueError => "ValueError",
            ErrorKind::IndexError => "IndexError",
            ErrorKind::ZeroDivisionError => "ZeroDivisionError",
            ErrorKind::MemoryError => "MemoryError",
            ErrorKind::RecursionError => "RecursionError",
            ErrorKind::KeyboardInterrupt => "KeyboardInterrupt",
            ErrorKind::DeviceError => "DeviceError",
            ErrorKind::InternalError => "InternalError",
            ErrorKind::OverflowError => "OverflowError",
            ErrorKind::OSError => "OSError",
            ErrorKind::AssertionError => "AssertionError",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::AxisError => "AxisError",
            ErrorKind::AttributeError => "AttributeError",
            ErrorKind::ArgumentError => "ArgumentError",
            ErrorKind::ForeignCrash => "ForeignCrash",
        }
    }

    pub fn from_i64(v: i64) -> ErrorKind {
        use ErrorKind::*;
        const ALL: [ErrorKind; 21] = [
            SyntaxError,
            IndentationError,
            TabError,
            NameError,
            TypeError,
            ValueError,
            IndexError,
            ZeroDivisionError,
            MemoryError,
            RecursionError,
            KeyboardInterrupt,
            DeviceError,
            InternalError,
            OverflowError,
            OSError,
            AssertionError,
            KeyError,
            AxisError,
            AttributeError,
            ArgumentError,
            ForeignCrash,
        ];
        ALL.iter()
            .copied()
            .find(|k| *k as i64 == v)
            .unwrap_or(InternalError)
    }
}

/// An error raised while compiled code runs: what happened, and where (the `site` ids are
/// indices into the compiled unit's table of source locations, innermost first).
#[derive(Clone, Debug)]
pub struct RuntimeError {
    pub kind: ErrorKind,
    pub message: String,
    /// Call-chain sites, innermost first. The compiler maps them back to spans.
    pub sites: Vec<u32>,
}
