/* sqdiff: z = x**2 + y**2 - 2*x*y over 10M f64, x = linspace(0, 1, N), y = linspace(2, -1, N),
 * into a preallocated z -- the C peer.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp sqdiff.c -lm
 * Usage: ./sqdiff K     Threads: OMP_NUM_THREADS.   Checksum: sum(z), untimed.
 */
#include "../common/bench.h"
#include <string.h>

#define N 10000000L

static double *x, *y, *z;

static void run(void *arg) {
    (void)arg;
    const double *restrict a = x, *restrict b = y;
    double *restrict out = z;
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < N; i++)
        out[i] = a[i] * a[i] + b[i] * b[i] - 2.0 * a[i] * b[i];
}
static double check(void *arg) { (void)arg; return bench_sum(z, N); }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    x = bench_alloc(sizeof(double) * N);
    y = bench_alloc(sizeof(double) * N);
    z = bench_alloc(sizeof(double) * N);
    bench_linspace(x, N, 0.0, 1.0);
    bench_linspace(y, N, 2.0, -1.0);
    memset(z, 0, sizeof(double) * N);
    bench_run("c", k, run, check, NULL, 0);
    return 0;
}
