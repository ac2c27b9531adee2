"""Protocol behaviour over real sockets: signing, robustness, interrupt, restart,
streaming, execution counts, user_expressions and stop_on_error.

No assertion here is about speed: where order matters, the test makes the order
deterministic (e.g. a cell that cannot finish until it is interrupted).
"""

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone

import pytest
import zmq

from conftest import TIMEOUT


def run(kc, code, **kw):
    """Execute and return (reply, iopub messages of this request up to idle)."""
    msg_id = kc.execute(code, **kw)
    return wait(kc, msg_id)


def wait(kc, msg_id):
    reply = shell_reply(kc, msg_id)
    return reply, iopub_until_idle(kc, msg_id)


def shell_reply(kc, msg_id):
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def iopub_until_idle(kc, msg_id):
    msgs = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return msgs


def text_result(kc, code):
    reply, msgs = run(kc, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    results = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert results, msgs
    return results[-1]["content"]["data"]["text/plain"]


def raw_socket(km, channel, kind=zmq.DEALER):
    ctx = zmq.Context.instance()
    sock = ctx.socket(kind)
    sock.linger = 0
    port = getattr(km, f"{channel}_port")
    sock.connect(f"tcp://{km.ip}:{port}")
    return sock


def frames(key, msg_type, content):
    header = {
        "msg_id": uuid.uuid4().hex,
        "session": uuid.uuid4().hex,
        "username": "forger",
        "date": datetime.now(timezone.utc).isoformat(),
        "msg_type": msg_type,
        "version": "5.3",
    }
    parts = [json.dumps(p).encode() for p in (header, {}, {}, content)]
    sig = hmac.new(key, b"".join(parts), hashlib.sha256).hexdigest().encode()
    return [b"<IDS|MSG>", sig] + parts


def still_alive(kc):
    assert kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]["status"] == "ok"


def test_bad_signature_is_dropped_and_never_run(kernel):
    km, kc = kernel
    assert run(kc, "x = 1")[0]["content"]["status"] == "ok"
    sock = raw_socket(km, "shell")
    sock.send_multipart(frames(b"not-the-key", "execute_request", {"code": "x = 999", "silent": False}))
    # A correctly signed request sent after the forged one is served after it (one queue),
    # so by the time this answers, the forged one has been seen and dropped.
    assert text_result(kc, "x") == "1"
    assert sock.poll(100) == 0, "the kernel answered a forged message"
    sock.close()


def test_correct_signature_from_a_raw_socket_is_served(kernel):
    # The same raw path with the real key works: the test above fails for the right reason.
    km, kc = kernel
    sock = raw_socket(km, "shell")
    sock.send_multipart(frames(km.session.key, "kernel_info_request", {}))
    assert b"kernel_info_reply" in sock.recv_multipart()[2]
    sock.close()


@pytest.mark.parametrize("channel", ["shell", "control"])
def test_garbage_frames_survived(kernel, channel):
    km, kc = kernel
    sock = raw_socket(km, channel)
    garbage = [
        [b"garbage"],
        [b"<IDS|MSG>"],
        [b"<IDS|MSG>", b"sig", b"{", b"}", b"{}", b"{}"],
        frames(km.session.key, "execute_request", {"code": "x = 1"})[:4],
        [b"<IDS|MSG>", b"", b"\xff\xfe", b"{}", b"{}", b"{}"],
        frames(km.session.key, "no_such_request", {}),
        frames(km.session.key, "execute_request", {"no_code": True}),
    ]
    for g in garbage:
        sock.send_multipart(g)
    # Both channels still answer, the one that got the garbage first.
    sock.send_multipart(frames(km.session.key, "kernel_info_request", {}))
    # (The well-signed execute_request without `code` gets an error reply first.)
    while True:
        assert sock.poll(TIMEOUT * 1000), "no reply after garbage"
        if b"kernel_info_reply" in sock.recv_multipart()[2]:
            break
    still_alive(kc)
    sock.close()


def test_execution_counts(kernel):
    _, kc = kernel
    first = run(kc, "c = 1")[0]["content"]["execution_count"]
    second = run(kc, "c = 2")[0]["content"]["execution_count"]
    assert second == first + 1
    assert run(kc, "c = 3", silent=True)[0]["content"]["execution_count"] == second
    assert run(kc, "c = 4", store_history=False)[0]["content"]["execution_count"] == second
    reply, msgs = run(kc, "c")
    assert reply["content"]["execution_count"] == second + 1
    inputs = [m for m in msgs if m["msg_type"] == "execute_input"]
    assert inputs[0]["content"]["execution_count"] == second + 1
    results = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert results[0]["content"]["execution_count"] == second + 1
    assert results[0]["content"]["data"]["text/plain"] == "4"


def test_silent_publishes_no_output(kernel):
    _, kc = kernel
    _, msgs = run(kc, 'print("quiet")\n42', silent=True)
    assert [m["msg_type"] for m in msgs] == ["status", "status"]


def test_user_expressions(kernel):
    _, kc = kernel
    reply, _ = run(kc, "ue = 6", user_expressions={"good": "ue * 7", "bad": "no_such_name + 1"})
    ue = reply["content"]["user_expressions"]
    assert ue["good"]["status"] == "ok"
    assert ue["good"]["data"]["text/plain"] == "42"
    assert ue["bad"]["status"] == "error"
    assert ue["bad"]["ename"] == "NameError"


def test_error_reply_and_traceback(kernel):
    _, kc = kernel
    reply, msgs = run(kc, "1 // 0")
    c = reply["content"]
    assert c["status"] == "error"
    assert c["ename"] == "ZeroDivisionError"
    assert c["traceback"] and all(isinstance(line, str) for line in c["traceback"])
    assert any("\x1b[" in line for line in c["traceback"]), "traceback should be ANSI-coloured"
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert errors[0]["content"]["ename"] == "ZeroDivisionError"


# A cell that takes a while and then fails: long enough that the requests sent right
# behind it are queued in the kernel when it fails.
# Runs for about a second (the loop is compiled: ~1 ns an iteration), so the requests sent
# right after it are queued behind it even on a loaded machine.
SLOW_FAIL = "i = 0\nwhile i < 1000000000:\n    i += 1\n1 // 0"


def test_stop_on_error_aborts_the_queue(kernel):
    _, kc = kernel
    run(kc, "sq = 0")
    failing = kc.execute(SLOW_FAIL)
    queued = [kc.execute(f"sq = {k}") for k in (1, 2)]
    assert shell_reply(kc, failing)["content"]["status"] == "error"
    for msg_id in queued:
        assert shell_reply(kc, msg_id)["content"]["status"] == "aborted"
    # The queue has drained: new requests run again, and the aborted ones never ran.
    assert text_result(kc, "sq") == "0"


def test_stop_on_error_false_keeps_going(kernel):
    _, kc = kernel
    failing = kc.execute(SLOW_FAIL, stop_on_error=False)
    queued = kc.execute("sq2 = 5")
    assert shell_reply(kc, failing)["content"]["status"] == "error"
    assert shell_reply(kc, queued)["content"]["status"] == "ok"
    assert text_result(kc, "sq2") == "5"


def test_output_streams_while_the_cell_runs_and_interrupt_keeps_globals(kernel):
    km, kc = kernel
    run(kc, "kept = 41\nkept += 1")
    # The cell never ends by itself: seeing its stream message at all proves output is
    # streamed before the reply, and it must be interrupted to finish.
    msg_id = kc.execute('print("early")\nspin = 0\nwhile True:\n    spin += 1')
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            assert "early" in msg["content"]["text"]
            break
    assert not kc.shell_channel.msg_ready(), "the reply came before the cell was interrupted"
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    iopub_until_idle(kc, msg_id)
    assert text_result(kc, "kept") == "42"
    # The interrupt is spent: the next cell runs normally.
    assert text_result(kc, "kept + 1") == "43"


def test_a_long_loop_shows_a_progress_display_updated_in_place(kernel):
    km, kc = kernel
    # A quick cell: no progress display at all.
    _, msgs = run(kc, "q = 0\nfor i in range(1000):\n    q += i")
    assert not [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
    # A loop that never ends by itself: interrupted once the progress line was renewed.
    msg_id = kc.execute("p = 0\nfor i in range(10**15):\n    p += i % 3")
    first = updates = None
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "display_data":
            first = msg["content"]
            display_id = first["transient"]["display_id"]
            assert "/1000000000000000" in first["data"]["text/plain"], first
            assert "<progress" in first["data"]["text/html"], first
        elif msg["msg_type"] == "update_display_data":
            assert first is not None, "an update before the display"
            assert msg["content"]["transient"]["display_id"] == display_id
            updates = msg["content"]
            break
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    msgs = iopub_until_idle(kc, msg_id)
    finals = [m["content"] for m in msgs if m["msg_type"] == "update_display_data"]
    assert finals and finals[-1]["data"]["text/plain"].startswith("done in "), finals
    assert finals[-1]["transient"]["display_id"] == display_id
    assert updates["data"]["text/plain"] != first["data"]["text/plain"]


def test_kernel_info_on_control_while_a_cell_runs(kernel):
    km, kc = kernel
    msg_id = kc.execute("busy = 0\nwhile True:\n    busy += 1")
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    kc.control_channel.send(kc.session.msg("kernel_info_request"))
    assert kc.get_control_msg(timeout=TIMEOUT)["content"]["status"] == "ok"
    km.interrupt_kernel()
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"


def test_pager_payload(kernel):
    _, kc = kernel
    reply, _ = run(kc, "zeros?")
    payload = reply["content"]["payload"]
    assert payload[0]["source"] == "page"
    assert payload[0]["start"] == 0
    assert "zeros" in payload[0]["data"]["text/plain"]


def test_compare_shows_one_html_table_and_keeps_the_serial_globals(kernel):
    _, kc = kernel
    run(kc, "cmp_x = linspace(0.0, 1.0, 50000)\ncmp_runs = 0")
    reply, msgs = run(
        kc,
        "%%compare serial par\ncmp_runs += 1\ncmp_s = 0.0\n@par\n"
        "for i in range(50000):\n    cmp_s += cmp_x[i] * 0.37\nprint('once')",
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    streams = [m["content"]["text"] for m in msgs if m["msg_type"] == "stream"]
    assert "".join(streams) == "once\n"
    tables = [m["content"]["data"] for m in msgs if m["msg_type"] == "display_data"]
    assert len(tables) == 1, msgs
    assert "<table>" in tables[0]["text/html"] and "<code>cmp_s</code>" in tables[0]["text/html"]
    assert "speed-up" in tables[0]["text/plain"]
    assert text_result(kc, "cmp_runs") == "1"


def test_a_figure_arrives_as_one_png_display_after_the_cells_output(kernel):
    import base64

    _, kc = kernel
    reply, msgs = run(
        kc,
        "fx = linspace(0.0, 6.0, 200)\nplot(fx, sin(fx), label='sin')\n"
        "title('a wave')\nlegend()\nprint('drawn')",
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    kinds = [m["msg_type"] for m in msgs if m["msg_type"] in ("stream", "display_data")]
    assert kinds == ["stream", "display_data"], kinds
    data = [m["content"]["data"] for m in msgs if m["msg_type"] == "display_data"][0]
    png = base64.b64decode(data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (640, 480)
    assert "a wave" in data["text/plain"]
    # A cell that draws nothing shows no figure.
    _, msgs = run(kc, "fy = 1")
    assert not [m for m in msgs if m["msg_type"] == "display_data"]


def test_restart_clears_globals():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="kiln", startup_timeout=60)
    try:
        assert run(kc, "gone = 1")[0]["content"]["status"] == "ok"
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, _ = run(kc, "gone")
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "NameError"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()
