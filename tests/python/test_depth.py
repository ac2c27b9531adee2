"""Deeply nested cells through a real client: the kernel answers each with CPython's error
and then runs the next cell with its globals kept (the shell thread compiles nothing on its
own stack, so nesting cannot overflow it)."""

from conftest import TIMEOUT
from test_protocol import run, shell_reply, text_result


def error_of(kc, code):
    reply, msgs = run(kc, code)
    content = reply["content"]
    assert content["status"] == "error", content
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert errors, msgs
    return content["ename"], content["evalue"]


def test_deep_cells_answer_with_errors_and_the_session_goes_on(kernel):
    _, kc = kernel
    assert text_result(kc, "kept = 41\nkept") == "41"
    n = 5000
    assert error_of(kc, "x = " + "(" * n + "1" + ")" * n) == (
        "SyntaxError",
        "too many nested parentheses",
    )
    assert error_of(kc, "x = " + " + ".join(["1"] * 200_000)) == (
        "RecursionError",
        "maximum recursion depth exceeded during compilation",
    )
    assert text_result(kc, "kept + 1") == "42"
    assert kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]["status"] == "ok"


def test_is_complete_on_deep_input(kernel):
    _, kc = kernel
    reply = shell_reply(kc, kc.is_complete("x = " + "(" * 5000 + "1"))
    assert reply["content"]["status"] == "invalid"
