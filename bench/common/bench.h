/* Shared timing/reporting code for the C peers of bench/run.py (header-only).
 *
 * A peer calls bench_run(impl, K, run, check, arg, is_int): one warm-up call, K timed calls of
 * run(arg), each followed by an untimed check(arg) that returns the checksum of what run
 * computed (it must be the same every time; check may also free what run allocated), then
 * prints the one JSON object the harness reads:
 * {"impl","threads","checksum","min_ms","median_ms","runs_ms"}.
 */
#ifndef KILN_BENCH_H
#define KILN_BENCH_H
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static inline double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline int bench_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* NumPy's linspace(a, b, n): start + i*step, last element exactly b. */
static inline void bench_linspace(double *x, long n, double a, double b) {
    double step = (b - a) / (double)(n - 1);
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) x[i] = (double)i * step + a;
    x[n - 1] = b;
}

/* Checksum of an array: a plain sum (outside the timed region). */
static inline double bench_sum(const double *y, long n) {
    double s = 0.0;
    for (long i = 0; i < n; i++) s += y[i];
    return s;
}

static inline void *bench_alloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) { perror("malloc"); exit(1); }
    return p;
}

/* checksum_is_int: print the checksum as an integer. */
static inline void bench_run(const char *impl, int k, void (*run)(void *), double (*check)(void *),
                      void *arg, int checksum_is_int) {
    if (k < 1) k = 1;
    double *t = bench_alloc(sizeof(double) * (size_t)k);
    run(arg);                                           /* warm-up */
    double checksum = check(arg);
    for (int r = 0; r < k; r++) {
        double t0 = bench_now_ms();
        run(arg);
        t[r] = bench_now_ms() - t0;
        double s = check(arg);
        if (s != checksum && !(isnan(s) && isnan(checksum))) {
            fprintf(stderr, "checksum changed between runs: %.17g vs %.17g\n", s, checksum);
            exit(1);
        }
    }
    double *sorted = bench_alloc(sizeof(double) * (size_t)k);
    for (int r = 0; r < k; r++) sorted[r] = t[r];
    qsort(sorted, (size_t)k, sizeof(double), bench_cmp_double);
    double median = k % 2 ? sorted[k / 2] : 0.5 * (sorted[k / 2 - 1] + sorted[k / 2]);
    printf("{\"impl\":\"%s\",\"threads\":%d,\"checksum\":", impl, bench_threads());
    if (checksum_is_int) printf("%lld", (long long)checksum);
    else printf("%.17g", checksum);
    printf(",\"min_ms\":%.4f,\"median_ms\":%.4f,\"runs_ms\":[", sorted[0], median);
    for (int r = 0; r < k; r++) printf("%s%.4f", r ? "," : "", t[r]);
    printf("]}\n");
    free(t);
    free(sorted);
}

#endif
