/* Mandelbrot 1000x1000, 200 iterations -- the C OpenMP peer for `mandelbrot_par`.
 * Same arithmetic and per-run work as mandel.c (allocate a zeroed i64 image, fill, sum), with
 * `#pragma omp parallel for schedule(dynamic)` over the rows. Threads: OMP_NUM_THREADS.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp mandel_omp.c -lm
 * Usage: ./mandel_omp K     Checksum 38061767.
 */
#include "../common/bench.h"
#include <stdint.h>

#define H 1000
#define W 1000
#define MAX_ITER 200

static int64_t mandel(double cr, double ci, int64_t max_iter) {
    double zr = 0.0, zi = 0.0;
    for (int64_t n = 0; n < max_iter; n++) {
        if (zr * zr + zi * zi > 4.0)
            return n;
        double nzr = zr * zr - zi * zi + cr;
        double nzi = 2.0 * zr * zi + ci;
        zr = nzr;
        zi = nzi;
    }
    return max_iter;
}

static int64_t result;

static void run(void *arg) {
    (void)arg;
    const int64_t h = H, w = W;
    int64_t *img = calloc((size_t)(h * w), sizeof *img);
    if (!img) { perror("calloc"); exit(1); }
    #pragma omp parallel for schedule(dynamic)
    for (int64_t i = 0; i < h; i++) {
        double ci = 1.5 - i * 3.0 / h;
        for (int64_t j = 0; j < w; j++)
            img[i * w + j] = mandel(-2.0 + j * 3.0 / w, ci, MAX_ITER);
    }
    int64_t s = 0;
    for (int64_t k = 0; k < h * w; k++) s += img[k];
    free(img);
    result = s;
}
static double check(void *arg) { (void)arg; return (double)result; }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    bench_run("c-omp", k, run, check, NULL, 1);
    return 0;
}
