"""Every speed figure in one run, each beside its anchors measured in the same run on this machine.

  round trip     `a*b+i` Enter → value on screen (pty): repl, jupyter console, and a bare websockets
                 client with TCP_QUICKACK to the same gateway, its socket kept open across rounds as
                 every real client keeps it (the floor through a gateway)
  stream         `for i in range(200_000): print(i)` Enter → next prompt, output read as fast as a
                 terminal would: repl --attach, jupyter console --existing on the same kernel, and a
                 bare websockets client (until the kernel is idle)
  start-up       launch → prompt on screen and → kernel ready (a numbered prompt): repl --attach vs
                 jupyter console --existing; repl (embedded gateway) vs jupyter console (own kernel):
                 → prompt, and → the first `1+1` result, typed as soon as a prompt shows
  completion     Tab → completion menu drawn: repl vs jupyter console
  echo           keystroke → echo at the prompt while a background cell floods output, vs idle
  memory         RSS at an idle prompt, and peak RSS during a 10 s flood: repl vs jupyter console;
                 RSS after 120 cells printing 1 MB each (a long day)

Rounds alternate between programs so the machine's noise hits all of them.
Usage: python bench/all.py [--quick] [--only=round,stream,startup,completion,echo,memory,day]
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pexpect

sys.path.insert(0, str(Path(__file__).parent))

from roundtrip import ANSI, PtyClient, start_gateway  # noqa: E402
from startup import launch, runtime_dir  # noqa: E402

QUICKACK = getattr(socket, "TCP_QUICKACK", None)
STREAM = "for i in range(200_000): print(i)"
# one line (a typed Enter ends a complete cell), printing for {s} seconds
FLOOD = "import time; t0 = time.time(); any(print('x' * 70) for _ in iter(lambda: time.time() - t0 < {s}, False))"
ECHO_CHARS = "жщфыяшюэ"  # never in the flood's output, nor in an escape sequence


# ------------------------------------------------------------ a terminal that keeps up


class Term(PtyClient):
    """A pty reader that drains output as fast as a terminal would and looks only at its tail."""

    def __init__(self, argv: list[str], env: dict) -> None:
        super().__init__(argv, env)
        self.tail = ""
        self.bytes_read = 0

    def drain(self, timeout: float) -> bool:
        try:
            data = self.child.read_nonblocking(1 << 20, timeout=timeout)
        except pexpect.TIMEOUT:
            return False
        if "\x1b[6n" in data:
            self.child.send("\x1b[1;1R")
        self.bytes_read += len(data)
        self.tail = (self.tail + data)[-8192:]
        return True

    def until(self, pattern: str, timeout: float = 120.0) -> float:
        """perf_counter() when ``pattern`` is in the (ANSI-stripped) output since the last call."""
        deadline = time.perf_counter() + timeout
        while True:
            if pattern in ANSI.sub("", self.tail):
                self.tail = ""
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{pattern!r} not seen; tail: {ANSI.sub('', self.tail)[-300:]!r}")
            self.drain(0.2)

    def up(self) -> None:
        """repl's prompt with its kernel up (the prompt comes first: wait for the greeting too)."""
        self.until("/help for commands", 120)
        self.quiet(1.0)

    def quiet(self, seconds: float = 0.3) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.drain(0.05)
        self.tail = ""

    def run(self, code: str, last_line: str, timeout: float = 300.0) -> float:
        """Seconds from Enter to the next prompt after the output's ``last_line``."""
        self.child.send(code)
        self.quiet()
        t0 = time.perf_counter()
        self.child.send("\r")
        if last_line:
            self.until(last_line, timeout)
        return self.until("In [", timeout) - t0

    def round(self, code: str, shown: str) -> float:
        """Seconds from Enter (``code`` typed, then 0.2 s idle, as a person pauses) to ``shown``."""
        self.child.send(code)
        self.quiet(0.2)
        t0 = time.perf_counter()
        self.child.send("\r")
        return self.until(shown) - t0

    def rss(self) -> tuple[int, int]:
        """(RSS, peak RSS) in MiB."""
        status = Path(f"/proc/{self.child.pid}/status").read_text()
        kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
        return kib["VmRSS"] // 1024, kib["VmHWM"] // 1024


# ------------------------------------------------------------ the bare client


class Bare:
    """A minimal websockets client to a kernel through the gateway: one websocket kept open across
    rounds (as every real client keeps its socket), acking each frame at once (TCP_QUICKACK).
    Its event loop lives across calls, so the socket stays connected between rounds."""

    def __init__(self, url: str, token: str, kernel_id: str) -> None:
        self.url = url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        self.token = token
        self.loop = asyncio.Runner()
        self.ws = None

    def run(self, code: str, until_result: str | None) -> float:
        return self.loop.run(self._run(code, until_result))

    def close(self) -> None:
        if self.ws is not None:
            self.loop.run(self.ws.close())
        self.loop.close()

    async def _run(self, code: str, until_result: str | None) -> float:
        from websockets.asyncio.client import connect

        if self.ws is None:  # once: the handshake is not part of any round
            self.ws = await connect(self.url, additional_headers={"Authorization": f"token {self.token}"},
                                    max_size=None, compression=None, ping_interval=None)
        ws = self.ws
        sock = ws.transport.get_extra_info("socket")
        mid = uuid.uuid4().hex
        msg = {"header": {"msg_id": mid, "msg_type": "execute_request", "session": "bare", "username": "b",
                          "version": "5.3", "date": ""},
               "parent_header": {}, "metadata": {}, "channel": "shell",
               "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                           "allow_stdin": False}}
        t0 = time.perf_counter()
        await ws.send(json.dumps(msg))
        async for frame in ws:
            if QUICKACK is not None and sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            reply = json.loads(frame)
            if reply.get("parent_header", {}).get("msg_id") != mid:
                continue
            kind = reply.get("msg_type")
            if until_result is not None and kind == "execute_result":
                assert reply["content"]["data"]["text/plain"] == until_result
                return time.perf_counter() - t0
            if until_result is None and kind == "status" and reply["content"]["execution_state"] == "idle":
                return time.perf_counter() - t0
        raise RuntimeError("the websocket closed before the answer")


# ------------------------------------------------------------ the table


@dataclass
class Row:
    figure: str
    ours: list[float] = field(default_factory=list)
    anchors: dict[str, list[float]] = field(default_factory=dict)
    unit: str = "ms"
    goal: tuple[str, float] | None = None  # (anchor, the ratio ours / anchor must not exceed)
    stat: str = "median"  # or p90

    def anchor(self, name: str) -> list[float]:
        return self.anchors.setdefault(name, [])


def fmt(value: float, unit: str) -> str:
    return f"{value * 1000:8.1f} ms" if unit == "ms" else f"{value:8.0f} {unit}"


def statistic(xs: list[float], stat: str) -> float:
    if stat == "p90":
        return sorted(xs)[max(0, -(-len(xs) * 9 // 10) - 1)]
    return statistics.median(xs)


def table(rows: list[Row]) -> str:
    out = [f"{'figure':<44} {'repl':>11}   {'anchor':<34} {'anchor':>11}  {'ratio':>6}  goal",
           "-" * 124]
    for row in rows:
        ours = statistic(row.ours, row.stat)
        first = True
        for name, xs in row.anchors.items():
            theirs = statistic(xs, row.stat)
            ratio = ours / theirs if theirs else float("nan")
            goal = ""
            if row.goal is not None and row.goal[0] == name:
                goal = f"<= {row.goal[1]:.1f}x  {'met' if ratio <= row.goal[1] else 'NOT MET'}"
            out.append(f"{row.figure if first else '':<44} {fmt(ours, row.unit) if first else '':>11}   "
                       f"{name:<34} {fmt(theirs, row.unit):>11}  {ratio:5.2f}x  {goal}")
            first = False
    out.append("medians unless marked; samples: " + ", ".join(f"{r.figure.split(':')[0]} {len(r.ours)}" for r in rows))
    return "\n".join(out)


# ------------------------------------------------------------ the figures


def side_by_side(env: dict, setup: str) -> tuple[Term, Term]:
    """repl on the bench's gateway and jupyter console with its own kernel, each at its prompt
    after running ``setup``."""
    repl = Term([sys.executable, "-m", "repl"], env)
    console = Term([sys.executable, "-m", "jupyter_console", "--kernel", "python3"], env)
    repl.up()
    console.until("In [1]:", 120)
    console.quiet(1.0)
    for client in (repl, console):
        client.run(setup, "")
    return repl, console


def round_trips(rows: list[Row], env: dict, url: str, token: str, rounds: int) -> None:
    row = Row("round trip: a*b Enter → value on screen", goal=("bare websockets + QUICKACK", 1.2))
    rows.append(row)
    kid = new_kernel(url, token)
    repl, console = side_by_side(env, "a = 12345; b = 6789")
    try:
        bare = Bare(url, token, kid)
        for i in range(rounds):
            expect = str(12345 * 6789 + i)
            for name, client in (("repl", repl), ("jupyter console", console)):
                took = client.round(f"a*b+{i}", f"Out[{i + 2}]: {expect}")
                (row.ours if name == "repl" else row.anchor("jupyter console")).append(took)
            row.anchor("bare websockets + QUICKACK").append(bare.run(f"12345*6789+{i}", expect))
    finally:
        bare.close()
        repl.close()
        console.close()
        delete_kernel(url, token, kid)


def stream(rows: list[Row], env: dict, url: str, token: str, rounds: int) -> None:
    row = Row("stream: 200k-line print Enter → next prompt", goal=("bare websockets + QUICKACK", 1.1))
    rows.append(row)
    kid = new_kernel(url, token)
    connection = connection_file(kid)
    base = {k: v for k, v in env.items() if not k.startswith("JUPYTER_GATEWAY")}
    try:
        for _ in range(rounds):
            repl = Term([sys.executable, "-m", "repl", "--attach", kid], env)
            try:
                repl.up()
                row.ours.append(repl.run(STREAM, "199999"))
            finally:
                repl.close()
            console = Term([sys.executable, "-m", "jupyter_console", "--existing", str(connection)], base)
            try:
                console.until("In [", 60)
                console.quiet(1.0)
                row.anchor("jupyter console --existing").append(console.run(STREAM, "199999"))
            finally:
                console.close()
            # connected before the round (not while the others ran: it would have to read their output)
            bare = Bare(url, token, kid)
            try:
                bare.run("0", None)
                row.anchor("bare websockets + QUICKACK").append(bare.run(STREAM, None))
            finally:
                bare.close()
    finally:
        delete_kernel(url, token, kid)


def start_up(rows: list[Row], env: dict, url: str, token: str, rounds: int) -> None:
    shown = Row("start-up: launch → prompt on screen, attached")
    attach = Row("start-up: launch → kernel ready, attached", goal=("jupyter console --existing", 0.6))
    embedded = Row("start-up: launch → prompt, embedded gateway", goal=("jupyter console (own kernel)", 0.6))
    first = Row("start-up: launch → first 1+1 result, embedded", goal=("jupyter console (own kernel)", 1.0))
    rows += [shown, attach, embedded, first]
    kid = new_kernel(url, token)
    connection = connection_file(kid)
    base = {k: v for k, v in env.items() if not k.startswith("JUPYTER_GATEWAY")}
    try:
        for _ in range(rounds):
            prompt, ready, _ = launch([sys.executable, "-m", "repl", "--attach", kid], env)
            shown.ours.append(prompt)
            attach.ours.append(ready)
            prompt, ready, _ = launch([sys.executable, "-m", "jupyter_console", "--existing", str(connection)], base)
            shown.anchor("jupyter console --existing").append(prompt)
            attach.anchor("jupyter console --existing").append(ready)
            prompt, _, answer = launch([sys.executable, "-m", "repl"], base, result=True)
            embedded.ours.append(prompt)
            first.ours.append(answer or 0.0)
            prompt, _, answer = launch([sys.executable, "-m", "jupyter_console", "--kernel", "python3"], base, result=True)
            embedded.anchor("jupyter console (own kernel)").append(prompt)
            first.anchor("jupyter console (own kernel)").append(answer or 0.0)
    finally:
        delete_kernel(url, token, kid)


def completion(rows: list[Row], env: dict, rounds: int) -> None:
    row = Row("completion: Tab → menu drawn", goal=("jupyter console", 1.0))
    rows.append(row)
    repl, console = side_by_side(env, "import os")
    try:
        for _ in range(rounds):
            for name, client in (("repl", repl), ("jupyter console", console)):
                client.child.send("os.getc")
                client.quiet(0.2)
                t0 = time.perf_counter()
                client.child.send("\t")
                took = client.until("getcwdb") - t0  # in the menu, not in the typed text
                client.child.sendcontrol("c")
                client.quiet(0.3)
                (row.ours if name == "repl" else row.anchor("jupyter console")).append(took)
    finally:
        repl.close()
        console.close()


def echo(rows: list[Row], env: dict, rounds: int) -> None:
    row = Row("echo: keystroke → on screen, during a flood", goal=("the same keystroke, idle", 2.0))
    tail = Row("echo: the same, 90th percentile", stat="p90", goal=("the same keystroke, idle, p90", 3.0))
    rows += [row, tail]
    repl = Term([sys.executable, "-m", "repl"], env)
    try:
        repl.up()

        def keystrokes(into: list[float]) -> None:
            repl.child.send(ECHO_CHARS[-1])  # a first key warms what the first key warms; not counted
            repl.until(ECHO_CHARS[-1], 30)
            repl.child.sendcontrol("u")
            repl.quiet(0.2)
            for i in range(rounds):
                ch = ECHO_CHARS[i % len(ECHO_CHARS)]
                t0 = time.perf_counter()
                repl.child.send(ch)
                into.append(repl.until(ch, 30) - t0)
                if i % len(ECHO_CHARS) == len(ECHO_CHARS) - 1:
                    repl.child.sendcontrol("u")
                    repl.quiet(0.2)
            repl.child.sendcontrol("u")
            repl.quiet(0.3)

        keystrokes(row.anchor("the same keystroke, idle"))
        tail.anchor("the same keystroke, idle, p90").extend(row.anchors["the same keystroke, idle"])
        repl.child.send(FLOOD.format(s=60) + "\r")
        repl.until("xxxxxxxxxx", 60)
        repl.child.sendcontrol("z")  # to the background: its output goes on above the prompt
        repl.until("In [2]:", 30)
        repl.quiet(0.5)
        keystrokes(row.ours)
        tail.ours.extend(row.ours)
        repl.child.send("/interrupt\r")
        repl.quiet(1.0)
    finally:
        repl.close()


def each_attached(env: dict, url: str, token: str):
    """repl --attach, then jupyter console --existing, on one new kernel: (name, client) at its prompt."""
    kid = new_kernel(url, token)
    connection = connection_file(kid)
    base = {k: v for k, v in env.items() if not k.startswith("JUPYTER_GATEWAY")}
    try:
        for name, argv, e in (("repl", [sys.executable, "-m", "repl", "--attach", kid], env),
                              ("jupyter console --existing",
                               [sys.executable, "-m", "jupyter_console", "--existing", str(connection)], base)):
            client = Term(argv, e)
            try:
                if name == "repl":
                    client.up()
                else:
                    client.until("In [", 60)
                client.quiet(1.0)
                yield name, client
            finally:
                client.close()
    finally:
        delete_kernel(url, token, kid)


def memory(rows: list[Row], env: dict, url: str, token: str) -> None:
    idle = Row("memory: RSS at an idle prompt, attached", unit="MiB")
    peak = Row("memory: peak RSS during a 10 s flood, attached", unit="MiB")
    rows += [idle, peak]
    for name, client in each_attached(env, url, token):
        client.quiet(1.0)
        now, _ = client.rss()
        client.child.send(FLOOD.format(s=10) + "\r")
        client.until("xxxxxxxxxx", 60)
        end = time.perf_counter() + 30
        while time.perf_counter() < end and "In [" not in ANSI.sub("", client.tail[-400:]):
            client.drain(0.1)
        _, high = client.rss()
        (idle.ours if name == "repl" else idle.anchor(name)).append(now)
        (peak.ours if name == "repl" else peak.anchor(name)).append(high)


def long_day(rows: list[Row], env: dict, url: str, token: str, cells: int) -> None:
    row = Row(f"memory: RSS after {cells} cells of 1 MB output each", unit="MiB",
              goal=("jupyter console --existing", 1.5))
    rows.append(row)
    for name, client in each_attached(env, url, token):
        for i in range(cells):
            client.run(f"print(('{i:06d}' + 'x' * 93 + '\\n') * 10_000, end='')", f"{i:06d}" + "x" * 93)
        client.quiet(1.0)
        (row.ours if name == "repl" else row.anchor(name)).append(client.rss()[0])


# ------------------------------------------------------------ plumbing


def new_kernel(url: str, token: str) -> str:
    """A new kernel, once it has run a first cell: the first round must not wait for its start,
    which would count against whichever program the rounds begin with."""
    kid = httpx.post(f"{url}/api/kernels", json={"name": "python3"}, headers={"Authorization": f"token {token}"}).json()["id"]
    first = Bare(url, token, kid)
    try:
        first.run("0", None)
    finally:
        first.close()
    return kid


def delete_kernel(url: str, token: str, kid: str) -> None:
    httpx.delete(f"{url}/api/kernels/{kid}", headers={"Authorization": f"token {token}"}, timeout=30)


def connection_file(kid: str) -> Path:
    path = runtime_dir() / f"kernel-{kid}.json"
    for _ in range(100):
        if path.exists():
            break
        time.sleep(0.1)
    return path


def main() -> None:
    quick = "--quick" in sys.argv
    # repl's bytecode, as a pip install writes it (an editable install under PYTHONDONTWRITEBYTECODE
    # would compile every module from source at each start; jupyter console's are compiled)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parent.parent / "repl")],
                   check=True, stdout=subprocess.DEVNULL)
    gw, url, token = start_gateway()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env.update({"JUPYTER_GATEWAY_URL": url, "JUPYTER_GATEWAY_AUTH_TOKEN": token, "REPL_DATA_DIR": "/tmp/repl-bench"})
    rows: list[Row] = []
    started = time.perf_counter()
    figures = {
        "round": lambda: round_trips(rows, env, url, token, 8 if quick else 25),
        "stream": lambda: stream(rows, env, url, token, 2 if quick else 5),
        "startup": lambda: start_up(rows, env, url, token, 2 if quick else 5),
        "completion": lambda: completion(rows, env, 4 if quick else 10),
        "echo": lambda: echo(rows, env, 8 if quick else 24),
        "memory": lambda: memory(rows, env, url, token),
        "day": lambda: long_day(rows, env, url, token, 30 if quick else 120),
    }
    only = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--only=")), list(figures))
    try:
        for name in only:
            figures[name]()
    finally:
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(20)
    print(table(rows))
    print(f"({time.perf_counter() - started:.0f} s, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
