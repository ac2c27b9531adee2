//! `ctypes.CDLL(path)` and `lib.name`: dlopen and dlsym, failing with CPython's texts.

use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::obj::KStr;
use std::ffi::{c_void, CStr, CString};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// A loaded library. Never closed: ctypes never closes one either, and a function pointer
/// taken from it may live in any compiled cell.
pub struct Library {
    pub handle: *mut c_void,
    /// The name as the user gave it (what error messages show).
    pub path: String,
}

// The handle is only passed to dlsym, which is thread-safe.
unsafe impl Send for Library {}
unsafe impl Sync for Library {}

/// Every library opened so far. dlopen hands back the same handle for the same file, so a
/// cell that runs `ctypes.CDLL` in a loop reuses one `Library` instead of leaking one each
/// time.
static OPENED: Mutex<Vec<&'static Library>> = Mutex::new(Vec::new());

fn dlerror_text() -> Option<String> {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the next dl call
    // on this thread (the error state is per thread in glibc).
    unsafe {
        let e = libc::dlerror();
        (!e.is_null()).then(|| CStr::from_ptr(e).to_string_lossy().into_owned())
    }
}

/// `path` lexically made absolute: what dlopen opens for a name with a '/'.
fn absolute(path: &str) -> PathBuf {
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // `components` drops the `.` of `./m.so`; `..` stays, as symlinks may make it differ
    // from the parent the text names.
    joined
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// The multiarch directory name of this target (Debian and derivatives keep the libraries
/// there, and their dlopen searches it).
fn multiarch() -> Option<&'static str> {
    if cfg!(target_arch = "x86_64") {
        Some("x86_64-linux-gnu")
    } else if cfg!(target_arch = "aarch64") {
        Some("aarch64-linux-gnu")
    } else if cfg!(target_arch = "riscv64") {
        Some("riscv64-linux-gnu")
    } else if cfg!(target_arch = "powerpc64") {
        Some("powerpc64le-linux-gnu")
    } else if cfg!(target_arch = "s390x") {
        Some("s390x-linux-gnu")
    } else {
        None
    }
}

/// LD_LIBRARY_PATH's directories, the first place dlopen looks for a bare name.
pub(crate) fn ld_library_path() -> Vec<String> {
    std::env::var("LD_LIBRARY_PATH")
        .unwrap_or_default()
        .split([':', ';'])
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

/// The directories dlopen looks in last, after the ld.so cache (glibc's defaults: the
/// multiarch ones where they exist, then /lib and /usr/lib).
pub(crate) fn default_dirs() -> Vec<String> {
    let mut dirs = Vec::new();
    if let Some(m) = multiarch() {
        for d in [format!("/lib/{m}"), format!("/usr/lib/{m}")] {
            if Path::new(&d).is_dir() {
                dirs.push(d);
            }
        }
    }
    dirs.push("/lib".to_string());
    dirs.push("/usr/lib".to_string());
    dirs
}

/// What is appended to dlopen's message when the library itself was not found: CPython
/// prints dlerror's text alone, which does not say where a relative name was looked for.
fn where_looked(path: &str) -> String {
    if path.contains('/') {
        format!("looked for {}", absolute(path).display())
    } else {
        let mut dirs = ld_library_path();
        dirs.push("the ld.so cache".to_string());
        dirs.extend(default_dirs());
        format!("looked in {}", dirs.join(", "))
    }
}

/// dlopen with `ctypes.CDLL`'s mode; the error is CPython's `OSError` text.
pub fn open(path: Option<&str>) -> KResult<&'static Library> {
    let c_path = match path {
        Some(p) => Some(
            CString::new(p)
                .map_err(|_| (ErrorKind::ValueError, "embedded null byte".to_string()))?,
        ),
        None => None,
    };
    // Held across dlopen so that two threads opening one file make one `Library`.
    let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: a valid C string or null (the main program, as `ctypes.CDLL(None)`).
    let handle = unsafe {
        libc::dlopen(
            c_path.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            libc::RTLD_NOW | libc::RTLD_LOCAL,
        )
    };
    let shown = path.unwrap_or("None");
    if handle.is_null() {
        let msg = dlerror_text().unwrap_or_else(|| format!("{shown}: cannot load library"));
        // Only when the library itself is missing: for a dependency that is missing the
        // message starts with the dependency's name, and for a bad file the path was found.
        let missing = format!("{shown}: cannot open shared object file");
        return if path.is_some() && msg.starts_with(&missing) {
            err(
                ErrorKind::OSError,
                format!("{msg} ({})", where_looked(shown)),
            )
        } else {
            err(ErrorKind::OSError, msg)
        };
    }
    if let Some(lib) = opened
        .iter()
        .find(|l| l.handle == handle && l.path == shown)
    {
        return Ok(lib);
    }
    let lib: &'static Library = Box::leak(Box::new(Library {
        handle,
        path: shown.to_string(),
    }));
    opened.push(lib);
    Ok(lib)
}

/// dlsym; the error is CPython's `AttributeError` text (`./m.so: undefined symbol: foo`).
pub fn sym(lib: &Library, name: &str) -> KResult<*const u8> {
    let c_name = CString::new(name)
        .map_err(|_| (ErrorKind::ValueError, "embedded null character".to_string()))?;
    // SAFETY: clears this thread's pending error so that the one read below is dlsym's.
    unsafe { libc::dlerror() };
    // SAFETY: a handle from dlopen that is never closed, a valid C string.
    let p = unsafe { libc::dlsym(lib.handle, c_name.as_ptr()) };
    if p.is_null() {
        // A symbol may be defined as null (an undefined weak one); ctypes refuses it too.
        let msg =
            dlerror_text().unwrap_or_else(|| format!("{}: undefined symbol: {name}", lib.path));
        return err(ErrorKind::AttributeError, msg);
    }
    Ok(p as *const u8)
}

/// `ctypes.CDLL(path)`: the library, or null with an `OSError` raised (a null `path` is
/// `CDLL(None)`, the program itself).
/// # Safety
/// `ctx` live; `path` null or a live `KStr`.
#[no_mangle]
pub unsafe extern "C" fn kiln_ffi_open(ctx: *mut ExecCtx, path: *const u8) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        let p = (!path.is_null()).then(|| KStr::as_str(path));
        open(p).map(|l| l as *const Library as *mut u8)
    })
}

/// `lib.name`: the symbol's address, or null with an `AttributeError` raised.
/// # Safety
/// `ctx` live; `lib` from [`kiln_ffi_open`]; `name` points at `name_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn kiln_ffi_sym(
    ctx: *mut ExecCtx,
    lib: *mut u8,
    name: *const u8,
    name_len: i64,
) -> *const u8 {
    guard(ctx, std::ptr::null(), || {
        if lib.is_null() {
            return err(ErrorKind::InternalError, "symbol lookup in a null library");
        }
        let bytes = if name.is_null() || name_len <= 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(name, name_len as usize)
        };
        sym(&*(lib as *const Library), &String::from_utf8_lossy(bytes))
    })
}
