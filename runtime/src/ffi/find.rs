//! `ctypes.util.find_library(name)` as CPython does it on Linux: the soname
//! (`libm.so.6`), which `ctypes.CDLL` then finds through the ld.so cache.

use std::path::Path;
use std::process::{Command, Stdio};

/// The `(libc6,...)` tag of this architecture's entries in `ldconfig -p`, as CPython's
/// `_findSoname_ldconfig` maps `os.uname().machine`.
fn abi_type() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "libc6,x86-64"
    } else if cfg!(any(
        target_arch = "powerpc64",
        target_arch = "sparc64",
        target_arch = "s390x"
    )) {
        "libc6,64bit"
    } else {
        "libc6"
    }
}

/// The first soname in `ldconfig -p`'s output that CPython's regex
/// `\s+(lib<name>\.[^\s]+)\s+\(<abi>` picks.
pub(crate) fn from_ldconfig_output(out: &str, name: &str) -> Option<String> {
    let prefix = format!("lib{name}.");
    let abi = format!("({}", abi_type());
    out.lines().find_map(|line| {
        let line = line.trim_start();
        let (soname, rest) = line.split_once(char::is_whitespace)?;
        (soname.starts_with(&prefix)
            && soname.len() > prefix.len()
            && rest.trim_start().starts_with(&abi))
        .then(|| soname.to_string())
    })
}

fn ldconfig_p() -> Option<String> {
    // CPython runs /sbin/ldconfig only; some systems have it elsewhere on PATH.
    ["/sbin/ldconfig", "ldconfig"].iter().find_map(|exe| {
        let out = Command::new(exe)
            .arg("-p")
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    })
}

/// How close a file name is to a soname: `libx.so.1` best, then longer versions
/// (`libx.so.1.2.3`, usually the file the soname links to), then the bare `libx.so`
/// (the development link). CPython reads the ELF's SONAME here; this is its usual value.
fn rank(file: &str, stem: &str) -> Option<usize> {
    let rest = file.strip_prefix(stem)?;
    if rest.is_empty() {
        return Some(usize::MAX);
    }
    let version = rest.strip_prefix('.')?;
    let parts: Vec<&str> = version.split('.').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .then_some(parts.len())
}

/// `lib<name>.so*` in `dirs`, the best-ranked file name in the first directory that has one.
pub(crate) fn scan_dirs<P: AsRef<Path>>(dirs: &[P], name: &str) -> Option<String> {
    let stem = format!("lib{name}.so");
    dirs.iter().find_map(|d| {
        let entries = std::fs::read_dir(d).ok()?;
        entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| rank(&f, &stem).map(|r| (r, f)))
            .min()
            .map(|(_, f)| f)
    })
}

/// `ctypes.util.find_library(name)`: the soname of `lib<name>`, or None.
pub fn find_library(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    if let Some(s) = ldconfig_p().and_then(|out| from_ldconfig_output(&out, name)) {
        return Some(s);
    }
    let mut dirs = super::library::ld_library_path();
    dirs.extend(super::library::default_dirs());
    scan_dirs(&dirs, name)
}
