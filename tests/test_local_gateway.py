"""The embedded gateway after LocalGateway.detach(): it outlives the process that spawned it, which
a child python plays here (as repl would: its exit stack calls stop()); LocalGateway.adopt()
finds it again and stop() leaves no process. Without detach it dies with that process. Real
gateways and ipykernels, no mocks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from repl.errors import LocalGatewayError
from repl.gateway.local import LocalGateway, descendants
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent

# argv: WHEN (early: detach during the gateway's start-up; late: after a kernel started; never)
# and HOW it exits when the test says so (normal: its exit stack runs; os._exit: nothing runs).
HOLDER = r"""
import asyncio, contextlib, json, os, socket, sys
import httpx
from repl.gateway.local import LocalGateway

def sockets_bound_to(port):
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(fd)))
        except OSError:
            continue
        with sock, contextlib.suppress(OSError):
            n += isinstance(sock.getsockname(), tuple) and sock.getsockname()[1] == port
    return n

async def main(when, how):
    async with contextlib.AsyncExitStack() as stack:
        gw = LocalGateway.spawn()
        stack.push_async_callback(gw.stop)  # as repl/cli.py does
        seen = {"held": sockets_bound_to(gw.port)}
        if when == "early":
            await gw.detach()
            seen["held after detach"] = sockets_bound_to(gw.port)
        await gw.ready()
        r = httpx.post(f"{gw.url}api/kernels", json={"name": "python3"}, timeout=60,
                       headers={"Authorization": f"token {gw.token}"})
        r.raise_for_status()
        if when == "late":
            await gw.detach()
        print(json.dumps({**gw.record(), "kernel": r.json()["id"], "seen": seen}), flush=True)
        sys.stdin.readline()
        if how == "os._exit":
            os._exit(0)

asyncio.run(main(*sys.argv[1:]))
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _kernel_pid(gateway_pid: int) -> int:
    kernels = [p for p in descendants(gateway_pid) if "ipykernel" in _cmdline(p)]
    assert len(kernels) == 1, kernels
    return kernels[0]


def _api(record: dict, path: str = "") -> httpx.Response:
    return httpx.get(f"{record['url']}api{path}", headers={"Authorization": f"token {record['token']}"}, timeout=5)


@contextlib.contextmanager
def holder(when: str, how: str = "normal"):
    """The child python holding a gateway (and a kernel), and its record once the kernel is up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, when, how], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    record: dict = {}
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"the holder exited with {proc.wait()} before saying its record"
        record = json.loads(line)
        yield proc, record
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if record and _alive(record["pid"]):  # a failed test leaves no gateway
            for pid in [*descendants(record["pid"]), record["pid"]]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if record:
            with contextlib.suppress(OSError):  # (left by a gateway killed with its holder)
                os.unlink(record["log_path"])


def _assert_off_the_terminal(pid: int, log_path: str) -> None:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    assert int(stat[3]) == pid  # its own session (leader) ...
    assert int(stat[4]) == 0  # ... with no controlling terminal
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/fd/1") == os.readlink(f"/proc/{pid}/fd/2") == log_path


@pytest.mark.parametrize("when, how", [("early", "normal"), ("late", "os._exit")])
async def test_a_detached_gateway_outlives_its_process_and_is_stopped_by_the_one_that_adopts_it(when, how):
    with holder(when, how) as (proc, record):
        gw_pid, kernel_id = record["pid"], record["kernel"]
        kernel_pid = _kernel_pid(gw_pid)
        assert set(record) == {"url", "pid", "token", "log_path", "kernel", "seen"}
        if when == "early":  # the port held for the gateway is let go of by detach itself
            assert record["seen"] == {"held": 1, "held after detach": 0}
        _assert_off_the_terminal(gw_pid, record["log_path"])
        assert int(Path(f"/proc/{kernel_pid}/stat").read_text().rsplit(")", 1)[1].split()[4]) == 0
        proc.communicate("exit\n", timeout=30)
        assert proc.returncode == 0

        assert _api(record).status_code == 200
        assert kernel_id in {k["id"] for k in _api(record, "/kernels").json()}
        assert _alive(gw_pid) and _alive(kernel_pid)
        assert Path(record["log_path"]).exists()  # kept, also by the exit stack's stop()

        info = {k: record[k] for k in ("url", "pid", "token", "log_path")}
        port = int(record["url"].rsplit(":", 1)[1].rstrip("/"))
        assert LocalGateway.adopt(**{**info, "url": f"http://127.0.0.1:{port + 1}/"}) is None  # another port
        gw = LocalGateway.adopt(**info)
        assert gw is not None
        assert (gw.url, gw.port, gw.token, gw.record()) == (record["url"], port, record["token"], info)
        assert "version" in await gw.ready(10)
        assert f":{gw.port}" in gw.log_tail(50)
        assert record["token"] not in gw.log_tail(50)

        await gw.detach()  # this one detaches again: its exit path leaves the gateway be
        await gw.stop()
        assert _api(record).status_code == 200

        again = LocalGateway.adopt(**info)
        assert again is not None
        tree = descendants(gw_pid)
        assert kernel_pid in tree
        await again.stop()
        assert not _alive(gw_pid) and not _alive(kernel_pid)
        assert not [p for p in tree if _alive(p)]
        assert not Path(record["log_path"]).exists()
        assert LocalGateway.adopt(**info) is None


def test_without_detach_a_killed_process_takes_its_gateway_its_kernel_and_its_log_with_it():
    with holder("never") as (proc, record):
        gw_pid = record["pid"]
        tree = [gw_pid, *descendants(gw_pid)]
        assert _kernel_pid(gw_pid) in tree and all(_alive(p) for p in tree)
        assert Path(record["log_path"]).exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_until(lambda: not any(_alive(p) for p in tree), 30, 0.05, f"processes {tree} to exit")
        assert not Path(record["log_path"]).exists()  # (nobody is left to read it)


def test_adopt_refuses_a_dead_pid_and_a_process_that_is_not_a_gateway():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = {"url": "http://127.0.0.1:9/", "token": "t", "log_path": "/nonexistent"}
    assert LocalGateway.adopt(pid=dead.pid, **info) is None
    assert LocalGateway.adopt(pid=os.getpid(), **info) is None  # alive, ours, but pytest
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "repl.gateway.launch",
                           "--KernelGatewayApp.port=9"], stdin=subprocess.PIPE) as impostor:
        wait_until(lambda: _cmdline(impostor.pid), 10, 0.01, "its argv")  # (empty for a moment after a vfork)
        # alive, ours, its argv has the gateway's words, but for another port, or the URL is not ours
        assert LocalGateway.adopt(pid=impostor.pid, **{**info, "url": "http://127.0.0.1:10/"}) is None
        assert LocalGateway.adopt(pid=impostor.pid, **{**info, "url": "http://localhost:9/"}) is None
        assert LocalGateway.adopt(pid=impostor.pid, **info) is not None  # (so what refused above was that)
        impostor.communicate("")


async def test_a_detach_the_gateway_does_not_acknowledge_is_one_line_and_the_gateway_still_stops():
    gw = LocalGateway.spawn()
    try:
        os.kill(gw.pid, signal.SIGSTOP)  # it cannot answer
        with pytest.raises(LocalGatewayError, match=r"^the embedded gateway cannot outlive repl: "
                                                    r"it did not acknowledge within 2 s$"):
            await gw.detach()
        os.kill(gw.pid, signal.SIGCONT)
        tree = [gw.pid, *descendants(gw.pid)]
        await gw.stop()  # not detached: stop() stops it
        assert not any(_alive(p) for p in tree)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(gw.pid, signal.SIGCONT)
        await gw.stop(force=True)
