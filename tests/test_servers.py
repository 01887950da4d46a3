"""Other servers and the networks in between: Jupyter Server with a JupyterHub-style base_url,
extra headers for ingresses and proxies, a separate websocket URL."""

import secrets
import subprocess
import sys

import httpx
import pytest

from tests.conftest import Gateway, free_port, wait_until
from tests.proxy import CutProxy


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    port, token = free_port(), "js-" + secrets.token_hex(8)
    root = tmp_path_factory.mktemp("js-root")
    log = root / "server.log"
    argv = [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
            "--allow-root", "--ServerApp.base_url=/user/alice/", f"--ServerApp.root_dir={root}"]
    with open(log, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/user/alice"

    def ready():
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            return httpx.get(f"{url}/api", headers={"Authorization": f"token {token}"}, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, 60, 0.1, "jupyter server")
    yield Gateway(url, token, proc, str(log))
    proc.terminate()
    proc.wait(20)


def run(args, env):
    return subprocess.run([sys.executable, "-m", "repl", *args], env=env, capture_output=True, text=True, timeout=120)


def test_jupyter_server_with_base_url(jupyter_server):
    r = run(["-c", "import os; print('on', os.getpid() > 0)"], jupyter_server.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "on True\n"


def test_jupyter_server_bad_token_is_one_line(jupyter_server):
    env = jupyter_server.env()
    env["JUPYTER_GATEWAY_AUTH_TOKEN"] = "nope"
    r = run(["-c", "1"], env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "rejected the token (HTTP 403)" in r.stderr


def test_jupyter_server_in_a_pty(term, jupyter_server):
    t = term(gw=jupyter_server)
    t.wait_prompt(1)
    t.enter("print('streamed'); 6*7")
    t.wait_for("Out[1]: 42")
    t.enter("import time; time.sleep(60)")
    t.wait_for(lambda t: "time.sleep(60)" in t.text() and "│" not in t.text())
    t.ctrl("c")
    t.wait_for("KeyboardInterrupt")
    t.wait_prompt(3)


def test_headers_reach_the_server_on_http_and_websocket(gateway):
    proxy = CutProxy(int(gateway.url.rsplit(":", 1)[1]))
    try:
        env = gateway.env()
        r = run(["--url", proxy.url, "--header", "X-Ingress-Auth: abc123", "--header", "X-Team: ml",
                 "-c", "print('through')"], env)
        assert r.returncode == 0 and r.stdout == "through\n", r.stderr
        heads = [h.lower() for h in proxy.requests]
        assert heads and all(b"x-ingress-auth: abc123" in h and b"x-team: ml" in h for h in heads)
        assert any(b"upgrade: websocket" in h for h in heads)
    finally:
        proxy.close()


def test_separate_websocket_url(gateway):
    proxy = CutProxy(int(gateway.url.rsplit(":", 1)[1]))
    try:
        env = gateway.env()
        env["JUPYTER_GATEWAY_WS_URL"] = proxy.url.replace("http", "ws")
        r = run(["-c", "print('ws elsewhere')"], env)
        assert r.returncode == 0 and r.stdout == "ws elsewhere\n", r.stderr
        heads = [h.lower() for h in proxy.requests]
        assert heads and all(b"upgrade: websocket" in h for h in heads)  # only the websocket went there
    finally:
        proxy.close()


def test_bad_header_is_one_line():
    r = run(["--url", "http://127.0.0.1:9", "--header", "no colon here", "-c", "1"], {})
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--header" in r.stderr
