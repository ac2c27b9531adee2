"""poly on the OpenCL device, 10 launches over resident 10M f64 -- the PyOpenCL peers of
the `poly_gpu` workload.

Usage: python poly_pyopencl.py K MODE
  kernel     10 launches of the one-element-per-work-item kernel, x and y already on the
             device, one wait at the end (kernel time only)
  readback   the same, each launch followed by copying y back to the host (what a Kiln
             cell does: an array a kernel wrote is current on the host after the loop)
Built with FP_CONTRACT OFF (the CPU's bits). Checksum: sum(y) on the host, untimed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import args, bench, opencl, skip  # noqa: E402

N = 10_000_000
LAUNCHES = 10

SRC = """
#pragma OPENCL FP_CONTRACT OFF
__kernel void poly(__global const double* x, __global double* y, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    double v = x[i];
    y[i] = 2.0 * (v * v * v) - 3.0 * (v * v) + 4.0 * v - 1.0;
}
"""


def main():
    k, mode, _ = args()
    np, cl, ctx = opencl(mode)
    queue = cl.CommandQueue(ctx)
    kernel = cl.Program(ctx, SRC).build().poly
    x = np.linspace(0.0, 1.0, N)
    y = np.zeros(N)
    mf = cl.mem_flags
    xd = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x)
    yd = cl.Buffer(ctx, mf.READ_WRITE, y.nbytes)
    grid = ((N + 255) // 256 * 256,)

    if mode == "kernel":
        def fn():
            for _ in range(LAUNCHES):
                kernel(queue, grid, (256,), xd, yd, np.int64(N))
            queue.finish()
            return yd
    elif mode == "readback":
        def fn():
            for _ in range(LAUNCHES):
                kernel(queue, grid, (256,), xd, yd, np.int64(N))
                cl.enqueue_copy(queue, y, yd)
            return yd
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)

    def checksum(buf):
        cl.enqueue_copy(queue, y, buf)
        return float(y.sum())

    bench(f"pyopencl-{mode}", fn, k, checksum=checksum,
          extra={"version": ".".join(map(str, cl.VERSION)), "device": ctx.devices[0].name})


if __name__ == "__main__":
    main()
