/* sumsqrt: s = sum(sqrt(x*x + 1)) over 10M f64, x = linspace(0, 1, N) -- the C peers.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp sumsqrt.c -lm
 * Usage: ./sumsqrt K MODE
 *   strict     serial left-to-right sum (IEEE order; gcc vectorises the sqrt, not the adds)
 *   reordered  `omp parallel for simd reduction(+:s)`: SIMD lanes and, with OMP_NUM_THREADS=2,
 *              two threads each keep partial sums (what -ffast-math would allow)
 */
#include "../common/bench.h"
#include <string.h>

#define N 10000000L

static double *x;
static double result;

static void run_strict(void *arg) {
    (void)arg;
    double s = 0.0;
    for (long i = 0; i < N; i++) s += sqrt(x[i] * x[i] + 1.0);
    result = s;
}

static void run_reordered(void *arg) {
    (void)arg;
    double s = 0.0;
    #pragma omp parallel for simd reduction(+:s) schedule(static)
    for (long i = 0; i < N; i++) s += sqrt(x[i] * x[i] + 1.0);
    result = s;
}

static double check(void *arg) { (void)arg; return result; }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    const char *mode = argc > 2 ? argv[2] : "strict";
    x = bench_alloc(sizeof(double) * N);
    bench_linspace(x, N, 0.0, 1.0);
    if (strcmp(mode, "reordered") == 0)
        bench_run("c-reordered", k, run_reordered, check, NULL, 0);
    else
        bench_run("c-strict", k, run_strict, check, NULL, 0);
    return 0;
}
