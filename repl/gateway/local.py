"""The embedded local gateway: a Jupyter Kernel Gateway child on 127.0.0.1 with a random token.

It runs in its own session with stdin from /dev/null and its output in a log file (nothing of it
is tied to our terminal: terminal Ctrl-C does not reach it), dies with us (PR_SET_PDEATHSIG on
Linux), and :meth:`LocalGateway.stop` leaves no process behind: it asks the gateway to stop
(which shuts its kernels down), then kills whatever descendant is still alive.

:meth:`LocalGateway.detach` makes it outlive us (for ``/detach``); another process finds it again
with :meth:`LocalGateway.adopt` from its :meth:`LocalGateway.record`, and can stop it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from repl.errors import LocalGatewayError
from repl.gateway import tls
from repl.gateway.launch import DETACH_FD, DETACH_SIGNAL, LOG, set_parent_death_signal
from repl.gateway.prestart import PRESTART
from repl.procs import alive, cmdline, descendants
from repl.scrub import scrub

INSTALL_HINT = "pip install 'repl[local]'"


def _reserve_port() -> socket.socket:
    """A free loopback port, held until the gateway listens on it: bound with SO_REUSEADDR and
    not listening, so the gateway (tornado binds with SO_REUSEADDR) can bind it too, while no
    other program is handed it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _child_setup() -> None:  # runs in the child between fork and exec
    signal.pthread_sigmask(signal.SIG_BLOCK, {DETACH_SIGNAL})  # until launch.py handles it
    set_parent_death_signal(signal.SIGTERM)  # we die: it does too (unless detached)


async def _until(done: Callable[[], bool], timeout: float) -> bool:
    """Wait until ``done()`` (checked every 50 ms), for at most ``timeout`` seconds: whether it is."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


class LocalGateway:
    """Made by :meth:`spawn` (the process starts at once; ours, dying with us until :meth:`detach`)
    or by :meth:`adopt` (one detached by another process); ready after :meth:`ready`."""

    def __init__(self, pid: int, port: int, token: str, log_path: str, proc: subprocess.Popen | None = None,
                 reserved: socket.socket | None = None, detach_fd: int | None = None) -> None:
        self.pid = pid
        self.port = port
        self.token = token
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}/"
        self._proc = proc  # None: not our child (adopted)
        self._reserved = reserved
        self._detach_fd = detach_fd  # the pipe launch.py acknowledges a detach on (our child only)
        self._detached = False

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
    def spawn(cls, extra_args: list[str] | None = None, kernel: str | None = None) -> "LocalGateway":
        """Start the gateway process now (it takes a while to answer: see :meth:`ready`); with
        ``kernel`` (a spec name, "" for the default), that kernel starts with it, to be asked for."""
        if not cls.available():
            raise LocalGatewayError(
                f"no gateway URL given and the embedded gateway is not installed: run {INSTALL_HINT}, "
                "or pass --url (or set JUPYTER_GATEWAY_URL)"
            )
        reserved = _reserve_port()
        port = reserved.getsockname()[1]
        token = secrets.token_urlsafe(24)
        fd, log_path = tempfile.mkstemp(prefix="repl-gateway-", suffix=".log")
        answers, answer_fd = os.pipe()
        import ctypes  # noqa: F401  (the child calls set_parent_death_signal between fork and exec: no imports there)

        env = dict(os.environ)
        env["KG_AUTH_TOKEN"] = token  # in the environment, not argv: argv is visible in ps
        env[DETACH_FD] = str(answer_fd)
        env[LOG] = log_path
        env.pop("JUPYTER_GATEWAY_AUTH_TOKEN", None)
        if kernel is not None:
            env[PRESTART] = kernel
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
                pass_fds=(answer_fd,),
                env=env,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        except BaseException:
            reserved.close()
            os.close(answers)
            raise
        finally:
            os.close(fd)
            os.close(answer_fd)
        return cls(proc.pid, port, token, log_path, proc=proc, reserved=reserved, detach_fd=answers)

    @classmethod
    def adopt(cls, url: str, pid: int, token: str, log_path: str) -> "LocalGateway | None":
        """The gateway of a :meth:`record` made by another process, which detached it; None if
        ``pid`` is gone or is not that gateway (this user's ``repl.gateway.launch`` on that port)."""
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/", url)
        if match is None:
            return None
        args = cmdline(pid)
        try:
            owner = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            return None
        if args is None:
            return None
        ours = b"repl.gateway.launch" in args and f"--KernelGatewayApp.port={match[1]}".encode() in args
        if not ours or owner != os.getuid() or not alive(pid):
            return None
        return cls(pid, int(match[1]), token, log_path)

    def record(self) -> dict:
        """What :meth:`adopt` needs to find this gateway again (the token is in it: keep it private)."""
        return {"url": self.url, "pid": self.pid, "token": self.token, "log_path": self.log_path}

    def log_tail(self, lines: int = 5) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return scrub("\n".join(text.strip().splitlines()[-lines:]), self.token)

    def _running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None  # (which reaps it: its pid is not reused under us)
        return alive(self.pid)

    def _gone(self) -> str:
        """Why it is not running, for an error line."""
        status = f"exit status {self._proc.returncode}" if self._proc is not None else "the process is gone"
        return self.log_tail(1) or status

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self._proc is not None:
                self._proc.send_signal(signum)
            else:
                os.kill(self.pid, signum)

    async def ready(self, timeout: float = 60.0) -> dict:
        """Wait until the gateway answers; its /api answer. Raises LocalGatewayError if it exits
        or does not answer in ``timeout`` seconds (it is left running: :meth:`stop` it)."""
        import httpx

        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"token {self.token}"}
        async with httpx.AsyncClient(headers=headers, timeout=2.0, trust_env=False,
                                     verify=tls.for_client_of(self.url, True)) as http:
            while True:
                if not self._running():
                    raise LocalGatewayError(f"the embedded gateway failed to start: {self._gone()}")
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

    async def detach(self, timeout: float = 2.0) -> None:
        """From now on the gateway (and its kernels) outlives this process, its log file too, and
        :meth:`stop` does nothing unless ``force=True``. Raises LocalGatewayError if the gateway
        is not running or does not acknowledge within ``timeout`` seconds (it still dies with us)."""
        if self._detached:
            return
        self._release()
        if not self._running():
            raise LocalGatewayError(f"the embedded gateway is not running: {self._gone()}")
        if self._detach_fd is not None:  # our child: only it can clear its PR_SET_PDEATHSIG
            answer = await self._ask_detach(self._detach_fd, timeout)
            if answer != "ok":
                raise LocalGatewayError(f"the embedded gateway cannot outlive repl: {answer}")
            os.close(self._detach_fd)
            self._detach_fd = None
        self._detached = True

    async def _ask_detach(self, fd: int, timeout: float) -> str:
        """Send DETACH_SIGNAL and read launch.py's answer: ``ok``, or why not."""
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[bytes] = loop.create_future()

        def on_readable() -> None:
            if not answered.done():
                try:
                    answered.set_result(os.read(fd, 512))
                except OSError as exc:
                    answered.set_exception(exc)

        loop.add_reader(fd, on_readable)
        try:
            self._signal(DETACH_SIGNAL)
            answer = await asyncio.wait_for(answered, timeout)
        except asyncio.TimeoutError:
            return f"it did not acknowledge within {timeout:g} s"
        except OSError as exc:
            return f"its answer cannot be read: {exc.strerror}"
        finally:
            loop.remove_reader(fd)
        if not answer:  # end of file: it closed the pipe by exiting
            return f"it exited: {self._gone()}"
        return answer.decode(errors="replace").partition("\n")[0]

    async def stop(self, grace: float = 8.0, *, force: bool = False) -> None:
        """Stop the gateway and every process it started, and remove its log; idempotent.
        After :meth:`detach`, only with ``force=True``."""
        if self._detached and not force:
            return
        self._release()
        tree = descendants(self.pid)
        if self._running():
            self._signal(signal.SIGTERM)
            if not await _until(lambda: not self._running(), grace):
                self._signal(signal.SIGKILL)
                await _until(lambda: not self._running(), 5.0)
        tree += [pid for pid in descendants(self.pid) if pid not in tree]
        if not await _until(lambda: not any(alive(p) for p in tree), 2.0):
            for pid in tree:
                if alive(pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
        if self._detach_fd is not None:
            os.close(self._detach_fd)
            self._detach_fd = None
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)
