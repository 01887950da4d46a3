"""The real `repl` command in a pseudo-terminal against a real Kernel Gateway."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repl.gateway.local import descendants
from tests.conftest import free_port, wait_until
from tests.term import Term


def test_output_streams_line_by_line_before_the_cell_ends(term, tmp_path):
    gate = tmp_path / "go"
    t = term()
    t.wait_prompt(1)
    code = (
        "import os, time\n"
        "for i in range(3):\n"
        "    print('tick', i, flush=True)\n"
        f"    while not os.path.exists({str(gate)!r} + str(i)): time.sleep(0.01)\n"
    )
    line = f"exec({code!r})"  # one line at the prompt
    t.enter(line)
    for i in range(3):
        t.wait_for(f"tick {i}")
        assert "In [2]" not in t.text(), "the prompt came back before the cell ended"
        assert f"tick {i + 1}" not in t.text()
        (tmp_path / f"go{i}").write_text("")
    t.wait_prompt(2)


def test_result_error_and_repl_goes_on(term):
    t = term()
    t.wait_prompt(1)
    t.enter("6*7")
    t.wait_for("Out[1]: 42")
    t.enter("1/0")
    t.wait_for("ZeroDivisionError")
    t.wait_for("Traceback")
    t.wait_prompt(3)
    t.enter("print('still here')")
    t.wait_for("still here")
    t.wait_prompt(4)
    # the bottom toolbar: server, kernel, state, last round trip
    t.wait_for(lambda t: "│ idle │" in t.text().rstrip().splitlines()[-1] and " ms" in t.text().splitlines()[-1])
    assert "python3" in t.text().rstrip().splitlines()[-1]


def test_ctrl_c_interrupts_a_sleep(term):
    t = term()
    t.wait_prompt(1)
    t.enter("import time; print('sleeping', flush=True); time.sleep(120)")
    # Once it runs: ipykernel drops a cell (no reply, ever) whose SIGINT lands between its
    # execute_input and the start of its code; a Ctrl-C pressed that early is another test's.
    t.wait_for(lambda t: re.search(r"^sleeping$", t.text(), re.M))
    t.ctrl("c")
    t.wait_for("KeyboardInterrupt", timeout=20)
    t.wait_prompt(2)


def test_ctrl_c_at_prompt_clears_the_line_and_ctrl_d_exits(term):
    t = term()
    t.wait_prompt(1)
    t.type("half typed")
    t.wait_for("half typed")
    t.ctrl("c")
    t.enter("'fresh'")
    t.wait_for("Out[1]: 'fresh'")
    t.wait_prompt(2)
    t.ctrl("d")
    assert t.wait_exit() == 0


def test_unknown_command_goes_to_the_kernel_and_double_slash(term):
    t = term()
    t.wait_prompt(1)
    t.enter("/help")
    t.wait_for("/quit")
    t.enter("/nosuchcommand")  # a lone unknown /word is a typo: one line, nothing sent
    t.wait_for("repl: unknown command /nosuchcommand — /help lists them")
    t.enter("/len 'abc'")  # with arguments it is code: the kernel gets it (IPython autocalls it)
    t.wait_for("Out[1]: 3")
    t.wait_prompt(2)
    t.enter("help = lambda: 'HELP' * 2")
    t.wait_prompt(3)
    t.enter("//help")  # "//" sends a literal "/help" to the kernel instead of running /help
    t.wait_for("'HELPHELP'")
    assert t.child.isalive()
    t.enter("/exit")  # an alias of /quit (IPython would autocall exit() and kill the kernel)
    assert t.wait_exit() == 0


def run(args, env, input=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "repl", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def test_one_shot_exit_codes_and_output(gateway):
    env = gateway.env()
    ok = run(["-c", "print('a'); print('b', end=''); 40+2"], env)
    assert ok.returncode == 0
    assert ok.stdout == "a\nb42\n"
    bad = run(["-c", "raise ValueError('nope')"], env)
    assert bad.returncode == 1
    assert "ValueError: nope" in bad.stderr and "\x1b[" not in bad.stderr
    piped = run([], env, input="import sys\nprint('piped', file=sys.stderr)\n")
    assert piped.returncode == 0 and piped.stderr == "piped\n"


def test_wrong_url_is_one_line(gateway):
    env = {k: v for k, v in gateway.env().items() if not k.startswith("JUPYTER_GATEWAY")}
    r = run(["--url", f"http://127.0.0.1:{free_port()}", "-c", "1"], env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot reach" in r.stderr and "Traceback" not in r.stderr
    r = run(["--url", "ftp://x", "-c", "1"], env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_wrong_token_is_one_line_without_the_token(gateway):
    env = gateway.env()
    env["JUPYTER_GATEWAY_AUTH_TOKEN"] = "wrong-secret-value"
    r = run(["-c", "1"], env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "rejected the token" in r.stderr
    assert "wrong-secret-value" not in r.stderr + r.stdout


def test_unknown_kernel_and_spec_are_one_line(gateway):
    for args, words in ((["--attach", "zzzz"], "no running kernel"), (["--kernel", "klingon"], "no kernelspec")):
        r = run([*args, "-c", "1"], gateway.env())
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def test_attach_leaves_the_kernel_running(gateway):
    import httpx

    h = {"Authorization": f"token {gateway.token}"}
    kid = httpx.post(f"{gateway.url}/api/kernels", json={"name": "python3"}, headers=h).json()["id"]
    try:
        r = run(["--attach", kid[:8], "-c", "x = 5; print(x)"], gateway.env())
        assert r.returncode == 0 and r.stdout == "5\n"
        assert httpx.get(f"{gateway.url}/api/kernels/{kid}", headers=h).status_code == 200
        r = run(["--attach", kid, "-c", "print(x * 2)"], gateway.env())
        assert r.stdout == "10\n"
    finally:
        httpx.delete(f"{gateway.url}/api/kernels/{kid}", headers=h)


def test_attach_to_a_kernel_of_a_detached_session_says_how_to_come_back_to_it(gateway, tmp_path):
    from repl.protocol.record import KernelEntry, Record

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "sessions").mkdir()
    rec = Record(id="r1", pid=dead.pid, url="http://127.0.0.1:9", detached=True, left=1000.0,
                 kernels=[KernelEntry("feedface" + "0" * 28, "python3", "s1")])
    (tmp_path / "sessions" / "r1.jsonl").write_text(rec.to_json() + "\n")
    env = dict(gateway.env(), REPL_DATA_DIR=str(tmp_path))
    r = run(["--attach", "feedface", "-c", "1"], env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "no running kernel matches 'feedface'" in r.stderr
    assert "it is in a detached session on http://127.0.0.1:9: repl --resume 1" in r.stderr
    r = run(["--attach", "0badcafe", "-c", "1"], env)  # (in no session: the error alone)
    assert r.returncode == 2 and "detached" not in r.stderr


def test_started_kernel_is_shut_down_on_exit(gateway):
    import httpx

    h = {"Authorization": f"token {gateway.token}"}
    before = {k["id"] for k in httpx.get(f"{gateway.url}/api/kernels", headers=h).json()}
    assert run(["-c", "1"], gateway.env()).returncode == 0
    after = {k["id"] for k in httpx.get(f"{gateway.url}/api/kernels", headers=h).json()}
    assert after <= before


def _local_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}


@pytest.mark.parametrize("way_out", ["ctrl-d", "/quit", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_embedded_gateway_leaves_no_process(way_out):
    t = Term([], env=_local_env())
    try:
        t.wait_prompt(1, timeout=90)
        t.wait_for("started python3 kernel", timeout=90)  # the prompt comes first, the kernel behind it
        tree = descendants(t.child.pid)
        cmdlines = []
        for pid in tree:
            with contextlib.suppress(OSError):
                cmdlines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        assert any("repl.gateway.launch" in c for c in cmdlines) and any("ipykernel" in c for c in cmdlines), cmdlines
        if way_out == "ctrl-d":
            t.ctrl("d")
        elif way_out == "/quit":
            t.enter("/quit")
        else:
            os.kill(t.child.pid, getattr(signal, way_out))
        t.wait_exit(timeout=60)

        def all_gone():
            alive = []
            for pid in tree:
                try:
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                if state != "Z":
                    alive.append(pid)
            return not alive

        wait_until(all_gone, 30, 0.1, f"processes {tree} to exit")
    finally:
        t.close()


def test_input_is_highlighted_and_stderr_is_red(term):
    t = term()
    t.wait_prompt(1)
    t.type("import sys")
    t.wait_for("import sys")
    t.wait_for(lambda t: t.cells_of("import")[0].fg != "default", 10)  # (the lexer is built just after the prompt)
    keyword = t.cells_of("import")
    name = t.cells_of("sys")
    assert keyword[0].fg != "default" and keyword[0].fg != name[0].fg  # the lexer coloured the keyword
    t.type("; print('to-err', file=sys.stderr); print('to-out')\r")
    t.wait_prompt(2)
    assert t.cells_of("to-err", line_start=True)[0].fg == "red"
    assert t.cells_of("to-out", line_start=True)[0].fg == "default"


def test_missing_gateway_package_says_how_to_install(monkeypatch):
    import asyncio

    from repl import errors
    from repl.gateway import local

    monkeypatch.setattr(local.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(errors.LocalGatewayError, match=r"pip install 'repl\[local\]'.*--url"):
        asyncio.run(local.LocalGateway.start())


def test_one_shot_interrupted_exits_130(gateway):
    p = subprocess.Popen([sys.executable, "-m", "repl", "-c", "import time; print('started', flush=True); time.sleep(60)"],
                         env=gateway.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "started\n"
        p.send_signal(signal.SIGINT)
        assert p.wait(60) == 130
        assert "KeyboardInterrupt" in p.stderr.read()
    finally:
        p.kill()


def test_one_shot_into_a_closed_pipe_stops_quietly(gateway):
    code = "import time\nfor i in range(100000): print(i, flush=True); time.sleep(0.001)"
    script = f'{sys.executable} -m repl -c "$CODE" | head -2; echo "status ${{PIPESTATUS[0]}}"'
    started = time.monotonic()
    r = subprocess.run(["bash", "-c", script], env={**gateway.env(), "CODE": code}, capture_output=True, text=True,
                       timeout=120)
    assert r.stdout == "0\n1\nstatus 141\n", (r.stdout, r.stderr)  # 128 + SIGPIPE, as Unix tools report it
    assert r.stderr == ""
    assert time.monotonic() - started < 60  # the cell was interrupted, not run to its end (100 s)


def test_https_to_a_plain_http_server_fails_fast(gateway):
    env = {k: v for k, v in gateway.env().items() if k != "JUPYTER_GATEWAY_URL"}
    started = time.monotonic()
    r = run(["--url", gateway.url.replace("http://", "https://"), "-c", "1"], env)
    assert r.returncode == 2 and "does not speak TLS; did you mean http://" in r.stderr and r.stderr.count("\n") == 1
    assert time.monotonic() - started < 8  # not the 10 s connect timeout


@pytest.mark.parametrize("key", ["\x1a", "\x03"])
def test_ctrl_z_or_ctrl_c_typed_with_enter_is_for_the_cell_enter_sent(term, key):
    """The prompt reads the key after Enter and keeps it for the next prompt: it is the cell's."""
    t = term()
    t.wait_prompt(1)
    t.child.send("import time; time.sleep(30); print('slept')\r" + key)
    if key == "\x1a":
        t.wait_for("cell sent to the background", timeout=20)
    else:
        t.wait_for("KeyboardInterrupt", timeout=20)
    t.wait_prompt(2)
    assert "\nslept" not in t.plain()  # (the code has the word; its output would be a line)
