"""IPython's shell conventions through a real client: %%writefile, !cmd, %%bash, %cd, %pwd.

Where order matters the test makes it deterministic: the streamed command waits for a
file the test creates only after it has seen the first output message.
"""

import os

from conftest import TIMEOUT


def run(kc, code):
    """Execute; return (reply content, this request's iopub messages up to idle)."""
    msg_id = kc.execute(code)
    return reply_of(kc, msg_id), iopub_until_idle(kc, msg_id)


def reply_of(kc, msg_id):
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def iopub_until_idle(kc, msg_id):
    msgs = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return msgs
        msgs.append(msg)


def streams(msgs, name="stdout"):
    return [
        m["content"]["text"]
        for m in msgs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    ]


def test_writefile_then_cat_and_append(kernel, tmp_path):
    _, kc = kernel
    f = tmp_path / "hello.txt"
    reply, msgs = run(kc, f"%%writefile {f}\nprint('hi')")
    assert reply["status"] == "ok", reply
    assert streams(msgs) == [f"Writing {f}\n"]
    reply, msgs = run(kc, f"%%writefile --append {f}\nsecond")
    assert streams(msgs) == [f"Appending to {f}\n"]
    reply, msgs = run(kc, f"!cat {f}")
    assert reply["status"] == "ok", reply
    assert "".join(streams(msgs)) == "print('hi')\nsecond\n"
    reply, msgs = run(kc, f"%%writefile {f}\nnew")
    assert streams(msgs) == [f"Overwriting {f}\n"]
    assert f.read_text() == "new\n"
    reply, _ = run(kc, f"%%writefile {tmp_path}/missing/x.txt\nnew")
    assert reply["status"] == "error"
    assert reply["ename"] == "FileNotFoundError", reply
    assert reply["evalue"].startswith("[Errno 2] No such file or directory"), reply


def test_bang_output_streams_as_it_comes(kernel, tmp_path):
    _, kc = kernel
    seen = tmp_path / "seen"
    # `b` is printed only after the test has received `a` as a stream message; had `a` not
    # been sent before the command ended, the command would print `unstreamed`.
    msg_id = kc.execute(
        f"!echo a; for i in $(seq 1 2000); do [ -e {seen} ] && break; sleep 0.01; done; "
        f"[ -e {seen} ] && echo b || echo unstreamed"
    )
    texts = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            texts.append(msg["content"]["text"])
            seen.touch()
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert texts == ["a\n", "b\n"]
    assert reply_of(kc, msg_id)["status"] == "ok"


def test_bang_lines_among_code_and_a_failing_command(kernel):
    _, kc = kernel
    reply, msgs = run(kc, "sh_n = 2\n!echo from sh; false\nprint(sh_n * 21)\n!echo err >&2")
    assert reply["status"] == "ok", reply
    assert "".join(streams(msgs)) == "from sh\n42\n"
    assert streams(msgs, "stderr") == ["err\n"]


def test_bash_nonzero_exit_is_called_process_error(kernel):
    _, kc = kernel
    reply, msgs = run(kc, "%%bash\necho out\nexit 3")
    assert streams(msgs) == ["out\n"]
    assert reply["status"] == "error"
    assert reply["ename"] == "CalledProcessError"
    assert reply["evalue"] == "Command 'b'echo out\\nexit 3\\n'' returned non-zero exit status 3."
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert errors and errors[0]["content"]["ename"] == "CalledProcessError"
    reply, msgs = run(kc, "%%sh\necho fine")
    assert reply["status"] == "ok" and streams(msgs) == ["fine\n"]


def test_interrupt_kills_the_command_and_the_next_cell_runs(kernel):
    km, kc = kernel
    run(kc, "sh_kept = 7")
    for code in ["!echo started; sleep 30", "%%bash\necho started\nsleep 30"]:
        msg_id = kc.execute(code)
        while True:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                assert msg["content"]["text"] == "started\n"
                break
        km.interrupt_kernel()
        # Unkilled, the command would end by itself with status ok.
        reply = reply_of(kc, msg_id)
        assert reply["status"] == "error", reply
        assert reply["ename"] == "KeyboardInterrupt"
        iopub_until_idle(kc, msg_id)
        reply, msgs = run(kc, "sh_kept + 1")
        results = [m for m in msgs if m["msg_type"] == "execute_result"]
        assert results[0]["content"]["data"]["text/plain"] == "8"


def test_cd_then_pwd(kernel, tmp_path):
    _, kc = kernel
    target = os.path.realpath(tmp_path)
    reply, msgs = run(kc, "%pwd")
    before = [m for m in msgs if m["msg_type"] == "execute_result"][0]
    before = before["content"]["data"]["text/plain"].strip("'")
    reply, msgs = run(kc, f"%cd {target}")
    assert reply["status"] == "ok", reply
    assert streams(msgs) == [f"{target}\n"]
    reply, msgs = run(kc, "%pwd")
    results = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert [r["content"]["data"]["text/plain"] for r in results] == [f"'{target}'"]
    run(kc, "%%writefile rel.txt\nhere")
    assert (tmp_path / "rel.txt").read_text() == "here\n"
    reply, msgs = run(kc, "%cd -")
    assert streams(msgs) == [f"{before}\n"]


def test_magics_complete(kernel):
    _, kc = kernel
    kc.complete("%%wri", 5)
    reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
    assert reply["matches"] == ["%%writefile"]
    assert reply["cursor_start"] == 0


def test_a_cell_magic_is_complete_at_a_blank_line(kernel):
    _, kc = kernel
    for code, status in [
        ("%%bash\necho a", "incomplete"),
        ("%%bash\necho a\n\n", "complete"),
        ("!ls", "complete"),
    ]:
        kc.is_complete(code)
        reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        assert reply["status"] == status, (code, reply)


def test_bang_expands_globals(kernel):
    _, kc = kernel
    run(kc, "sh_count = 4")
    reply, msgs = run(kc, "!echo {sh_count + 1} $sh_count")
    assert reply["status"] == "ok", reply
    assert "".join(streams(msgs)) == "5 4\n"
