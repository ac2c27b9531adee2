"""Host -> device upload of 80 MB with PyOpenCL -- the peer of the `transfer` workload.

Usage: python transfer_pyopencl.py K MODE
  event   each run one blocking enqueue_copy(queue, buffer, host array); the time is the
          copy's own profiling event (end - start), the measure Kiln's `to_device_ms` uses
  wall    the same copy timed on the host (includes the call's own overhead)
Checksum: the buffer copied back and summed on the host, untimed.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import args, opencl, skip  # noqa: E402

N = 10_000_000


def main():
    k, mode, _ = args()
    np, cl, ctx = opencl(mode)
    if mode not in ("event", "wall"):
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    queue = cl.CommandQueue(ctx, properties=cl.command_queue_properties.PROFILING_ENABLE)
    x = np.linspace(0.0, 1.0, N)
    xd = cl.Buffer(ctx, cl.mem_flags.READ_WRITE, x.nbytes)

    def once():
        t0 = time.perf_counter()
        ev = cl.enqueue_copy(queue, xd, x, is_blocking=True)
        wall = (time.perf_counter() - t0) * 1e3
        ev.wait()
        return (ev.profile.end - ev.profile.start) * 1e-6 if mode == "event" else wall

    once()                                   # warm-up: first touch of the device buffer
    runs = [once() for _ in range(k)]
    back = np.empty_like(x)
    cl.enqueue_copy(queue, back, xd)
    print(json.dumps({"impl": f"pyopencl-{mode}", "checksum": float(back.sum()),
                      "min_ms": round(min(runs), 4),
                      "median_ms": round(statistics.median(runs), 4),
                      "runs_ms": [round(t, 4) for t in runs],
                      "version": ".".join(map(str, cl.VERSION)),
                      "device": ctx.devices[0].name}))


if __name__ == "__main__":
    main()
