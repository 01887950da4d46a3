"""A real JupyterHub for tests, on loopback: see the ``hub`` fixture in conftest.py.

The hub uses the dummy authenticator, user ``alice`` with an API token (``api_tokens``), named
servers, and the spawner of tests/hub_spawner.py: server ``slow`` (or user_options ``delay``) takes
seconds to come up and reports progress meanwhile, server ``broken`` (or user_options ``fail``) fails
with a message, and the user_options are in the server's environment as ``REPL_HUB_OPTIONS``.
configurable-http-proxy is the npm one the install command puts in .ci/node (not the PyPI port,
which buffers event streams and mangles websockets).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
CHP = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
INSTALL = "npm install --no-save --no-audit --no-fund --prefix .ci/node configurable-http-proxy"
USER = "alice"
BROKEN_MESSAGE = "no GPUs free on this test hub"  # what server `broken` fails with (tests/hub_spawner.py)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    return wait_until(predicate, timeout, interval, what)


def chp_command() -> str:
    if CHP.exists():
        return str(CHP)
    raise RuntimeError(f"configurable-http-proxy is not installed: run `{INSTALL}` (the README's test command does)")


CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{dir}/cookie_secret"
c.JupyterHub.pid_file = "{dir}/jupyterhub.pid"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = "{dir}/proxy.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{"{user}"}}
c.JupyterHub.spawner_class = "tests.hub_spawner.ReplTestSpawner"
c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.SimpleLocalProcessSpawner.home_dir_template = "{dir}/home/{{username}}"
c.JupyterHub.allow_named_servers = True
c.JupyterHub.api_tokens = {{{token!r}: "{user}"}}
# POST …/server answers at once (202 while pending) instead of waiting up to 10 s (the hub's default) for the spawn
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": {slow_spawn_timeout}}}
"""


@dataclass
class Hub:
    """A running JupyterHub: ``url`` is the public origin with a trailing slash; ``token`` is alice's (all her scopes)."""

    url: str
    token: str
    dir: Path
    log: str
    proc: subprocess.Popen | None
    user: str = USER

    # -- REST ---------------------------------------------------------------------------------
    def headers(self, token: str | None = None) -> dict:
        return {"Authorization": f"token {token or self.token}"}

    def api(self, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:
        """A request to ``{url}hub/api/{path}`` with alice's token (or ``token``)."""
        headers = {**self.headers(token), **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}hub/api/{path}", headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def make_token(self, scopes: list[str], note: str = "test") -> str:
        """A new token of alice's with these scopes, e.g. ``["access:servers!user=alice"]``."""
        r = self.api("POST", f"users/{self.user}/tokens", json={"scopes": scopes, "note": note})
        r.raise_for_status()
        return r.json()["token"]

    def server_path(self, name: str = "") -> str:
        return f"users/{self.user}/servers/{name}" if name else f"users/{self.user}/server"

    def server(self, name: str = "") -> dict | None:
        """The server model (stopped ones included), or None for a named server the hub does not know."""
        r = self.api("GET", f"users/{self.user}", params={"include_stopped_servers": "1"})
        r.raise_for_status()
        return r.json().get("servers", {}).get(name)

    def running(self, name: str = "") -> bool:
        model = self.server(name)
        return bool(model and model.get("ready"))

    def start_server(self, name: str = "", user_options: dict | None = None, wait: bool = True,
                     timeout: float = 120, reuse_options: bool = False) -> httpx.Response:
        """POST …/server or …/servers/NAME; with ``wait``, poll until ready (raise with the log if it fails).

        The hub reuses the last spawn's user_options when a POST has none: unless ``reuse_options``,
        this sends ``{"user_options": user_options or {}}``.
        """
        body = None if reuse_options and user_options is None else {"user_options": user_options or {}}
        r = self.api("POST", self.server_path(name), json=body)
        if wait and r.status_code in (201, 202):
            self.wait_ready(name, timeout)
        return r

    def wait_ready(self, name: str = "", timeout: float = 120) -> dict:
        def ready():
            model = self.server(name)
            if model is None or (not model.get("pending") and not model.get("ready")):
                raise RuntimeError(f"server {name!r} of {self.user} did not start: {self.log_tail()}")
            return model if model.get("ready") else None

        return wait_for(ready, timeout, f"server {name!r} to be ready", 0.1)

    def stop_server(self, name: str = "", wait: bool = True, timeout: float = 60) -> httpx.Response:
        """DELETE …/server(s/NAME), as a person stopping it on the hub's page; with ``wait``, poll until it is down."""
        r = self.api("DELETE", self.server_path(name))
        if wait and r.status_code in (202, 204):
            wait_for(lambda: not self._active(name), timeout, f"server {name!r} to stop", 0.1)
        return r

    def _active(self, name: str) -> bool:
        model = self.server(name)
        return bool(model and (model.get("ready") or model.get("pending")))

    def server_url(self, name: str = "") -> str:
        """The single-user server through the proxy, e.g. ``http://127.0.0.1:P/user/alice/NAME/``."""
        return f"{self.url}user/{self.user}/{name + '/' if name else ''}"

    def ws_url(self, name: str = "") -> str:
        return "ws" + self.server_url(name)[len("http"):]

    def progress(self, name: str = "", timeout: float = 120):
        """Yield (seconds since the call, event dict) for each ``data:`` line of the progress stream, to its end."""
        t0 = time.monotonic()
        with httpx.stream("GET", f"{self.url}hub/api/{self.server_path(name)}/progress", headers=self.headers(),
                          timeout=timeout) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    yield time.monotonic() - t0, json.loads(line[len("data:"):])

    def execute(self, code: str, name: str = "", timeout: float = 60) -> str:
        """Run ``code`` in a new kernel of server ``name`` and return its stdout (the kernel is deleted after)."""
        from websockets.sync.client import connect

        kernels = f"{self.server_url(name)}api/kernels"
        r = httpx.post(kernels, headers=self.headers(), json={}, timeout=timeout)
        r.raise_for_status()
        kernel_id = r.json()["id"]
        out = []
        try:
            with connect(f"{self.ws_url(name)}api/kernels/{kernel_id}/channels", additional_headers=self.headers(),
                         open_timeout=timeout) as ws:
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": uuid.uuid4().hex,
                               "version": "5.3", "date": ""},
                    "parent_header": {}, "metadata": {}, "channel": "shell",
                    "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True}}))
                deadline = time.monotonic() + timeout
                while True:
                    msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                        out.append(msg["content"]["text"])
                    elif msg["msg_type"] == "error":
                        raise RuntimeError("\n".join(msg["content"]["traceback"]))
                    elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                        return "".join(out)
        finally:
            with contextlib.suppress(httpx.HTTPError):
                httpx.delete(f"{kernels}/{kernel_id}", headers=self.headers(), timeout=timeout)

    def log_tail(self, n: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return Path(self.log).read_text(errors="replace")[-n:]
        return ""

    # -- teardown -----------------------------------------------------------------------------
    def stop_all_servers(self) -> None:
        r = self.api("GET", f"users/{self.user}")
        for name, server in r.json().get("servers", {}).items():
            if server.get("ready") or server.get("pending"):
                self.stop_server(name, wait=True, timeout=30)

    def close(self) -> None:
        """Stop the servers, the hub and its proxy; kill whatever of them is left."""
        with contextlib.suppress(Exception):
            self.stop_all_servers()
        chp_pid = _read_pid(self.dir / "proxy.pid")
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops its servers (cleanup_servers) and CHP (cleanup_proxy)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait(10)
        if self.proc is not None:
            _kill_group(self.proc.pid)
        if chp_pid:
            _kill_if(chp_pid, "configurable-http-proxy")
        for record in (self.dir / "pids").glob("*"):  # single-user servers the spawner started
            _kill_if(int(record.name), "jupyterhub")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _kill_if(pid: int, needle: str) -> None:
    """SIGKILL pid (and its process group, which it leads) if it is still the process we started."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return
    if needle in cmdline:
        _kill_group(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_hub(directory: Path, slow_spawn_timeout: float = 0) -> Hub:
    """Start a hub in ``directory`` (db, cookie secret, config, log) on free loopback ports; wait until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pids").mkdir(exist_ok=True)
    port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
    token = "hub-" + secrets.token_hex(16)
    config = directory / "jupyterhub_config.py"
    config.write_text(CONFIG.format(port=port, hub_port=hub_port, proxy_api_port=proxy_api_port, dir=directory,
                                    chp=chp_command(), user=USER, token=token, slow_spawn_timeout=slow_spawn_timeout))
    log = str(directory / "jupyterhub.log")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))  # tests.hub_spawner
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(16)
    env["REPL_TEST_HUB_PIDS"] = str(directory / "pids")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if not shutil.which("node", path=env["PATH"]):
        raise RuntimeError("node is not on PATH: configurable-http-proxy needs it")
    with open(log, "wb") as f:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], stdout=f,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=directory)
    hub = Hub(url=f"http://127.0.0.1:{port}/", token=token, dir=directory, log=log, proc=proc)

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited: {hub.log_tail()}")
        try:
            r = httpx.get(f"{hub.url}hub/api/", timeout=2)
            return r.status_code == 200 and "version" in r.json()
        except (httpx.HTTPError, ValueError):
            return False

    try:
        wait_for(ready, 90, "jupyterhub to answer", 0.05)
        default = hub.server("")
        assert default is not None and default["stopped"], f"the default server is not stopped at start: {default}"
    except BaseException:
        hub.close()
        raise
    return hub
