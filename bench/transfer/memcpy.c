/* memcpy of 80 MB (10M f64) into an already touched buffer -- the host's copy bandwidth,
 * the ceiling for a host->device upload on a CPU OpenCL device (PoCL's buffer write is a
 * copy like this one) and the yardstick for a GPU's PCIe upload.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off memcpy.c -lm
 * Usage: ./memcpy K      Bytes per run: 8 per element (the bytes copied).
 * Checksum: sum(dst), untimed (x = linspace(0, 1, 10M): 5000000).
 */
#include <string.h>

#include "../common/bench.h"

#define N 10000000L

static double *src, *dst;

static void run(void *arg) {
    (void)arg;
    memcpy(dst, src, sizeof(double) * N);
}
static double check(void *arg) { (void)arg; return bench_sum(dst, N); }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    src = bench_alloc(sizeof(double) * N);
    dst = bench_alloc(sizeof(double) * N);
    bench_linspace(src, N, 0.0, 1.0);
    memset(dst, 0, sizeof(double) * N);
    bench_run("c-memcpy", k, run, check, NULL, 0);
    return 0;
}
