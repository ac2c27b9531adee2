//! `@gpu` loops beyond what the run tests compare: the device rules (SyntaxErrors that point
//! at the line, with nothing of the cell run), `%%opencl`, data residency as `%time` reports
//! it, and the DeviceError of a machine with no OpenCL (in a child process, whose OpenCL
//! discovery starts fresh). The run tests (`run_golden.rs`) run every case with annotated
//! loops on the gpu target and compare it with CPython's output.
mod common;
use kiln_jit::{CellError, ExecResult, Output, Session};

fn run(s: &mut Session, code: &str) -> Result<String, CellError> {
    let mut out = String::new();
    match s.execute(code, &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    }) {
        ExecResult::Ok(_) => Ok(out),
        ExecResult::Err(e) => Err(e),
    }
}

fn err(s: &mut Session, code: &str) -> CellError {
    match run(s, code) {
        Ok(out) => panic!("cell should fail:\n{code}\nprinted: {out}"),
        Err(e) => e,
    }
}

/// The device statistics `%time` reads are the process's: tests that check them run one
/// at a time.
fn stats_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const SETUP: &str = "n = 8\na = zeros(n)\nmarker = 1\n";

#[test]
fn device_rules_are_syntax_errors_at_the_line() {
    let cases = [
        ("@gpu\nfor i in range(n):\n    a[i] = i\n    print(i)\n", "print cannot run in a @gpu body", 4),
        ("@gpu\nfor i in range(n):\n    if i > 2:\n        print(i)\n", "print cannot run in a @gpu body", 4),
        ("@gpu\nfor i in range(n):\n    t = zeros(3)\n    a[i] = t[0]\n", "cannot allocate arrays", 3),
        ("@gpu\nfor i in range(n):\n    a[i] = i\n    s = 'x'\n", "strings cannot be used", 4),
        ("@gpu\nfor i in range(n):\n    for j in range(2):\n        t = f\"{j}\"\n", "strings cannot be used", 4),
        (
            "def fact(k):\n    if k <= 1:\n        return 1\n    return k * fact(k - 1)\n\n@gpu\nfor i in range(n):\n    a[i] = fact(i)\n",
            "recursive, and OpenCL C has no recursion",
            4,
        ),
    ];
    for (code, fragment, line) in cases {
        let mut s = Session::new();
        run(&mut s, SETUP).unwrap();
        let e = err(&mut s, &format!("marker = 2\n{code}"));
        assert_eq!(e.ename, "SyntaxError", "{code}: {}", e.evalue);
        assert!(e.evalue.contains(fragment), "{code}: {}", e.evalue);
        let at = e.traceback.join("\n");
        // (The cell's first line sets `marker`.)
        assert!(at.contains(&format!("line {}:", line + 1)), "{code}: {at}");
        // Nothing of the cell ran.
        assert_eq!(run(&mut s, "print(marker)").unwrap(), "1\n");
    }
}

#[test]
fn opencl_listing_shows_the_kernel_without_running_it() {
    let mut s = Session::new();
    run(&mut s, SETUP).unwrap();
    let text = run(
        &mut s,
        "%%opencl\nmarker = 5\n@gpu\nfor i in range(n):\n    a[i] = i * 0.5 + marker\n",
    )
    .unwrap();
    assert!(text.contains("#pragma OPENCL FP_CONTRACT OFF"), "{text}");
    assert!(text.contains("__kernel void kiln_gpu0__cell_("), "{text}");
    assert!(
        text.contains("// build options: -cl-fp32-correctly-rounded-divide-sqrt"),
        "{text}"
    );
    assert_eq!(run(&mut s, "print(marker)").unwrap(), "1\n");
    let none = run(&mut s, "%%opencl\nx = 1\n").unwrap();
    assert!(none.contains("no @gpu loop"), "{none}");
}

#[test]
fn a_device_copy_is_reused_until_the_host_writes_the_array() {
    if std::env::var_os("OCL_ICD_VENDORS").is_some() {
        return; // the child of the no-device test
    }
    let _g = stats_lock();
    let mut s = Session::new();
    run(&mut s, "x = arange(1000) * 1.0\ny = zeros(1000)\n").unwrap();
    let cell = "@gpu\nfor i in range(1000):\n    y[i] = x[i] * 2.0\n";
    let times = |s: &mut Session| s.timings.gpu.clone().expect("gpu times");
    run(&mut s, cell).unwrap();
    let first = times(&mut s);
    assert_eq!(first.to_device_bytes, 16000, "{first:?}");
    assert_eq!(
        first.from_device_bytes, 8000,
        "only y is written: {first:?}"
    );
    run(&mut s, cell).unwrap();
    assert_eq!(times(&mut s).to_device_bytes, 0, "both copies are current");
    run(&mut s, "x[3] = 7.0").unwrap();
    run(&mut s, cell).unwrap();
    assert_eq!(
        times(&mut s).to_device_bytes,
        8000,
        "x was written on the host"
    );
    assert_eq!(run(&mut s, "print(y[3], y[999])").unwrap(), "14.0 1998.0\n");
}

#[test]
fn no_opencl_platform_is_a_device_error_and_the_session_goes_on() {
    if std::env::var_os("KILN_GPU_TEST_CHILD").is_some() {
        let mut s = Session::new();
        run(&mut s, SETUP).unwrap();
        let t = std::time::Instant::now();
        let e = err(&mut s, "@gpu\nfor i in range(n):\n    a[i] = 1.0\n");
        assert_eq!(e.ename, "DeviceError");
        assert!(e.evalue.contains("./install.sh"), "{}", e.evalue);
        assert!(e.evalue.contains("@par"), "{}", e.evalue);
        assert!(t.elapsed().as_secs() < 5);
        assert_eq!(run(&mut s, "print(marker + 1)").unwrap(), "2\n");
        let devices = run(&mut s, "%devices").unwrap();
        assert!(devices.contains("./install.sh"), "{devices}");
        return;
    }
    let empty = std::env::temp_dir().join(format!("kiln-no-icd-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_opencl_platform_is_a_device_error_and_the_session_goes_on",
            "--nocapture",
        ])
        .env("KILN_GPU_TEST_CHILD", "1")
        .env("OCL_ICD_VENDORS", &empty)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir(&empty);
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn scalar_globals_read_in_a_kernel_body() {
    // The session's first globals: their kernel parameters must not clash with the
    // kernel's own names (work-item indices, counters).
    let mut s = Session::new();
    run(
        &mut s,
        "h = 3\nw = 4\nimg = zeros((h, w), dtype=np.int64)\n",
    )
    .unwrap();
    let out = run(
        &mut s,
        "@gpu\nfor i, j in ndrange(h, w):\n    img[i, j] = i * w + j + h\nprint(img.sum(), img[2, 3])\n",
    )
    .unwrap();
    assert_eq!(out, "102 14\n");
}

#[test]
fn a_whole_array_assignment_runs_as_one_kernel_with_resident_inputs() {
    if std::env::var_os("OCL_ICD_VENDORS").is_some() {
        return; // the child of the no-device test
    }
    let _g = stats_lock();
    let mut s = Session::new();
    run(&mut s, "x = linspace(0.0, 1.0, 1000)\nc = 3.0\n").unwrap();
    let listing = run(&mut s, "%%opencl\n@gpu\ny = c * x * x + 1.0\n").unwrap();
    assert_eq!(listing.matches("// kernel ").count(), 1, "{listing}");
    let cell = "@gpu\ny = c * x * x + 1.0\n";
    let times = |s: &mut Session| s.timings.gpu.clone().expect("gpu times");
    run(&mut s, cell).unwrap();
    let first = times(&mut s);
    assert_eq!(first.to_device_bytes, 8000, "x goes up once: {first:?}");
    assert_eq!(first.from_device_bytes, 8000, "y comes back: {first:?}");
    run(&mut s, cell).unwrap();
    assert_eq!(times(&mut s).to_device_bytes, 0, "x stays on the device");
    // Slice assignment writes the destination's device copy and brings it back.
    run(&mut s, "@gpu\ny[::2] = x[::2] - 1.0\n").unwrap();
    assert_eq!(
        run(
            &mut s,
            "print(y[0], y[1] == 3.0 * x[1] * x[1] + 1.0, y[998] == x[998] - 1.0)"
        )
        .unwrap(),
        "-1.0 True True\n"
    );
}

#[test]
fn an_interrupt_lets_the_launched_kernel_finish_and_launches_nothing_more() {
    if std::env::var_os("OCL_ICD_VENDORS").is_some() {
        return; // the child of the no-device test
    }
    use std::sync::atomic::Ordering;
    let _g = stats_lock();
    let mut s = Session::new();
    run(&mut s, "n = 20000\na = zeros(n)\nlaunches = 0\n").unwrap();
    // The output callback sets the flag once the first launch is done: the interrupt
    // arrives while kernels are being launched (no sleeping, no timing guesses).
    let done = common::hang_guard("gpu interrupt");
    let flag = s.interrupt_handle();
    let r = s.execute(
        "while True:\n    @gpu\n    for i in range(n):\n        a[i] = a[i] + 1.0\n    launches += 1\n    if launches == 1:\n        print('launched')\n",
        &mut |o| {
            if let Output::Stdout(_) = o {
                flag.store(true, Ordering::Relaxed);
            }
        },
    );
    done.store(true, Ordering::Relaxed);
    let ExecResult::Err(e) = r else {
        panic!("the cell should be interrupted")
    };
    assert_eq!(e.ename, "KeyboardInterrupt", "{}", e.traceback.join("\n"));
    // Every launch that started ran to its end and reached the host: all elements agree,
    // and at most the one launch the interrupt arrived in went uncounted.
    let out = run(
        &mut s,
        "print(a.min() == a.max(), a[0] - launches, launches >= 1)",
    )
    .unwrap();
    assert!(
        out == "True 0.0 True\n" || out == "True 1.0 True\n",
        "{out}"
    );
    assert_eq!(run(&mut s, "print(1 + 1)").unwrap(), "2\n");
}
