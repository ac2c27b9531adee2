"""The same small launch with PyOpenCL -- the peer of the `launch` workload.

Usage: python launch_pyopencl.py K MODE
  readback   one launch of y[i] = 2*x[i] + 1 over 1000 resident elements, then y copied
             back to the host (blocking): what Kiln's cell does, timed on the host
Checksum: sum(y) on the host, untimed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import args, bench, opencl, skip  # noqa: E402

N = 1000

SRC = """
#pragma OPENCL FP_CONTRACT OFF
__kernel void axpb(__global const double* x, __global double* y, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    y[i] = 2.0 * x[i] + 1.0;
}
"""


def main():
    k, mode, _ = args()
    np, cl, ctx = opencl(mode)
    if mode != "readback":
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    queue = cl.CommandQueue(ctx)
    kernel = cl.Program(ctx, SRC).build().axpb
    x = np.linspace(0.0, 1.0, N)
    y = np.zeros(N)
    mf = cl.mem_flags
    xd = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x)
    yd = cl.Buffer(ctx, mf.READ_WRITE, y.nbytes)
    grid = ((N + 255) // 256 * 256,)

    def fn():
        kernel(queue, grid, (256,), xd, yd, np.int64(N))
        cl.enqueue_copy(queue, y, yd)
        return y

    bench(f"pyopencl-{mode}", fn, k, checksum=lambda r: float(r.sum()),
          extra={"version": ".".join(map(str, cl.VERSION)), "device": ctx.devices[0].name})


if __name__ == "__main__":
    main()
