//! `kiln_gpu_for` on a real OpenCL device (PoCL's CPU device where `./install.sh` ran), with
//! hand-written kernels that follow the compiler's parameter ABI, error replay and
//! partials protocols. `KILN_SKIP_OPENCL_TESTS=1` skips the ones that need a device.

use super::*;
use crate::alloc::new_array;
use crate::array::{Array, DType};
use crate::ctx::Stream;
use crate::error::ErrorKind;
use crate::obj::kiln_decref;
use crate::par::{PR_ADD, PR_MAX, PT_F64, PT_I64};
use std::sync::{Mutex, MutexGuard};

/// Stats and device copies are process-wide: these tests run one at a time (and apart
/// from the tests that count live objects).
static GPU_TESTS: Mutex<()> = Mutex::new(());

fn lock() -> Option<(MutexGuard<'static, ()>, MutexGuard<'static, ()>)> {
    if std::env::var("KILN_SKIP_OPENCL_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    let g = GPU_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    Some((crate::tests::serial(), g))
}

const LS: usize = 64;

fn spec(source: &str, name: &str, ndim: usize, args: Vec<KernelArg>) -> KernelSpec {
    KernelSpec {
        source: source.to_string(),
        name: name.to_string(),
        options: "-cl-fp32-correctly-rounded-divide-sqrt".to_string(),
        ndim,
        args,
        reductions: Vec::new(),
        errors: Vec::new(),
        uses_fp64: source.contains("double"),
        local_size: LS,
        lane_kernel: None,
        lane_width: 1,
    }
}

fn arr(src: ArgSource, ndim: usize, dtype: DType, written: bool, name: &str) -> KernelArg {
    KernelArg::Array {
        src,
        ndim,
        dtype,
        written,
        name: name.to_string(),
    }
}

unsafe fn slice<'a, T>(a: *mut Array) -> &'a mut [T] {
    std::slice::from_raw_parts_mut((*a).data as *mut T, (*a).size as usize)
}

/// Runs a launch; returns (status, error kind and message, sites).
unsafe fn go(
    spec: &KernelSpec,
    env: &[i64],
    dims: &[i64],
    red: &mut [i64],
) -> (i64, Option<(ErrorKind, String, Vec<u32>)>) {
    let mut c = crate::tests::ctx();
    let rc = kiln_gpu_for(&mut *c, spec, env.as_ptr(), dims.as_ptr(), red.as_mut_ptr());
    (rc, c.take_error().map(|e| (e.kind, e.message, e.sites)))
}

fn ok(r: (i64, Option<(ErrorKind, String, Vec<u32>)>)) {
    assert_eq!(r.0, 0, "launch failed: {:?}", r.1);
    assert!(r.1.is_none());
}

const FILL1: &str = r#"
__kernel void fill1(long start0, long step0, long count0,
    __global double* a_d, long a_off, long a_n0, long a_s0,
    __global double* b_d, long b_off, long b_n0, long b_s0,
    double k,
    __global long* kerr, long only)
{
    long g0 = get_global_id(0);
    if (only < 0) { if (g0 >= count0) return; }
    else { if (get_global_id(0) != 0) return; g0 = only; }
    long i = start0 + step0 * g0;
    a_d[a_off + i * a_s0] = b_d[b_off + i * b_s0] * k + (double)i;
    /* The spec says b is not written: this store must never reach the host. */
    b_d[b_off + i * b_s0] = -1.0;
}
"#;

#[test]
fn one_d_writes_only_written_arrays_back_and_reuses_device_copies() {
    let Some(_g) = lock() else { return };
    unsafe {
        let n = 1000i64;
        let a = new_array(DType::F64, &[n]).unwrap();
        let b = new_array(DType::F64, &[n]).unwrap();
        for (i, x) in slice::<f64>(b).iter_mut().enumerate() {
            *x = i as f64 * 0.5;
        }
        let s = spec(
            FILL1,
            "fill1",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::F64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::F64, false, "b"),
                KernelArg::Scalar {
                    kind: ScalarKind::F64,
                    src: ArgSource::Env(2),
                },
            ],
        );
        let env = [a as i64, b as i64, 3.0f64.to_bits() as i64];
        take_stats();
        ok(go(&s, &env, &[0, 1, n], &mut []));
        let st = take_stats();
        for i in 0..n as usize {
            assert_eq!(slice::<f64>(a)[i], i as f64 * 0.5 * 3.0 + i as f64);
            assert_eq!(slice::<f64>(b)[i], i as f64 * 0.5, "b was copied back");
        }
        assert_eq!((*a).host_written, 0);
        assert_eq!((*b).host_written, 0);
        assert_eq!(st.to_device_bytes, 2 * 8 * n as u64);
        assert_eq!(st.from_device_bytes, 8 * n as u64);
        assert_eq!(st.launches, 1);

        // Nothing changed on the host: nothing goes to the device again.
        ok(go(&s, &env, &[0, 1, n], &mut []));
        let st = take_stats();
        assert_eq!(st.to_device_bytes, 0);
        assert_eq!(st.from_device_bytes, 8 * n as u64);
        assert_eq!(st.cached, 1);
        assert_eq!(st.builds, 0);

        // A host write to b: only b goes again (and its fresh values are used).
        slice::<f64>(b)[10] = 100.0;
        (*b).host_written = 1;
        // Every other iteration, from 1.
        ok(go(&s, &env, &[1, 2, n / 2], &mut []));
        let st = take_stats();
        assert_eq!(st.to_device_bytes, 8 * n as u64);
        assert_eq!(slice::<f64>(a)[11], 5.5 * 3.0 + 11.0);
        // Iteration 10 did not run: a[10] is still the second launch's, which read the
        // device's b after the first launch's stray store of -1 (that never reached the host).
        assert_eq!(slice::<f64>(a)[10], -3.0 + 10.0);
        assert_eq!(slice::<f64>(b)[11], 5.5, "b was copied back");
        kiln_decref(a as *mut u8);
        kiln_decref(b as *mut u8);
    }
}

const FILL2: &str = r#"
__kernel void fill2(long start0, long step0, long count0,
    long start1, long step1, long count1,
    __global long* a_d, long a_off, long a_n0, long a_n1, long a_s0, long a_s1,
    __global long* kerr, long only)
{
    long g0 = get_global_id(1), g1 = get_global_id(0);
    if (only < 0) { if (g1 >= count1) return; }
    else { if (get_global_id(0) != 0) return; long r = only; g1 = r % count1; r /= count1; g0 = r; }
    long i = start0 + step0 * g0, j = start1 + step1 * g1;
    a_d[a_off + i * a_s0 + j * a_s1] = i * 10 + j;
}
"#;

#[test]
fn two_d_loop_over_a_range_with_steps() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[7, 5]).unwrap();
        let s = spec(
            FILL2,
            "fill2",
            2,
            vec![arr(ArgSource::Env(0), 2, DType::I64, true, "a")],
        );
        // for i in range(1, 7, 2): for j in range(0, 5)
        ok(go(&s, &[a as i64], &[1, 2, 3, 0, 1, 5], &mut []));
        let v = slice::<i64>(a);
        for i in 0..7 {
            for j in 0..5 {
                let want = if i % 2 == 1 { i * 10 + j } else { 0 };
                assert_eq!(v[(i * 5 + j) as usize], want, "a[{i}][{j}]");
            }
        }
        kiln_decref(a as *mut u8);
    }
}

const VIEW: &str = r#"
__kernel void viewk(long start0, long step0, long count0,
    __global float* v_d, long v_off, long v_n0, long v_s0,
    float x,
    __global long* kerr, long only)
{
    long g0 = get_global_id(0);
    if (only < 0) { if (g0 >= count0) return; }
    else { if (get_global_id(0) != 0) return; g0 = only; }
    long i = start0 + step0 * g0;
    if (i >= v_n0) return;
    v_d[v_off + i * v_s0] = (float)i + x;
}
"#;

#[test]
fn view_with_offset_and_strides_through_a_global_slot() {
    let Some(_g) = lock() else { return };
    unsafe {
        let owner = new_array(DType::F32, &[20]).unwrap();
        for x in slice::<f32>(owner).iter_mut() {
            *x = -1.0;
        }
        // owner[3::2], 6 elements (the compiler's `kiln_array_view`).
        let mut c = crate::tests::ctx();
        let view = crate::alloc::kiln_array_view(
            &mut *c,
            owner,
            (*owner).data.add(3 * 4),
            1,
            [6i64].as_ptr(),
            [2i64].as_ptr(),
        );
        assert!(!view.is_null());
        let slot: Box<i64> = Box::new(view as i64);
        let xslot: i64 = 0.25f32.to_bits() as i64;
        let s = spec(
            VIEW,
            "viewk",
            1,
            vec![
                arr(
                    ArgSource::Global(&*slot as *const i64 as usize),
                    1,
                    DType::F32,
                    true,
                    "v",
                ),
                KernelArg::Scalar {
                    kind: ScalarKind::F32,
                    src: ArgSource::Env(0),
                },
            ],
        );
        ok(go(&s, &[xslot], &[0, 1, 6], &mut []));
        let o = slice::<f32>(owner);
        for (k, &x) in o.iter().enumerate() {
            let want = if k >= 3 && (k - 3) % 2 == 0 && (k - 3) / 2 < 6 {
                ((k - 3) / 2) as f32 + 0.25
            } else {
                -1.0
            };
            assert_eq!(x, want, "owner[{k}]");
        }
        assert_eq!((*owner).host_written, 0);
        kiln_decref(view as *mut u8);
        // The view is gone, the owner (and its device copy) stays until its last reference.
        assert!(residency::Resident::lock().has(owner));
        kiln_decref(owner as *mut u8);
        assert!(!residency::Resident::lock().has(owner));
    }
}

fn red_source() -> String {
    format!(
        r#"
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void red(long start0, long step0, long count0,
    __global double* a_d, long a_off, long a_n0, long a_s0,
    __global long* kerr, long only,
    __global double* partial0, __global long* partial1)
{{
    __local double kred0[{LS}];
    __local long kred1[{LS}];
    double acc0 = 0.0; long acc1 = LONG_MIN;
    long total = count0;
    long first = get_global_id(0), stride = get_global_size(0);
    if (only >= 0) {{ first = get_global_id(0) == 0 ? only : total; stride = total; }}
    for (long kk = first; kk < total; kk += stride) {{
        long i = start0 + step0 * kk;
        double x = a_d[a_off + i * a_s0];
        acc0 = acc0 + x;
        long v = ((long)(x * 7.0)) % 1000;
        if (v > acc1) acc1 = v;
    }}
    int lid = get_local_id(0);
    kred0[lid] = acc0; kred1[lid] = acc1;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = {half}; s > 0; s >>= 1) {{
        if (lid < s) {{
            kred0[lid] = kred0[lid] + kred0[lid + s];
            kred1[lid] = max(kred1[lid], kred1[lid + s]);
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
    }}
    if (lid == 0) {{ partial0[get_group_id(0)] = kred0[0]; partial1[get_group_id(0)] = kred1[0]; }}
}}
"#,
        half = LS / 2
    )
}

/// The host's model of the partials protocol: what the combined sum must be, bit for bit.
fn model_sum(x: &[f64], before: f64) -> f64 {
    model_sum_in(x, before, false)
}

/// `reversed`: folds the partials last group first (to show the data tells the orders apart).
fn model_sum_in(x: &[f64], before: f64, reversed: bool) -> f64 {
    let n = x.len();
    let groups = n.div_ceil(LS).min(launch::MAX_GROUPS);
    let global = groups * LS;
    let mut parts = Vec::new();
    for g in 0..groups {
        let mut k: Vec<f64> = (0..LS)
            .map(|lid| {
                let mut s = 0.0;
                let mut kk = g * LS + lid;
                while kk < n {
                    s += x[kk];
                    kk += global;
                }
                s
            })
            .collect();
        let mut s = LS / 2;
        while s > 0 {
            for lid in 0..s {
                k[lid] += k[lid + s];
            }
            s >>= 1;
        }
        parts.push(k[0]);
    }
    if reversed {
        parts.reverse();
    }
    parts.iter().fold(before, |acc, p| acc + p)
}

#[test]
fn reduction_is_deterministic_and_starts_from_the_value_before() {
    let Some(_g) = lock() else { return };
    unsafe {
        let n = 100_000usize;
        let a = new_array(DType::F64, &[n as i64]).unwrap();
        let xs = slice::<f64>(a);
        for (i, x) in xs.iter_mut().enumerate() {
            // Group 0's first iterations are huge: the order of the fold shows in the bits.
            *x = if i < LS {
                1e16 + i as f64
            } else {
                0.7 + (i % 13) as f64 * 0.01
            };
        }
        let mut s = spec(
            &red_source(),
            "red",
            1,
            vec![arr(ArgSource::Env(0), 1, DType::F64, false, "a")],
        );
        s.reductions = vec![
            ReductionSpec {
                op: PR_ADD,
                ty: PT_F64,
            },
            ReductionSpec {
                op: PR_MAX,
                ty: PT_I64,
            },
        ];
        let before = 2.5f64;
        let run = || {
            let mut io = [before.to_bits() as i64, 5];
            ok(go(&s, &[a as i64], &[0, 1, n as i64], &mut io));
            io
        };
        let r1 = run();
        let r2 = run();
        assert_eq!(r1, r2, "two runs differ");
        assert_eq!(f64::from_bits(r1[0] as u64), model_sum(xs, before));
        assert_ne!(model_sum(xs, before), model_sum_in(xs, before, true));
        let want_max = xs
            .iter()
            .map(|&x| ((x * 7.0) as i64) % 1000)
            .fold(5i64, i64::max);
        assert_eq!(r1[1], want_max);
        // The value before takes part in the max too.
        let mut io = [0f64.to_bits() as i64, 5000];
        ok(go(&s, &[a as i64], &[0, 1, n as i64], &mut io));
        assert_eq!(io[1], 5000);
        // A few iterations: fewer groups than the maximum.
        let mut io = [1f64.to_bits() as i64, i64::MIN];
        ok(go(&s, &[a as i64], &[10, 3, 100], &mut io));
        let sub: Vec<f64> = (0..100).map(|k| xs[10 + 3 * k]).collect();
        assert_eq!(f64::from_bits(io[0] as u64), model_sum(&sub, 1.0));
        kiln_decref(a as *mut u8);
    }
}

const FAILING: &str = r#"
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
__kernel void failing(long start0, long step0, long count0,
    __global long* a_d, long a_off, long a_n0, long a_s0,
    __global long* out_d, long out_off, long out_n0, long out_s0,
    __global long* kerr, long only)
{
    long g0 = get_global_id(0);
    if (only < 0) { if (g0 >= count0) return; }
    else { if (get_global_id(0) != 0) return; g0 = only; }
    long i = start0 + step0 * g0;
    long idx = i * 2;
    if (idx >= a_n0) {
        if (only < 0) {
            atom_min((volatile __global long*)&kerr[0], g0);
        } else {
            kerr[1] = 1; kerr[2] = idx; kerr[3] = 0; kerr[4] = a_n0;
            kerr[5] = 2; kerr[6] = 7; kerr[7] = 3;
        }
        return;
    }
    out_d[out_off + i * out_s0] = a_d[a_off + idx * a_s0] + 1;
}
"#;

#[test]
fn error_reports_the_lowest_failing_iteration_with_its_sites() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[1200]).unwrap();
        let out = new_array(DType::I64, &[1000]).unwrap();
        for (i, x) in slice::<i64>(a).iter_mut().enumerate() {
            *x = i as i64;
        }
        let mut s = spec(
            FAILING,
            "failing",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, false, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, true, "out"),
            ],
        );
        s.errors = vec![
            ErrorSpec {
                kind: ErrorKind::ZeroDivisionError,
                message: "division by zero".into(),
            },
            ErrorSpec {
                kind: ErrorKind::IndexError,
                message: String::new(),
            },
        ];
        let (rc, e) = go(&s, &[a as i64, out as i64], &[0, 1, 1000], &mut []);
        assert_eq!(rc, 1);
        let (kind, msg, sites) = e.expect("an error");
        assert_eq!(kind, ErrorKind::IndexError);
        assert_eq!(msg, "index 1200 is out of bounds for axis 0 with size 1200");
        assert_eq!(sites, vec![7, 3]);
        // The iterations that ran still reached the host.
        assert_eq!(slice::<i64>(out)[5], 11);
        assert_eq!(slice::<i64>(out)[599], 1199);
        assert_eq!((*out).host_written, 0);

        // Starting at 700 (step 3): the first failing iteration is the first one.
        let (rc, e) = go(&s, &[a as i64, out as i64], &[700, 3, 10], &mut []);
        assert_eq!(rc, 1);
        assert_eq!(
            e.unwrap().1,
            "index 1400 is out of bounds for axis 0 with size 1200"
        );
        // A failure leaves the error buffer dirty: the next launch starts clean.
        let (rc, e) = go(&s, &[a as i64, out as i64], &[0, 1, 500], &mut []);
        assert_eq!((rc, e), (0, None));
        assert_eq!(slice::<i64>(out)[499], 998 + 1);
        kiln_decref(a as *mut u8);
        kiln_decref(out as *mut u8);
    }
}

#[test]
fn empty_loops_launch_nothing_and_empty_arrays_get_a_buffer() {
    let Some(_g) = lock() else { return };
    unsafe {
        // Not even built: the source is not OpenCL C.
        let bogus = spec("not a kernel", "nothing", 2, Vec::new());
        take_stats();
        ok(go(&bogus, &[], &[0, 1, 5, 0, 1, 0], &mut []));
        ok(go(&bogus, &[], &[0, 1, -3, 0, 1, 4], &mut []));
        let mut io = [42i64];
        let mut red = bogus.clone();
        red.reductions = vec![ReductionSpec {
            op: PR_ADD,
            ty: PT_I64,
        }];
        ok(go(&red, &[], &[0, 1, 0, 0, 1, 4], &mut io));
        assert_eq!(io[0], 42);
        assert_eq!(take_stats(), GpuStats::default());

        // An empty array alongside a non-empty loop.
        let e = new_array(DType::F64, &[0]).unwrap();
        let b = new_array(DType::F64, &[4]).unwrap();
        let s = spec(
            FILL1,
            "fill1",
            1,
            vec![
                arr(ArgSource::Env(1), 1, DType::F64, true, "a"),
                arr(ArgSource::Env(0), 1, DType::F64, false, "e"),
                KernelArg::Scalar {
                    kind: ScalarKind::F64,
                    src: ArgSource::Env(2),
                },
            ],
        );
        // Zero iterations of a loop that would read `e`: nothing runs.
        ok(go(&s, &[e as i64, b as i64, 0], &[0, 1, 0], &mut []));
        kiln_decref(e as *mut u8);
        kiln_decref(b as *mut u8);
    }
}

const EMPTY_ARG: &str = r#"
__kernel void emptyarg(long start0, long step0, long count0,
    __global long* a_d, long a_off, long a_n0, long a_s0,
    __global long* e_d, long e_off, long e_n0, long e_s0,
    __global long* kerr, long only)
{
    long g0 = get_global_id(0);
    if (only < 0) { if (g0 >= count0) return; }
    else { if (get_global_id(0) != 0) return; g0 = only; }
    a_d[a_off + g0 * a_s0] = e_n0 + 7;
}
"#;

#[test]
fn empty_array_argument() {
    let Some(_g) = lock() else { return };
    unsafe {
        let e = new_array(DType::I64, &[0]).unwrap();
        let a = new_array(DType::I64, &[3]).unwrap();
        let s = spec(
            EMPTY_ARG,
            "emptyarg",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, true, "e"),
            ],
        );
        ok(go(&s, &[a as i64, e as i64], &[0, 1, 3], &mut []));
        assert_eq!(slice::<i64>(a), &[7, 7, 7]);
        kiln_decref(e as *mut u8);
        kiln_decref(a as *mut u8);
    }
}

#[test]
fn build_errors_and_warnings() {
    let Some(_g) = lock() else { return };
    unsafe {
        let bad = spec(
            "__kernel void broken(long start0) { this is not C; }",
            "broken",
            1,
            Vec::new(),
        );
        let (rc, e) = go(&bad, &[], &[0, 1, 4], &mut []);
        assert_eq!(rc, 1);
        let (kind, msg, _) = e.unwrap();
        assert_eq!(kind, ErrorKind::InternalError);
        assert!(msg.contains("rejected kernel `broken`"), "{msg}");
        assert!(msg.contains("error"), "no build log: {msg}");

        // A successful build with a warning: the log goes to stderr once.
        let src = format!("#warning kiln-test-warning\n{EMPTY_ARG}");
        let s = spec(
            &src,
            "emptyarg",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, false, "e"),
            ],
        );
        let e = new_array(DType::I64, &[0]).unwrap();
        let a = new_array(DType::I64, &[3]).unwrap();
        let (mut c, out) = crate::tests::ctx_capture();
        for _ in 0..2 {
            let env = [a as i64, e as i64];
            let rc = kiln_gpu_for(
                &mut *c,
                &s,
                env.as_ptr(),
                [0, 1, 3].as_ptr(),
                [].as_mut_ptr(),
            );
            assert_eq!(rc, 0, "{:?}", c.take_error());
        }
        c.flush();
        let got = out.lock().unwrap().clone();
        let warned: Vec<_> = got
            .iter()
            .filter(|(st, t)| *st == Stream::Stderr && t.contains("kiln-test-warning"))
            .collect();
        assert_eq!(warned.len(), 1, "{got:?}");
        assert_eq!(
            warned[0].1.matches("kiln-test-warning").count(),
            1,
            "{got:?}"
        );

        // A clean build says nothing. (Its code differs from the one above after
        // preprocessing: PoCL's disk cache keys on the preprocessed text, and would hand back
        // the first build's log.)
        let src = format!("{EMPTY_ARG}\n__kernel void clean_extra(long x) {{ }}\n");
        let s = spec(&src, "emptyarg", 1, s.args.clone());
        let (mut c, out) = crate::tests::ctx_capture();
        let env = [a as i64, e as i64];
        let rc = kiln_gpu_for(
            &mut *c,
            &s,
            env.as_ptr(),
            [0, 1, 3].as_ptr(),
            [].as_mut_ptr(),
        );
        assert_eq!(rc, 0, "{:?}", c.take_error());
        c.flush();
        assert!(out.lock().unwrap().is_empty(), "{:?}", out.lock().unwrap());
        kiln_decref(e as *mut u8);
        kiln_decref(a as *mut u8);
    }
}

#[test]
fn arguments_are_checked_against_the_kernel() {
    let Some(_g) = lock() else { return };
    unsafe {
        // The spec forgot the scalar: the kernel has one parameter more.
        let s = spec(
            FILL1,
            "fill1",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::F64, true, "a"),
                arr(ArgSource::Env(0), 1, DType::F64, false, "b"),
            ],
        );
        let a = new_array(DType::F64, &[4]).unwrap();
        let (rc, e) = go(&s, &[a as i64], &[0, 1, 4], &mut []);
        assert_eq!(rc, 1);
        let (kind, msg, _) = e.unwrap();
        assert_eq!(kind, ErrorKind::InternalError);
        assert!(msg.contains("parameters"), "{msg}");
        // A null array.
        let (rc, e) = go(&s, &[0], &[0, 1, 4], &mut []);
        assert_eq!(rc, 1);
        assert!(e.unwrap().1.contains("`a` is undefined"));
        kiln_decref(a as *mut u8);
    }
}

#[test]
fn double_precision_on_a_device_without_fp64_is_a_device_error() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[3]).unwrap();
        let e = new_array(DType::I64, &[0]).unwrap();
        let mut s = spec(
            EMPTY_ARG,
            "emptyarg",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, false, "e"),
            ],
        );
        let env = [a as i64, e as i64];
        launch::PRETEND_NO_FP64.store(true, std::sync::atomic::Ordering::Relaxed);
        s.uses_fp64 = true;
        let (rc, err) = go(&s, &env, &[0, 1, 3], &mut []);
        // Integer-only kernels still run there.
        s.uses_fp64 = false;
        let (rc2, err2) = go(&s, &env, &[0, 1, 3], &mut []);
        launch::PRETEND_NO_FP64.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(rc, 1);
        let (kind, msg, _) = err.expect("a DeviceError");
        assert_eq!(kind, ErrorKind::DeviceError);
        assert!(
            msg.contains("has no double precision (cl_khr_fp64)"),
            "{msg}"
        );
        assert!(msg.contains("use f32"), "{msg}");
        assert_eq!((rc2, err2), (0, None));
        kiln_decref(a as *mut u8);
        kiln_decref(e as *mut u8);
    }
}

#[test]
fn an_interrupt_before_the_launch_launches_nothing() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[3]).unwrap();
        let e = new_array(DType::I64, &[0]).unwrap();
        let s = spec(
            EMPTY_ARG,
            "emptyarg",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, false, "e"),
            ],
        );
        let mut c = crate::tests::ctx();
        c.interrupt_flag()
            .store(true, std::sync::atomic::Ordering::Relaxed);
        take_stats();
        let env = [a as i64, e as i64];
        let rc = kiln_gpu_for(
            &mut *c,
            &s,
            env.as_ptr(),
            [0, 1, 3].as_ptr(),
            [].as_mut_ptr(),
        );
        assert_eq!(rc, 1);
        let err = c.take_error().unwrap();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::KeyboardInterrupt, "")
        );
        assert_eq!(take_stats().launches, 0);
        assert_eq!(slice::<i64>(a), &[0, 0, 0]);
        kiln_decref(a as *mut u8);
        kiln_decref(e as *mut u8);
    }
}

#[test]
fn an_interrupt_during_the_kernel_waits_for_it_and_copies_back() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[3]).unwrap();
        let e = new_array(DType::I64, &[0]).unwrap();
        let s = spec(
            EMPTY_ARG,
            "emptyarg",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                arr(ArgSource::Env(1), 1, DType::I64, false, "e"),
            ],
        );
        let mut c = crate::tests::ctx();
        take_stats();
        launch::INTERRUPT_IN_WAIT.store(true, std::sync::atomic::Ordering::Relaxed);
        let env = [a as i64, e as i64];
        let rc = kiln_gpu_for(
            &mut *c,
            &s,
            env.as_ptr(),
            [0, 1, 3].as_ptr(),
            [].as_mut_ptr(),
        );
        assert_eq!(rc, 1);
        let err = c.take_error().unwrap();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::KeyboardInterrupt, "")
        );
        assert_eq!(take_stats().launches, 1);
        // The kernel ran to its end and its writes reached the host.
        assert_eq!(slice::<i64>(a), &[7, 7, 7]);
        assert_eq!((*a).host_written, 0);
        kiln_decref(a as *mut u8);
        kiln_decref(e as *mut u8);
    }
}

#[test]
fn devices_are_listed_and_selected() {
    let Some(_g) = lock() else { return };
    let report = devices_report();
    assert!(report.starts_with("[0] "), "{report}");
    assert!(report.contains("(current)"), "{report}");
    assert!(report.contains("compute unit"), "{report}");
    assert!(report.contains("GiB, fp64 "), "{report}");
    let line = select_device("0").unwrap();
    assert!(line.starts_with("[0] "));
    assert!(current_device_name().is_some());
    let err = select_device("no-such-device-anywhere").unwrap_err();
    assert!(err.contains("no OpenCL device matches"), "{err}");
    assert!(err.contains("[0] "), "{err}");
    assert!(select_device("999").is_err());
}

#[test]
fn no_device_messages_name_the_fix() {
    for code in [-2000, -2001, -1001, -30] {
        let m = devices::message_for(code);
        assert!(m.starts_with("no OpenCL device: "), "{m}");
        assert!(m.contains("./install.sh"), "{m}");
        assert!(!m.contains('\n'), "{m}");
    }
}

/// The child half of `no_driver_is_a_quick_device_error`: a launch in a process whose
/// OpenCL loader finds no driver.
#[test]
fn no_device_child() {
    if std::env::var("KILN_OPENCL_CHILD").is_err() {
        return;
    }
    let t0 = std::time::Instant::now();
    let s = spec(EMPTY_ARG, "emptyarg", 1, Vec::new());
    let (rc, e) = unsafe { go(&s, &[], &[0, 1, 3], &mut []) };
    let ms = t0.elapsed().as_millis();
    let (kind, msg, _) = e.expect("an error");
    println!("CHILD rc={rc} kind={} ms={ms} msg={msg}", kind.name());
    println!("CHILD report={}", devices_report().trim_end());
}

#[test]
fn no_driver_is_a_quick_device_error() {
    if std::env::var("KILN_OPENCL_CHILD").is_ok() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "opencl::tests::no_device_child", "--nocapture"])
        .env("KILN_OPENCL_CHILD", "1")
        .env("OCL_ICD_VENDORS", "/nonexistent-kiln-test-dir")
        .env_remove("OPENCL_DYLIB_PATH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("CHILD rc="))
        .unwrap_or_else(|| panic!("child printed no result: {text}"));
    assert!(line.contains("rc=1 kind=DeviceError"), "{line}");
    assert!(line.contains("./install.sh"), "{line}");
    // Two seconds is lenient for "within milliseconds" on a loaded test machine, and
    // still catches a hang or a timeout in the driver search.
    let ms: u64 = line
        .split("ms=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(ms < 2000, "{line}");
    let report = text
        .lines()
        .find(|l| l.starts_with("CHILD report="))
        .unwrap();
    assert!(report.contains("./install.sh"), "{report}");
}

#[test]
fn a_second_build_of_the_same_text_comes_from_the_cache() {
    let Some(_g) = lock() else { return };
    unsafe {
        let a = new_array(DType::I64, &[3]).unwrap();
        let e = new_array(DType::I64, &[0]).unwrap();
        let mk = || {
            Box::new(spec(
                EMPTY_ARG,
                "emptyarg",
                1,
                vec![
                    arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                    arr(ArgSource::Env(1), 1, DType::I64, false, "e"),
                ],
            ))
        };
        programs::clear();
        take_stats();
        let s1 = mk();
        ok(go(&s1, &[a as i64, e as i64], &[0, 1, 3], &mut []));
        let st = take_stats();
        assert_eq!((st.builds, st.cached, st.launches), (1, 0, 1));
        assert!(st.build_ns > 0);
        // Another spec object with the same text (a recompiled cell).
        let s2 = mk();
        ok(go(&s2, &[a as i64, e as i64], &[0, 1, 3], &mut []));
        let st = take_stats();
        assert_eq!((st.builds, st.cached, st.launches), (0, 1, 1));
        kiln_decref(a as *mut u8);
        kiln_decref(e as *mut u8);
    }
}

#[test]
fn build_logs_are_shown_once() {
    assert_eq!(programs::tidy_log_for_tests("a\nb\na\nb\n"), "a\nb");
    assert_eq!(
        programs::tidy_log_for_tests("  a\n  ^\nb\n  ^\n"),
        "a\n  ^\nb\n  ^"
    );
    assert_eq!(programs::tidy_log_for_tests("\n"), "");
}

/// A scalar kernel and, under `KILN_LANES`, a lane kernel of width 4 that marks what it
/// did: which work-item ran each iteration. Iteration `bad` fails in both (the lane kernel
/// records the flat iteration, the scalar replay the error).
const LANES: &str = r#"
__kernel void lanes(long start0, long step0, long count0,
    __global long* a_d, long a_off, long a_n0, long a_s0, long bad,
    __global long* kerr, long only)
{
    long g0 = get_global_id(0);
    if (only < 0) { if (g0 >= count0) return; }
    else { if (get_global_id(0) != 0) return; g0 = only; }
    if (g0 == bad) {
#if KILN_REPLAY
        kerr[1] = 0; kerr[2] = g0; kerr[3] = 0; kerr[4] = a_n0; kerr[5] = 1; kerr[6] = 9;
#else
        atom_min((volatile __global long*)&kerr[0], g0);
#endif
        return;
    }
    a_d[a_off + g0 * a_s0] = g0;
}
#if KILN_LANES
__kernel void lanes_l4(long start0, long step0, long count0,
    __global long* a_d, long a_off, long a_n0, long a_s0, long bad,
    __global long* kerr, long only)
{
    long w = get_global_id(0);
    for (long l = 0; l < 4; l++) {
        long f = 4 * w + l;
        if (f >= count0) return;
        if (f == bad) { atom_min((volatile __global long*)&kerr[0], f); continue; }
        a_d[a_off + f * a_s0] = 1000 + w;
    }
}
#endif
"#;

#[test]
fn cpu_devices_run_the_lane_kernel_and_replay_errors_with_the_scalar_one() {
    let Some(_g) = lock() else { return };
    let cpu = devices::current().map(|d| d.cpu).unwrap_or(false);
    unsafe {
        let n = 1001i64;
        let a = new_array(DType::I64, &[n]).unwrap();
        let mut s = spec(
            LANES,
            "lanes",
            1,
            vec![
                arr(ArgSource::Env(0), 1, DType::I64, true, "a"),
                KernelArg::Scalar {
                    kind: ScalarKind::I64,
                    src: ArgSource::Env(1),
                },
            ],
        );
        s.lane_kernel = Some("lanes_l4".into());
        s.lane_width = 4;
        s.errors = vec![ErrorSpec {
            kind: ErrorKind::IndexError,
            message: String::new(),
        }];
        ok(go(&s, &[a as i64, -1], &[0, 1, n], &mut []));
        for i in 0..n as usize {
            let want = if cpu { 1000 + i as i64 / 4 } else { i as i64 };
            assert_eq!(slice::<i64>(a)[i], want, "iteration {i}");
        }
        // Iteration 10 fails: the error is the scalar replay's.
        let (rc, e) = go(&s, &[a as i64, 10], &[0, 1, n], &mut []);
        assert_eq!(rc, 1);
        let (kind, msg, sites) = e.expect("an error");
        assert_eq!(kind, ErrorKind::IndexError);
        assert_eq!(msg, "index 10 is out of bounds for axis 0 with size 1001");
        assert_eq!(sites, vec![9]);
        kiln_decref(a as *mut u8);
    }
}
