"""Start-up: the prompt comes first, the kernel behind it (issue #15).

The ``gated`` kernelspec starts its kernel only when the test opens the gate, so "before the
kernel is up" is a state the test holds, not a race it hopes to win.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import sys

import httpx
import pytest

from repl.timing import StartupProfile, process_age
from tests.conftest import wait_until
from tests.term import Term


def _kernels(gw) -> list[dict]:
    return httpx.get(f"{gw.url}/api/kernels", headers={"Authorization": f"token {gw.token}"}).json()


def test_typing_ahead_runs_when_the_kernel_is_up(term, gate, gateway):
    t = term("--kernel", "gated")
    t.wait_for(lambda t: "In [1]:" in t.text() and "starting a gated kernel" in t.text())
    t.enter("if True:")  # the spec says python: Python's verdict holds the line open
    t.wait_for("...:")
    t.enter("    print(6 * 7)")
    t.enter("")
    t.wait_for("repl: waiting: starting a gated kernel")
    assert "42" not in t.text()
    gate.touch()
    t.wait_for("started gated kernel", timeout=60)
    t.wait_for(lambda t: re.search(r"^42$", t.text(), re.M))
    t.wait_prompt(2)
    screen = t.text()
    assert screen.index("started gated kernel") < screen.index("\n42")  # it ran on the kernel, once up


def test_ctrl_c_cancels_a_cell_waiting_for_the_kernel_and_ctrl_d_leaves_nothing_behind(term, gate, gateway):
    before = {k["id"] for k in _kernels(gateway)}
    t = term("--kernel", "gated")
    t.wait_for(lambda t: "In [1]:" in t.text() and "starting a gated kernel" in t.text())
    wait_until(lambda: any(k["name"] == "gated" for k in _kernels(gateway)), 30, 0.1, "the gated kernel launched")
    t.enter("'typed early'")
    t.wait_for("repl: waiting")
    t.ctrl("c")
    t.wait_for("repl: cancelled; the kernel is still on its way")
    t.wait_for(lambda t: t.text().rstrip().endswith("type ahead: it runs when the kernel is up"))
    t.ctrl("d")
    assert t.wait_exit(timeout=60) == 0
    assert "Traceback" not in t.text() and "typed early'\n" not in t.text().split("cancelled")[1]
    wait_until(lambda: {k["id"] for k in _kernels(gateway)} <= before, 60, 0.2, "the half-started kernel shut down")


def test_a_start_that_fails_behind_the_prompt_is_one_line_and_status_2(term, gateway):
    t = term(url=gateway.url + "/nothing-here")
    status = t.wait_exit(timeout=60)
    screen = t.text()
    assert status == 2
    assert "has no Jupyter API at /api" in screen and "Traceback" not in screen
    assert gateway.token not in screen


def test_bad_token_behind_the_prompt(term, gateway):
    t = term(extra_env={"JUPYTER_GATEWAY_AUTH_TOKEN": "wrong-token"})
    assert t.wait_exit(timeout=60) == 2
    assert "rejected the token" in t.text() and "Traceback" not in t.text()


def test_profile_startup_says_where_the_time_went(term, gate):
    t = term("--kernel", "gated", "--profile-startup")
    t.wait_for(lambda t: "In [1]:" in t.text() and "starting a gated kernel" in t.text())
    gate.touch()
    t.wait_for("kernel connected", timeout=60)
    t.wait_prompt(1)
    rows = {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s*(\d+) ms\s+\(\+\s*\d+\)\s+(.+?)\s*$", t.text(), re.M)}
    for step in ("repl imported", "prompt drawn", "server answered", "kernel connected"):
        assert step in rows, (step, t.text())
    assert rows["repl imported"] <= rows["prompt drawn"] < rows["kernel connected"]  # the gate held the kernel


def test_embedded_start_ctrl_d_before_the_kernel_leaves_no_process():
    from repl.gateway.local import descendants

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    t = Term([], env=env)
    try:
        t.wait_for(lambda t: "In [1]:" in t.text() and "type ahead" in t.text(), timeout=60)
        tree = descendants(t.child.pid)
        assert tree  # the gateway was spawned first of all
        t.ctrl("d")
        assert t.wait_exit(timeout=60) == 0
        wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in tree),
                   30, 0.1, f"processes {tree} to exit")
    finally:
        t.close()


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# ------------------------------------------------------------ pure parts


def test_the_profile_orders_steps_and_counts_from_the_process_start():
    p = StartupProfile(True)
    p.mark("b")
    p.mark("b")  # the first time counts
    lines = p.lines()
    assert lines[0].startswith("start-up") and len(lines) == 3 and lines[2].endswith("b")
    assert 0 < process_age() < 3600
    off = StartupProfile(False)
    off.mark("x")
    assert off.marks == []


def test_a_lookup_error_waits_for_the_api_answer_whose_error_says_more():
    """/api and the kernel lookup go out together; the user sees /api's error when both fail,
    even though the lookup failed first, and the lookup's own error when /api is fine."""
    from repl import errors
    from repl.opening import Opening

    class Rest:
        display_url = "http://gw"

        def __init__(self, api_ok: bool) -> None:
            self.api_ok = api_ok
            self.api_done = False

        async def api_info(self):
            await asyncio.sleep(0.01)
            self.api_done = True
            if not self.api_ok:
                raise errors.ServerError("not a gateway")
            return {"version": "2"}

        async def kernelspecs(self):
            return {"default": "python3", "kernelspecs": {}}

    class Ws:
        def __init__(self, rest) -> None:
            self.rest = rest
            self.opening = None

        async def resolve_target(self, target):
            raise errors.NoSuchKernel("no kernel x")

    async def go(api_ok: bool):
        rest = Rest(api_ok)
        opening = Opening(Ws(rest), gateway=None, attach="x", spec=None, env={}, warn=print)  # type: ignore[arg-type]
        opening.start()
        with pytest.raises(Exception) as caught:
            await opening.task
        assert rest.api_done  # it waited for /api before giving an error
        return caught.value

    assert "not a gateway" in str(asyncio.run(go(False)))
    assert "no kernel x" in str(asyncio.run(go(True)))


def test_keys_typed_before_the_kernels_language_is_known_wait_for_it(term, gateway):
    from tests.proxy import CutProxy

    slow = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=0.3)  # /api and the specs: 0.6 s at least
    try:
        t = term(url=slow.url)
        t.wait_for(lambda t: "In [1]:" in t.text() and "connecting to" in t.text())
        t.enter("if True:")  # Enter before anyone knows the kernel is Python: it waits to know
        t.enter("y = 4")
        t.enter("")
        t.enter("y * 2")
        t.wait_for("Out[2]: 8", timeout=60)
        screen = t.text()
        assert "SyntaxError" not in screen and "NameError" not in screen
        assert screen.index("   ...:     y = 4") < screen.index("repl: waiting")  # one cell, in order
    finally:
        slow.close()


def test_pictures_widgets_and_their_libraries_are_imported_only_when_used(term):
    t = term(extra_env={"PYTHONPROFILEIMPORTTIME": "1"})  # python lists every import on stderr
    t.wait_for(lambda t: "started python3 kernel" in t.plain(), timeout=60)  # (the list scribbles over the screen)
    t.enter("'up'")
    t.wait_for(lambda t: "Out[1]: 'up'" in t.plain())
    imported = set(re.findall(r"\|\s+([\w.]+)\s*$", t.plain(), re.M))
    assert "prompt_toolkit" in imported and "repl.kernel" in imported  # (the list is there)
    lazy = {"PIL", "html2text", "rich", "repl.ui.output.blocks", "repl.ui.widgets.draw", "repl.ui.widgets.view"}
    assert not lazy & imported, lazy & imported
    t.enter("from IPython.display import Markdown; Markdown('# Title')")
    t.wait_for(lambda t: "In [3]:" in t.plain())
    assert "rich" in set(re.findall(r"\|\s+([\w.]+)\s*$", t.plain(), re.M))  # loaded when first needed


def test_the_ipython3_lexer_name_does_not_import_ipython():
    import subprocess
    import sys

    code = ("import sys; from repl.ui.prompt.lexer import pygments_lexer_for; "
            "c = pygments_lexer_for({'name': 'python', 'pygments_lexer': 'ipython3'}); "
            "print(c.__name__, 'IPython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["PythonLexer", "False"]  # (IPython's own lexer costs ~300 ms at the first key)


def test_a_dumb_terminal_gets_its_kernel_too(term):
    t = term(extra_env={"TERM": "dumb"})  # prompt_toolkit draws no layout there: no "drawn" hook
    t.wait_for("started python3 kernel", timeout=60)
    t.enter("6 * 7")
    t.wait_for("Out[1]: 42")


@pytest.mark.parametrize("how", ["start", "attach"])
def test_start_up_asks_the_server_nothing_twice(term, gateway, tmp_path, how):
    import json

    args: list[str] = []
    if how == "attach":
        kid = httpx.post(f"{gateway.url}/api/kernels", json={"name": "python3"},
                         headers={"Authorization": f"token {gateway.token}"}).json()["id"]
        args = ["--attach", kid[:8]]
    log = tmp_path / "traffic.jsonl"
    t = term("--log-traffic", str(log), *args)
    t.wait_prompt(1)
    t.enter("/specs")  # (the kernelspecs are cached, /specs refreshes them: after the start-up)

    def http_calls() -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in map(json.loads, log.read_text().splitlines()) if r.get("event") == "http"]

    wait_until(lambda: http_calls().count(("GET", "/api/kernelspecs")) >= 2, 30, 0.1, "/specs")
    asked = http_calls()
    start_up = asked[:asked.index(("GET", "/api/kernelspecs"), asked.index(("GET", "/api/kernelspecs")) + 1)]
    assert len(start_up) == len(set(start_up)), asked  # each request once
    assert ("GET", "/api") in start_up and ("GET", "/api/kernelspecs") in start_up
    if how == "attach":
        assert start_up.count(("GET", "/api/kernels")) == 1  # the id prefix is resolved once
    else:
        assert ("POST", "/api/kernels") in start_up


# ------------------------------------------------------------ issue 19: keys typed ahead of a start that fails or hangs


def _silent_listener():
    """A port that accepts connections and never answers (a hung server)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.mark.parametrize("how", ["wrong token", "wrong base URL"])
def test_enter_typed_ahead_of_a_start_that_fails_is_one_line(term, gateway, how):
    """Enter typed in the first moment waits for the kernel's language; the start fails meanwhile:
    its one line, not prompt_toolkit's "Unhandled exception … Return value already set"."""
    if how == "wrong token":
        t = term(extra_env={"JUPYTER_GATEWAY_AUTH_TOKEN": "wrong-token"})
    else:
        t = term(url=gateway.url + "/nothing-here")
    t.enter("1+1")
    assert t.wait_exit(timeout=60) == 2
    screen = t.plain()
    assert "rejected the token" in screen or "has no Jupyter API" in screen, screen
    assert "Unhandled exception" not in screen and "Press ENTER" not in screen and "Traceback" not in screen, screen


@pytest.mark.parametrize("key", ["c", "d"])
def test_ctrl_c_and_ctrl_d_act_at_once_after_enter_typed_ahead_of_a_silent_server(term, key):
    import time

    listener = _silent_listener()
    try:
        t = term(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        t.wait_for(lambda t: "In [1]:" in t.text() and "connecting to" in t.text())
        t.enter("1+1")  # waits for the language of a kernel that does not come
        t.pump(0.3)
        pressed = time.monotonic()
        t.ctrl(key)
        if key == "c":  # the line is dropped at once, and the prompt is back
            t.wait_for(lambda t: "1+1" not in t.text().splitlines()[-1] and "In [1]:" in t.text(), timeout=3)
            t.enter("2+2")  # a second Enter, waiting again: Ctrl-D leaves from there
            t.pump(0.3)
            pressed = time.monotonic()
            t.ctrl("d")
        assert t.wait_exit(timeout=10) == 0
        assert time.monotonic() - pressed < 3, t.text()
        assert "Traceback" not in t.plain()
    finally:
        listener.close()


def test_ctrl_d_leaves_a_cell_waiting_for_a_silent_server(term):
    import time

    listener = _silent_listener()
    try:
        t = term(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        t.wait_for(lambda t: "In [1]:" in t.text() and "connecting to" in t.text())
        t.enter("1+1")
        t.wait_for("repl: waiting", timeout=30)  # the cell waits for the kernel, no prompt showing
        pressed = time.monotonic()
        t.ctrl("d")
        assert t.wait_exit(timeout=10) == 0
        assert time.monotonic() - pressed < 3, t.text()
        assert "Traceback" not in t.plain()
    finally:
        listener.close()


def test_a_kernelspec_whose_command_fails_is_said_within_seconds(gateway):
    """A kernel whose command exits at once: the server restarts it, gives up and removes it,
    and answers the websocket only after 60 s (HTTP 500): its model says so much sooner."""
    import subprocess
    import sys
    import time

    before = {k["id"] for k in _kernels(gateway)}
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "repl", "--kernel", "failing", "-c", "1"], env=gateway.env(),
                       capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "died while starting" in r.stderr and "failing" in r.stderr and "HTTP 500" not in r.stderr, r.stderr
    assert took < 45, took  # the server gives up after its restarts (~18 s), not the websocket's 60 s
    assert {k["id"] for k in _kernels(gateway)} <= before


def test_once_start_up_is_over_its_objects_are_left_out_of_full_collections(monkeypatch):
    from unittest import mock

    from repl.ui import first_kernel

    monkeypatch.setattr(first_kernel, "SETTLE_AFTER", 0.0)
    ws = mock.Mock(opening=None)
    ws.rest.kernelspecs = mock.AsyncMock(return_value={"kernelspecs": {"python3": {}}})
    parts = mock.Mock(specs=[])
    first = first_kernel.FirstKernel(mock.Mock(), StartupProfile(False), lambda: None, lambda: None, mock.Mock())

    async def main() -> None:
        first.follow(ws, parts)  # no first kernel to wait for: start-up is over now
        await asyncio.wait_for(wait_for(lambda: gc.get_freeze_count() > 0), 5)

    gc.unfreeze()
    try:
        asyncio.run(main())
        assert gc.get_freeze_count() > 1000  # (the test process's modules, at least)
        assert parts.specs == ["python3"]
    finally:
        gc.unfreeze()


async def wait_for(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


DRIVER = """
import asyncio, sys, termios
from repl import cli

def run(coro):  # instead of the session: how the terminal is while it runs
    coro.close()
    print("canonical" if termios.tcgetattr(0)[3] & termios.ICANON else "held", flush=True)
    return 0

asyncio.run = run
sys.exit(cli.main(["--url", "http://127.0.0.1:9"]))
"""


def test_keys_typed_during_start_up_are_held_for_the_first_prompt():
    """From before the session starts (the first prompt comes ~0.3 s later), canonical mode is
    off: a Ctrl-D typed then is a key for the prompt, not an end-of-file mark the line
    discipline drops when the prompt switches to raw mode."""
    import pexpect

    child = pexpect.spawn(sys.executable, ["-c", DRIVER], encoding="utf-8", timeout=30,
                          env={k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")})
    try:
        child.expect(["held", "canonical"])
        assert child.after == "held"
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_ctrl_d_typed_before_the_first_prompt_leaves(term, gate):
    import termios

    t = term("--kernel", "gated")
    wait_until(lambda: not termios.tcgetattr(t.child.child_fd)[3] & termios.ICANON, 30, 0.001, "start-up to hold keys")
    t.ctrl("d")
    assert t.wait_exit(timeout=60) == 0
