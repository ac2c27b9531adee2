//! `kiln run` on the ctypes recipe written as a file of cells (`# %%`), in the directory it
//! starts in: `%%writefile`, `!gcc`, the ctypes declarations, the call, and a `%%c` cell
//! whose function draws the same picture; then a crash in C that stops the run with an
//! error, not a dead process.
use std::process::Command;

const C_SOURCE: &str = "void mandelbrot(int size, int iterations, int *col)\n{\n    int i, j, n, index;\n    double cx, cy;\n    double z0, z1, z0_tmp, z0_2, z1_2;\n    for (i = 0; i < size; i++)\n    {\n        cy = -1.5 + (double)i / size * 3;\n        for (j = 0; j < size; j++)\n        {\n            cx = -2.0 + (double)j / size * 3;\n            index = i * size + j;\n            z0 = 0.0;\n            z1 = 0.0;\n            for (n = 0; n < iterations; n++)\n            {\n                z0_2 = z0 * z0;\n                z1_2 = z1 * z1;\n                if (z0_2 + z1_2 <= 100)\n                {\n                    z0_tmp = z0_2 - z1_2 + cx;\n                    z1 = 2 * z0 * z1 + cy;\n                    z0 = z0_tmp;\n                    col[index] = n;\n                }\n                else\n                {\n                    break;\n                }\n            }\n        }\n    }\n}\n";

#[test]
fn run_builds_and_calls_the_c_mandelbrot() {
    if Command::new("gcc").arg("--version").output().is_err() {
        eprintln!("no gcc: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kiln-cli-ctypes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("recipe.kiln");
    let c_cell = C_SOURCE.replace("void mandelbrot(", "void mandelbrot_c(");
    std::fs::write(
        &file,
        format!(
            "%%writefile mandelbrot.c\n{C_SOURCE}# %%\n\
             !gcc -shared -Wl,-soname,mandelbrot -o mandelbrot.so -fPIC mandelbrot.c\n\
             # %%\nimport ctypes\nlib = ctypes.CDLL('./mandelbrot.so')\nmandelbrot = lib.mandelbrot\n\
             # %%\nfrom numpy.ctypeslib import ndpointer\nmandelbrot.restype = None\n\
             mandelbrot.argtypes = [ctypes.c_int, ctypes.c_int, ndpointer(ctypes.c_int)]\n\
             # %%\nsize = 120\niterations = 50\ncol = np.empty((size, size), dtype=np.int32)\n\
             mandelbrot(size, iterations, col)\nprint(col.max(), col.min())\n\
             # %%\n%%c\n{c_cell}# %%\n\
             again = np.zeros((size, size), dtype=np.int32)\nmandelbrot_c(size, iterations, again)\n\
             print((again == col).all())\n\
             # %%\n%%c\nint deref(int *p) {{ return *p; }}\n# %%\nderef(None)\n# %%\nprint('not reached')\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("run")
        .arg(&file)
        .current_dir(&dir)
        .env("KILN_CACHE_DIR", dir.join("cache"))
        .output()
        .expect("kiln runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "Writing mandelbrot.c\n49 2\nTrue\n", "{stderr}");
    assert!(
        stderr.contains("ForeignCrash: segmentation fault (SIGSEGV) in C function 'deref'"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
