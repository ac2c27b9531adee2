//! Parallel loops: hand-written `extern "C"` bodies (what outlined loop bodies look like).

use super::{ctx, ctx_capture, take_err};
use crate::ctx::{ExecCtx, Stream};
use crate::error::ErrorKind;
use crate::par::*;
use std::sync::{Mutex, MutexGuard};

/// `set_threads` is process-wide: tests that depend on the thread count take this lock.
static THREADS: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    THREADS.lock().unwrap_or_else(|e| e.into_inner())
}

unsafe fn run(
    c: &mut ExecCtx,
    body: ParBody,
    env: &[u64],
    n: i64,
    ops: &[i64],
    tys: &[i64],
    io: &mut [u64],
) -> i64 {
    kiln_par_for(
        c,
        body,
        env.as_ptr(),
        n,
        ops.len() as i64,
        ops.as_ptr(),
        tys.as_ptr(),
        io.as_mut_ptr(),
    )
}

/// red[0] (i64) += i
extern "C" fn sum_i(_c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        for i in lo..hi {
            *red = (*red as i64).wrapping_add(i) as u64;
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "100 003 iterations on worker threads: minutes under Miri"
)]
fn i64_sum() {
    let _g = lock();
    let mut c = ctx();
    for n in [1i64, 2, 7, 100, 1000, 100_003] {
        let mut io = [0u64];
        assert_eq!(
            unsafe { run(&mut c, sum_i, &[], n, &[PR_ADD], &[PT_I64], &mut io) },
            0
        );
        assert_eq!(io[0] as i64, n * (n - 1) / 2, "n = {n}");
    }
    // Starting value is kept.
    let mut io = [5u64];
    unsafe { run(&mut c, sum_i, &[], 10, &[PR_ADD], &[PT_I64], &mut io) };
    assert_eq!(io[0], 50);
}

#[test]
fn n_zero_or_negative() {
    let _g = lock();
    let mut c = ctx();
    for n in [0, -5] {
        let mut io = [42u64];
        assert_eq!(
            unsafe { run(&mut c, sum_i, &[], n, &[PR_ADD], &[PT_I64], &mut io) },
            0
        );
        assert_eq!(io[0], 42);
    }
}

/// env[0] = pointer to f64 data; red[0] (f64) += x[i]; red[1] (f32) += x[i] as f32
extern "C" fn sum_f(_c: *mut ExecCtx, env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        let x = *env as *const f64;
        for i in lo..hi {
            let v = *x.add(i as usize);
            *red = (f64::from_bits(*red) + v).to_bits();
            let f = f32::from_bits(*red.add(1) as u32) + v as f32;
            *red.add(1) = f.to_bits() as u64;
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "200 001 elements on worker threads: minutes under Miri"
)]
fn float_sum_deterministic() {
    let _g = lock();
    let mut c = ctx();
    let n = 200_001usize;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 * 0.001 + 1e-3 / (i + 1) as f64)
        .collect();
    let env = [x.as_ptr() as u64];
    let start = 123.456f64;
    let mut first = None;
    for _ in 0..5 {
        let mut io = [start.to_bits(), 1.5f32.to_bits() as u64];
        let r = unsafe {
            run(
                &mut c,
                sum_f,
                &env,
                n as i64,
                &[PR_ADD, PR_ADD],
                &[PT_F64, PT_F32],
                &mut io,
            )
        };
        assert_eq!(r, 0);
        match first {
            None => first = Some(io),
            Some(f) => assert_eq!(f, io),
        }
    }
    // The result is the chunk-ordered combination of chunk partials on top of `start`.
    let nchunks = n.min(threads() * CHUNKS_PER_THREAD);
    let mut want = start;
    for k in 0..nchunks {
        let (lo, hi) = (k * n / nchunks, (k + 1) * n / nchunks);
        let mut p = 0.0;
        for v in &x[lo..hi] {
            p += v;
        }
        want += p;
    }
    assert_eq!(f64::from_bits(first.unwrap()[0]).to_bits(), want.to_bits());
    assert_eq!(first.unwrap()[1] >> 32, 0, "f32 upper bytes stay zero");
}

/// env[0] = pointer to f64 data. Reductions: min f64, max f64, mul f64, min i64, max i64,
/// bitor i64, bitand i64, mul i64, or bool (any > 0.9), and bool (all >= 0), min f32.
extern "C" fn many(_c: *mut ExecCtx, env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        let x = *env as *const f64;
        let r = |k: usize| red.add(k);
        for i in lo..hi {
            let v = *x.add(i as usize);
            let vi = i + 3;
            let f = |k: usize| f64::from_bits(*r(k));
            // Python's min/max rule in the body, as compiled code does.
            *r(0) = (if v < f(0) { v } else { f(0) }).to_bits();
            *r(1) = (if v > f(1) { v } else { f(1) }).to_bits();
            *r(2) = (f(2) * (1.0 + v * 1e-6)).to_bits();
            *r(3) = (*r(3) as i64).min(vi * 7 % 1001) as u64;
            *r(4) = (*r(4) as i64).max(vi * 7 % 1001) as u64;
            *r(5) |= 1u64 << (i % 40);
            *r(6) &= !(1u64 << (i % 50 + 5)) | (i as u64 & 1);
            *r(7) = (*r(7) as i64).wrapping_mul(if i % 1000 == 0 { 3 } else { 1 }) as u64;
            *r(8) = ((*r(8) & 0xff != 0) | (v > 0.9)) as u64;
            *r(9) = ((*r(9) & 0xff != 0) & (v >= 0.0)) as u64;
            let m = f32::from_bits(*r(10) as u32);
            let vf = v as f32;
            *r(10) = (if vf < m { vf } else { m }).to_bits() as u64;
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "5 000-element reductions on worker threads: minutes under Miri"
)]
fn min_max_mul_bits() {
    let _g = lock();
    let mut c = ctx();
    let n = 5000usize;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919 + 13) % 997) as f64 / 997.0 + 0.25)
        .collect();
    let env = [x.as_ptr() as u64];
    let ops = [
        PR_MIN, PR_MAX, PR_MUL, PR_MIN, PR_MAX, PR_BITOR, PR_BITAND, PR_MUL, PR_BITOR, PR_BITAND,
        PR_MIN,
    ];
    let tys = [
        PT_F64, PT_F64, PT_F64, PT_I64, PT_I64, PT_I64, PT_I64, PT_I64, PT_BOOL, PT_BOOL, PT_F32,
    ];
    let mut io = [
        10f64.to_bits(),
        (-10f64).to_bits(),
        2f64.to_bits(),
        500,
        500,
        1u64 << 60,
        u64::MAX,
        2,
        0,
        1,
        0.5f32.to_bits() as u64,
    ];
    assert_eq!(
        unsafe { run(&mut c, many, &env, n as i64, &ops, &tys, &mut io) },
        0
    );
    let mn = x
        .iter()
        .cloned()
        .fold(10.0, |a, b| if b < a { b } else { a });
    let mx = x
        .iter()
        .cloned()
        .fold(-10.0, |a, b| if b > a { b } else { a });
    assert_eq!(f64::from_bits(io[0]), mn);
    assert_eq!(f64::from_bits(io[1]), mx);
    let prod = f64::from_bits(io[2]);
    let want: f64 = x.iter().map(|v| 1.0 + v * 1e-6).product::<f64>() * 2.0;
    assert!((prod - want).abs() < 1e-12 * want, "{prod} vs {want}");
    assert_eq!(
        io[3] as i64,
        (0..n as i64)
            .map(|i| (i + 3) * 7 % 1001)
            .min()
            .unwrap()
            .min(500)
    );
    assert_eq!(
        io[4] as i64,
        (0..n as i64)
            .map(|i| (i + 3) * 7 % 1001)
            .max()
            .unwrap()
            .max(500)
    );
    assert_eq!(io[5], (1u64 << 60) | ((1u64 << 40) - 1));
    let mut and = u64::MAX;
    for i in 0..n as u64 {
        and &= !(1u64 << (i % 50 + 5)) | (i & 1);
    }
    assert_eq!(io[6], and);
    assert_eq!(io[7] as i64, 2 * 3i64.pow(5));
    assert_eq!(io[8], x.iter().any(|&v| v > 0.9) as u64);
    assert_eq!(io[9], 1);
    let mf = x
        .iter()
        .fold(0.5f32, |a, &b| if (b as f32) < a { b as f32 } else { a });
    assert_eq!(f32::from_bits(io[10] as u32), mf);
    assert_eq!(io[10] >> 32, 0);
}

/// NaN handling follows Python's rule: min(acc, NaN) keeps acc; min(NaN, x) keeps NaN.
extern "C" fn nan_at_5(_c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        for i in lo..hi {
            let v = if i == 5 { f64::NAN } else { i as f64 };
            let m = f64::from_bits(*red);
            *red = (if v < m { v } else { m }).to_bits();
        }
    }
}

#[test]
fn min_nan_python_rule() {
    let _g = lock();
    let mut c = ctx();
    let mut io = [f64::NAN.to_bits()];
    unsafe { run(&mut c, nan_at_5, &[], 10, &[PR_MIN], &[PT_F64], &mut io) };
    assert!(f64::from_bits(io[0]).is_nan());
    let mut io = [100f64.to_bits()];
    unsafe { run(&mut c, nan_at_5, &[], 10, &[PR_MIN], &[PT_F64], &mut io) };
    assert_eq!(f64::from_bits(io[0]), 0.0);
}

/// red[0..2] (c128) += (i, -2i); red[2..4] (c128) *= (1, 1e-3)
extern "C" fn csum(_c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        for i in lo..hi {
            let (r, im) = (f64::from_bits(*red), f64::from_bits(*red.add(1)));
            *red = (r + i as f64).to_bits();
            *red.add(1) = (im - 2.0 * i as f64).to_bits();
            let (a, b) = (f64::from_bits(*red.add(2)), f64::from_bits(*red.add(3)));
            let (c, d) = (1.0, 1e-3);
            *red.add(2) = (a * c - b * d).to_bits();
            *red.add(3) = (a * d + b * c).to_bits();
        }
    }
}

#[test]
fn c128_add_mul() {
    let _g = lock();
    let mut c = ctx();
    let n = 1000i64;
    let mut io = [
        1f64.to_bits(),
        2f64.to_bits(),
        2f64.to_bits(),
        0f64.to_bits(),
    ];
    let r = unsafe {
        run(
            &mut c,
            csum,
            &[],
            n,
            &[PR_ADD, PR_MUL],
            &[PT_C128, PT_C128],
            &mut io,
        )
    };
    assert_eq!(r, 0);
    let s = (n * (n - 1) / 2) as f64;
    assert_eq!(f64::from_bits(io[0]), 1.0 + s);
    assert_eq!(f64::from_bits(io[1]), 2.0 - 2.0 * s);
    // 2 * (1 + 1e-3 j)^1000 = 2 * |z|^1000 * e^{1000 i atan(1e-3)}
    let (m, t) = (
        (1.0f64 + 1e-6).sqrt().powi(1000) * 2.0,
        1000.0 * 1e-3f64.atan(),
    );
    assert!((f64::from_bits(io[2]) - m * t.cos()).abs() < 1e-9);
    assert!((f64::from_bits(io[3]) - m * t.sin()).abs() < 1e-9);
}

/// Raises IndexError at i == 777 (and at i == 900_000 with another message).
extern "C" fn fail_777(c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, red: *mut u64) {
    unsafe {
        for i in lo..hi {
            if i == 777 || i == 900_000 {
                (*c).raise(ErrorKind::IndexError, format!("index {i} is out of bounds"));
                crate::ctx::kiln_trace(c, 7);
                return;
            }
            *red = (*red as i64 + 1) as u64;
        }
    }
}

#[test]
fn error_lowest_chunk() {
    let _g = lock();
    for t in [1, 2, 4] {
        set_threads(t).unwrap();
        for _ in 0..3 {
            let mut c = ctx();
            let mut io = [0u64];
            let r = unsafe {
                run(
                    &mut c,
                    fail_777,
                    &[],
                    1_000_000,
                    &[PR_ADD],
                    &[PT_I64],
                    &mut io,
                )
            };
            assert_eq!(r, 1);
            assert_eq!(c.err, 1);
            let e = c.take_error().unwrap();
            assert_eq!(e.kind, ErrorKind::IndexError);
            // Chunk 0 always runs (it is never skipped: the abort needs an earlier error),
            // and it holds 777.
            assert_eq!(e.message, "index 777 is out of bounds");
            assert_eq!(e.sites, vec![7]);
            assert_eq!(io[0], 0, "reductions untouched on error");
        }
    }
    set_threads(2).unwrap();
}

/// Prints "i\n" for each iteration, and a partial line at the end of the chunk.
extern "C" fn printer(c: *mut ExecCtx, _env: *const u64, lo: i64, hi: i64, _red: *mut u64) {
    unsafe {
        for i in lo..hi {
            (*c).write(Stream::Stdout, &format!("{i}\n"));
        }
        (*c).write(Stream::Stderr, &format!("chunk {lo}"));
    }
}

#[test]
fn output_reaches_parent() {
    let _g = lock();
    let (mut c, buf) = ctx_capture();
    c.write(Stream::Stdout, "before ");
    let r = unsafe { run(&mut c, printer, &[], 100, &[], &[], &mut []) };
    assert_eq!(r, 0);
    c.write(Stream::Stdout, "after\n");
    c.flush();
    let got = buf.lock().unwrap().clone();
    assert_eq!(got[0], (Stream::Stdout, "before ".to_string()));
    let mut outs: Vec<i64> = Vec::new();
    let mut chunks = 0;
    for (s, t) in &got[1..] {
        match s {
            Stream::Stdout if t != "after\n" => {
                outs.extend(t.lines().map(|l| l.parse::<i64>().unwrap()))
            }
            Stream::Stderr => chunks += t.matches("chunk ").count(),
            _ => {}
        }
    }
    outs.sort();
    assert_eq!(outs, (0..100).collect::<Vec<_>>());
    assert_eq!(chunks, 100.min(threads() * CHUNKS_PER_THREAD));
    assert_eq!(
        got.last().unwrap(),
        &(Stream::Stdout, "after\n".to_string())
    );
    assert!(take_err(&mut c).is_none());
}

#[test]
fn set_threads_changes_threads() {
    let _g = lock();
    set_threads(1).unwrap();
    assert_eq!(threads(), 1);
    let mut c = ctx();
    let mut io = [0u64];
    unsafe { run(&mut c, sum_i, &[], 1000, &[PR_ADD], &[PT_I64], &mut io) };
    assert_eq!(io[0], 499_500);
    set_threads(2).unwrap();
    assert_eq!(threads(), 2);
    assert!(set_threads(0).is_err());
    assert_eq!(threads(), 2);
}

/// Spins until the interrupt flag is set, then raises KeyboardInterrupt (as a back-edge
/// check does).
extern "C" fn spin(c: *mut ExecCtx, _env: *const u64, _lo: i64, _hi: i64, _red: *mut u64) {
    unsafe {
        loop {
            if (*(*c).interrupt).load(std::sync::atomic::Ordering::Relaxed) {
                crate::ctx::kiln_raise_interrupt(c);
                return;
            }
            std::hint::spin_loop();
        }
    }
}

#[test]
fn interrupt_reaches_every_worker() {
    let _g = lock();
    set_threads(4).unwrap();
    let mut c = ctx();
    let flag = c.interrupt_flag();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let r = unsafe { run(&mut c, spin, &[], 1000, &[], &[], &mut []) };
    t.join().unwrap();
    assert_eq!(r, 1);
    assert_eq!(take_err(&mut c).unwrap().0, ErrorKind::KeyboardInterrupt);
    assert!(
        c.interrupted(),
        "the flag stays set for the session to clear"
    );
    set_threads(2).unwrap();
}

#[test]
fn bad_reduction_is_internal_error() {
    let _g = lock();
    let mut c = ctx();
    let mut io = [0u64; 2];
    let r = unsafe { run(&mut c, sum_i, &[], 10, &[PR_MIN], &[PT_C128], &mut io) };
    assert_eq!(r, 1);
    assert_eq!(take_err(&mut c).unwrap().0, ErrorKind::InternalError);
}
