"""Other servers and the networks in between: Jupyter Server with a JupyterHub-style base_url,
extra headers for ingresses and proxies, a separate websocket URL."""

import subprocess
import sys


from tests.proxy import CutProxy


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


def test_a_kernel_launch_can_be_cancelled(term, gateway):
    import httpx

    h = {"Authorization": f"token {gateway.token}"}
    t = term()
    t.wait_prompt(1)
    before = {k["id"] for k in httpx.get(f"{gateway.url}/api/kernels", headers=h).json()}
    t.enter("/new slow")
    t.wait_for("starting a slow kernel")
    t.ctrl("c")  # the kernel takes 30 s to answer: cancel meanwhile
    t.wait_for("/new cancelled")
    t.enter("'still here'")
    t.wait_for("Out[1]: 'still here'")
    from tests.conftest import wait_until

    def no_new_kernel():
        return {k["id"] for k in httpx.get(f"{gateway.url}/api/kernels", headers=h).json()} <= before

    wait_until(no_new_kernel, 60, 0.2, "the half-started kernel to be shut down")


def test_launch_timeout_is_configurable(gateway):
    r = run(["--launch-timeout", "0.001", "-c", "1"], gateway.env())
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "in time" in r.stderr and "Traceback" not in r.stderr
