/* poly: y = 2*x**3 - 3*x**2 + 4*x - 1 over 10M f64, x = linspace(0, 1, N) -- the C peer.
 *
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp poly.c -lm
 * Usage: ./poly K MODE    MODE = inplace (into a preallocated y) | fresh (malloc y per call)
 * Threads: OMP_NUM_THREADS (the harness runs it with 1 and 2).
 * Checksum: sum(y), untimed. fresh: malloc (80 MB: mmap'd, so page faults every call) +
 * compute are timed; the free happens in the untimed check.
 */
#include "../common/bench.h"
#include <string.h>

#define N 10000000L

static double *x, *y;

static void poly(double *restrict out, const double *restrict in, long n) {
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        double v = in[i];
        out[i] = 2.0 * (v * v * v) - 3.0 * (v * v) + 4.0 * v - 1.0;
    }
}

static void run_inplace(void *arg) { (void)arg; poly(y, x, N); }
static double check_inplace(void *arg) { (void)arg; return bench_sum(y, N); }

static void run_fresh(void *arg) {
    (void)arg;
    y = bench_alloc(sizeof(double) * N);
    poly(y, x, N);
}
static double check_fresh(void *arg) {
    (void)arg;
    double s = bench_sum(y, N);
    free(y);
    y = NULL;
    return s;
}

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    const char *mode = argc > 2 ? argv[2] : "inplace";
    x = bench_alloc(sizeof(double) * N);
    bench_linspace(x, N, 0.0, 1.0);
    if (strcmp(mode, "fresh") == 0) {
        bench_run("c-fresh", k, run_fresh, check_fresh, NULL, 0);
    } else {
        y = bench_alloc(sizeof(double) * N);
        memset(y, 0, sizeof(double) * N);        /* touch the pages, as Kiln's zeros(n) */
        bench_run("c-inplace", k, run_inplace, check_inplace, NULL, 0);
    }
    return 0;
}
