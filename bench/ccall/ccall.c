/* ccall: 1,000,000 calls of poly(x) = x*x*0.5 + x - 3.0 from a shared library, summed over
 * x = i * 1e-6 in order -- the C peer, calling through a function pointer from dlopen/dlsym
 * (a real call: the compiler cannot see poly's body, so it cannot inline it).
 *
 * Built by bench/run.py: gcc -O3 -march=native -ffp-contract=off ccall.c -lm
 * Usage: ./ccall K LIB.so      (the harness passes bench/build/libccall_poly.so)
 * Checksum: the sum s.
 */
#include "../common/bench.h"
#include <dlfcn.h>

#define N 1000000L

static double (*poly)(double);
static double s;

static void run(void *arg) {
    (void)arg;
    double acc = 0.0;
    for (long i = 0; i < N; i++) acc += poly((double)i * 1e-6);
    s = acc;
}
static double check(void *arg) { (void)arg; return s; }

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 10;
    const char *path = argc > 2 ? argv[2] : "bench/build/libccall_poly.so";
    void *lib = dlopen(path, RTLD_NOW);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    *(void **)&poly = dlsym(lib, "poly");
    if (!poly) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
    bench_run("c-dlsym", k, run, check, NULL, 0);
    return 0;
}
