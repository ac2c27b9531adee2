/* Mandelbrot 1000x1000, 200 iterations, x in [-2, 1], y in [-1.5, 1.5].
 *
 * The C peer for bench/run.py. Build exactly as the harness does:
 *     gcc -O3 -march=native -ffp-contract=off mandel.c -o mandel
 * (-ffp-contract=off: no FMA fusion, so the checksum is 38061767 bit for bit, like NumPy,
 *  Numba and Kiln; with FMA it would be 38044935.)
 *
 * Usage: ./mandel [K]   (K timed runs after one warm-up, default 10)
 * Prints one JSON object on stdout: checksum, min/median/all run times in ms.
 *
 * One timed run = what one Kiln cell run does: allocate a zeroed int64 image, fill it with a
 * serial row/column loop calling mandel() per pixel, sum it, free it.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define H 1000
#define W 1000
#define MAX_ITER 200

/* Same arithmetic, in the same order, as mandel.kiln and mandel_numba.py. gcc is free to
 * inline it (that is the C peer at its best, which is what Kiln is measured against). */
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

static int64_t run_once(void) {
    const int64_t h = H, w = W;
    int64_t *img = calloc((size_t)(h * w), sizeof *img);
    if (!img) { perror("calloc"); exit(1); }
    for (int64_t i = 0; i < h; i++) {
        double ci = 1.5 - i * 3.0 / h;
        for (int64_t j = 0; j < w; j++)
            img[i * w + j] = mandel(-2.0 + j * 3.0 / w, ci, MAX_ITER);
    }
    int64_t s = 0;
    for (int64_t k = 0; k < h * w; k++) s += img[k];
    free(img);
    return s;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    if (k < 1) k = 1;
    double *t = malloc(sizeof(double) * (size_t)k);

    int64_t checksum = run_once();                 /* warm-up */
    for (int r = 0; r < k; r++) {
        double t0 = now_ms();
        int64_t s = run_once();
        t[r] = now_ms() - t0;
        if (s != checksum) {
            fprintf(stderr, "checksum changed between runs: %lld vs %lld\n",
                    (long long)s, (long long)checksum);
            return 1;
        }
    }
    double *sorted = malloc(sizeof(double) * (size_t)k);
    for (int r = 0; r < k; r++) sorted[r] = t[r];
    qsort(sorted, (size_t)k, sizeof(double), cmp_double);
    double median = k % 2 ? sorted[k / 2] : 0.5 * (sorted[k / 2 - 1] + sorted[k / 2]);

    printf("{\"impl\":\"c\",\"checksum\":%lld,\"min_ms\":%.3f,\"median_ms\":%.3f,\"runs_ms\":[",
           (long long)checksum, sorted[0], median);
    for (int r = 0; r < k; r++) printf("%s%.3f", r ? "," : "", t[r]);
    printf("]}\n");
    free(t);
    free(sorted);
    return 0;
}
