"""One differential check: a program's text through the oracle and through `kiln run`."""
import os
import re
import subprocess
import tempfile

import compare
import oracle

# The last line of a Kiln traceback names the error, as CPython's does.
ERROR_LINE = re.compile(r"^([A-Z]\w*(?:Error|Exception|Interrupt|Exit))(?:: (.*))?$")
KILN_TIMEOUT_S = 30


class Verdict:
    def __init__(self, kind, detail="", expected="", actual=""):
        self.kind = kind  # "ok", "skip" (undefined behaviour), or "fail"
        self.detail = detail  # for a failure: what differs, in one line
        self.expected, self.actual = expected, actual

    @property
    def signature(self):
        """What the reducer keeps constant while it shrinks: the kind of difference (the
        detail with its numbers and quoted messages masked), so that it does not wander off
        to another bug."""
        masked = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", self.detail)
        return re.sub(r"[-+]?\d[\w.+-]*", "N", masked)


def kiln_error(stderr):
    for line in reversed(stderr.splitlines()):
        m = ERROR_LINE.match(line.strip())
        if m:
            return m.group(1), m.group(2) or ""
    return None


def run_kiln(kiln, text):
    with tempfile.NamedTemporaryFile("w", suffix=".kiln", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        p = subprocess.run(
            [kiln, "run", path], capture_output=True, text=True, timeout=KILN_TIMEOUT_S,
            env={**os.environ, "RAYON_NUM_THREADS": os.environ.get("RAYON_NUM_THREADS", "2")},
        )
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, f"timed out after {KILN_TIMEOUT_S} s"
    finally:
        os.unlink(path)


def describe(result_stdout, error):
    text = result_stdout
    if error:
        text += f"!! {error[0]}: {error[1]}\n"
    return text


def check(text, kiln):
    want = oracle.run(text)
    if want.undefined:
        return Verdict("skip", want.undefined)
    rc, out, err = run_kiln(kiln, text)
    got_error = kiln_error(err) if rc else None
    expected = describe(want.stdout, want.error)
    actual = describe(out, got_error)
    if rc is None:
        return Verdict("fail", "timeout: kiln run did not finish", expected, actual + err + "\n")
    if rc < 0 or rc > 1:
        return Verdict("fail", f"crash: kiln run exited with {rc}", expected, actual + err)
    if rc and got_error is None:
        return Verdict("fail", "crash: kiln run failed without a Python error", expected, actual + err)
    if got_error and got_error[0] == "InternalError":
        return Verdict("fail", f"InternalError: {got_error[1]}", expected, actual)
    if want.error != got_error:
        if want.error is None:
            return Verdict("fail", f"kiln raised {got_error[0]}: {got_error[1]}", expected, actual)
        if got_error is None:
            return Verdict("fail", f"kiln raised nothing: Python raised {want.error[0]}", expected, actual)
        if want.error[0] != got_error[0]:
            return Verdict("fail", f"error type {got_error[0]}: Python raised {want.error[0]}", expected, actual)
        return Verdict("fail", f"error message {got_error[0]}: {got_error[1]!r} vs Python's {want.error[1]!r}",
                       expected, actual)
    why = compare.same_output(want.stdout, out)
    if why:
        return Verdict("fail", f"output: {why}", expected, actual)
    return Verdict("ok")
