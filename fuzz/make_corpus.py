#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target under fuzz/corpus/ from the repository's
real inputs: the cells of jit/tests/run/*.kiln, jit/tests/syntax/*.kiln and the notebooks
(parse, lower, exec) and real Jupyter messages (wire). Run it from anywhere; it replaces
the seeds it writes (files named seed-*) and keeps what the fuzzers added."""

import hashlib
import hmac
import json
import pathlib
import random

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
MAX_CELL = 1500  # bytes: small seeds keep the fuzzers fast
MAX_CELLS = 200  # spread over all the sources: the fuzzers grow their own corpus from here
FRAME_SEPARATOR = b"\n\0\n"  # fuzz_targets/wire.rs splits frames at it
KEY = b"fuzz-key"


def cells():
    out = []
    for path in sorted((ROOT / "jit" / "tests" / "run").glob("*.kiln")) + sorted(
        (ROOT / "jit" / "tests" / "syntax").glob("*.kiln")
    ):
        out += path.read_text().split("\n# %%")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for c in json.loads(path.read_text())["cells"]:
            if c["cell_type"] == "code":
                out.append("".join(c["source"]))
    seen, kept = set(), []
    for c in out:
        c = c.strip("\n") + "\n"
        if c.strip() and len(c.encode()) <= MAX_CELL and c not in seen and "@gpu" not in c:
            seen.add(c)
            kept.append(c)
    step = max(1, len(kept) / MAX_CELLS)
    return [kept[int(i * step)] for i in range(min(MAX_CELLS, len(kept)))]


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def messages():
    def header(msg_type, i):
        return {"msg_id": f"id-{i}", "session": "s-1", "username": "user",
                "date": "2026-01-01T00:00:00.000000Z", "msg_type": msg_type, "version": "5.3"}

    contents = [
        ("execute_request", {"code": "x = 1\nx + 1", "silent": False, "store_history": True,
                             "user_expressions": {"y": "x"}, "allow_stdin": False,
                             "stop_on_error": True}),
        ("execute_request", {"code": "for i in range(3):\n    print(i)"}),
        ("kernel_info_request", {}),
        ("complete_request", {"code": "np.ze", "cursor_pos": 5}),
        ("complete_request", {"code": "π = 3\nπ", "cursor_pos": 7}),
        ("inspect_request", {"code": "zeros(3)", "cursor_pos": 2, "detail_level": 0}),
        ("is_complete_request", {"code": "def f(x):"}),
        ("history_request", {"output": False, "raw": True, "hist_access_type": "tail", "n": 10}),
        ("history_request", {"hist_access_type": "search", "pattern": "x*", "unique": True}),
        ("comm_info_request", {"target_name": "jupyter.widget"}),
        ("shutdown_request", {"restart": True}),
        ("interrupt_request", {}),
    ]
    out = []
    for i, (msg_type, content) in enumerate(contents):
        parts = [json.dumps(header(msg_type, i)).encode(),
                 json.dumps(header("execute_request", 100 + i) if i % 2 else {}).encode(),
                 json.dumps({"trusted": True} if i % 3 == 0 else {}).encode(),
                 json.dumps(content).encode()]
        signature = hmac.new(KEY, b"".join(parts), hashlib.sha256).hexdigest().encode()
        identities = [] if msg_type == "interrupt_request" else [f"client-{i}".encode()]
        frames = identities + [b"<IDS|MSG>", signature] + parts
        if i % 4 == 1:
            frames.append(b"\x00\x01buffer")
        # Flag byte: bit 0 verifies with KEY, bit 1 re-signs in the target.
        out.append((f"{msg_type}-{i}", bytes([1 if i % 2 else 3]) + FRAME_SEPARATOR.join(frames)))
    return out


def main():
    rng = random.Random(15)
    kept = cells()
    for i, c in enumerate(kept):
        name = f"{i:03d}"
        write("parse", name, c.encode())
        # lower and exec: an even first byte means "source text" (kiln_fuzz::cells).
        write("lower", name, b"\0" + c.encode())
        write("exec", name, b"\0" + c.encode())
    # Inputs for the program generator (odd first byte), random bytes of a few lengths.
    for i in range(24):
        data = bytes([1]) + bytes(rng.randrange(256) for _ in range(64 + 32 * i))
        write("lower", f"gen-{i:02d}", data)
        write("exec", f"gen-{i:02d}", data)
    for name, data in messages():
        write("wire", name, data)
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    print(f"{len(kept)} cells; corpus {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
