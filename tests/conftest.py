"""Fixtures: a real Jupyter Kernel Gateway on loopback, and a pty driver that reads the screen."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.proxy import CutProxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gateway:
    url: str
    token: str
    proc: subprocess.Popen
    log: str
    args: tuple = ()  # what repl needs for this server (EG refuses KERNEL_USERNAME=root)

    def env(self) -> dict:
        env = dict(os.environ)
        env["JUPYTER_GATEWAY_URL"] = self.url
        env["JUPYTER_GATEWAY_AUTH_TOKEN"] = self.token
        return env


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def bash_kernelspec_dir(tmp_path_factory) -> str:
    """A JUPYTER_PATH entry holding bash_kernel's kernelspec (installed here, not system-wide)."""
    prefix = tmp_path_factory.getbasetemp() / "bash-prefix"
    share = prefix / "share" / "jupyter"
    if not (share / "kernels" / "bash").exists():
        subprocess.run([sys.executable, "-m", "bash_kernel.install", "--prefix", str(prefix)], check=True,
                       capture_output=True)
    slow = share / "kernels" / "slow"
    if not slow.exists():  # a kernel that takes 30 s to come up, like one scheduled on a busy cluster
        slow.mkdir(parents=True)
        argv = ["sh", "-c", f"sleep 30; exec {sys.executable} -m ipykernel_launcher -f \"$0\"", "{connection_file}"]
        (slow / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Slow", "language": "python"}))
    failing = share / "kernels" / "failing"
    if not failing.exists():  # a kernel whose command fails at once, as a broken kernelspec does
        failing.mkdir(parents=True)
        (failing / "kernel.json").write_text(json.dumps({"argv": ["false"], "display_name": "Failing",
                                                         "language": "python"}))
    gated = share / "kernels" / "gated"
    if not gated.exists():  # a kernel that comes up when a test says so: see the gate fixture
        gated.mkdir(parents=True)
        opened = share / "gate.open"
        argv = ["sh", "-c", f"while [ ! -e '{opened}' ]; do sleep 0.05; done; exec {sys.executable} -m ipykernel_launcher "
                "-f \"$0\"", "{connection_file}"]
        (gated / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Gated", "language": "python"}))
    return str(share)


@pytest.fixture
def gate(tmp_path_factory):
    """Open it (``gate.touch()``) and kernels of the ``gated`` spec start; closed again after the test."""
    path = Path(bash_kernelspec_dir(tmp_path_factory)) / "gate.open"
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def start_gateway(tmp_path_factory, *extra: str, list_kernels: bool = True, port: int | None = None,
                  token: str | None = None, scheme: str = "http", verify=True, rate_limits: bool = False) -> Gateway:
    port = port or free_port()
    token = token or "tok-" + secrets.token_hex(12)
    log = str(tmp_path_factory.mktemp("kg") / "gateway.log")
    argv = [
        sys.executable, "-m", "kernel_gateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        "--KernelGatewayApp.port_retries=0",
        f"--KernelGatewayApp.auth_token={token}",
        *([] if rate_limits else ["--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0",
                                  "--ZMQChannelsWebsocketConnection.iopub_msg_rate_limit=0"]),
        *extra,
    ]
    if list_kernels:
        argv.append("--JupyterWebsocketPersonality.list_kernels=True")
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [bash_kernelspec_dir(tmp_path_factory), env.get("JUPYTER_PATH")]))
    with open(log, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"{scheme}://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited: {Path(log).read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/api", headers={"Authorization": f"token {token}"}, timeout=1,
                             verify=verify).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, 60, 0.1, "the kernel gateway to answer")
    return Gateway(url, token, proc, log)


def stop_gateway(gw: Gateway) -> None:
    try:
        os.killpg(gw.proc.pid, signal.SIGTERM)
        gw.proc.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with_kill = os.killpg
        with contextlib.suppress(ProcessLookupError):
            with_kill(gw.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def gateway(tmp_path_factory):
    gw = start_gateway(tmp_path_factory)
    yield gw
    stop_gateway(gw)


@pytest.fixture(scope="session")
def unlisted_gateway(tmp_path_factory):
    """A Kernel Gateway with its default: kernel listing off."""
    gw = start_gateway(tmp_path_factory, list_kernels=False)
    yield gw
    stop_gateway(gw)


@pytest.fixture
def proxy(gateway):
    p = CutProxy(int(gateway.url.rsplit(":", 1)[1]))
    yield p
    p.close()


@pytest.fixture
def term(gateway, tmp_path):
    """Start the real `repl` in a pty against the session gateway (or ``gw``); closed after the test."""
    from tests.term import Term

    terms = []

    def make(*args, gw=None, rows=36, token_flag=False, url=None, extra_env=None):
        gw = gw or gateway
        env = gw.env()
        env["REPL_DATA_DIR"] = str(tmp_path / "data")
        env.update(extra_env or {})
        argv = ["--url", url or gw.url]
        if token_flag:
            env.pop("JUPYTER_GATEWAY_AUTH_TOKEN")
            argv += ["--token", gw.token]
        t = Term([*argv, *gw.args, *args], env=env, rows=rows)
        terms.append(t)
        return t

    yield make
    for t in terms:
        t.close()


def _wait_api(url, token, proc, log, what):
    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {Path(log).read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/api", headers={"Authorization": f"token {token}"}, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, 120, 0.1, what)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    """Jupyter Server 2 behind a JupyterHub-style base_url."""
    port, token = free_port(), "js-" + secrets.token_hex(8)
    root = tmp_path_factory.mktemp("js-root")
    log = str(root / "server.log")
    argv = [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
            "--allow-root", "--ServerApp.base_url=/user/alice/", f"--ServerApp.root_dir={root}"]
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [bash_kernelspec_dir(tmp_path_factory), env.get("JUPYTER_PATH")]))
    with open(log, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}/user/alice"
    _wait_api(url, token, proc, log, "jupyter server")
    gw = Gateway(url, token, proc, log)
    yield gw
    stop_gateway(gw)


EG_VENV = Path(__file__).resolve().parent.parent / ".eg-venv"
# ipykernel too: jupyter_client runs a kernelspec's `python` as the gateway's own interpreter (and
# its kernels import ipywidgets in the widget tests)
EG_PACKAGES = ["jupyter_enterprise_gateway>=3,<4", "ipykernel", "ipywidgets"]


def enterprise_gateway_venv() -> Path:
    """Enterprise Gateway 3 pins jupyter-server<2: it lives in a venv of its own, made once (and
    brought up to date when the packages below change)."""
    bin_dir = EG_VENV / "bin"
    ready = EG_VENV / ".installed"
    if not ready.exists() or ready.read_text() != " ".join(EG_PACKAGES):
        if not (bin_dir / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(EG_VENV)], check=True)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *EG_PACKAGES], check=True)
        ready.write_text(" ".join(EG_PACKAGES))
    return bin_dir


@pytest.fixture(scope="session")
def enterprise_gateway(tmp_path_factory):
    bin_dir = enterprise_gateway_venv()
    port, token = free_port(), "eg-" + secrets.token_hex(8)
    log = str(tmp_path_factory.mktemp("eg") / "eg.log")
    argv = [str(bin_dir / "jupyter-enterprisegateway"), "--EnterpriseGatewayApp.ip=127.0.0.1",
            f"--EnterpriseGatewayApp.port={port}", "--EnterpriseGatewayApp.port_retries=0",
            f"--EnterpriseGatewayApp.auth_token={token}", "--EnterpriseGatewayApp.list_kernels=True"]
    env = dict(os.environ)
    # the kernelspecs of the test environment (python3 runs its `python`, which has ipykernel)
    shares = [bash_kernelspec_dir(tmp_path_factory), str(Path(sys.prefix) / "share" / "jupyter"), env.get("JUPYTER_PATH")]
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, shares))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    with open(log, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    _wait_api(url, token, proc, log, "enterprise gateway")
    gw = Gateway(url, token, proc, log, args=("--env", "KERNEL_USERNAME=repl-test"))
    yield gw
    stop_gateway(gw)


@pytest.fixture(params=["kernel-gateway", "jupyter-server", "enterprise-gateway"])
def server(request):
    """The same scenario against each server kind."""
    name = {"kernel-gateway": "gateway", "jupyter-server": "jupyter_server",
            "enterprise-gateway": "enterprise_gateway"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """A real JupyterHub (tests/hub.py): ``hub.url`` (public origin, trailing slash), ``hub.token`` (alice's),
    ``hub.make_token(scopes)``, ``hub.start_server(name, user_options)``, ``hub.stop_server(name)``,
    ``hub.server(name)`` (the model), ``hub.server_url(name)``, ``hub.progress(name)``, ``hub.log``.
    Alice's default server is stopped when the session starts; servers ``slow`` and ``broken`` are slow / fail."""
    from tests.hub import start_hub

    h = start_hub(tmp_path_factory.mktemp("hub"))
    yield h
    h.close()


@pytest.fixture
def stopped_hub(hub):
    """The session hub with all of alice's servers stopped, before the test and after it."""
    hub.stop_all_servers()
    yield hub
    hub.stop_all_servers()
