//! Foreign calls: dlopen/dlsym errors, calls through hand-written thunks (what the compiler
//! emits for `f(x)`), crashes in C caught and reported, `ndpointer` flag checks and
//! `find_library`.

use super::{ctx, take_err};
use crate::alloc::new_array;
use crate::array::DType;
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::ffi::*;
use crate::nd::{slice, transpose, SLICE_NONE};
use crate::obj::KStr;
use crate::value::ArrayRef;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Barrier, OnceLock};

fn kstr(s: &str) -> Str {
    Str(KStr::new_raw(s.to_string()))
}

/// A string object, released when dropped.
struct Str(*mut u8);
impl Drop for Str {
    fn drop(&mut self) {
        unsafe { crate::obj::kiln_decref(self.0) }
    }
}

unsafe fn open(c: &mut ExecCtx, path: &str) -> *mut u8 {
    let s = kstr(path);
    kiln_ffi_open(c, s.0)
}

unsafe fn sym(c: &mut ExecCtx, lib: *mut u8, name: &str) -> *const u8 {
    kiln_ffi_sym(c, lib, name.as_ptr(), name.len() as i64)
}

unsafe fn call(c: &mut ExecCtx, thunk: unsafe extern "C" fn(*mut u8), buf: *mut u8, name: &str) {
    call_guarded(c, thunk, buf, name)
}

/// The argument buffer of a call `out = f(x)` with `double f(double)`.
#[repr(C)]
struct F64Call {
    f: *const u8,
    x: f64,
    out: f64,
}

unsafe extern "C" fn thunk_f64(buf: *mut u8) {
    let b = &mut *(buf as *mut F64Call);
    let f: extern "C" fn(f64) -> f64 = std::mem::transmute(b.f);
    b.out = f(b.x);
}

/// `out = f(a, b)` with `int f(int, int)`.
#[repr(C)]
struct I32Call {
    f: *const u8,
    a: i32,
    b: i32,
    out: i32,
}

unsafe extern "C" fn thunk_i32(buf: *mut u8) {
    let b = &mut *(buf as *mut I32Call);
    let f: extern "C" fn(i32, i32) -> i32 = std::mem::transmute(b.f);
    b.out = f(b.a, b.b);
}

/// `f()` with `void f(void)`.
unsafe extern "C" fn thunk_void(buf: *mut u8) {
    let f: extern "C" fn() = std::mem::transmute(*(buf as *const *const u8));
    f();
}

unsafe extern "C" fn thunk_null_deref(_buf: *mut u8) {
    std::ptr::read_volatile(std::ptr::null::<i32>());
}

fn libm(c: &mut ExecCtx) -> *mut u8 {
    let lib = unsafe { open(c, "libm.so.6") };
    assert!(!lib.is_null(), "{:?}", take_err(c));
    lib
}

fn cos_of(c: &mut ExecCtx, x: f64) -> f64 {
    let lib = libm(c);
    let f = unsafe { sym(c, lib, "cos") };
    assert!(!f.is_null());
    let mut b = F64Call { f, x, out: 0.0 };
    unsafe { call(c, thunk_f64, &mut b as *mut F64Call as *mut u8, "cos") };
    assert_eq!(take_err(c), None);
    b.out
}

fn crash(c: &mut ExecCtx) -> String {
    match take_err(c) {
        Some((ErrorKind::ForeignCrash, m)) => m,
        other => panic!("expected ForeignCrash, got {other:?}"),
    }
}

const DAMAGE: &str = "; the process may be damaged (memory the C code changed is not restored; \
                      locks it held stay held): save your work and restart the kernel if \
                      results from here on look wrong";

// ---------------------------------------------------------------------------------------
// dlopen / dlsym

#[test]
fn ffi_open_missing_relative_path_names_the_absolute_path() {
    let mut c = ctx();
    let lib = unsafe { open(&mut c, "./no_such_kiln_lib.so") };
    assert!(lib.is_null());
    let cwd = std::env::current_dir().unwrap();
    let want = format!(
        "./no_such_kiln_lib.so: cannot open shared object file: No such file or directory \
         (looked for {}/no_such_kiln_lib.so)",
        cwd.display()
    );
    assert_eq!(take_err(&mut c), Some((ErrorKind::OSError, want)));
}

#[test]
fn ffi_open_missing_bare_name_lists_the_search_dirs() {
    let mut c = ctx();
    let lib = unsafe { open(&mut c, "libno_such_kiln_lib.so") };
    assert!(lib.is_null());
    let (kind, msg) = take_err(&mut c).unwrap();
    assert_eq!(kind, ErrorKind::OSError);
    assert!(
        msg.starts_with(
            "libno_such_kiln_lib.so: cannot open shared object file: No such file or \
             directory (looked in "
        ),
        "{msg}"
    );
    assert!(msg.contains("the ld.so cache, "), "{msg}");
    assert!(msg.ends_with(", /lib, /usr/lib)"), "{msg}");
}

#[test]
fn ffi_open_not_a_library_gives_dlerror_alone() {
    // The file exists, so where it was looked for is not the news.
    let dir = scratch_dir("notelf");
    let p = dir.join("fake.so");
    std::fs::write(&p, "not an ELF file").unwrap();
    let mut c = ctx();
    let lib = unsafe { open(&mut c, p.to_str().unwrap()) };
    assert!(lib.is_null());
    let (kind, msg) = take_err(&mut c).unwrap();
    assert_eq!(kind, ErrorKind::OSError);
    assert!(msg.starts_with(&format!("{}: ", p.display())), "{msg}");
    assert!(!msg.contains("looked"), "{msg}");
}

#[test]
fn ffi_open_twice_gives_one_library() {
    let mut c = ctx();
    let a = libm(&mut c);
    let b = libm(&mut c);
    assert_eq!(a, b);
    let lib = unsafe { &*(a as *const Library) };
    assert_eq!(lib.path, "libm.so.6");
}

#[test]
fn ffi_sym_missing_is_attribute_error() {
    let mut c = ctx();
    let lib = libm(&mut c);
    let f = unsafe { sym(&mut c, lib, "no_such_kiln_function") };
    assert!(f.is_null());
    let (kind, msg) = take_err(&mut c).unwrap();
    assert_eq!(kind, ErrorKind::AttributeError);
    // glibc names the file it loaded, as CPython shows it.
    assert!(
        msg.ends_with("libm.so.6: undefined symbol: no_such_kiln_function"),
        "{msg}"
    );
}

#[test]
fn ffi_sym_missing_names_the_library_path() {
    let Some(so) = test_lib() else { return };
    let dir = so.parent().unwrap();
    let mut c = ctx();
    let lib = unsafe { open(&mut c, so.to_str().unwrap()) };
    assert!(!lib.is_null(), "{:?}", take_err(&mut c));
    let f = unsafe { sym(&mut c, lib, "foo") };
    assert!(f.is_null());
    assert_eq!(
        take_err(&mut c),
        Some((
            ErrorKind::AttributeError,
            format!("{}/libkilnffi.so: undefined symbol: foo", dir.display())
        ))
    );
}

// ---------------------------------------------------------------------------------------
// Calls

#[test]
fn ffi_call_cos_from_libm() {
    let mut c = ctx();
    assert_eq!(cos_of(&mut c, 0.0), 1.0);
    assert_eq!(cos_of(&mut c, 1.0), 1f64.cos());
    assert_eq!(c.err, 0);
}

#[test]
fn ffi_call_libc_abs() {
    let mut c = ctx();
    let lib = unsafe { open(&mut c, "libc.so.6") };
    assert!(!lib.is_null());
    let f = unsafe { sym(&mut c, lib, "abs") };
    let mut b = I32Call {
        f,
        a: -42,
        b: 0,
        out: 0,
    };
    unsafe { call(&mut c, thunk_i32, &mut b as *mut I32Call as *mut u8, "abs") };
    assert_eq!((c.err, b.out), (0, 42));
}

#[test]
fn ffi_null_deref_is_caught_and_the_next_call_works() {
    let mut c = ctx();
    unsafe { call(&mut c, thunk_null_deref, std::ptr::null_mut(), "deref") };
    assert_eq!(c.err, 1);
    assert_eq!(
        crash(&mut c),
        format!("segmentation fault (SIGSEGV) in C function 'deref' at address 0x0{DAMAGE}")
    );
    assert_eq!(cos_of(&mut c, 0.0), 1.0);
    // And a second crash on the same thread is caught as well.
    unsafe { call(&mut c, thunk_null_deref, std::ptr::null_mut(), "deref") };
    crash(&mut c);
    assert_eq!(cos_of(&mut c, 0.0), 1.0);
}

#[test]
fn ffi_abort_in_c_is_caught() {
    let mut c = ctx();
    let lib = unsafe { open(&mut c, "libc.so.6") };
    let mut f = unsafe { sym(&mut c, lib, "abort") };
    unsafe {
        call(
            &mut c,
            thunk_void,
            &mut f as *mut *const u8 as *mut u8,
            "abort",
        )
    };
    assert_eq!(
        crash(&mut c),
        format!("abort (SIGABRT) in C function 'abort'{DAMAGE}")
    );
    assert_eq!(cos_of(&mut c, 0.0), 1.0);
}

/// A directory of this test process's own.
fn scratch_dir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-ffi-{}-{what}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const TEST_C: &str = r#"
int kiln_recurse(int n) {
    volatile char pad[512];
    pad[0] = (char)n;
    return kiln_recurse(n + 1) + pad[0];
}
int kiln_divide(int a, int b) { return a / b; }
int kiln_add(int a, int b) { return a + b; }
"#;

/// `libkilnffi.so` built from `TEST_C`, or None (with a note) where there is no C compiler.
fn test_lib() -> Option<PathBuf> {
    static LIB: OnceLock<Option<PathBuf>> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = scratch_dir("lib");
        let src = dir.join("kilnffi.c");
        let so = dir.join("libkilnffi.so");
        std::fs::write(&src, TEST_C).unwrap();
        // -O0: the recursion must stay a recursion, the division a division.
        let ok = Command::new("cc")
            .args(["-shared", "-fPIC", "-O0", "-o"])
            .arg(&so)
            .arg(&src)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("no C compiler: skipping the tests that need a C library");
        }
        ok.then_some(so)
    })
    .clone()
}

fn test_fn(c: &mut ExecCtx, name: &str) -> Option<*const u8> {
    let so = test_lib()?;
    let lib = unsafe { open(c, so.to_str().unwrap()) };
    assert!(!lib.is_null(), "{:?}", take_err(c));
    let f = unsafe { sym(c, lib, name) };
    assert!(!f.is_null(), "{:?}", take_err(c));
    Some(f)
}

fn call_i32(c: &mut ExecCtx, name: &str, a: i32, b: i32) -> Option<i32> {
    let f = test_fn(c, name)?;
    let mut buf = I32Call { f, a, b, out: -1 };
    unsafe { call(c, thunk_i32, &mut buf as *mut I32Call as *mut u8, name) };
    Some(buf.out)
}

#[test]
fn ffi_stack_overflow_in_c_is_caught() {
    let mut c = ctx();
    if call_i32(&mut c, "kiln_recurse", 0, 0).is_none() {
        return;
    }
    let m = crash(&mut c);
    assert!(
        m.starts_with("stack overflow (SIGSEGV) in C function 'kiln_recurse' at address 0x"),
        "{m}"
    );
    assert!(m.ends_with(DAMAGE), "{m}");
    assert_eq!(call_i32(&mut c, "kiln_add", 2, 3), Some(5));
    assert_eq!(c.err, 0);
}

#[test]
fn ffi_stack_overflow_on_a_thread_without_an_alternate_stack() {
    // A thread a C library made has no signal stack; the guard gives it one.
    std::thread::spawn(|| {
        unsafe {
            let mut off: libc::stack_t = std::mem::zeroed();
            off.ss_flags = libc::SS_DISABLE;
            assert_eq!(libc::sigaltstack(&off, std::ptr::null_mut()), 0);
        }
        let mut c = ctx();
        if call_i32(&mut c, "kiln_recurse", 0, 0).is_none() {
            return;
        }
        assert!(crash(&mut c).starts_with("stack overflow (SIGSEGV)"));
        assert_eq!(call_i32(&mut c, "kiln_add", 2, 3), Some(5));
    })
    .join()
    .unwrap();
}

#[test]
#[cfg(target_arch = "x86_64")] // where integer division by zero traps
fn ffi_integer_division_by_zero_in_c_is_caught() {
    let mut c = ctx();
    if call_i32(&mut c, "kiln_divide", 7, 0).is_none() {
        return;
    }
    let m = crash(&mut c);
    assert!(
        m.starts_with(
            "integer division by zero (SIGFPE) in C function 'kiln_divide' at instruction 0x"
        ),
        "{m}"
    );
    assert_eq!(call_i32(&mut c, "kiln_divide", 7, 2), Some(3));
    assert_eq!(c.err, 0);
}

#[test]
fn ffi_faults_in_four_threads_at_once() {
    // Each thread is inside its own guarded call when the faults come.
    let have_c = test_lib().is_some();
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = ctx();
                let mut seen = Vec::new();
                for round in 0..20 {
                    barrier.wait();
                    if have_c && (t + round) % 2 == 1 {
                        call_i32(&mut c, "kiln_recurse", 0, 0);
                    } else {
                        unsafe { call(&mut c, thunk_null_deref, std::ptr::null_mut(), "deref") };
                    }
                    seen.push(crash(&mut c));
                    assert_eq!(cos_of(&mut c, 0.0), 1.0);
                }
                seen
            })
        })
        .collect();
    for t in threads {
        for m in t.join().unwrap() {
            assert!(
                m.starts_with("segmentation fault (SIGSEGV) in C function 'deref' at address 0x0;")
                    || m.starts_with("stack overflow (SIGSEGV) in C function 'kiln_recurse'"),
                "{m}"
            );
        }
    }
}

extern "C" fn par_body(c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, _red: *mut u64) {
    for i in lo..hi {
        unsafe {
            if i % 3 == 0 {
                call(&mut *c, thunk_null_deref, std::ptr::null_mut(), "deref");
            }
            if (*c).err != 0 {
                return;
            }
        }
    }
}

#[test]
fn ffi_fault_in_a_parallel_loop_is_the_loop_error() {
    let mut c = ctx();
    let r = unsafe {
        crate::par::kiln_par_for(
            &mut *c,
            par_body,
            std::ptr::null(),
            1000,
            0,
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null_mut(),
        )
    };
    assert_ne!(r, 0);
    assert!(crash(&mut c).starts_with("segmentation fault (SIGSEGV) in C function 'deref'"));
    assert_eq!(cos_of(&mut c, 0.0), 1.0);
}

// Faults outside a foreign call must end the process as before the guard existed. These
// run the test binary again with `KILN_FFI_CHILD` set, which makes the `child_*` tests act.

/// The child's exit and output; a child that hangs (a handler that returns to a fault
/// forever) is killed after a minute and fails the test.
fn run_child(test: &str) -> std::process::Output {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("KILN_FFI_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{test} did not end: {:?}", child.wait_with_output());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn is_child() -> bool {
    std::env::var_os("KILN_FFI_CHILD").is_some()
}

/// Installs the guard's handlers (by making one guarded call) in a child process.
fn arm_guard() {
    let mut c = ctx();
    unsafe { call(&mut c, thunk_null_deref, std::ptr::null_mut(), "deref") };
    crash(&mut c);
}

#[test]
fn child_segv_outside_a_call() {
    if !is_child() {
        return;
    }
    arm_guard();
    unsafe { std::ptr::read_volatile(std::ptr::null::<i32>()) };
}

#[inline(never)]
fn rust_recurse(n: u64) -> u64 {
    let pad = std::hint::black_box([n; 64]);
    if n == u64::MAX {
        return 0;
    }
    rust_recurse(n + 1).wrapping_add(pad[7])
}

#[test]
fn child_stack_overflow_outside_a_call() {
    if !is_child() {
        return;
    }
    arm_guard();
    std::thread::spawn(|| rust_recurse(0)).join().unwrap();
}

#[test]
fn ffi_segv_outside_a_call_still_kills() {
    use std::os::unix::process::ExitStatusExt;
    if is_child() {
        return;
    }
    let out = run_child("tests::ffi::child_segv_outside_a_call");
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{out:?}");
}

#[test]
fn ffi_stack_overflow_outside_a_call_is_still_rusts() {
    use std::os::unix::process::ExitStatusExt;
    if is_child() {
        return;
    }
    let out = run_child("tests::ffi::child_stack_overflow_outside_a_call");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
}

// ---------------------------------------------------------------------------------------
// ndpointer arguments

fn f64_3x4() -> ArrayRef {
    let a = new_array(DType::F64, &[3, 4]).unwrap();
    unsafe {
        for i in 0..12 {
            *((*a).data as *mut f64).add(i) = i as f64;
        }
        ArrayRef::from_owned(a)
    }
}

fn view(p: crate::guard::KResult<*mut crate::Array>) -> ArrayRef {
    unsafe { ArrayRef::from_owned(p.unwrap()) }
}

/// `kiln_ffi_array_data(a, flags, 3)`: the pointer, or the error message.
fn data(a: &ArrayRef, flags: i64) -> Result<*mut u8, String> {
    let mut c = ctx();
    let p = unsafe { kiln_ffi_array_data(&mut *c, a.as_ptr(), flags, 3) };
    match take_err(&mut c) {
        None => Ok(p),
        Some((ErrorKind::ArgumentError, m)) => {
            assert!(p.is_null());
            Err(m)
        }
        Some(e) => panic!("{e:?}"),
    }
}

const C: i64 = FLAG_C_CONTIGUOUS;
const F: i64 = FLAG_F_CONTIGUOUS;
const OWN: i64 = FLAG_OWNDATA;
const AW: i64 = FLAG_ALIGNED | FLAG_WRITEABLE;

#[test]
fn ffi_array_flags_of_a_fresh_array() {
    let a = f64_3x4();
    let d = unsafe { (*a.as_ptr()).data };
    assert_eq!(data(&a, 0), Ok(d));
    assert_eq!(data(&a, C | AW | OWN), Ok(d));
    assert_eq!(
        data(&a, F),
        Err("argument 3: TypeError: array must have flags ['F_CONTIGUOUS']".into())
    );
}

#[test]
fn ffi_array_flags_of_a_transposed_view() {
    let a = f64_3x4();
    let t = view(unsafe { transpose(a.as_ptr()) });
    let d = unsafe { (*a.as_ptr()).data };
    assert_eq!(data(&t, F | AW), Ok(d));
    assert_eq!(
        data(&t, C),
        Err("argument 3: TypeError: array must have flags ['C_CONTIGUOUS']".into())
    );
    // All the required flags are listed, in NumPy's order, not only the missing one.
    assert_eq!(
        data(&t, OWN | FLAG_WRITEABLE | C | FLAG_ALIGNED),
        Err(
            "argument 3: TypeError: array must have flags ['C_CONTIGUOUS', 'ALIGNED', \
             'WRITEABLE', 'OWNDATA']"
                .into()
        )
    );
    assert_eq!(
        data(&t, F | OWN),
        Err("argument 3: TypeError: array must have flags ['F_CONTIGUOUS', 'OWNDATA']".into())
    );
}

const ALL: [i64; 4] = [1, SLICE_NONE, SLICE_NONE, SLICE_NONE];

#[test]
fn ffi_array_flags_of_sliced_views() {
    let a = f64_3x4();
    let d = unsafe { (*a.as_ptr()).data as *mut f64 };
    // a[1:3]: rows, still C-contiguous, starting at row 1.
    let rows = view(unsafe { slice(a.as_ptr(), &[[1, 1, 3, SLICE_NONE]]) });
    assert_eq!(data(&rows, C), Ok(unsafe { d.add(4) } as *mut u8));
    assert!(data(&rows, F).is_err());
    // a[:, 1:3]: neither.
    let cols = view(unsafe { slice(a.as_ptr(), &[ALL, [1, 1, 3, SLICE_NONE]]) });
    assert_eq!(
        data(&cols, C),
        Err("argument 3: TypeError: array must have flags ['C_CONTIGUOUS']".into())
    );
    assert!(data(&cols, F).is_err());
    assert_eq!(data(&cols, AW), Ok(unsafe { d.add(1) } as *mut u8));
    // a[1:2]: shape (1, 4), both ways (a length-1 axis has any stride), as NumPy says.
    let row = view(unsafe { slice(a.as_ptr(), &[[1, 1, 2, SLICE_NONE]]) });
    assert_eq!(data(&row, C | F), Ok(unsafe { d.add(4) } as *mut u8));
    // a[:, 1:2]: shape (3, 1) with row stride 4: neither.
    let col = view(unsafe { slice(a.as_ptr(), &[ALL, [1, 1, 2, SLICE_NONE]]) });
    assert!(data(&col, C).is_err());
    assert!(data(&col, F).is_err());
    // a[:, 1]: 1-D with stride 4: neither.
    let col1 = view(unsafe { slice(a.as_ptr(), &[ALL, [0, 1, 0, 0]]) });
    assert!(data(&col1, C).is_err() && data(&col1, F).is_err());
    // a[:, 0:0]: empty, contiguous both ways.
    let empty = view(unsafe { slice(a.as_ptr(), &[ALL, [1, 0, 0, SLICE_NONE]]) });
    assert!(data(&empty, C | F).is_ok());
    // a[::2]: a gap between rows.
    let step = view(unsafe { slice(a.as_ptr(), &[[1, SLICE_NONE, SLICE_NONE, 2]]) });
    assert!(data(&step, C).is_err());
    // Every view lacks OWNDATA.
    assert_eq!(
        data(&rows, OWN),
        Err("argument 3: TypeError: array must have flags ['OWNDATA']".into())
    );
}

#[test]
fn ffi_array_data_marks_the_owner_written() {
    // C may write through the pointer: the owner's device copy must not be taken as current.
    let a = f64_3x4();
    let rows = view(unsafe { slice(a.as_ptr(), &[[1, 1, 3, SLICE_NONE]]) });
    unsafe { (*a.as_ptr()).host_written = 0 };
    data(&rows, C).unwrap();
    assert_eq!(unsafe { (*a.as_ptr()).host_written }, 1);
}

#[test]
fn ffi_array_data_of_null_is_an_argument_error() {
    let mut c = ctx();
    let p = unsafe { kiln_ffi_array_data(&mut *c, std::ptr::null_mut(), C, 2) };
    assert!(p.is_null());
    assert_eq!(
        take_err(&mut c),
        Some((
            ErrorKind::ArgumentError,
            "argument 2: TypeError: argument must be an ndarray".into()
        ))
    );
}

// ---------------------------------------------------------------------------------------
// find_library

#[test]
fn ffi_find_library_reads_ldconfig_as_cpython() {
    use crate::ffi::find::from_ldconfig_output;
    let out = "3 libs found in cache `/etc/ld.so.cache'
\tlibmvec.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libmvec.so.1
\tlibm.so.6 (libc6) => /lib32/libm.so.6
\tlibm.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libm.so.6
\tlibm.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libm.so
";
    assert_eq!(from_ldconfig_output(out, "m").as_deref(), Some("libm.so.6"));
    assert_eq!(
        from_ldconfig_output(out, "mvec").as_deref(),
        Some("libmvec.so.1")
    );
    assert_eq!(from_ldconfig_output(out, "mv"), None);
}

#[test]
fn ffi_find_library_scan_prefers_the_soname() {
    use crate::ffi::find::scan_dirs;
    let empty = scratch_dir("scan-empty");
    let dir = scratch_dir("scan");
    for f in [
        "libfoo.so",
        "libfoo.so.1.2.3",
        "libfoo.so.1",
        "libfoobar.so.2",
        "libfoo.a",
    ] {
        std::fs::write(dir.join(f), "").unwrap();
    }
    let dirs = [empty, dir.clone()];
    assert_eq!(scan_dirs(&dirs, "foo").as_deref(), Some("libfoo.so.1"));
    assert_eq!(
        scan_dirs(&dirs, "foobar").as_deref(),
        Some("libfoobar.so.2")
    );
    assert_eq!(scan_dirs(&dirs, "fo"), None);
    std::fs::remove_file(dir.join("libfoo.so.1")).unwrap();
    assert_eq!(scan_dirs(&dirs, "foo").as_deref(), Some("libfoo.so.1.2.3"));
}

#[test]
fn ffi_find_library() {
    assert_eq!(find_library("m").as_deref(), Some("libm.so.6"));
    assert_eq!(find_library("c").as_deref(), Some("libc.so.6"));
    assert_eq!(find_library("no_such_kiln_library_xyz"), None);
    assert_eq!(find_library(""), None);
}
