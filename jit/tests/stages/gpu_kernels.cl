// kernel kiln_gpu0__cell_ (the @gpu loop in <cell>)
// build options: -cl-fp32-correctly-rounded-divide-sqrt -DKILN_C=<which arrays are contiguous, at each launch>
// launch: global (round_up(count1, 256), count0), local (256, 1); one work-item per iteration
// lanes: 16 iterations per work-item (double16), kernel kiln_gpu0__cell__l16 on CPU devices
// launch on CPU devices: global (round_up(ceil(N / 16), 256)), local (256) for N = count0 * count1 iterations; 16 consecutive iterations per work-item
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable
/* Bit j: array argument j is C-contiguous from its buffer's start (-DKILN_C=...,
   chosen by the runtime at each launch). */
#ifndef KILN_C
#define KILN_C 0
#endif
/* 1 in the build that replays one failed iteration to record its error. */
#ifndef KILN_REPLAY
#define KILN_REPLAY 0
#endif
/* 1 in the build for CPU devices, which adds the lane kernel. */
#ifndef KILN_LANES
#define KILN_LANES 0
#endif

typedef struct { double f0; double f1; } kiln_tuple0;
typedef struct { __global double* d; long off; long n[1]; long s[1]; } kiln_f64_1;
typedef struct { __global long* d; long off; long n[2]; long s[2]; } kiln_i64_2;
typedef struct {
    __global long* err;  /* the error buffer */
    long kk;             /* this work-item's iteration, row-major */
    long only;           /* >= 0: replaying that one failed iteration */
    int failed;
    kiln_f64_1 g2_xs;
    kiln_f64_1 g3_ys;
    kiln_i64_2 g4_img;
} kiln_ctx;

/* An error in iteration C->kk. The main build only marks the work-item failed (the
   kernel's end keeps the lowest failing iteration); the replay build (KILN_REPLAY), run
   for that one iteration, records what failed and where. Stores to global memory on the
   error paths would stop PoCL from vectorising the main build. */
#if KILN_REPLAY
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
    C->err[1] = code; C->err[2] = a; C->err[3] = b; C->err[4] = c;
    C->err[5] = 1; C->err[6] = site;
}
/* A call that failed: add its site to the chain (innermost first). */
void kiln_trace(__private kiln_ctx* C, long site) {
    if (C->err[5] < 26) { C->err[6 + C->err[5]] = site; C->err[5] += 1; }
}
#else
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
}
void kiln_trace(__private kiln_ctx* C, long site) {}
#endif

long kiln_f0_mandel(double v0_cr, double v1_ci, long v2_max_iter, __private kiln_ctx* C);

long kiln_f0_mandel(double v0_cr, double v1_ci, long v2_max_iter, __private kiln_ctx* C) {
    double v3_zr = 0.0;
    double v4_zi = 0.0;
    long v5_i0 = 0L;
    long v6_n = 0L;
    kiln_tuple0 v7_tup = (kiln_tuple0){0};
    v3_zr = 0.0;
    v4_zi = 0.0;
    long t0 = 0L;
    long t1 = v2_max_iter;
    for (v5_i0 = t0; v5_i0 < t1; v5_i0 += 1L) {
        v6_n = v5_i0;
        if (((v3_zr * v3_zr) + (v4_zi * v4_zi)) > 4.0) {
            return v6_n;
        }
        kiln_tuple0 t2 = (kiln_tuple0){0};
        t2.f0 = (((v3_zr * v3_zr) - (v4_zi * v4_zi)) + v0_cr);
        t2.f1 = (((2.0 * v3_zr) * v4_zi) + v1_ci);
        v7_tup = t2;
        v3_zr = v7_tup.f0;
        v4_zi = v7_tup.f1;
    }
    return v2_max_iter;
    return 0L;
}

__kernel void kiln_gpu0__cell_(
    long start0, long step0, long count0,
    long start1, long step1, long count1,
    __global double* gl2_d,
    long gl2_off,
    long gl2_n0,
    long gl2_s0,
    __global double* gl3_d,
    long gl3_off,
    long gl3_n0,
    long gl3_s0,
    __global long* gl4_d,
    long gl4_off,
    long gl4_n0,
    long gl4_n1,
    long gl4_s0,
    long gl4_s1,
    __global long* kerr,
    long only)
{
    kiln_ctx C0;
    __private kiln_ctx* C = &C0;
    C->err = kerr; C->only = only; C->failed = 0; C->kk = 0;
    C->g2_xs.d = gl2_d;
    C->g2_xs.n[0] = gl2_n0;
    #if (KILN_C >> 0) & 1
    C->g2_xs.off = 0;
    C->g2_xs.s[0] = 1L;
    #else
    C->g2_xs.off = gl2_off;
    C->g2_xs.s[0] = gl2_s0;
    #endif
    C->g3_ys.d = gl3_d;
    C->g3_ys.n[0] = gl3_n0;
    #if (KILN_C >> 1) & 1
    C->g3_ys.off = 0;
    C->g3_ys.s[0] = 1L;
    #else
    C->g3_ys.off = gl3_off;
    C->g3_ys.s[0] = gl3_s0;
    #endif
    C->g4_img.d = gl4_d;
    C->g4_img.n[0] = gl4_n0;
    C->g4_img.n[1] = gl4_n1;
    #if (KILN_C >> 2) & 1
    C->g4_img.off = 0;
    C->g4_img.s[1] = 1L;
    C->g4_img.s[0] = C->g4_img.s[1] * C->g4_img.n[1];
    #else
    C->g4_img.off = gl4_off;
    C->g4_img.s[0] = gl4_s0;
    C->g4_img.s[1] = gl4_s1;
    #endif
    long v1_i0 = 0L;
    long v2_i1 = 0L;
    long v3_i = 0L;
    long v4_j = 0L;
    long g0, g1;
    g0 = get_global_id(1);
    g1 = get_global_id(0);
    if (only < 0) {
        if (g1 >= count1) return;
    } else {
        if (get_global_id(0) != 0) return;
        long r = only;
        g1 = r % count1; r /= count1;
        g0 = r;
    }
    C->kk = (g0) * count1 + g1;
    v1_i0 = g0;
    v2_i1 = g1;
    do {
        v3_i = v1_i0;
        v4_j = v2_i1;
        long t0 = v4_j;
        if ((ulong)t0 >= (ulong)C->g2_xs.n[0]) { kiln_fail(C, 0, 3, v4_j, 0, C->g2_xs.n[0]); goto kfail; }
        long t1 = v3_i;
        if ((ulong)t1 >= (ulong)C->g3_ys.n[0]) { kiln_fail(C, 0, 4, v3_i, 0, C->g3_ys.n[0]); goto kfail; }
        long t2 = kiln_f0_mandel(C->g2_xs.d[C->g2_xs.off + t0 * C->g2_xs.s[0]], C->g3_ys.d[C->g3_ys.off + t1 * C->g3_ys.s[0]], 50L, C);
        if (C->failed) { kiln_trace(C, 39); goto kfail; }
        long t3 = v3_i;
        if ((ulong)t3 >= (ulong)C->g4_img.n[0]) { kiln_fail(C, 0, 40, v3_i, 0, C->g4_img.n[0]); goto kfail; }
        long t4 = v4_j;
        if ((ulong)t4 >= (ulong)C->g4_img.n[1]) { kiln_fail(C, 0, 40, v4_j, 1, C->g4_img.n[1]); goto kfail; }
        C->g4_img.d[C->g4_img.off + t3 * C->g4_img.s[0] + t4 * C->g4_img.s[1]] = t2;
    } while (0);
kfail:
#if !KILN_REPLAY
    if (C->failed) atom_min((volatile __global long*)&kerr[0], C->kk);
#endif
    ;
}

#if KILN_LANES
#pragma clang diagnostic ignored "-Wpsabi"
void kiln_lane_fail(__private kiln_ctx* C, long16 bad) {
    long b[16];
    vstore16(bad, 0, b);
    for (int l = 0; l < 16; l++)
        if (b[l]) { atom_min((volatile __global long*)&C->err[0], C->kk + l); return; }
}
#define KILN_LANE_IDS ((long16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

/* 16 consecutive flat iterations per work-item, in vector lanes. */
__kernel void kiln_gpu0__cell__l16(
    long start0, long step0, long count0,
    long start1, long step1, long count1,
    __global double* gl2_d,
    long gl2_off,
    long gl2_n0,
    long gl2_s0,
    __global double* gl3_d,
    long gl3_off,
    long gl3_n0,
    long gl3_s0,
    __global long* gl4_d,
    long gl4_off,
    long gl4_n0,
    long gl4_n1,
    long gl4_s0,
    long gl4_s1,
    __global long* kerr,
    long only)
{
    kiln_ctx C0;
    __private kiln_ctx* C = &C0;
    C->err = kerr; C->only = only; C->failed = 0; C->kk = 0;
    C->g2_xs.d = gl2_d;
    C->g2_xs.n[0] = gl2_n0;
    #if (KILN_C >> 0) & 1
    C->g2_xs.off = 0;
    C->g2_xs.s[0] = 1L;
    #else
    C->g2_xs.off = gl2_off;
    C->g2_xs.s[0] = gl2_s0;
    #endif
    C->g3_ys.d = gl3_d;
    C->g3_ys.n[0] = gl3_n0;
    #if (KILN_C >> 1) & 1
    C->g3_ys.off = 0;
    C->g3_ys.s[0] = 1L;
    #else
    C->g3_ys.off = gl3_off;
    C->g3_ys.s[0] = gl3_s0;
    #endif
    C->g4_img.d = gl4_d;
    C->g4_img.n[0] = gl4_n0;
    C->g4_img.n[1] = gl4_n1;
    #if (KILN_C >> 2) & 1
    C->g4_img.off = 0;
    C->g4_img.s[1] = 1L;
    C->g4_img.s[0] = C->g4_img.s[1] * C->g4_img.n[1];
    #else
    C->g4_img.off = gl4_off;
    C->g4_img.s[0] = gl4_s0;
    C->g4_img.s[1] = gl4_s1;
    #endif
    long16 v1_i0 = (long16)(0L);
    long16 v2_i1 = (long16)(0L);
    long16 v3_i = (long16)(0L);
    long16 v4_j = (long16)(0L);
    long total = count0 * count1;
    long16 g0, g1;
    long kbase = (long)get_global_id(0) * 16;
    if (kbase >= total) return;
    C->kk = kbase;
    long16 kalive = ((long16)(kbase) + (long16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)) < (long16)(total);
    long16 r = (long16)(kbase) + (long16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    g1 = r % (long16)(count1); r = r / (long16)(count1);
    g0 = r;
    v1_i0 = g0;
    v2_i1 = g1;
    v3_i = v1_i0;
    v4_j = v2_i1;
    long16 t1 = v4_j;
    t1 = select(t1, t1 + (long16)(C->g2_xs.n[0]), t1 < (long16)(0L));
    long16 t2 = kalive & (as_ulong16(t1) >= (ulong16)((ulong)(C->g2_xs.n[0])));
    if (any(t2)) {
        kiln_lane_fail(C, t2);
        long16 kx3 = t2;
        kalive &= ~kx3;
    }
    long16 t4 = (long16)(C->g2_xs.off) + t1 * (long16)(C->g2_xs.s[0]);
    double16 t5;
    if (all(kalive) && all(t4 == (long16)(t4.s0) + KILN_LANE_IDS)) {
        t5 = vload16(0, C->g2_xs.d + t4.s0);
    } else {
        long ki6[16]; vstore16(t4, 0, ki6);
        long km7[16]; vstore16(kalive, 0, km7);
        double kv8[16];
        for (int l = 0; l < 16; l++) kv8[l] = km7[l] ? C->g2_xs.d[ki6[l]] : 0;
        t5 = vload16(0, kv8);
    }
    long16 t9 = v3_i;
    t9 = select(t9, t9 + (long16)(C->g3_ys.n[0]), t9 < (long16)(0L));
    long16 t10 = kalive & (as_ulong16(t9) >= (ulong16)((ulong)(C->g3_ys.n[0])));
    if (any(t10)) {
        kiln_lane_fail(C, t10);
        long16 kx11 = t10;
        kalive &= ~kx11;
    }
    long16 t12 = (long16)(C->g3_ys.off) + t9 * (long16)(C->g3_ys.s[0]);
    double16 t13;
    if (all(kalive) && all(t12 == (long16)(t12.s0) + KILN_LANE_IDS)) {
        t13 = vload16(0, C->g3_ys.d + t12.s0);
    } else {
        long ki14[16]; vstore16(t12, 0, ki14);
        long km15[16]; vstore16(kalive, 0, km15);
        double kv16[16];
        for (int l = 0; l < 16; l++) kv16[l] = km15[l] ? C->g3_ys.d[ki14[l]] : 0;
        t13 = vload16(0, kv16);
    }
    long16 kr17 = (long16)(0L);
    {
        double16 f1_v0_cr = (double16)(0.0);
        double16 f1_v1_ci = (double16)(0.0);
        long f1_v2_max_iter = 0L;
        double16 f1_v3_zr = (double16)(0.0);
        double16 f1_v4_zi = (double16)(0.0);
        long f1_v5_i0 = 0L;
        long f1_v6_n = 0L;
        double16 f1_v7_tup_f0 = (double16)(0.0);
        double16 f1_v7_tup_f1 = (double16)(0.0);
        f1_v0_cr = t5;
        f1_v1_ci = t13;
        f1_v2_max_iter = 50L;
        long16 kf18 = kalive;
        f1_v3_zr = (double16)(0.0);
        f1_v4_zi = (double16)(0.0);
        long t19 = 0L;
        long t20 = f1_v2_max_iter;
        long t21 = 1L;
        long kk22;
        for (kk22 = t19; kk22 < t20; kk22 += t21) {
            if (!any(kf18)) break;
            f1_v5_i0 = kk22;
            f1_v6_n = f1_v5_i0;
            long16 t23 = (((f1_v3_zr * f1_v3_zr) + (f1_v4_zi * f1_v4_zi)) > (double16)(4.0));
            long16 km24 = kf18 & t23;
            if (any(km24)) {
                kr17 = select(kr17, (long16)(f1_v6_n), km24);
                long16 kx26 = km24;
                kf18 &= ~kx26;
                km24 &= ~kx26;
            }
            double16 t27 = (((f1_v3_zr * f1_v3_zr) - (f1_v4_zi * f1_v4_zi)) + f1_v0_cr);
            double16 t28 = ((((double16)(2.0) * f1_v3_zr) * f1_v4_zi) + f1_v1_ci);
            f1_v7_tup_f0 = t27;
            f1_v7_tup_f1 = t28;
            f1_v3_zr = f1_v7_tup_f0;
            f1_v4_zi = f1_v7_tup_f1;
        }
        f1_v5_i0 = kk22;
        kr17 = select(kr17, (long16)(f1_v2_max_iter), kf18);
        long16 kx29 = kf18;
        kf18 &= ~kx29;
    }
    long16 t30 = v3_i;
    t30 = select(t30, t30 + (long16)(C->g4_img.n[0]), t30 < (long16)(0L));
    long16 t31 = kalive & (as_ulong16(t30) >= (ulong16)((ulong)(C->g4_img.n[0])));
    if (any(t31)) {
        kiln_lane_fail(C, t31);
        long16 kx32 = t31;
        kalive &= ~kx32;
    }
    long16 t33 = v4_j;
    t33 = select(t33, t33 + (long16)(C->g4_img.n[1]), t33 < (long16)(0L));
    long16 t34 = kalive & (as_ulong16(t33) >= (ulong16)((ulong)(C->g4_img.n[1])));
    if (any(t34)) {
        kiln_lane_fail(C, t34);
        long16 kx35 = t34;
        kalive &= ~kx35;
    }
    long16 t36 = (long16)(C->g4_img.off) + t30 * (long16)(C->g4_img.s[0]) + t33 * (long16)(C->g4_img.s[1]);
    if (all(kalive) && all(t36 == (long16)(t36.s0) + KILN_LANE_IDS)) {
        vstore16(kr17, 0, C->g4_img.d + t36.s0);
    } else {
        long ki37[16]; vstore16(t36, 0, ki37);
        long km38[16]; vstore16(kalive, 0, km38);
        long kv39[16]; vstore16(kr17, 0, kv39);
        for (int l = 0; l < 16; l++) if (km38[l]) C->g4_img.d[ki37[l]] = kv39[l];
    }
}
#undef KILN_LANE_IDS
#endif
// kernel kiln_gpu0__cell_ (the @gpu loop in <cell>)
// build options: -cl-fp32-correctly-rounded-divide-sqrt -DKILN_C=<which arrays are contiguous, at each launch>
// launch: global (min(ceil(N / 256), 256) * 256), local (256) for N = count0 iterations; each work-item takes every global-size-th iteration, each work-group writes one partial per reduction, and the host combines the partials in group order
// not vectorised: a float reduction (+=): per-lane partials would round differently
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable
/* Bit j: array argument j is C-contiguous from its buffer's start (-DKILN_C=...,
   chosen by the runtime at each launch). */
#ifndef KILN_C
#define KILN_C 0
#endif
/* 1 in the build that replays one failed iteration to record its error. */
#ifndef KILN_REPLAY
#define KILN_REPLAY 0
#endif
/* 1 in the build for CPU devices, which adds the lane kernel. */
#ifndef KILN_LANES
#define KILN_LANES 0
#endif

typedef struct { __global long* d; long off; long n[2]; long s[2]; } kiln_i64_2;
typedef struct {
    __global long* err;  /* the error buffer */
    long kk;             /* this work-item's iteration, row-major */
    long only;           /* >= 0: replaying that one failed iteration */
    int failed;
    long g3_w;
    kiln_i64_2 g4_img;
} kiln_ctx;

/* An error in iteration C->kk. The main build only marks the work-item failed (the
   kernel's end keeps the lowest failing iteration); the replay build (KILN_REPLAY), run
   for that one iteration, records what failed and where. Stores to global memory on the
   error paths would stop PoCL from vectorising the main build. */
#if KILN_REPLAY
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
    C->err[1] = code; C->err[2] = a; C->err[3] = b; C->err[4] = c;
    C->err[5] = 1; C->err[6] = site;
}
/* A call that failed: add its site to the chain (innermost first). */
void kiln_trace(__private kiln_ctx* C, long site) {
    if (C->err[5] < 26) { C->err[6 + C->err[5]] = site; C->err[5] += 1; }
}
#else
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
}
void kiln_trace(__private kiln_ctx* C, long site) {}
#endif
/* Python's // on integers (b != 0): floor, and LONG_MIN // -1 wraps. */
long kiln_floordiv_i64(long a, long b) {
    if (b == -1) return (long)(0UL - (ulong)a);
    long q = a / b, r = a % b;
    return (r != 0 && (r ^ b) < 0) ? q - 1 : q;
}

__kernel void kiln_gpu0__cell_(
    long start0, long step0, long count0,
    long gl3,
    __global long* gl4_d,
    long gl4_off,
    long gl4_n0,
    long gl4_n1,
    long gl4_s0,
    long gl4_s1,
    __global long* kerr,
    long only,
    __global long* partial0,
    __global double* partial1)
{
    __local long kred0[256];
    __local double kred1[256];
    kiln_ctx C0;
    __private kiln_ctx* C = &C0;
    C->err = kerr; C->only = only; C->failed = 0; C->kk = 0;
    C->g3_w = gl3;
    C->g4_img.d = gl4_d;
    C->g4_img.n[0] = gl4_n0;
    C->g4_img.n[1] = gl4_n1;
    #if (KILN_C >> 0) & 1
    C->g4_img.off = 0;
    C->g4_img.s[1] = 1L;
    C->g4_img.s[0] = C->g4_img.s[1] * C->g4_img.n[1];
    #else
    C->g4_img.off = gl4_off;
    C->g4_img.s[0] = gl4_s0;
    C->g4_img.s[1] = gl4_s1;
    #endif
    long v0_i0 = 0L;
    long v1_j = 0L;
    long v2_i = 0L;
    long v3_inside = 0L;
    double v4_total = 0.0;
    long v5_i0 = 0L;
    v3_inside = 0L;
    v4_total = 0.0;
    long g0;
    long total = count0;
    long first = get_global_id(0), stride = get_global_size(0);
    if (only >= 0) { first = get_global_id(0) == 0 ? only : total; stride = total; }
    for (long kk = first; kk < total; kk += stride) {
        C->kk = kk;
        long r = kk;
        g0 = r;
        v0_i0 = g0;
        do {
            v2_i = v0_i0;
            long t0 = 0L;
            long t1 = C->g3_w;
            for (v5_i0 = t0; v5_i0 < t1; v5_i0 += 1L) {
                v1_j = v5_i0;
                long t2 = v2_i;
                if ((ulong)t2 >= (ulong)C->g4_img.n[0]) { kiln_fail(C, 0, 0, v2_i, 0, C->g4_img.n[0]); goto kfail; }
                long t3 = v1_j;
                if ((ulong)t3 >= (ulong)C->g4_img.n[1]) { kiln_fail(C, 0, 0, v1_j, 1, C->g4_img.n[1]); goto kfail; }
                if (C->g4_img.d[C->g4_img.off + t2 * C->g4_img.s[0] + t3 * C->g4_img.s[1]] == 50L) {
                    v3_inside = (long)((ulong)(v3_inside) + (ulong)(1L));
                }
                long t4 = v2_i;
                if ((ulong)t4 >= (ulong)C->g4_img.n[0]) { kiln_fail(C, 0, 2, v2_i, 0, C->g4_img.n[0]); goto kfail; }
                long t5 = v1_j;
                if ((ulong)t5 >= (ulong)C->g4_img.n[1]) { kiln_fail(C, 0, 2, v1_j, 1, C->g4_img.n[1]); goto kfail; }
                long t6 = C->g4_img.d[C->g4_img.off + t4 * C->g4_img.s[0] + t5 * C->g4_img.s[1]];
                if (3L == 0) { kiln_fail(C, 1, 3, 0, 0, 0); goto kfail; }
                v4_total = (v4_total + ((double)(kiln_floordiv_i64(t6, 3L)) * 0.5));
            }
        } while (0);
    }
kfail:
#if !KILN_REPLAY
    if (C->failed) atom_min((volatile __global long*)&kerr[0], C->kk);
#endif
    ;
    /* This work-group's partial: a fixed tree over its work-items. */
    int lid = get_local_id(0);
    kred0[lid] = v3_inside;
    kred1[lid] = v4_total;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 128; s > 0; s >>= 1) {
        if (lid < s) {
            kred0[lid] = (long)((ulong)kred0[lid] + (ulong)kred0[lid + s]);
            kred1[lid] = (kred1[lid] + kred1[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        partial0[get_group_id(0)] = kred0[0];
        partial1[get_group_id(0)] = kred1[0];
    }
}
