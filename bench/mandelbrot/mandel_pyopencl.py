"""Mandelbrot 1000x1000, 200 iterations -- the PyOpenCL peers for `mandelbrot_gpu`.

Usage: python mandel_pyopencl.py K [plain|double16]
  plain     the kernel a PyOpenCL user writes: one work-item per pixel
  double16  hand-vectorised: one work-item per 16 pixels of a row in double16 lanes, with an
            alive mask and a loop that runs while any lane is alive (what a CPU device needs
            to use its SIMD units: PoCL does not vectorise the plain kernel's escape loop)
Both are built with FP_CONTRACT OFF (the same bits as the CPU) and run on the first OpenCL
device (PoCL without a GPU). Per call, as the Kiln cell does: allocate a zeroed image,
launch, read it back, sum. Checksum 38061767.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import bench, skip  # noqa: E402

H, W, MAX_ITER = 1000, 1000, 200

try:
    import numpy as np
    import pyopencl as cl
except ImportError as e:  # pragma: no cover
    skip("pyopencl", f"pyopencl not importable ({e})")

SRC = """
#pragma OPENCL FP_CONTRACT OFF
__kernel void mandel(__global long* img, long h, long w, long max_iter) {
    long j = get_global_id(0), i = get_global_id(1);
    double cr = -2.0 + j * 3.0 / w, ci = 1.5 - i * 3.0 / h;
    double zr = 0.0, zi = 0.0;
    long n = 0;
    for (; n < max_iter; n++) {
        if (zr * zr + zi * zi > 4.0) break;
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
    }
    img[i * w + j] = n;
}
"""

# Lane l of work-item (g, i) is pixel (i, 16 g + l); lanes past the row's end start dead.
# Every lane does the plain kernel's operations in its order, so the counts are equal.
SRC16 = """
#pragma OPENCL FP_CONTRACT OFF
__kernel void mandel16(__global long* img, long h, long w, long max_iter) {
    long g = get_global_id(0), i = get_global_id(1);
    long16 j = (long16)(16 * g) + (long16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    double16 cr = -2.0 + convert_double16(j) * 3.0 / (double)w;
    double ci = 1.5 - i * 3.0 / h;
    double16 zr = 0.0, zi = 0.0;
    long16 alive = j < (long16)w;      /* -1 where alive */
    long16 count = (long16)max_iter;
    for (long n = 0; n < max_iter; n++) {
        long16 out = zr * zr + zi * zi > 4.0;
        count = select(count, (long16)n, alive & out);
        alive &= ~out;
        if (!any(alive)) break;
        double16 t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
    }
    long c[16];
    vstore16(count, 0, c);
    for (int l = 0; l < 16; l++)
        if (16 * g + l < w) img[i * w + 16 * g + l] = c[l];
}
"""

if __name__ == "__main__":
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10
    mode = sys.argv[2] if len(sys.argv) > 2 else "plain"
    if mode not in ("plain", "double16"):
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    try:
        ctx = cl.create_some_context(interactive=False)
    except Exception as e:  # noqa: BLE001 - no platform is a skip, not a failure
        skip("pyopencl", f"no OpenCL device ({e})")
    queue = cl.CommandQueue(ctx)
    if mode == "plain":
        kernel = cl.Program(ctx, SRC).build().mandel
        grid = (W, H)
    else:
        kernel = cl.Program(ctx, SRC16).build().mandel16
        grid = ((W + 15) // 16, H)

    def run():
        img = np.zeros((H, W), dtype=np.int64)
        buf = cl.Buffer(ctx, cl.mem_flags.WRITE_ONLY, img.nbytes)
        kernel(queue, grid, None, buf, np.int64(H), np.int64(W), np.int64(MAX_ITER))
        cl.enqueue_copy(queue, img, buf)
        return int(img.sum())

    bench(f"pyopencl-{mode}", run, k, checksum=lambda r: int(r),
          extra={"version": ".".join(map(str, cl.VERSION)), "device": ctx.devices[0].name})
