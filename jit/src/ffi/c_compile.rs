//! Compiling a `%%c` cell to a shared library with the system C compiler, cached by a hash
//! of the compiler, its version, the flags and the source: a cell run again (or by another
//! kernel) loads the library already built.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The compiler could not be started.
    NoCompiler {
        tried: String,
    },
    /// It ran and failed: its stderr with the cell's file named `<cell>`, and its exit code
    /// (None: killed by a signal).
    Failed {
        diagnostics: String,
        status: Option<i32>,
    },
    Io(String),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::NoCompiler { tried } => write!(
                f,
                "no C compiler found: tried '{tried}' (set CC or install gcc: sudo apt install gcc)"
            ),
            CompileError::Failed {
                diagnostics,
                status,
            } => {
                match status {
                    Some(code) => write!(f, "C compilation failed (exit status {code})")?,
                    None => write!(f, "C compilation failed (the compiler was killed)")?,
                }
                let d = diagnostics.trim_end();
                if d.is_empty() {
                    Ok(())
                } else {
                    write!(f, ":\n{d}")
                }
            }
            CompileError::Io(msg) => write!(f, "C compilation: {msg}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// A built cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// The shared library.
    pub path: PathBuf,
    /// The compiler's warnings (stderr of a successful compile, `<cell>` for the file);
    /// empty when the library came from the cache.
    pub warnings: String,
    /// Whether the library was already built (no compiler ran).
    pub cached: bool,
}

/// Compiles `src` with `$CC` (else `cc`) as `cc -O2 -fPIC -shared <flags> -o <out> <src>`
/// (libraries, `-l...` and `.a`/`.so`/`.o` files, after the source), or finds it built.
pub fn compile(src: &str, flags: &[String]) -> Result<PathBuf, CompileError> {
    compile_cell(src, flags).map(|c| c.path)
}

/// [`compile`], with the warnings and whether it was cached.
pub fn compile_cell(src: &str, flags: &[String]) -> Result<Compiled, CompileError> {
    let cc = match std::env::var("CC") {
        Ok(cc) if !cc.trim().is_empty() => cc,
        _ => "cc".to_string(),
    };
    let dir = cache_dir(
        std::env::var_os("KILN_CACHE_DIR"),
        std::env::var_os("XDG_CACHE_HOME"),
        std::env::var_os("HOME"),
    );
    compile_with(&cc, &dir, src, flags)
}

/// The cache: `$KILN_CACHE_DIR/c`, else `$XDG_CACHE_HOME/kiln/c`, else `~/.cache/kiln/c`,
/// else one in the temporary directory (empty variables count as unset).
pub fn cache_dir(kiln: Option<OsString>, xdg: Option<OsString>, home: Option<OsString>) -> PathBuf {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(k) = set(kiln) {
        k.join("c")
    } else if let Some(x) = set(xdg) {
        x.join("kiln").join("c")
    } else if let Some(h) = set(home) {
        h.join(".cache").join("kiln").join("c")
    } else {
        std::env::temp_dir().join("kiln-cache").join("c")
    }
}

/// [`compile_cell`] with the compiler command (`$CC`: words, the first the program) and the
/// cache directory given.
pub fn compile_with(
    cc: &str,
    dir: &Path,
    src: &str,
    flags: &[String],
) -> Result<Compiled, CompileError> {
    let cc_words = split_flags(cc);
    let Some((program, cc_args)) = cc_words.split_first() else {
        return Err(CompileError::NoCompiler {
            tried: cc.to_string(),
        });
    };
    let version = compiler_version(program, cc_args, cc)?;
    let hash = cache_key(cc, &version, flags, src);
    let so = dir.join(format!("{hash}.so"));
    if so.is_file() {
        return Ok(Compiled {
            path: so,
            warnings: String::new(),
            cached: true,
        });
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CompileError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let c_file = dir.join(format!("{hash}.c"));
    let tag = unique_tag();
    let c_tmp = dir.join(format!(".{hash}.c.{tag}"));
    std::fs::write(&c_tmp, src)
        .and_then(|()| std::fs::rename(&c_tmp, &c_file))
        .map_err(|e| {
            let _ = std::fs::remove_file(&c_tmp);
            CompileError::Io(format!("cannot write {}: {e}", c_file.display()))
        })?;
    let so_tmp = dir.join(format!(".{hash}.so.{tag}"));
    let (options, libraries) = split_libraries(flags);
    let output = Command::new(program)
        .args(cc_args)
        .args(["-O2", "-fPIC", "-shared"])
        .args(&options)
        .arg("-o")
        .arg(&so_tmp)
        .arg(&c_file)
        .args(&libraries)
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::PermissionDenied => {
            return Err(CompileError::NoCompiler {
                tried: cc.to_string(),
            })
        }
        Err(e) => return Err(CompileError::Io(format!("cannot run '{cc}': {e}"))),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let diagnostics = name_cell(&stderr, &c_file, &so_tmp, &so);
    if !output.status.success() {
        let _ = std::fs::remove_file(&so_tmp);
        return Err(CompileError::Failed {
            diagnostics,
            status: output.status.code(),
        });
    }
    // Atomic: another kernel compiling the same cell renames the same library over it.
    std::fs::rename(&so_tmp, &so).map_err(|e| {
        let _ = std::fs::remove_file(&so_tmp);
        CompileError::Io(format!("cannot move the library to {}: {e}", so.display()))
    })?;
    Ok(Compiled {
        path: so,
        warnings: diagnostics,
        cached: false,
    })
}

/// The first line of `cc --version`, asked once per process and compiler command.
fn compiler_version(program: &str, cc_args: &[String], cc: &str) -> Result<String, CompileError> {
    static SEEN: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
    let seen = || SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = seen().as_ref().and_then(|m| m.get(cc)) {
        return Ok(v.clone());
    }
    match Command::new(program)
        .args(cc_args)
        .arg("--version")
        .output()
    {
        Ok(o) => {
            let v = String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            seen()
                .get_or_insert_with(HashMap::new)
                .insert(cc.to_string(), v.clone());
            Ok(v)
        }
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::PermissionDenied => {
            Err(CompileError::NoCompiler {
                tried: cc.to_string(),
            })
        }
        Err(e) => Err(CompileError::Io(format!(
            "cannot run '{cc} --version': {e}"
        ))),
    }
}

/// The first 16 hex digits of a SHA-256 of the compiler, its version, the flags and the
/// source (each length-prefixed, so no two lists hash alike).
pub fn cache_key(cc: &str, version: &str, flags: &[String], src: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(b"kiln %%c 1");
    field(cc.as_bytes());
    field(version.as_bytes());
    field(&(flags.len() as u64).to_le_bytes());
    for f in flags {
        field(f.as_bytes());
    }
    field(src.as_bytes());
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The flags that name libraries (`-lm`, `-l m`, `libfoo.a`, `x.o`, `y.so`), which a linker
/// using `--as-needed` only keeps after the source that needs them, and the others.
fn split_libraries(flags: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut options, mut libraries) = (Vec::new(), Vec::new());
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        let is_file = !f.starts_with('-')
            && (f.ends_with(".a") || f.ends_with(".o") || f.ends_with(".so") || f.contains(".so."));
        if f == "-l" {
            libraries.push(f.clone());
            if let Some(lib) = it.next() {
                libraries.push(lib.clone());
            }
        } else if f.starts_with("-l") || is_file {
            libraries.push(f.clone());
        } else {
            options.push(f.clone());
        }
    }
    (options, libraries)
}

/// The compiler's stderr with the cell's file path as `<cell>` (and the temporary library
/// as the one it becomes).
fn name_cell(stderr: &str, c_file: &Path, so_tmp: &Path, so: &Path) -> String {
    let mut s = stderr.replace(&*c_file.to_string_lossy(), "<cell>");
    s = s.replace(&*so_tmp.to_string_lossy(), &so.to_string_lossy());
    s
}

fn unique_tag() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The words of a `%%c` line's flags, as a POSIX shell splits them (quotes and backslashes
/// honoured, no expansion); a leading `%%c` is dropped. An unclosed quote runs to the end.
pub fn split_flags(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                word.push(n);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.first().map(String::as_str) == Some("%%c") {
        words.remove(0);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the temporary one, removed when dropped.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new(what: &str) -> TempDir {
            let d = std::env::temp_dir().join(format!("kiln-c-test-{what}-{}", unique_tag()));
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn have_cc() -> bool {
        let ok = Command::new("cc").arg("--version").output().is_ok();
        if !ok {
            eprintln!("no 'cc': skipping");
        }
        ok
    }

    /// A `cc` that counts its runs (not `--version`) in `<dir>/count`: a script run by
    /// `sh` (executing a file just written can fail with ETXTBSY while other test threads
    /// fork).
    fn counting_cc(dir: &Path) -> String {
        let script = dir.join("counting-cc");
        let count = dir.join("count");
        std::fs::write(
            &script,
            format!(
                "[ \"$1\" = --version ] || echo run >> '{}'\nexec cc \"$@\"\n",
                count.display()
            ),
        )
        .unwrap();
        format!("sh '{}'", script.display())
    }

    fn runs(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("count"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    const SQUARE: &str = "double square(double x) { return x * x; }\n";

    #[test]
    fn compiles_and_caches() {
        if !have_cc() {
            return;
        }
        let tmp = TempDir::new("cache");
        let cc = counting_cc(&tmp.0);
        let cache = tmp.0.join("cache");
        let first = compile_with(&cc, &cache, SQUARE, &[]).unwrap();
        assert!(!first.cached);
        assert_eq!(runs(&tmp.0), 1);
        let name = first
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.ends_with(".so") && name.len() == 16 + 3, "{name}");
        assert_eq!(first.path.parent(), Some(cache.as_path()));
        let bytes = std::fs::read(&first.path).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF");
        let c_file = first.path.with_extension("c");
        assert_eq!(std::fs::read_to_string(c_file).unwrap(), SQUARE);
        let mtime = std::fs::metadata(&first.path).unwrap().modified().unwrap();

        let second = compile_with(&cc, &cache, SQUARE, &[]).unwrap();
        assert!(second.cached);
        assert_eq!(second.path, first.path);
        assert_eq!(runs(&tmp.0), 1, "a cached cell ran the compiler");
        let mtime2 = std::fs::metadata(&second.path).unwrap().modified().unwrap();
        assert_eq!(mtime, mtime2);

        // Other flags, another library.
        let third = compile_with(&cc, &cache, SQUARE, &["-O3".to_string()]).unwrap();
        assert!(!third.cached);
        assert_ne!(third.path, first.path);
        assert_eq!(runs(&tmp.0), 2);
        // No temporary files left behind.
        let left: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn error_names_the_cell_line() {
        if !have_cc() {
            return;
        }
        let tmp = TempDir::new("error");
        let src = "int ok(int x) { return x; }\n\nint bad(int x) {\n    return x +;\n}\n";
        let e = compile_with("cc", &tmp.0, src, &[]).unwrap_err();
        let CompileError::Failed {
            diagnostics,
            status,
        } = &e
        else {
            panic!("{e:?}");
        };
        assert_eq!(*status, Some(1));
        assert!(diagnostics.contains("<cell>:4:"), "{diagnostics}");
        assert!(
            !diagnostics.contains(&*tmp.0.to_string_lossy()),
            "{diagnostics}"
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with("C compilation failed (exit status 1):\n"),
            "{shown}"
        );
        assert!(shown.contains("<cell>:4:"), "{shown}");
        // No library, no temporary one.
        let libs = std::fs::read_dir(&tmp.0)
            .unwrap()
            .filter(|e| {
                let n = e.as_ref().unwrap().file_name();
                n.to_string_lossy().contains(".so")
            })
            .count();
        assert_eq!(libs, 0);
    }

    #[test]
    fn warnings_and_libraries() {
        if !have_cc() {
            return;
        }
        let tmp = TempDir::new("warn");
        let src = "#include <math.h>\ndouble f(double x) { int unused; return sin(x); }\n";
        let flags = split_flags("%%c -Wall -lm");
        let c = compile_with("cc", &tmp.0, src, &flags).unwrap();
        assert!(c.warnings.contains("<cell>:2:"), "{}", c.warnings);
        assert!(c.warnings.contains("unused"), "{}", c.warnings);
    }

    #[test]
    fn no_compiler() {
        let tmp = TempDir::new("nocc");
        let e = compile_with("kiln-no-such-cc", &tmp.0, SQUARE, &[]).unwrap_err();
        assert_eq!(
            e,
            CompileError::NoCompiler {
                tried: "kiln-no-such-cc".to_string()
            }
        );
        let e = CompileError::NoCompiler {
            tried: "cc".to_string(),
        };
        assert_eq!(
            e.to_string(),
            "no C compiler found: tried 'cc' (set CC or install gcc: sudo apt install gcc)"
        );
    }

    #[test]
    fn key_depends_on_everything() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let k = cache_key("cc", "gcc 12", &f(&["-O3"]), "int x;");
        assert_eq!(k.len(), 16);
        assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(k, cache_key("cc", "gcc 12", &f(&["-O3"]), "int x;"));
        assert_ne!(k, cache_key("gcc", "gcc 12", &f(&["-O3"]), "int x;"));
        assert_ne!(k, cache_key("cc", "gcc 13", &f(&["-O3"]), "int x;"));
        assert_ne!(k, cache_key("cc", "gcc 12", &f(&[]), "int x;"));
        assert_ne!(k, cache_key("cc", "gcc 12", &f(&["-O3"]), "int y;"));
        // Word boundaries count.
        assert_ne!(
            cache_key("cc", "v", &f(&["-a", "-b"]), ""),
            cache_key("cc", "v", &f(&["-a -b"]), "")
        );
    }

    #[test]
    fn cache_dir_order() {
        let o = |s: &str| Some(OsString::from(s));
        assert_eq!(cache_dir(o("/k"), o("/x"), o("/h")), PathBuf::from("/k/c"));
        assert_eq!(
            cache_dir(None, o("/x"), o("/h")),
            PathBuf::from("/x/kiln/c")
        );
        assert_eq!(
            cache_dir(o(""), o(""), o("/h")),
            PathBuf::from("/h/.cache/kiln/c")
        );
        assert_eq!(
            cache_dir(None, None, None),
            std::env::temp_dir().join("kiln-cache").join("c")
        );
    }

    #[test]
    fn flags_split_like_a_shell() {
        assert_eq!(
            split_flags("%%c -O3 -lm -fopenmp"),
            ["-O3", "-lm", "-fopenmp"]
        );
        assert_eq!(split_flags("  -O2\t-DN=3  "), ["-O2", "-DN=3"]);
        assert_eq!(
            split_flags(r#"-DMSG="hello world" '-DX=a b' -I"my dir"/inc a\ b"#),
            ["-DMSG=hello world", "-DX=a b", "-Imy dir/inc", "a b"]
        );
        assert_eq!(
            split_flags(r#"-DQ="say \"hi\"" '' x"#),
            [r#"-DQ=say "hi""#, "", "x"]
        );
        assert_eq!(split_flags("'-DOPEN"), ["-DOPEN"]);
        assert!(split_flags("%%c").is_empty());
        assert!(split_flags("").is_empty());
    }

    #[test]
    fn libraries_go_after_the_source() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (opts, libs) = split_libraries(&f(&[
            "-O3",
            "-lm",
            "-L/opt/lib",
            "-l",
            "gomp",
            "x.a",
            "-fopenmp",
        ]));
        assert_eq!(opts, ["-O3", "-L/opt/lib", "-fopenmp"]);
        assert_eq!(libs, ["-lm", "-l", "gomp", "x.a"]);
    }
}
