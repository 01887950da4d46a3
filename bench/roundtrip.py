"""Perceived round trip: type an expression, press Enter, until its value is on the screen.

Measures, interleaved in one run on one machine:
  repl             the real `repl` command in a pty, over a local Kernel Gateway (websocket)
  jupyter console  in a pty, over direct ZMQ to its own local kernel
  bare websockets  a minimal websockets client to the same gateway (no terminal, no QUICKACK)
and prints medians and ratios. Usage: python bench/roundtrip.py [ROUNDS]
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid

import httpx
import pexpect
import contextlib

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PtyClient:
    """A terminal program in a pty; answers cursor-position queries like a real terminal."""

    def __init__(self, argv: list[str], env: dict, screen: bool = False) -> None:
        env = {**env, "TERM": "xterm"}
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(40, 120), encoding="utf-8",
                                   codec_errors="replace")
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default
        self.buf = ""
        self.screen = None  # (``screen``: the terminal's screen, for what a redraw of a few cells shows)
        if screen:
            import pyte

            self.screen = pyte.Screen(120, 40)
            self.stream = pyte.Stream(self.screen)

    def _read(self, timeout: float) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return
        if self.screen is not None:
            self.stream.feed(data)
        if "\x1b[6n" in data:
            row, col = (self.screen.cursor.y + 1, self.screen.cursor.x + 1) if self.screen is not None else (1, 1)
            self.child.send(f"\x1b[{row};{col}R")
        self.buf += data

    def wait_screen(self, pattern: re.Pattern, timeout: float = 60.0) -> float:
        """perf_counter() when ``pattern`` is on the screen (made with ``screen=True``)."""
        assert self.screen is not None
        deadline = time.perf_counter() + timeout
        while not pattern.search("\n".join(self.screen.display)):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{pattern!r} not on screen: {chr(10).join(self.screen.display).rstrip()[-300:]!r}")
            self._read(0.2)
        return time.perf_counter()

    def wait_for(self, pattern: str | re.Pattern, timeout: float = 60.0, keep: bool = False) -> float:
        """perf_counter() when ``pattern`` (a string or a regex) appears in the ANSI-stripped
        output since the last call; ``keep``: the output stays for the next call to look at."""
        deadline = time.perf_counter() + timeout
        while True:
            clean = ANSI.sub("", self.buf)
            found = pattern.search(clean) if isinstance(pattern, re.Pattern) else pattern in clean
            if found:
                if not keep:
                    self.buf = ""
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{pattern!r} not seen; tail: {clean[-300:]!r}")
            self._read(0.2)

    def settle(self) -> None:
        """Read whatever the program still draws (toolbar, prompt) and drop it."""
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            self._read(0.05)
        self.buf = ""

    def measure(self, expr: str, expect: str) -> float:
        self.child.send(expr)
        self.wait_for(expr[-3:])  # echoed: the text is in the line editor
        self.settle()
        t0 = time.perf_counter()
        self.child.send("\r")
        return self.wait_for(expect) - t0

    def close(self) -> None:
        self.child.sendcontrol("d")
        with contextlib.suppress(pexpect.TIMEOUT):
            self.child.expect(pexpect.EOF, timeout=20)
        self.child.close(force=True)


async def bare_round_trip(url: str, token: str, kernel_id: str, rounds: list[float], exprs: list[tuple[str, str]]) -> None:
    from websockets.asyncio.client import connect

    sid = uuid.uuid4().hex
    ws_url = url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id={sid}"
    async with connect(ws_url, additional_headers={"Authorization": f"token {token}"}, max_size=None) as ws:
        for code, expect in exprs:
            mid = uuid.uuid4().hex
            msg = {
                "header": {"msg_id": mid, "msg_type": "execute_request", "session": sid, "username": "b",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False},
            }
            t0 = time.perf_counter()
            await ws.send(json.dumps(msg))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("msg_type") == "execute_result" and reply["parent_header"].get("msg_id") == mid:
                    assert reply["content"]["data"]["text/plain"] == expect
                    rounds.append(time.perf_counter() - t0)
                    break


def start_gateway() -> tuple[subprocess.Popen, str, str]:
    port, token = free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1", f"--KernelGatewayApp.port={port}",
         "--KernelGatewayApp.port_retries=0", "--JupyterWebsocketPersonality.list_kernels=True",
         "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0",
         "--ZMQChannelsWebsocketConnection.iopub_msg_rate_limit=0"],
        env={**os.environ, "KG_AUTH_TOKEN": token}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api", headers={"Authorization": f"token {token}"}).status_code == 200:
                return proc, url, token
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("gateway did not start")


def summary(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p90 = xs[int(len(xs) * 0.9) - 1] if len(xs) >= 10 else xs[-1]
    return f"{name:<16} median {statistics.median(xs) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   n={len(xs)}"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    gw, url, token = start_gateway()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env.update({"JUPYTER_GATEWAY_URL": url, "JUPYTER_GATEWAY_AUTH_TOKEN": token})
    results: dict[str, list[float]] = {"repl": [], "jupyter console": [], "bare websockets": []}
    repl = console = None
    try:
        repl = PtyClient([sys.executable, "-m", "repl"], env)
        repl.wait_for("In [1]:", 120)
        console = PtyClient([sys.executable, "-m", "jupyter_console", "--kernel", "python3"], env)
        console.wait_for("In [1]:", 120)
        for client in (repl, console):
            client.settle()
            client.child.send("a = 12345; b = 6789\r")
            client.wait_for("In [2]:")
            client.settle()
        kid = httpx.post(f"{url}/api/kernels", json={"name": "python3"},
                         headers={"Authorization": f"token {token}"}).json()["id"]
        a, b = 12345, 6789
        for i in range(rounds):
            expr = f"a*b+{i}"
            expect = str(a * b + i)
            n = i + 2
            results["repl"].append(repl.measure(expr, f"Out[{n}]: {expect}"))
            results["jupyter console"].append(console.measure(expr, f"Out[{n}]: {expect}"))
            asyncio.run(bare_round_trip(url, token, kid, results["bare websockets"],
                                        [(f"{a}*{b}+{i}", expect)]))
    finally:
        for client in (repl, console):
            if client is not None:
                client.close()
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(20)
    for name, xs in results.items():
        print(summary(name, xs))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"repl / jupyter console: {med['repl'] / med['jupyter console']:.2f}x (target <= 0.30x)")
    print(f"repl / bare websockets: {med['repl'] / med['bare websockets']:.2f}x")


if __name__ == "__main__":
    main()
