"""Leaving and coming back: /detach and `repl --resume`, and a repl killed with SIGKILL. The real
`repl` in a pty against real servers; the server replays what it buffered for the session id."""

import json
import os
import re
import signal
import stat
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_until

TICKS = "import time\nfor i in range(N):\n    print('tick', i, flush=True); time.sleep(0.2)\n"


def ticks(n: int) -> str:
    return TICKS.replace("N", str(n))


def paste(t, code: str) -> None:
    t.child.send("\x1b[200~" + code + "\x1b[201~")
    t.child.send("\r")


def seen(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"tick (\d+)", text)]


def records(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "sessions").glob("*.json"))]


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
    first = seen(a.plain())
    (rec,) = records(tmp_path / "data")
    assert rec["detached"] and len(rec["kernels"]) == 1 and rec["kernels"][0]["cells"]
    assert server.token not in json.dumps(rec)
    mode = stat.S_IMODE(os.stat(next((tmp_path / "data" / "sessions").glob("*.json"))).st_mode)
    assert mode == 0o600
    kid = rec["kernels"][0]["id"]
    assert kid in kernel_ids(server)  # started here, and still running
    b = term("--resume", gw=server)
    b.wait_for("background cell In [2] finished", timeout=60)
    second = seen(b.plain())
    assert sorted(first + second) == list(range(25)), (first, second, open('/tmp/b.txt','w').write(b.transcript), open('/tmp/a.txt','w').write(a.transcript))
    assert "may be incomplete" not in b.plain()
    b.wait_prompt(3)
    b.enter("x + 1")
    b.wait_for("Out[3]: 42")
    b.ctrl("d")
    assert b.wait_exit() == 0
    wait_until(lambda: kid not in kernel_ids(server), 30, 0.2, "the kernel started by the first repl shut down")
    assert records(tmp_path / "data") == []
