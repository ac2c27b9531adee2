//! C from a cell: the ctypes recipe as a book prints it, `%%c`, ctypes' checks and messages,
//! faults inside C, and C calls from `@par` loops. Every test names its files by absolute
//! paths (the process's directory is shared by the tests) and needs a C compiler, which
//! `./install.sh` installs.
mod common;
use common::{err, ok};
use kiln_jit::Session;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-ffi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A session whose `%%c` cache is this test process's (every test sets the same value).
fn session(_dir: &std::path::Path) -> Session {
    let cache = std::env::temp_dir().join(format!("kiln-ffi-cache-{}", std::process::id()));
    std::env::set_var("KILN_CACHE_DIR", cache);
    Session::new()
}

const MANDELBROT_C: &str = r#"#include "stdio.h"
#include "stdlib.h"

void mandelbrot(int size, int iterations, int *col)
{
    // Variable declarations.
    int i, j, n, index;
    double cx, cy;
    double z0, z1, z0_tmp, z0_2, z1_2;

    // Loop within the grid.
    for (i = 0; i < size; i++)
    {
        cy = -1.5 + (double)i / size * 3;
        for (j = 0; j < size; j++)
        {
            // We initialize the loop of the system.
            cx = -2.0 + (double)j / size * 3;
            index = i * size + j;
            // Let's run the system.
            z0 = 0.0;
            z1 = 0.0;
            for (n = 0; n < iterations; n++)
            {
                z0_2 = z0 * z0;
                z1_2 = z1 * z1;
                if (z0_2 + z1_2 <= 100)
                {
                    // Update the system.
                    z0_tmp = z0_2 - z1_2 + cx;
                    z1 = 2 * z0 * z1 + cy;
                    z0 = z0_tmp;
                    col[index] = n;
                }
                else
                {
                    break;
                }
            }
        }
    }
}
"#;

/// The same loop in Kiln, for comparing pictures.
const MANDELBROT_KILN: &str = r#"
def mandelbrot_kiln(size, iterations):
    col = np.zeros((size, size), dtype=np.int32)
    for i in range(size):
        cy = -1.5 + i / size * 3
        for j in range(size):
            cx = -2.0 + j / size * 3
            z0 = 0.0
            z1 = 0.0
            for n in range(iterations):
                z0_2 = z0 * z0
                z1_2 = z1 * z1
                if z0_2 + z1_2 <= 100:
                    z0_tmp = z0_2 - z1_2 + cx
                    z1 = 2 * z0 * z1 + cy
                    z0 = z0_tmp
                    col[i, j] = n
                else:
                    break
    return col
"#;

#[test]
fn the_ctypes_recipe_runs_as_printed_and_draws_kilns_picture() {
    let d = temp_dir("recipe");
    let mut s = session(&d);
    let src = d.join("mandelbrot.c");
    let so = d.join("mandelbrot.so");
    let (src, so) = (src.display(), so.display());
    ok(&mut s, &format!("%%writefile {src}\n{MANDELBROT_C}"));
    ok(
        &mut s,
        &format!("!gcc -shared -Wl,-soname,mandelbrot -o {so} -fPIC {src}"),
    );
    ok(
        &mut s,
        &format!("import ctypes\nlib = ctypes.CDLL('{so}')\nmandelbrot = lib.mandelbrot"),
    );
    ok(
        &mut s,
        "from numpy.ctypeslib import ndpointer\n\
         # Define the types of the output and arguments of this function.\n\
         mandelbrot.restype = None\n\
         mandelbrot.argtypes = [ctypes.c_int, ctypes.c_int,\n\
                                ndpointer(ctypes.c_int)]",
    );
    ok(
        &mut s,
        "size = 200\niterations = 100\n\
         col = np.empty((size, size), dtype=np.int32)\n\
         mandelbrot(size, iterations, col)",
    );
    ok(&mut s, MANDELBROT_KILN);
    let (_, same) = ok(
        &mut s,
        "mine = mandelbrot_kiln(size, iterations)\n(col == mine).all()",
    );
    // The same library through NumPy's loader, given the C file's path.
    let (_, v) = ok(
        &mut s,
        &format!(
            "lib2 = np.ctypeslib.load_library('mandelbrot', '{src}')\n\
             m2 = lib2.mandelbrot\nm2.restype = None\n\
             m2.argtypes = [ctypes.c_int, ctypes.c_int, ndpointer(np.int32, flags='C')]\n\
             again = np.zeros_like(col)\nm2(size, iterations, again)\n(again == col).all()"
        ),
    );
    assert_eq!(v.as_deref(), Some("True"));
    assert_eq!(same.as_deref(), Some("True"));
    // A picture, not zeros: the set's interior reaches the last iteration.
    let (_, top) = ok(&mut s, "col.max()");
    assert_eq!(top.as_deref(), Some("99"));
    let (_, sum) = ok(&mut s, "int(col.sum()) == int(mine.sum())");
    assert_eq!(sum.as_deref(), Some("True"));
    // The recipe's display cell: log of the counts, and the timing line.
    ok(
        &mut s,
        "plt.imshow(np.log(col + 1), cmap=plt.cm.hot)\nplt.xticks([])\nplt.yticks([])",
    );
    let (out, _) = ok(
        &mut s,
        "%timeit -n 2 -r 3 mandelbrot(size, iterations, col)",
    );
    assert!(out.contains("of 3 runs, 2 loops each"), "{out}");
}

#[test]
fn a_c_cell_compiles_and_its_functions_are_typed_calls() {
    let d = temp_dir("ccell");
    let mut s = session(&d);
    let (out, _) = ok(
        &mut s,
        "%%c -lm\n#include <math.h>\n\
         double norm(const double *x, long n) {\n\
             double s = 0;\n\
             for (long i = 0; i < n; i++) s += x[i] * x[i];\n\
             return sqrt(s);\n\
         }\n\
         void scale(double *x, long n, double k) { for (long i = 0; i < n; i++) x[i] *= k; }\n\
         int add(int a, int b) { return a + b; }\n\
         static int hidden(int a) { return a; }\n\
         float half(float x) { return x / 2; }\n",
    );
    assert_eq!(out, "");
    let (_, v) = ok(&mut s, "x = np.array([3.0, 4.0])\nnorm(x, len(x))");
    assert_eq!(v.as_deref(), Some("5.0"));
    let (_, v) = ok(&mut s, "scale(x, 2, 10.0)\nx");
    assert_eq!(v.as_deref(), Some("array([30., 40.])"));
    // C's int arithmetic: 32 bits, wrapping as the C code does.
    let (_, v) = ok(&mut s, "add(2**31 - 1, 1)");
    assert_eq!(v.as_deref(), Some("-2147483648"));
    let (_, v) = ok(&mut s, "half(3)");
    assert_eq!(v.as_deref(), Some("1.5"));
    let (_, e) = err(&mut s, "hidden(1)");
    assert_eq!(e.ename, "NameError");
    // Called from a function compiled later.
    ok(
        &mut s,
        "def total(a):\n    return add(int(a[0]), int(a[1]))",
    );
    let (_, v) = ok(&mut s, "total(np.array([5, 6]))");
    assert_eq!(v.as_deref(), Some("11"));
    // A prototype says how many arguments there are.
    let (_, e) = err(&mut s, "add(1, 2, 3)");
    assert_eq!(e.evalue, "add() takes 2 arguments (3 given)");
    // Recompiled with a new body: the name is the new function.
    ok(&mut s, "%%c\nint add(int a, int b) { return a - b; }\n");
    let (_, v) = ok(&mut s, "add(5, 6)");
    assert_eq!(v.as_deref(), Some("-1"));
}

#[test]
fn a_c_cell_that_does_not_compile_shows_the_compilers_diagnostics() {
    let d = temp_dir("ccell-error");
    let mut s = session(&d);
    let (_, e) = err(
        &mut s,
        "%%c\nint good(int x) { return x; }\nint bad(int x) { return x +; }\n",
    );
    assert_eq!(e.ename, "CompileError");
    let tb = e.traceback.join("\n");
    assert!(tb.contains("<cell>:2:"), "{tb}");
    assert!(tb.contains("error"), "{tb}");
    // Nothing of the failed cell was defined, and the session goes on.
    let (_, e) = err(&mut s, "good(1)");
    assert_eq!(e.ename, "NameError");
    assert_eq!(ok(&mut s, "1 + 1").1.as_deref(), Some("2"));
    // A function Kiln cannot call is named, with why; the others are defined.
    let mut stderr = String::new();
    let r = s.execute(
        "%%c\nint count(const char *s) { int n = 0; while (s[n]) n++; return n; }\nint twice(int x) { return 2 * x; }\n",
        &mut |o| {
            if let kiln_jit::Output::Stderr(t) = o {
                stderr.push_str(&t)
            }
        },
    );
    assert!(matches!(r, kiln_jit::ExecResult::Ok(_)));
    assert!(
        stderr.contains("count()") && stderr.contains("char *"),
        "{stderr}"
    );
    assert_eq!(ok(&mut s, "twice(21)").1.as_deref(), Some("42"));
}

#[test]
fn array_arguments_are_checked_as_ctypes_and_ndpointer_check_them() {
    let d = temp_dir("checks");
    let mut s = session(&d);
    ok(
        &mut s,
        "%%c\ndouble first(const double *x) { return x[0]; }\nlong lfirst(const long *x) { return x[0]; }\n",
    );
    // A %%c pointer takes a C-contiguous array of its element type, or None.
    let (_, e) = err(&mut s, "first(np.arange(3))");
    assert_eq!(e.ename, "ArgumentError");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: array must have data type float64"
    );
    let (_, e) = err(&mut s, "a = np.arange(10.0)\nfirst(a[::2])");
    assert_eq!(e.ename, "ArgumentError");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: array must have flags ['C_CONTIGUOUS']"
    );
    assert_eq!(ok(&mut s, "first(a[3:])").1.as_deref(), Some("3.0"));
    assert_eq!(
        ok(&mut s, "lfirst(np.arange(7, 9))").1.as_deref(),
        Some("7")
    );
    let (_, e) = err(&mut s, "first([1.0, 2.0])");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: argument must be an ndarray"
    );
    // ndpointer with a rank and flags, through ctypes declarations.
    let src = d.join("first.c");
    std::fs::write(&src, "double first(const double *x) { return x[0]; }\nlong lfirst(const long *x) { return x[0]; }\n").unwrap();
    let so = d.join("first.so");
    ok(
        &mut s,
        &format!("!cc -shared -fPIC -o {} {}", so.display(), src.display()),
    );
    ok(
        &mut s,
        &format!(
            "import ctypes\nfrom numpy.ctypeslib import ndpointer\nlib = ctypes.CDLL('{}')\n\
             f = lib.first\nf.restype = ctypes.c_double\n\
             f.argtypes = [ndpointer(np.float64, ndim=2, flags='C_CONTIGUOUS')]",
            so.display()
        ),
    );
    let (_, e) = err(&mut s, "f(np.zeros(3))");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: array must have 2 dimension(s)"
    );
    let (_, e) = err(&mut s, "f(np.zeros((3, 2)).T)");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: array must have flags ['C_CONTIGUOUS']"
    );
    let (_, e) = err(&mut s, "f(None)");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: argument must be an ndarray"
    );
    let (_, v) = ok(&mut s, "f(np.full((2, 2), 1.5))");
    assert_eq!(v.as_deref(), Some("1.5"));
    // ctypes' own argument rules.
    let (_, e) = err(&mut s, "f()");
    assert_eq!(e.ename, "TypeError");
    assert_eq!(
        e.evalue,
        "this function takes at least 1 argument (0 given)"
    );
    ok(
        &mut s,
        "g = lib.lfirst\ng.argtypes = [ctypes.POINTER(ctypes.c_long)]",
    );
    let (_, e) = err(&mut s, "g(np.arange(3))");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: expected LP_c_long instance instead of numpy.ndarray"
    );
    let (_, e) = err(&mut s, "lib.first.argtypes = [5]");
    assert_eq!(e.evalue, "item 1 in _argtypes_ has no from_param method");
    let (_, e) = err(&mut s, "lib.first.restype = 5");
    assert_eq!(e.evalue, "restype must be a type, a callable, or None");
}

#[test]
fn libraries_and_symbols_that_are_missing_say_where_kiln_looked() {
    let d = temp_dir("missing");
    let mut s = session(&d);
    let missing = d.join("nope.so");
    let (_, e) = err(
        &mut s,
        &format!("import ctypes\nlib = ctypes.CDLL('{}')", missing.display()),
    );
    assert_eq!(e.ename, "OSError");
    assert!(e.evalue.contains("nope.so"), "{}", e.evalue);
    assert!(
        e.evalue.contains("cannot open shared object file"),
        "{}",
        e.evalue
    );
    // NumPy's loader: the extension added, the directory of a file taken.
    let (_, e) = err(
        &mut s,
        &format!(
            "lib3 = np.ctypeslib.load_library('nope', '{}')",
            d.display()
        ),
    );
    assert!(
        e.evalue.contains(&format!("{}/nope.so", d.display())),
        "{}",
        e.evalue
    );
    let (_, e) = err(&mut s, "lib2 = ctypes.CDLL('libkiln_no_such_library.so')");
    assert!(e.evalue.contains("/usr/lib"), "{}", e.evalue);
    // The C library by find_library, its functions by ctypes' default conversions.
    ok(
        &mut s,
        "import ctypes.util\nlibc = ctypes.CDLL(ctypes.util.find_library('c'))",
    );
    assert_eq!(ok(&mut s, "libc.abs(-5)").1.as_deref(), Some("5"));
    let (_, e) = err(&mut s, "libc.abs(2.5)");
    assert_eq!(e.ename, "ArgumentError");
    assert_eq!(
        e.evalue,
        "argument 1: TypeError: Don't know how to convert parameter 1"
    );
    let (_, e) = err(&mut s, "libc.kiln_no_such_function(1)");
    assert_eq!(e.ename, "AttributeError");
    assert!(
        e.evalue.contains("undefined symbol: kiln_no_such_function"),
        "{}",
        e.evalue
    );
    let (_, v) = ok(
        &mut s,
        "ctypes.util.find_library('kiln_no_such_library') is None",
    );
    assert_eq!(v.as_deref(), Some("True"));
    // libm's cos, declared, against Kiln's.
    ok(
        &mut s,
        "libm = ctypes.CDLL(ctypes.util.find_library('m'))\n\
         libm.cos.restype = ctypes.c_double\nlibm.cos.argtypes = [ctypes.c_double]",
    );
    let (_, v) = ok(&mut s, "libm.cos(0.5) == math.cos(0.5)");
    assert_eq!(v.as_deref(), Some("True"));
    // An array's address, as ctypes' pointer types take it.
    ok(
        &mut s,
        "libm.frexp.restype = ctypes.c_double\n\
         libm.frexp.argtypes = [ctypes.c_double, ctypes.POINTER(ctypes.c_int)]\n\
         e = np.zeros(1, dtype=np.int32)",
    );
    let (_, v) = ok(
        &mut s,
        "m = libm.frexp(48.0, e.ctypes.data_as(ctypes.POINTER(ctypes.c_int)))\n(m, e[0])",
    );
    assert_eq!(v.as_deref(), Some("(0.75, 6)"));
    let (_, e) = err(
        &mut s,
        "libm.frexp(48.0, e.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))",
    );
    assert_eq!(
        e.evalue,
        "argument 2: TypeError: expected LP_c_int instance instead of LP_c_double"
    );
    let (_, v) = ok(&mut s, "e.ctypes.data != 0");
    assert_eq!(v.as_deref(), Some("True"));
    // CDLL(None): the process's own symbols.
    let (_, v) = ok(&mut s, "me = ctypes.CDLL(None)\nme.abs(-7)");
    assert_eq!(v.as_deref(), Some("7"));
    // A value made by its ctypes type is passed as that type without argtypes.
    ok(&mut s, "libm.sqrt.restype = ctypes.c_double");
    let (_, v) = ok(&mut s, "libm.sqrt(ctypes.c_double(2.25))");
    assert_eq!(v.as_deref(), Some("1.5"));
}

#[test]
fn a_crash_inside_c_is_an_error_and_the_session_lives_on() {
    let d = temp_dir("crash");
    let mut s = session(&d);
    ok(
        &mut s,
        "%%c -O0\nint deref(int *p) { return *p; }\n\
         int divide(int a, int b) { return a / b; }\n\
         int down(int n) { volatile char pad[512]; pad[0] = (char)n; return down(n + 1) + pad[0]; }\n",
    );
    ok(&mut s, "x = np.arange(5, dtype=np.int32)");
    let (_, e) = err(&mut s, "deref(None)");
    assert_eq!(e.ename, "ForeignCrash");
    assert!(
        e.evalue.contains("SIGSEGV") && e.evalue.contains("'deref'"),
        "{}",
        e.evalue
    );
    assert!(e.evalue.contains("damaged"), "{}", e.evalue);
    // Everything else is still there.
    assert_eq!(ok(&mut s, "deref(x[3:])").1.as_deref(), Some("3"));
    let (_, e) = err(&mut s, "divide(1, 0)");
    assert_eq!(e.ename, "ForeignCrash");
    assert!(e.evalue.contains("SIGFPE"), "{}", e.evalue);
    let (_, e) = err(&mut s, "down(0)");
    assert_eq!(e.ename, "ForeignCrash");
    assert!(e.evalue.contains("SIGSEGV"), "{}", e.evalue);
    assert_eq!(ok(&mut s, "x.sum()").1.as_deref(), Some("10"));
    // Inside a function: the traceback names the call's line.
    ok(&mut s, "def read():\n    return deref(None)");
    let (_, e) = err(&mut s, "read()");
    assert!(
        e.traceback.join("\n").contains("return deref(None)"),
        "{:?}",
        e.traceback
    );
}

#[test]
fn c_functions_run_in_par_loops_but_not_on_the_gpu() {
    let d = temp_dir("par");
    let mut s = session(&d);
    ok(
        &mut s,
        "%%c\ndouble poly(double x) { return x * x * 0.5 + x - 3.0; }\n\
         int deref(const int *p) { return *p; }\n",
    );
    let code = "n = 100000\nxs = np.linspace(-2.0, 2.0, n)\nout = np.empty(n)\n\
                @par\nfor i in range(n):\n    out[i] = poly(xs[i])\n\
                (out == xs * xs * 0.5 + xs - 3.0).all()";
    assert_eq!(ok(&mut s, code).1.as_deref(), Some("True"));
    // A fault in one worker's call is the loop's error; the session goes on.
    let (_, e) = err(
        &mut s,
        "@par\nfor i in range(1000):\n    if i == 537:\n        out[i] = deref(None)\n",
    );
    assert_eq!(e.ename, "ForeignCrash");
    assert_eq!(ok(&mut s, "poly(2.0)").1.as_deref(), Some("1.0"));
    let (_, e) = err(
        &mut s,
        "@gpu\nfor i in range(8):\n    out[i] = poly(xs[i])\n",
    );
    assert!(e.evalue.contains("C library, function"), "{}", e.evalue);
}

#[test]
fn declarations_belong_at_the_top_level_of_a_cell() {
    let d = temp_dir("decl");
    let mut s = session(&d);
    ok(&mut s, "import ctypes, ctypes.util\nlibm = ctypes.CDLL(ctypes.util.find_library('m'))\nc = libm.cos");
    let (_, e) = err(
        &mut s,
        "def setup():\n    c.restype = ctypes.c_double\nsetup()",
    );
    assert_eq!(e.ename, "TypeError");
    assert!(e.evalue.contains("top level"), "{}", e.evalue);
    // Declared in one cell, called in the next.
    ok(
        &mut s,
        "c.restype = ctypes.c_double\nc.argtypes = (ctypes.c_double,)",
    );
    assert_eq!(ok(&mut s, "c(0.0)").1.as_deref(), Some("1.0"));
    let (_, e) = err(&mut s, "c('zero')");
    assert_eq!(e.evalue, "argument 1: TypeError: wrong type");
}
