"""Soak: one kernel driven for a long time through a real client, as a notebook is.

- many small cells with the kernel's memory stable (its RSS from /proc, Kiln's live-object
  count from `%memory`);
- interrupts fired into running serial and `@par` loops, each one answered;
- two clients on one kernel;
- restarts in a loop, each new kernel answering.

Pass/fail never rests on speed: the interrupt test asserts a generous bound and prints the
measured latencies (`pytest -s` shows them); bench/kernel_latency.py measures them properly.
KILN_SOAK_EXECUTES sets the number of small cells (10 000 by default).
"""

import os
import re
import statistics
import time

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from conftest import TIMEOUT
from test_protocol import iopub_until_idle, run, shell_reply, text_result

EXECUTES = int(os.environ.get("KILN_SOAK_EXECUTES", "10000"))
INTERRUPTS = int(os.environ.get("KILN_SOAK_INTERRUPTS", "100"))
RESTARTS = int(os.environ.get("KILN_SOAK_RESTARTS", "20"))

# Far beyond the 100 ms SPEC §11 promises, so a loaded CI machine cannot fail it; a kernel
# that misses an interrupt altogether still fails.
INTERRUPT_BOUND_S = 2.0
# Bounds for the soak, after warm-up: every cell's code and objects must be freed. A leak
# of one small array per cell is 10 000 live objects; one of 1 kB per cell is 10 MB.
RSS_GROWTH_BOUND_KB = 4 * 1024


def start_kernel():
    km = KernelManager(kernel_name="kiln")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


@pytest.fixture
def fresh_kernel():
    km, kc = start_kernel()
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def rss_kb(km):
    """The kernel process's resident set, from /proc (what `top` shows)."""
    with open(f"/proc/{km.provisioner.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def live_objects(kc):
    reply, msgs = run(kc, "%memory")
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    found = re.search(r"live objects: (\d+)", text)
    assert found, text
    return int(found.group(1))


# Small cells as a notebook has them: scalars, strings, arrays, views, reductions, output,
# results shown, a redefined function and a failing cell. Each rebinds globals of the same
# names, so a kernel that frees what it no longer holds ends where it started.
CELLS = [
    "soak_i = {i}",
    "soak_s = 'cell ' + str({i})",
    "soak_a = zeros(16) + {i}",
    "soak_v = soak_a[2:8]",
    "soak_t = soak_v.sum() + soak_i",
    "print(soak_s, soak_t)",
    "soak_a * 2",
    "def soak_f(x):\n    return x + {i}\nsoak_f(soak_i)",
    "soak_i // 0",
    "soak_s + '!'",
]


def soak_cell(kc, k):
    code = CELLS[k % len(CELLS)].format(i=k)
    reply, _ = run(kc, code)
    status = reply["content"]["status"]
    expected = "error" if "// 0" in code else "ok"
    assert status == expected, (code, reply["content"])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RSS from /proc")
def test_many_small_executes_keep_the_kernels_memory_stable(fresh_kernel):
    km, kc = fresh_kernel
    warm_up = max(len(CELLS) * 20, EXECUTES // 10)
    rss_start = rss_kb(km)
    for k in range(warm_up):
        soak_cell(kc, k)
    rss_warm, live_warm = rss_kb(km), live_objects(kc)
    t0 = time.perf_counter()
    for k in range(warm_up, warm_up + EXECUTES):
        soak_cell(kc, k)
    elapsed = time.perf_counter() - t0
    rss_end, live_end = rss_kb(km), live_objects(kc)
    print(
        f"\nsoak: {EXECUTES} cells after {warm_up} of warm-up in {elapsed:.1f} s; "
        f"RSS start {rss_start} kB, after warm-up {rss_warm} kB, end {rss_end} kB "
        f"({rss_end - rss_warm:+d} kB); live objects after warm-up {live_warm}, end {live_end}"
    )
    assert live_end == live_warm, "heap objects leaked"
    assert rss_end - rss_warm < RSS_GROWTH_BOUND_KB, (rss_warm, rss_end)
    # The session is intact: the last cells' globals are there.
    assert text_result(kc, "soak_v.shape") == "(6,)"


# Loops that never end by themselves, so each one must be interrupted to answer.
SPINNERS = {
    "serial": "spin = 0\nwhile True:\n    spin += 1",
    "serial for": "spin_f = 0.0\nfor i in range(10**15):\n    spin_f += i * 0.5",
    "@par": "spin_p = 0.0\n@par\nfor i in range(10**15):\n    spin_p += sqrt(i * 1.0)",
    "@par nested": (
        "spin_n = 0\n@par\nfor i in range(10**6):\n    for j in range(10**12):\n"
        "        spin_n += (i ^ j) & 1"
    ),
}


def wait_for_execute_input(kc, msg_id):
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            return


def test_interrupts_into_running_serial_and_par_loops_are_each_answered(fresh_kernel):
    km, kc = fresh_kernel
    run(kc, "survivor = 7")
    latencies = {name: [] for name in SPINNERS}
    names = list(SPINNERS)
    for k in range(INTERRUPTS):
        name = names[k % len(names)]
        msg_id = kc.execute(SPINNERS[name])
        wait_for_execute_input(kc, msg_id)
        # Land the interrupt at different points: while the cell compiles, as the loop
        # starts, and well inside it (0 to 40 ms after execute_input).
        time.sleep((k // len(names) % 5) * 0.01)
        t0 = time.perf_counter()
        km.interrupt_kernel()
        reply = shell_reply(kc, msg_id)
        latency = time.perf_counter() - t0
        assert reply["content"]["status"] == "error", (name, reply["content"])
        assert reply["content"]["ename"] == "KeyboardInterrupt", (name, reply["content"])
        iopub_until_idle(kc, msg_id)
        latencies[name].append(latency)
        assert latency < INTERRUPT_BOUND_S, (name, k, latency)
    every = [x for xs in latencies.values() for x in xs]
    print(f"\ninterrupt -> execute_reply over {len(every)} interrupts:")
    for name, xs in latencies.items():
        ms = sorted(x * 1000 for x in xs)
        print(
            f"  {name:12} n={len(ms):3}  median {statistics.median(ms):6.1f} ms  "
            f"max {ms[-1]:6.1f} ms"
        )
    # Every interrupt is spent on its own cell: the session, globals included, goes on.
    assert text_result(kc, "survivor + 1") == "8"


def test_two_clients_share_one_kernel(fresh_kernel):
    km, first = fresh_kernel
    # A client of its own, from the connection file, as `jupyter console --existing` makes
    # one (its own session id; km.client() would share the first one's, and a ROUTER
    # refuses a second peer with an identity already in use).
    second = BlockingKernelClient(connection_file=km.connection_file)
    second.load_connection_file()
    assert second.session.session != first.session.session
    second.start_channels()
    try:
        second.wait_for_ready(timeout=TIMEOUT)
        # Both iopub subscriptions are live before anything is sent (iopub_welcome).
        a_id = first.execute("shared = 20")
        a_reply = shell_reply(first, a_id)
        assert a_reply["content"]["status"] == "ok"
        # The other client's request is seen by both on iopub, answered on its shell only.
        b_id = second.execute("shared + 1")
        b_reply = shell_reply(second, b_id)
        assert b_reply["content"]["status"] == "ok"
        assert b_reply["content"]["execution_count"] == a_reply["content"]["execution_count"] + 1
        for kc in (first, second):
            a_msgs = iopub_until_idle(kc, a_id)
            b_msgs = iopub_until_idle(kc, b_id)
            assert [m["content"]["code"] for m in a_msgs if m["msg_type"] == "execute_input"] == [
                "shared = 20"
            ]
            results = [m["content"] for m in b_msgs if m["msg_type"] == "execute_result"]
            assert [r["data"]["text/plain"] for r in results] == ["21"]
            assert results[0]["execution_count"] == b_reply["content"]["execution_count"]
        # Neither shell channel got the other's reply.
        assert not first.shell_channel.msg_ready()
        assert not second.shell_channel.msg_ready()
        # Interleaved requests from both are each answered to their sender.
        ids = [(kc, kc.execute(f"shared += {k}")) for k in range(20) for kc in (first, second)]
        for kc, msg_id in ids:
            assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
        assert text_result(second, "shared") == str(20 + 2 * sum(range(20)))
        assert not first.shell_channel.msg_ready()
    finally:
        second.stop_channels()


def test_restart_in_a_loop_each_new_kernel_answers():
    km, kc = start_kernel()
    pids = set()
    try:
        for k in range(RESTARTS):
            pids.add(km.provisioner.pid)
            assert run(kc, f"before_restart = {k}")[0]["content"]["status"] == "ok"
            # restart_kernel sends shutdown_request(restart=True) on control, waits for
            # the process to end, and starts a new one on the same ports.
            km.restart_kernel(now=False)
            kc.wait_for_ready(timeout=TIMEOUT)
            reply, _ = run(kc, "before_restart")
            assert reply["content"]["ename"] == "NameError", reply["content"]
            assert text_result(kc, f"{k} * 2") == str(k * 2)
        pids.add(km.provisioner.pid)
        assert len(pids) == RESTARTS + 1, "a restart kept the old process"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()
    for pid in pids:
        assert not is_kiln_kernel(pid), f"kernel process {pid} outlived its restart"


def is_kiln_kernel(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        with open(f"/proc/{pid}/status") as f:
            zombie = "zombie" in f.read()
    except FileNotFoundError:
        return False
    return b"kernel" in argv and not zombie
