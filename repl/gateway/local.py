"""The embedded local gateway: a Jupyter Kernel Gateway child on 127.0.0.1 with a random token.

It runs in its own session (terminal Ctrl-C does not reach it), dies with us (PR_SET_PDEATHSIG
on Linux), and :meth:`LocalGateway.stop` leaves no process behind: it asks the gateway to stop
(which shuts its kernels down), then kills whatever descendant is still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

from repl.scrub import scrub
from repl.errors import LocalGatewayError

INSTALL_HINT = "pip install 'repl[local]'"


def _reserve_port() -> socket.socket:
    """A free loopback port, held until the gateway listens on it: bound with SO_REUSEADDR and
    not listening, so the gateway (tornado binds with SO_REUSEADDR) can bind it too, while no
    other program is handed it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b")")[-1].split()[0] != b"Z"
    except OSError:
        return False


class LocalGateway:
    """Made by :meth:`spawn` (the process starts at once), ready after :meth:`ready`."""

    def __init__(self, proc: subprocess.Popen, reserved: socket.socket, token: str, log_path: str) -> None:
        self.proc = proc
        self._reserved: socket.socket | None = reserved
        self.port = reserved.getsockname()[1]
        self.token = token
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{self.port}/"

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("kernel_gateway") is not None

    @classmethod
    async def start(cls, timeout: float = 60.0, extra_args: list[str] | None = None) -> "LocalGateway":
        """Spawn the gateway and wait until it answers."""
        gw = cls.spawn(extra_args)
        try:
            await gw.ready(timeout)
        except BaseException:
            await gw.stop()
            raise
        return gw

    @classmethod
    def spawn(cls, extra_args: list[str] | None = None) -> "LocalGateway":
        """Start the gateway process now (it takes a while to answer: see :meth:`ready`)."""
        if not cls.available():
            raise LocalGatewayError(
                f"no gateway URL given and the embedded gateway is not installed: run {INSTALL_HINT}, "
                "or pass --url (or set JUPYTER_GATEWAY_URL)"
            )
        reserved = _reserve_port()
        port = reserved.getsockname()[1]
        token = secrets.token_urlsafe(24)
        fd, log_path = tempfile.mkstemp(prefix="repl-gateway-", suffix=".log")
        env = dict(os.environ)
        env["KG_AUTH_TOKEN"] = token  # in the environment, not argv: argv is visible in ps
        env.pop("JUPYTER_GATEWAY_AUTH_TOKEN", None)
        argv = [
            sys.executable,
            "-m",
            "repl.gateway.launch",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={port}",
            "--KernelGatewayApp.port_retries=0",
            "--JupyterWebsocketPersonality.list_kernels=True",
            "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0",
            "--ZMQChannelsWebsocketConnection.iopub_msg_rate_limit=0",
            *(extra_args or []),
        ]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except BaseException:
            reserved.close()
            raise
        finally:
            os.close(fd)
        return cls(proc, reserved, token, log_path)

    def log_tail(self, lines: int = 5) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return scrub("\n".join(text.strip().splitlines()[-lines:]), self.token)

    async def ready(self, timeout: float = 60.0) -> dict:
        """Wait until the gateway answers; its /api answer. Raises LocalGatewayError if it exits
        or does not answer in ``timeout`` seconds (it is left running: :meth:`stop` it)."""
        import httpx

        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"token {self.token}"}
        async with httpx.AsyncClient(headers=headers, timeout=2.0, trust_env=False) as http:
            while True:
                if self.proc.poll() is not None:
                    tail = self.log_tail(1) or f"exit status {self.proc.returncode}"
                    raise LocalGatewayError(f"the embedded gateway failed to start: {tail}")
                try:
                    r = await http.get(f"{self.url}api")
                    if r.status_code == 200:
                        self._release()
                        return r.json()
                except (httpx.HTTPError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise LocalGatewayError(f"the embedded gateway did not answer within {timeout:.0f} s")
                await asyncio.sleep(0.02)

    def _release(self) -> None:
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    async def stop(self, grace: float = 8.0) -> None:
        """Stop the gateway and every process it started; idempotent."""
        self._release()
        tree = descendants(self.proc.pid)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait()
        tree += [pid for pid in descendants(self.proc.pid) if pid not in tree]
        deadline = time.monotonic() + 2.0
        while any(_alive(p) for p in tree) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for pid in tree:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)
