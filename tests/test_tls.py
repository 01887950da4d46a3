"""https/wss against a real Kernel Gateway with a self-signed certificate: verified by default."""

import shutil
import ssl
import subprocess
import sys

import pytest

from tests.conftest import start_gateway, stop_gateway


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    gw = start_gateway(tmp_path_factory, f"--KernelGatewayApp.certfile={cert}", f"--KernelGatewayApp.keyfile={key}",
                       scheme="https", verify=ssl.create_default_context(cafile=str(cert)))
    yield gw, cert
    stop_gateway(gw)


def run(args, env):
    return subprocess.run([sys.executable, "-m", "repl", *args], env=env, capture_output=True, text=True, timeout=120)


def test_untrusted_certificate_is_one_line(tls_gateway):
    gw, cert = tls_gateway
    r = run(["-c", "print(1)"], gw.env())
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "not trusted" in r.stderr and "--ca-cert" in r.stderr and gw.token not in r.stderr


def test_ca_cert_verifies_https_and_wss(tls_gateway):
    gw, cert = tls_gateway
    r = run(["--ca-cert", str(cert), "-c", "print('over tls')"], gw.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "over tls\n"


def test_insecure_works_and_warns(tls_gateway):
    gw, cert = tls_gateway
    r = run(["--insecure", "-c", "print('unchecked')"], gw.env())
    assert r.returncode == 0 and r.stdout == "unchecked\n"
    assert "warning: --insecure" in r.stderr


def test_token_file(tls_gateway, tmp_path):
    gw, cert = tls_gateway
    env = gw.env()
    env.pop("JUPYTER_GATEWAY_AUTH_TOKEN")
    f = tmp_path / "token"
    f.write_text(gw.token + "\n")
    r = run(["--ca-cert", str(cert), "--token-file", str(f), "-c", "print('by file')"], env)
    assert r.returncode == 0 and r.stdout == "by file\n", r.stderr


def test_a_client_of_a_plain_http_server_loads_no_ca_bundle_and_could_never_pass_tls_unchecked(monkeypatch):
    """httpx loads its CA bundle for each client (~30 ms of CPU at every start); a client of an
    http:// server is given a context without CAs: TLS through it would fail, never go unchecked."""
    from repl.gateway import tls

    for var in [k for k in __import__("os").environ if k.lower().endswith("_proxy")]:
        monkeypatch.delenv(var)
    ctx = tls.for_client_of("http://127.0.0.1:8888/", True)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname and ctx.cert_store_stats()["x509_ca"] == 0
    assert tls.for_client_of("https://hub.example.org/", True) is True  # (httpx's own default, verified)
    given = ssl.create_default_context()
    assert tls.for_client_of("http://127.0.0.1:8888/", given) is given  # --ca-cert, --insecure: as given
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example.org:3128")
    assert tls.for_client_of("http://gw.example.org/", True) is True  # TLS to the proxy: verified
