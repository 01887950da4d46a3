"""Leaving and coming back: /detach and `repl --resume`, and a repl killed with SIGKILL. The real
`repl` in a pty against real servers; the server replays what it buffered for the session id."""

import contextlib
import json
import os
import re
import signal
import stat
from pathlib import Path

import httpx

from tests.conftest import wait_until

TICKS = "import time\nfor i in range(N):\n    print('tick', i, flush=True); time.sleep(0.2)\n"


def ticks(n: int) -> str:
    return TICKS.replace("N", str(n))


def paste(t, code: str) -> None:
    t.child.send("\x1b[200~" + code + "\x1b[201~")
    t.child.send("\r")


def seen(text: str, word: str = "tick") -> list[int]:
    """The ticks shown. A print can come in two pieces ("tick", " 14\\n") and, when the prompt is
    redrawn between them, the second goes on a tagged line of its own: counted as one tick."""
    return [int(x) for x in re.findall(word + r"(?:\n\[[^\n]*?\] )? ?(\d+)", text)]


def shown(*texts: str, word: str = "tick") -> list[int]:
    """The ticks shown by one repl after another. A line the one before was printing when it left
    is shown again, whole, by the next: counted once."""
    out: list[int] = []
    for text in texts:
        more = seen(text, word)
        out += more[1:] if out and more and more[0] == out[-1] else more
    return out


def records(data: Path) -> list[dict]:
    """The last record of each session file (a line is appended at each change)."""
    return [json.loads(p.read_text().splitlines()[-1]) for p in sorted((data / "sessions").glob("*.jsonl"))]


def kernel_ids(server) -> set[str]:
    r = httpx.get(f"{server.url}/api/kernels", headers={"Authorization": f"token {server.token}"}, timeout=30)
    return {k["id"] for k in r.json()}


def background_ticks(t, n: int = 25) -> None:
    t.wait_prompt(1)
    paste(t, ticks(n))
    t.wait_for("tick 2")
    t.ctrl("z")
    t.wait_for("cell sent to the background")
    t.wait_prompt(2)


def test_detach_then_resume_shows_every_line_once_and_the_kernel_goes_on(term, server, tmp_path):
    a = term(gw=server)
    a.enter("x = 41")
    background_ticks(a)
    a.enter("/detach")
    a.wait_for("repl --resume")
    assert a.wait_exit() == 0
    (rec,) = records(tmp_path / "data")
    assert rec["detached"] and len(rec["kernels"]) == 1 and rec["kernels"][0]["cells"]
    assert server.token not in json.dumps(rec)
    mode = stat.S_IMODE(os.stat(next((tmp_path / "data" / "sessions").glob("*.jsonl"))).st_mode)
    assert mode == 0o600
    kid = rec["kernels"][0]["id"]
    assert kid in kernel_ids(server)  # started here, and still running
    b = term("--resume", gw=server)
    b.wait_for("cell In [2] finished", timeout=60)
    assert sorted(shown(a.plain(), b.plain())) == list(range(25)), (a.plain(), b.plain())
    assert "may be incomplete" not in b.plain()
    b.wait_prompt(3)
    b.enter("x + 1")
    b.wait_for("Out[3]: 42")
    b.ctrl("d")
    assert b.wait_exit() == 0
    wait_until(lambda: kid not in kernel_ids(server), 30, 0.2, "the kernel started by the first repl shut down")
    assert records(tmp_path / "data") == []


def test_a_killed_repl_is_resumed_with_its_running_cell(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    paste(a, ticks(30))  # in the foreground
    a.wait_for("tick 3")
    os.kill(a.child.pid, signal.SIGKILL)
    a.wait_exit()
    first = seen(a.plain())
    (rec,) = records(tmp_path / "data")
    assert not rec["detached"] and rec["kernels"][0]["cells"][0]["count"] == 1
    b = term("--resume")
    b.wait_for("coming back to the session whose repl was killed")
    b.wait_for("cell In [1] finished", timeout=60)
    second = seen(b.plain())
    assert sorted(first + second) == list(range(30)), (first, second)
    b.wait_prompt(2)
    b.enter("i")
    b.wait_for("Out[2]: 29")


def test_a_cell_that_ended_while_away_says_so(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    paste(a, "import time; print('started', flush=True); time.sleep(1.5); print('done sleeping'); 7 * 6")
    a.wait_for("started")
    a.ctrl("z")
    a.wait_for("cell sent to the background")
    a.enter("/detach")
    assert a.wait_exit() == 0
    kid = records(tmp_path / "data")[0]["kernels"][0]["id"]
    wait_until(lambda: httpx.get(f"{gateway.url}/api/kernels/{kid}", headers={"Authorization": f"token {gateway.token}"})
               .json()["execution_state"] == "idle", 30, 0.1, "the cell ended")
    b = term("--resume")
    b.wait_for("cell In [1] finished after")
    text = b.plain()
    assert "done sleeping" in text and "42" in text
    took = float(re.search(r"In \[1\] finished after ([\d.]+) s", text).group(1))
    assert 1.4 <= took < 5, took  # how long it ran, not how long we were away
    b.wait_prompt(2)


def test_a_line_cut_by_leaving_is_shown_whole_on_return(term, tmp_path):
    """The server replays from where the detaching repl stopped reading: the end of a line it was
    printing comes to the next repl, which shows the line whole."""
    a = term()
    a.wait_prompt(1)
    paste(a, "import time\nprint('beat', end='', flush=True); time.sleep(4); print(' 8', flush=True); print('after')")
    a.wait_for(lambda t: "\nbeat" in t.plain())
    a.ctrl("z")
    a.wait_for("cell sent to the background")
    a.enter("/detach")
    assert a.wait_exit() == 0
    assert records(tmp_path / "data")[0]["kernels"][0]["cells"][0]["open_line"] == ["stdout", "beat"]
    b = term("--resume")
    b.wait_for("cell In [1] finished after")
    text = b.plain()
    assert "[python3 In [1]] beat 8\n" in text and "[python3 In [1]] after" in text, text
    b.wait_prompt(2)


def test_input_asked_while_away_is_asked_on_return(term, tmp_path):
    a = term()
    a.wait_prompt(1)
    paste(a, "import time; print('started', flush=True); time.sleep(3); name = input('who? '); print('hello', name)")
    a.wait_for("started")
    a.ctrl("z")
    a.wait_for("cell sent to the background")
    a.enter("/detach")
    assert a.wait_exit() == 0
    left = a.plain()
    assert "] who?" not in left and "\nwho?" not in left  # (in the code only: it was asked after we left)
    b = term("--resume")
    b.wait_for("[python3] who?")
    b.enter("ada")
    b.wait_for("[python3 In [1]] hello ada")
    b.wait_prompt(2)


def test_two_kernels_with_aliases_come_back_with_the_current_one(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("/name first")
    a.wait_for("is now 'first'")
    a.enter("/new")
    a.wait_for("it is now current")
    a.enter("/name second")
    a.wait_for("is now 'second'")
    a.enter("y = 2")
    a.wait_prompt(2)
    a.enter("/detach")
    a.wait_for("2 kernels go on running")
    assert a.wait_exit() == 0
    b = term("--resume")
    b.wait_for("back to python3 kernel")
    b.wait_prompt(2)
    assert "second" in b.text().splitlines()[-1]  # the toolbar: the current kernel is the one left current
    b.enter("y")
    b.wait_for("Out[2]: 2")
    b.enter("/use first")
    b.wait_for("switched to first")
    b.ctrl("d")
    assert b.wait_exit() == 0
    assert records(tmp_path / "data") == []


def test_two_kernels_of_one_spec_are_told_apart_from_the_first_line_back(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("/new")
    a.wait_for("it is now current")
    background_ticks(a, 40)
    a.enter("/detach")
    a.wait_for("2 kernels go on running")
    assert a.wait_exit() == 0
    b = term("--resume")
    b.wait_for("back to python3 kernel")
    b.wait_for("tick 3")
    back = re.search(r"coming back to the session detached .*?: (\S+), (\S+)\n", b.plain())
    assert back and all(re.fullmatch(r"python3-[0-9a-f]{4}", t) for t in back.groups()), b.plain()
    tags = set(re.findall(r"\[(python3\S*) In \[\d+\]\] tick", b.plain()))
    assert tags and all(re.fullmatch(r"python3-[0-9a-f]{4}", t) for t in tags), tags  # as the prompt names them
    b.enter("/interrupt")
    b.wait_for("failed after")
    b.ctrl("d")
    assert b.wait_exit() == 0


def test_a_kernel_deleted_while_away_is_one_line(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("/new")
    a.wait_for("it is now current")
    a.enter("/detach")
    assert a.wait_exit() == 0
    rec = records(tmp_path / "data")[0]
    gone = rec["kernels"][1]["id"]
    httpx.delete(f"{gateway.url}/api/kernels/{gone}", headers={"Authorization": f"token {gateway.token}"})
    b = term("--resume")
    b.wait_for(f"({gone[:8]}) is gone from")
    b.wait_prompt(1)
    assert "Traceback" not in b.plain()
    b.enter("/kernels")
    b.wait_for("│")


def test_another_client_while_away_means_the_output_may_be_incomplete(term, gateway, tmp_path):
    a = term()
    background_ticks(a, 30)
    a.enter("/detach")
    assert a.wait_exit() == 0
    kid = records(tmp_path / "data")[0]["kernels"][0]["id"]
    other = term("--attach", kid)  # its connection takes the buffer that was kept for us
    other.wait_for("tick 7", timeout=60)  # and it leaves while the cell still prints
    other.ctrl("d")
    assert other.wait_exit() == 0
    b = term("--resume")
    b.wait_for("while away may be incomplete", timeout=60)


def test_a_client_that_comes_and_goes_within_a_second_and_takes_a_burst_is_told(term, gateway, tmp_path):
    """The case the server's record of activity cannot tell: another connection comes the moment we
    leave, takes what the cell prints, and goes; then the cell is silent. Nothing is replayed, and
    the kernel looks idle since we left. The kernel's own message counts show the gap."""
    from websockets.sync.client import connect

    flag = tmp_path / "go"
    a = term()
    a.wait_prompt(1)
    paste(a, f"import os, time\nprint('ready', flush=True)\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.01)\n"
             "for i in range(5):\n    print('burst', i, flush=True)\ntime.sleep(20)\n")
    a.wait_for("ready")
    a.ctrl("z")
    a.wait_for("cell sent to the background")
    a.wait_prompt(2)
    a.enter("/detach")
    assert a.wait_exit() == 0
    kid = records(tmp_path / "data")[0]["kernels"][0]["id"]
    ws_url = gateway.url.replace("http", "ws", 1)
    with connect(f"{ws_url}/api/kernels/{kid}/channels?session_id=visitor",
                 additional_headers={"Authorization": f"token {gateway.token}"}) as ws:
        flag.touch()
        got = ""
        while "burst 4" not in got:
            msg = json.loads(ws.recv(timeout=30))
            if msg.get("msg_type") == "stream":
                got += msg["content"]["text"]
    b = term("--resume")
    b.wait_for("while away may be incomplete", timeout=60)
    assert "burst" not in b.plain()  # (it was the visitor's)
    assert "of its messages went to another connection" in b.plain()


def test_with_several_sessions_resume_lists_them_and_asks(term, gateway, tmp_path):
    for alias in ("one", "two"):
        a = term()
        a.wait_prompt(1)
        a.enter(f"/name {alias}")
        a.wait_for(f"is now '{alias}'")
        a.enter("/detach")
        assert a.wait_exit() == 0
    b = term("--resume")
    b.wait_for("2 sessions to come back to")
    b.wait_for("come back to which? [1-2]")
    assert "one" in b.text() and "two" in b.text()
    b.enter("2")  # the older: newest first
    b.wait_for("back to python3 kernel")
    b.wait_prompt(1)
    assert "one" in b.text().splitlines()[-1]
    b.ctrl("d")
    assert b.wait_exit() == 0
    assert len(records(tmp_path / "data")) == 1
    c = term("--resume", "nowhere.example")
    assert c.wait_exit() == 2
    assert "no session to come back to on 'nowhere.example'" in c.plain()


def test_a_hangup_while_a_cell_runs_detaches(term, gateway, tmp_path):
    """An ssh connection that drops (SIGHUP) must not take a running cell's kernel with it; an idle
    one is shut down as before (test_lifecycle)."""
    a = term()
    a.wait_prompt(1)
    paste(a, ticks(30))
    a.wait_for("tick 2")
    os.kill(a.child.pid, signal.SIGHUP)
    a.wait_exit()
    (rec,) = records(tmp_path / "data")
    assert rec["detached"] and rec["kernels"][0]["id"] in kernel_ids(gateway)
    b = term("--resume")
    b.wait_for("cell In [1] finished", timeout=60)
    assert sorted(shown(a.plain(), b.plain())) == list(range(30))


def test_a_resume_that_cannot_reach_the_server_keeps_the_record(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("/detach")
    assert a.wait_exit() == 0
    before = records(tmp_path / "data")
    b = term("--resume", extra_env={"JUPYTER_GATEWAY_AUTH_TOKEN": "wrong"})
    assert b.wait_exit() == 2
    assert "token" in b.plain() and "Traceback" not in b.plain()
    assert records(tmp_path / "data") == before  # nothing lost: try again with the right token
    c = term("--resume")
    c.wait_for("back to python3 kernel")
    c.wait_prompt(1)


def test_the_embedded_gateway_is_detached_and_found_again(tmp_path):
    from repl.gateway.local import descendants
    from tests.term import Term

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env["REPL_DATA_DIR"] = str(tmp_path / "data")
    a = Term([], env=env)
    b = None
    tree: list[int] = []
    try:
        a.wait_for("started python3 kernel", timeout=90)
        tree = descendants(a.child.pid)  # the gateway and its kernel
        a.enter("x = 41")
        background_ticks(a)
        a.enter("/detach")
        a.wait_for("repl --resume")
        assert a.wait_exit() == 0
        a.close()  # the terminal goes too: its hangup does not reach the gateway's session
        alive = [p for p in tree if Path(f"/proc/{p}").exists()]
        assert alive == tree, (tree, alive)
        (rec,) = records(tmp_path / "data")
        assert rec["gateway"] and rec["detached"]
        b = Term(["--resume"], env=env)
        b.wait_for("back to python3 kernel", timeout=90)
        b.wait_for("cell In [2] finished", timeout=60)
        assert sorted(shown(a.plain(), b.plain())) == list(range(25))
        b.wait_prompt(3)
        b.enter("x + 1")
        b.wait_for("Out[3]: 42")
        b.ctrl("d")
        assert b.wait_exit() == 0

        def stopped():
            for p in tree:
                with contextlib.suppress(OSError):
                    if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                        return False
            return True

        wait_until(stopped, 30, 0.1, "the resumed repl stopped the gateway it came back to")
        assert records(tmp_path / "data") == []
    finally:
        a.close()
        if b is not None:
            b.close()
        for p in tree:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)


# ------------------------------------------------------------ found in review


class FailingRest:
    """An HTTP proxy for the REST API that answers 503 for one kernel's model (the websocket goes
    straight to the server, through --ws-url)."""

    def __init__(self, upstream: str, failing: str) -> None:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                if outer.failing and outer.failing in self.path:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                r = httpx.request(self.command, upstream + self.path, headers=headers, content=body, timeout=60)
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_DELETE = do_PATCH = _any

        self.failing = failing
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_a_resume_that_fails_part_way_shuts_nothing_down(term, gateway, tmp_path, request):
    """A kernel that cannot be read (not: is gone) ends the resume; the kernel it already had back,
    started by the first repl and running a cell, is not shut down on the way out."""
    proxy = FailingRest(gateway.url, failing="")
    request.addfinalizer(proxy.close)
    ws = ["--ws-url", gateway.url.replace("http", "ws")]
    a = term(*ws, url=proxy.url)
    a.wait_prompt(1)
    one = re.search(r"started python3 kernel ([0-9a-f]{8})", a.text()).group(1)
    a.enter("/new")
    a.wait_for("it is now current")
    a.enter(f"/use {one}")  # (not an index: the session's gateway has other tests' kernels)
    a.wait_for("switched to")
    background_ticks(a, 40)
    a.enter("/detach")
    assert a.wait_exit() == 0
    rec = records(tmp_path / "data")[0]
    first, second = rec["kernels"][0]["id"], rec["kernels"][1]["id"]
    proxy.failing = second if rec["current"] == first else first
    b = term("--resume", *ws, url=proxy.url)
    assert b.wait_exit() == 2
    assert "nothing was changed: repl --resume tries again" in b.plain() and "Traceback" not in b.plain()
    assert {first, second} <= kernel_ids(gateway)  # nothing was shut down
    assert records(tmp_path / "data")[0]["id"] == rec["id"]
    proxy.failing = ""
    c = term("--resume", *ws, url=proxy.url)
    c.wait_for("cell In [1] finished", timeout=60)
    assert sorted(shown(a.plain(), b.plain(), c.plain())) == list(range(40)), (a.plain(), c.plain())


def test_two_resumes_at_once_one_takes_the_session(term, gateway, tmp_path):
    a = term()
    background_ticks(a, 30)
    a.enter("/detach")
    assert a.wait_exit() == 0
    b, c = term("--resume"), term("--resume")

    def settled(t):
        return "being resumed by another repl" in t.plain() or "back to python3 kernel" in t.plain()

    def both():
        b.pump()
        c.pump()
        return settled(b) and settled(c)

    wait_until(both, 60, 0.05, "both resumes to settle")
    lost = [t for t in (b, c) if "being resumed by another repl" in t.plain()]
    won = [t for t in (b, c) if "back to python3 kernel" in t.plain()]
    assert len(lost) == 1 and len(won) == 1, (b.plain()[-500:], c.plain()[-500:])
    assert lost[0].wait_exit() == 2
    won[0].wait_for("cell In [1] finished", timeout=60)
    assert sorted(shown(a.plain(), won[0].plain())) == list(range(30))


def test_an_input_on_screen_when_repl_was_killed_is_asked_again(term, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("name = input('name? '); print('hi', name)")
    a.wait_for(lambda t: "name?" in [line.strip() for line in t.text().splitlines()])  # asked (not: typed)
    os.kill(a.child.pid, signal.SIGKILL)
    a.wait_exit()
    b = term("--resume")
    b.wait_for("[python3] name?")
    b.enter("ada")
    b.wait_for("hi ada")
    b.wait_prompt(2)


def test_detach_takes_breakpoints_out_and_is_refused_at_the_debugger_prompt(term, tmp_path):
    from tests.test_debugger import stop_in_f

    a = term()
    stop_in_f(a)
    a.enter("/detach")
    a.wait_for("python3 is stopped in its debugger: go on first")
    a.enter("q")  # (which takes the breakpoints out too)
    a.wait_for("Out[2]: 6")
    a.enter("/break 1:4")
    a.wait_for(lambda t: t.text().count("breakpoint at In [1] line 4") == 2)
    a.enter("/detach")
    a.wait_for("breakpoints taken out of python3")
    assert a.wait_exit() == 0
    b = term("--resume")
    b.wait_prompt(3)
    b.enter("f(5)")  # nobody would have been there to go on from a stop: it runs through
    b.wait_for("Out[3]: 10")


def test_a_url_given_to_resume_is_never_shown_with_its_token(term, gateway, tmp_path):
    a = term()
    a.wait_prompt(1)
    a.enter("/detach")
    assert a.wait_exit() == 0
    b = term("--resume", "http://elsewhere.example:8888/lab?token=SECRET123")
    assert b.wait_exit() == 2
    assert "SECRET123" not in b.plain() and "no session to come back to on" in b.plain()
    c = term("--resume", f"{gateway.url}/lab?token={gateway.token}")
    c.wait_for("back to python3 kernel")
    assert gateway.token not in c.plain()
