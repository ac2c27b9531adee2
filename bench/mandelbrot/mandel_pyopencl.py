"""Mandelbrot 1000x1000, 200 iterations -- the PyOpenCL peer for `mandelbrot_gpu`.

Usage: python mandel_pyopencl.py K
The plain kernel a PyOpenCL user writes: one work-item per pixel, built with FP_CONTRACT OFF
(the same bits as the CPU), on the first OpenCL device (PoCL without a GPU). Per call, as
the Kiln cell does: allocate a zeroed image, launch, read it back, sum. Checksum 38061767.
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

if __name__ == "__main__":
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10
    try:
        ctx = cl.create_some_context(interactive=False)
    except Exception as e:  # noqa: BLE001 - no platform is a skip, not a failure
        skip("pyopencl", f"no OpenCL device ({e})")
    queue = cl.CommandQueue(ctx)
    prg = cl.Program(ctx, SRC).build()
    kernel = prg.mandel

    def run():
        img = np.zeros((H, W), dtype=np.int64)
        buf = cl.Buffer(ctx, cl.mem_flags.WRITE_ONLY, img.nbytes)
        kernel(queue, (W, H), None, buf, np.int64(H), np.int64(W), np.int64(MAX_ITER))
        cl.enqueue_copy(queue, img, buf)
        return int(img.sum())

    bench("pyopencl", run, k, checksum=lambda r: int(r),
          extra={"version": ".".join(map(str, cl.VERSION)), "device": ctx.devices[0].name})
