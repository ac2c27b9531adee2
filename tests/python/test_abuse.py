"""Abuse: garbage, truncated, oversized and wrongly signed frames on every socket the kernel
reads (shell, control, stdin, heartbeat, and iopub's subscription side). After each kind the
kernel answers the next valid request, and its log says what it dropped (the Jupyter spec:
log and drop, never crash).
"""

import hashlib
import hmac
import json
import socket
import struct
import time
import uuid
from datetime import datetime, timezone

import pytest
import zmq
from jupyter_client.manager import KernelManager

from conftest import TIMEOUT
from test_protocol import frames, text_result

BIG = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def logged_kernel(tmp_path_factory):
    """A kernel whose stderr (its log) goes to a file the tests read."""
    log_path = tmp_path_factory.mktemp("abuse") / "kernel.log"
    log = open(log_path, "wb")
    km = KernelManager(kernel_name="kiln")
    km.start_kernel(stderr=log)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield km, kc, log_path
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    log.close()


def socket_to(km, channel, kind):
    sock = zmq.Context.instance().socket(kind)
    sock.linger = 0
    sock.connect(f"tcp://{km.ip}:{getattr(km, channel + '_port')}")
    return sock


def signed(key, header, parent, metadata, content):
    """Frames signed with `key` over JSON frames given as bytes, whatever they hold."""
    sig = hmac.new(key, header + parent + metadata + content, hashlib.sha256).hexdigest()
    return [b"<IDS|MSG>", sig.encode(), header, parent, metadata, content]


def header(msg_type, **extra):
    h = {
        "msg_id": uuid.uuid4().hex,
        "session": uuid.uuid4().hex,
        "username": "abuser",
        "date": datetime.now(timezone.utc).isoformat(),
        "msg_type": msg_type,
        "version": "5.3",
    }
    h.update(extra)
    return json.dumps(h).encode()


def abuse(key):
    """Named multipart messages no kernel may be hurt by; none of them is a valid request
    for the socket it arrives on except where its name says 'served'."""
    good = frames(key, "kernel_info_request", {})
    deep = b"[" * 100_000 + b"]" * 100_000
    return {
        "one garbage frame": [b"garbage"],
        "empty frame": [b""],
        "many empty frames": [b""] * 1000,
        "only the delimiter": [b"<IDS|MSG>"],
        "two delimiters": [b"<IDS|MSG>", b"<IDS|MSG>"] + good[1:],
        "truncated after the signature": good[:2],
        "truncated after the header": good[:3],
        "missing content": good[:5],
        "content cut mid-JSON, signature of the whole": good[:5] + [good[5][:-1]],
        "content cut mid-JSON, signed as cut": signed(key, good[2], good[3], good[4], b'{"a": '),
        "wrong key": frames(b"not-the-key", "kernel_info_request", {}),
        "empty signature": [b"<IDS|MSG>", b""] + good[2:],
        "signature of the wrong length": [b"<IDS|MSG>", good[1][:-2]] + good[2:],
        "signature not hex": [b"<IDS|MSG>", b"z" * 64] + good[2:],
        "frames swapped": [b"<IDS|MSG>", good[1], good[3], good[2], good[4], good[5]],
        "not UTF-8": signed(key, b"\xff\xfe\xfd", b"{}", b"{}", b"{}"),
        "header is a list": signed(key, b"[]", b"{}", b"{}", b"{}"),
        "header is null": signed(key, b"null", b"{}", b"{}", b"{}"),
        "msg_type a number": signed(key, header(7), b"{}", b"{}", b"{}"),
        "parent a string": signed(key, header("kernel_info_request"), b'"p"', b"{}", b"{}"),
        "metadata a list": signed(key, header("kernel_info_request"), b"{}", b"[]", b"{}"),
        "content null": signed(key, header("kernel_info_request"), b"{}", b"{}", b"null"),
        "JSON nested 100 000 deep": signed(key, header("kernel_info_request"), b"{}", b"{}", deep),
        "wrongly signed 100 MB frame": [b"<IDS|MSG>", b"0" * 64, b"x" * BIG, b"{}", b"{}", b"{}"],
        "a 100 MB frame alone": [b"\0" * BIG],
        "an unknown request, signed": frames(key, "no_such_request", {}),
        "a huge msg_type, signed": signed(key, header("q" * 10_000_000), b"{}", b"{}", b"{}"),
    }


BAD_SIGNATURES = {
    "content cut mid-JSON, signature of the whole",
    "wrong key",
    "empty signature",
    "signature of the wrong length",
    "signature not hex",
    "frames swapped",
    "wrongly signed 100 MB frame",
}


def served_huge_request(key):
    """A valid kernel_info_request whose content carries 100 MB of JSON: served."""
    return signed(
        key,
        header("kernel_info_request"),
        b"{}",
        b"{}",
        json.dumps({"padding": "p" * BIG}).encode(),
    )


def reply_type(reply):
    return json.loads(reply[reply.index(b"<IDS|MSG>") + 2])["msg_type"]


def wait_for_kernel_info_reply(sock, why):
    while True:
        assert sock.poll(TIMEOUT * 1000), why
        if reply_type(sock.recv_multipart()) == "kernel_info_reply":
            return


def replies_to_kernel_info(sock, key):
    sock.send_multipart(frames(key, "kernel_info_request", {}))
    wait_for_kernel_info_reply(sock, "no reply after abuse")


def assert_kernel_answers(km, kc):
    assert km.is_alive(), "the kernel process died"
    assert kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]["status"] == "ok"
    assert text_result(kc, "6 * 7") == "42"
    ping = socket_to(km, "hb", zmq.REQ)
    ping.send(b"still there?")
    assert ping.poll(TIMEOUT * 1000), "no heartbeat"
    assert ping.recv() == b"still there?"
    ping.close()


def log_since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def wait_for_log(path, offset, text, what):
    """Wait until the kernel has logged `text` after `offset` (it logs before it reads on)."""
    deadline = time.monotonic() + TIMEOUT
    while text not in log_since(path, offset):
        assert time.monotonic() < deadline, (what, text, log_since(path, offset))
        time.sleep(0.01)


@pytest.mark.parametrize("channel", ["shell", "control", "stdin"])
def test_abusive_frames_on_a_router_socket_are_logged_and_dropped(logged_kernel, channel):
    km, kc, log_path = logged_kernel
    key = km.session.key
    for name, msg in abuse(key).items():
        offset = log_path.stat().st_size
        sock = socket_to(km, channel, zmq.DEALER)
        sock.send_multipart(msg)
        if channel == "stdin":
            # Nothing answers on stdin: the kernel's log says it read the message and
            # dropped it (and the socket stays open until then, so it is sent at all).
            wait_for_log(log_path, offset, "stdin: dropped", (channel, name))
        else:
            # The same socket is answered next: whatever it sent was read and passed over.
            replies_to_kernel_info(sock, key)
        sock.close()
        assert_kernel_answers(km, kc)
        if name in BAD_SIGNATURES:
            wait_for_log(log_path, offset, "dropped a message: bad signature", (channel, name))
    if channel != "stdin":
        sock = socket_to(km, channel, zmq.DEALER)
        sock.send_multipart(served_huge_request(key))
        wait_for_kernel_info_reply(sock, "a huge valid request was not answered")
        sock.close()
    assert_kernel_answers(km, kc)


def test_wrongly_typed_request_contents_get_error_replies(logged_kernel):
    km, kc, _ = logged_kernel
    key = km.session.key
    cases = {
        "execute_request": [{"code": 5}, {"code": "1", "silent": "yes"}, {"code": "1", "user_expressions": []},
                            {"code": "1", "user_expressions": {"a": 5, "b": "1 +"}}],
        "complete_request": [{"code": "zer", "cursor_pos": -1}, {"code": "zer", "cursor_pos": 10**30},
                             {"code": "zer", "cursor_pos": 10**6}, {"code": "z\u00e9\U0001f600", "cursor_pos": 2}],
        "inspect_request": [{"code": "zeros", "cursor_pos": 10**6}, {"code": None}],
        "is_complete_request": [{}, {"code": "(" * 100}],
        "history_request": [{"hist_access_type": "tail", "n": -5}, {"hist_access_type": "range", "start": -10**18,
                            "stop": 10**18}, {"hist_access_type": "search", "pattern": "[**?"}, {"hist_access_type": 3}],
    }
    sock = socket_to(km, "shell", zmq.DEALER)
    for msg_type, contents in cases.items():
        for content in contents:
            sock.send_multipart(frames(key, msg_type, content))
            assert sock.poll(TIMEOUT * 1000), (msg_type, content)
            got = reply_type(sock.recv_multipart())
            assert got == msg_type.replace("_request", "_reply"), (msg_type, content)
    sock.close()
    assert_kernel_answers(km, kc)


def test_a_multipart_heartbeat_is_echoed_whole(logged_kernel):
    km, kc, _ = logged_kernel
    ping = socket_to(km, "hb", zmq.REQ)
    for parts in ([b"one"], [b"one", b"two", b"three"], [b""], [b"\0" * BIG]):
        ping.send_multipart(parts)
        assert ping.poll(TIMEOUT * 1000), "no heartbeat"
        assert ping.recv_multipart() == parts
    ping.close()
    assert_kernel_answers(km, kc)


def test_garbage_on_the_heartbeat_socket(logged_kernel):
    km, kc, _ = logged_kernel
    # A DEALER talks to the REP socket without REQ's envelope, in every shape.
    for msg in ([b"garbage"], [b""], [b"", b""], [b"\0" * BIG], [b"x"] * 1000):
        raw = socket_to(km, "hb", zmq.DEALER)
        raw.send_multipart(msg)
        raw.poll(100)  # an echo, if REP saw an envelope, is fine; none is fine too
        raw.close()
        assert_kernel_answers(km, kc)


def test_garbage_subscriptions_on_iopub(logged_kernel):
    km, kc, _ = logged_kernel
    # XSUB is the side of iopub a client writes to: subscriptions (0x01 + topic),
    # unsubscriptions (0x00 + topic), and anything else.
    sub = socket_to(km, "iopub", zmq.XSUB)
    sub.linger = TIMEOUT * 1000  # every message goes out before the socket closes
    for msg in ([b"\x01" + b"t" * 100_000], [b"\x00never-subscribed"], [b""], [b"\x02junk"],
                [b"\x01two", b"\x01parts"], [b"\x01\xff\xfe"]):
        sub.send_multipart(msg)
    sub.close()
    assert_kernel_answers(km, kc)


def zmtp_subscribe(km, topic):
    """Subscribes to iopub by speaking ZMTP 3.0 on a bare TCP socket. libzmq's own XSUB
    overflows its stack keeping a topic of a megabyte, so a huge one needs a client that
    keeps nothing: greeting, READY as an XSUB, one long frame, gone."""
    s = socket.create_connection((km.ip, km.iopub_port), timeout=TIMEOUT)
    s.sendall(b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" * 32)
    greeting = b""
    while len(greeting) < 64:
        chunk = s.recv(64 - len(greeting))
        assert chunk, "the kernel closed iopub during the ZMTP greeting"
        greeting += chunk
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 4) + b"XSUB"
    s.sendall(b"\x04" + bytes([len(ready)]) + ready)
    body = b"\x01" + topic
    s.sendall(b"\x02" + struct.pack(">Q", len(body)) + body)
    s.close()


def test_a_ten_megabyte_subscription_on_iopub(logged_kernel):
    km, kc, _ = logged_kernel
    zmtp_subscribe(km, b"t" * 10_000_000)
    assert_kernel_answers(km, kc)
