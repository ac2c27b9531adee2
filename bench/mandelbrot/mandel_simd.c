/* Mandelbrot 1000x1000, 200 iterations -- the C OpenMP+SIMD peer for `mandelbrot_par`: what
 * a C programmer writes to get vector lanes from gcc. Each row is taken 16 pixels at a time;
 * every pixel keeps its own count and an alive flag, the loop over the 16 lanes has no
 * branch (so gcc vectorises it: AVX-512 on Zen 4 with -march=native), and the iteration loop
 * stops when no lane is alive. Same arithmetic per pixel, in the same order, without FMA
 * contraction, so the counts equal mandel.c's. Threads: OMP_NUM_THREADS.
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off -fopenmp mandel_simd.c -lm
 * Usage: ./mandel_simd K     Checksum 38061767.
 */
#include "../common/bench.h"
#include <stdint.h>

#define H 1000
#define W 1000
#define MAX_ITER 200
#define L 16

static int64_t result;

static void row(int64_t i, int64_t *out) {
    const int64_t h = H, w = W;
    double ci = 1.5 - i * 3.0 / h;
    for (int64_t j0 = 0; j0 < w; j0 += L) {
        double cr[L], zr[L], zi[L];
        int64_t count[L], alive[L];
        for (int l = 0; l < L; l++) {
            int64_t j = j0 + l;
            cr[l] = -2.0 + j * 3.0 / w;
            zr[l] = 0.0;
            zi[l] = 0.0;
            count[l] = MAX_ITER;
            alive[l] = j < w;
        }
        for (int64_t n = 0; n < MAX_ITER; n++) {
            int64_t any = 0;
            for (int l = 0; l < L; l++) {
                int64_t out_now = alive[l] & (zr[l] * zr[l] + zi[l] * zi[l] > 4.0);
                count[l] = out_now ? n : count[l];
                alive[l] &= !out_now;
                double nzr = zr[l] * zr[l] - zi[l] * zi[l] + cr[l];
                double nzi = 2.0 * zr[l] * zi[l] + ci;
                zr[l] = nzr;
                zi[l] = nzi;
                any |= alive[l];
            }
            if (!any)
                break;
        }
        for (int l = 0; l < L && j0 + l < w; l++)
            out[j0 + l] = count[l];
    }
}

static void run(void *arg) {
    (void)arg;
    int64_t *img = calloc((size_t)(H * W), sizeof *img);
    if (!img) { perror("calloc"); exit(1); }
    #pragma omp parallel for schedule(dynamic)
    for (int64_t i = 0; i < H; i++)
        row(i, img + i * W);
    int64_t s = 0;
    for (int64_t k = 0; k < (int64_t)H * W; k++) s += img[k];
    free(img);
    result = s;
}
static double check(void *arg) { (void)arg; return (double)result; }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    bench_run("c-simd", k, run, check, NULL, 1);
    return 0;
}
