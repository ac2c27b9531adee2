/* ccall: the small C function every row calls, 1,000,000 times a run.
 *
 * Built by bench/run.py into bench/build/libccall_poly.so with
 *   gcc -O2 -fPIC -shared -ffp-contract=off poly.c -o bench/build/libccall_poly.so
 * (no FMA contraction, so every row sums the same bits); the Kiln %%c row compiles the same
 * text in a `%%c -ffp-contract=off` cell (Kiln's cc -O2 -fPIC -shared).
 */
double poly(double x) { return x * x * 0.5 + x - 3.0; }
