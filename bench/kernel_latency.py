#!/usr/bin/env python3
"""Kernel latency: process start to kernel_info_reply, and the round trip of `1 + 1`.

Run with the venv: `.venv/bin/python bench/kernel_latency.py [--kernel kiln] [-n 20]`.
Prints medians (and min/max) over N fresh kernels and N round trips; compare with
`--kernel python3` (ipykernel) on the same machine. Not a test: nothing here gates CI.
"""

import argparse
import statistics
import time

from jupyter_client.manager import KernelManager


def start_to_info(kernel_name):
    """Seconds from launching the kernel process to receiving its kernel_info_reply."""
    km = KernelManager(kernel_name=kernel_name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    # Poll quickly: jupyter_client's own wait_for_ready sleeps between attempts.
    while True:
        msg_id = kc.kernel_info()
        try:
            while True:
                reply = kc.get_shell_msg(timeout=0.005)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            break
        except Exception:
            continue
    dt = time.perf_counter() - t0
    return dt, km, kc


def round_trip(kc, code):
    """Seconds from sending an execute_request to having both the reply and idle status."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    got_reply = got_idle = False
    while not (got_reply and got_idle):
        if not got_reply and kc.shell_channel.msg_ready():
            got_reply = kc.get_shell_msg()["parent_header"].get("msg_id") == msg_id
        elif kc.iopub_channel.msg_ready():
            m = kc.get_iopub_msg()
            got_idle |= (
                m["parent_header"].get("msg_id") == msg_id
                and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            )
    return time.perf_counter() - t0


def summary(name, xs):
    ms = [x * 1000 for x in xs]
    return f"{name}: median {statistics.median(ms):.2f} ms (min {min(ms):.2f}, max {max(ms):.2f}, n={len(ms)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="kiln")
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()

    starts = []
    for _ in range(args.n):
        dt, km, kc = start_to_info(args.kernel)
        starts.append(dt)
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    dt, km, kc = start_to_info(args.kernel)
    for _ in range(5):  # warm up: first cell compiles the runtime's paths once
        round_trip(kc, "1 + 1")
    trips = [round_trip(kc, "1 + 1") for _ in range(args.n * 10)]
    kc.stop_channels()
    km.shutdown_kernel(now=True)

    print(f"kernel {args.kernel!r}")
    print(summary("  start -> kernel_info_reply", starts))
    print(summary("  `1 + 1` round trip (reply + idle)", trips))


if __name__ == "__main__":
    main()
