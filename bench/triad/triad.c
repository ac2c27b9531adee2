/* STREAM triad a = b + s*c on three 80 MB f64 arrays (10M elements) -- the memory-bandwidth
 * ceiling for the memory-bound workloads.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp triad.c -lm
 * Usage: ./triad K     Threads: OMP_NUM_THREADS (the harness uses 2, and 1 for reference).
 * Bytes per run, STREAM's convention: 24 per element (read b, read c, write a; the
 * write-allocate read of a is not counted). Arrays are first-touched by the same static
 * schedule that runs the kernel. Checksum: sum(a), untimed.
 */
#include "../common/bench.h"

#define N 10000000L

static double *a, *b, *c;

static void run(void *arg) {
    (void)arg;
    const double s = 3.0;
    double *restrict pa = a;
    const double *restrict pb = b, *restrict pc = c;
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < N; i++) pa[i] = pb[i] + s * pc[i];
}
static double check(void *arg) { (void)arg; return bench_sum(a, N); }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    a = bench_alloc(sizeof(double) * N);
    b = bench_alloc(sizeof(double) * N);
    c = bench_alloc(sizeof(double) * N);
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < N; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 0.5; }
    bench_run("c-triad", k, run, check, NULL, 0);
    return 0;
}
