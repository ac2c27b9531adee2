"""A kernel inside a memory cgroup: an array beyond the limit is NumPy's MemoryError, and the
session answers the next cell (instead of the OOM killer ending the kernel).

The test makes its own cgroup (v2 where the memory controller is there, else v1), moves the
kernel process into it, and removes it afterwards. Skipped, saying why, where no memory
cgroup can be made (not root, no memory controller).
"""

import os
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from conftest import TIMEOUT

LIMIT = 512 << 20


def cgroup_mounts():
    """(version, mount point) of each cgroup hierarchy that can limit memory, v2 first."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, fs = left.split(" "), right.split(" ")
        point = fields[4].replace("\\040", " ")
        if fs[0] == "cgroup2":
            found.append((2, Path(point)))
        elif fs[0] == "cgroup" and "memory" in fs[2].split(","):
            found.append((1, Path(point)))
    return sorted(found, key=lambda m: -m[0])


def make_cgroup():
    """A fresh memory cgroup limited to LIMIT bytes, or pytest.skip with the reason."""
    reasons = []
    for version, top in cgroup_mounts():
        if version == 2:
            if "memory" not in (top / "cgroup.controllers").read_text().split():
                reasons.append(f"{top}: no memory controller")
                continue
            try:
                (top / "cgroup.subtree_control").write_text("+memory")
            except OSError as e:
                reasons.append(f"{top}: {e}")
                continue
        d = top / f"kiln-pytest-{os.getpid()}"
        try:
            d.mkdir()
        except OSError as e:
            reasons.append(f"mkdir {d}: {e}")
            continue
        try:
            (d / ("memory.max" if version == 2 else "memory.limit_in_bytes")).write_text(str(LIMIT))
        except OSError as e:
            d.rmdir()
            reasons.append(f"{d}: {e}")
            continue
        return d
    pytest.skip("cannot make a memory cgroup here: " + ("; ".join(reasons) or "no cgroup mount"))


@pytest.fixture
def limited_kernel():
    cgroup = make_cgroup()
    km = kc = None
    try:
        km, kc = start_new_kernel(kernel_name="kiln", startup_timeout=60)
        (cgroup / "cgroup.procs").write_text(str(km.provisioner.pid))
        yield kc
    finally:
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            km.shutdown_kernel(now=True)
        cgroup.rmdir()


def execute(kc, code):
    """(reply content, iopub messages of this request up to idle)."""
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    msgs = []
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return reply["content"], msgs
        msgs.append(m)


def test_memory_error_in_a_cgroup_and_the_next_cell_runs(limited_kernel):
    kc = limited_kernel
    execute(kc, "kept = 41")
    # 1 GiB of float64 in a 512 MiB cgroup; `ones` touches every page.
    reply, _ = execute(kc, "a = ones((1024, 1024, 128))")
    assert reply["status"] == "error"
    assert reply["ename"] == "MemoryError"
    assert reply["evalue"] == (
        "Unable to allocate 1.00 GiB for an array with shape (1024, 1024, 128) "
        "and data type float64"
    )
    reply, msgs = execute(kc, "kept + 1")
    assert reply["status"] == "ok"
    results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
    assert results == ["42"]
    # What fits is still made.
    reply, msgs = execute(kc, "b = ones((1024, 1024, 16))\nb.sum()")
    assert reply["status"] == "ok", reply
    results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
    assert results == ["16777216.0"]
