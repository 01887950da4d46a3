"""Settings from flags, environment and the config file; kernel env only for Enterprise Gateway;
cookies carried to the websocket; proxies skipped for loopback; the protocol flag."""

import asyncio
import subprocess
import sys

import httpx
import pytest
from websockets.asyncio.server import serve

from repl import errors
from repl.cli import build_parser
from repl.config import Settings, kernel_env_for
from repl.gateway import urls

from repl.gateway.rest import KernelModel, RestClient
from repl.protocol import wire
from tests.kernels import open_kernel


def settings(argv, env=None, file=None):
    return Settings.resolve(build_parser().parse_args(argv), env or {}, file or {})


FILE = {
    "default": "work",
    "servers": {
        "work": {"url": "https://gw.example/", "token": "file-token", "headers": {"X-A": "1"},
                 "env": {"KERNEL_NAMESPACE": "ml"}, "kernel": "bash"},
        "lab": {"url": "http://lab:8888/"},
    },
}


def test_flags_override_env_override_file():
    s1 = settings([], {}, FILE)
    assert (s1.url, s1.token, s1.kernel, s1.headers, s1.kernel_env) == (
        "https://gw.example/", "file-token", "bash", {"X-A": "1"}, {"KERNEL_NAMESPACE": "ml"})
    s2 = settings([], {"JUPYTER_GATEWAY_URL": "http://env/", "JUPYTER_GATEWAY_AUTH_TOKEN": "env-token"}, FILE)
    assert (s2.url, s2.token) == ("http://env/", "env-token")
    s3 = settings(["--url", "http://flag/", "--token", "flag-token", "--header", "X-A: 2", "--env", "KERNEL_X=y",
                   "--server", "lab"], {"JUPYTER_GATEWAY_URL": "http://env/"}, FILE)
    assert (s3.url, s3.token, s3.headers, s3.kernel_env) == ("http://flag/", "flag-token", {"X-A": "2"}, {"KERNEL_X": "y"})


def test_unknown_server_and_bad_values_are_usage_errors(tmp_path):
    with pytest.raises(errors.UsageError, match="no server 'nope'.*lab, work"):
        settings(["--server", "nope"], {}, FILE)
    with pytest.raises(errors.UsageError, match="--env wants KEY=VALUE"):
        settings(["--env", "novalue"])
    bad = tmp_path / "config.toml"
    bad.write_text("servers = [")
    from repl.config import load_file

    with pytest.raises(errors.UsageError, match="not valid TOML"):
        load_file(bad)


def test_named_server_from_the_config_file_end_to_end(gateway, tmp_path):
    token_file = tmp_path / "tok"
    token_file.write_text(gateway.token)
    config = tmp_path / "config.toml"
    config.write_text(f'[servers.local]\nurl = "{gateway.url}"\ntoken_file = "{token_file}"\nkernel = "python3"\n')
    env = {k: v for k, v in gateway.env().items() if not k.startswith("JUPYTER_GATEWAY")}
    env["REPL_CONFIG"] = str(config)
    r = subprocess.run([sys.executable, "-m", "repl", "--server", "local", "-c", "print('via config')"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "via config\n", r.stderr


def test_kernel_env_only_for_enterprise_gateway():
    assert kernel_env_for({"version": "2.21"}, {"KERNEL_X": "1"}, "alice") is None
    assert kernel_env_for({"version": "2.21", "gateway_version": "3.3.0"}, {"KERNEL_X": "1"}, "alice") == {
        "KERNEL_USERNAME": "alice", "KERNEL_X": "1"}
    assert kernel_env_for({"gateway_version": "3"}, {"KERNEL_USERNAME": "bob"}, "alice") == {"KERNEL_USERNAME": "bob"}


def test_env_is_not_sent_to_kernel_gateway(gateway):
    r = subprocess.run([sys.executable, "-m", "repl", "--env", "KERNEL_X=1", "-c", "import os; print(os.environ.get('HOME') is not None)"],
                       env=gateway.env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "True\n"  # KG did not rebuild the environment
    assert "--env ignored" in r.stderr


def test_loopback_skips_proxies(gateway):
    env = gateway.env()
    env["HTTP_PROXY"] = env["http_proxy"] = "http://127.0.0.1:9"  # nothing listens there
    env["ALL_PROXY"] = "http://127.0.0.1:9"
    r = subprocess.run([sys.executable, "-m", "repl", "-c", "print('direct')"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "direct\n", r.stderr
    assert urls.is_loopback("http://localhost:1/") and urls.is_loopback("http://[::1]:8/")
    assert not urls.is_loopback("http://10.1.2.3/") and not urls.is_loopback("https://gw.example/")


@pytest.mark.parametrize("protocol,expected", [("legacy", "none (legacy JSON)"), ("v1", wire.V1_SUBPROTOCOL)])
def test_protocol_flag(gateway, protocol, expected):
    r = subprocess.run([sys.executable, "-m", "repl", "--protocol", protocol, "--debug", "-c", "print('p')"],
                       env=gateway.env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "p\n"
    assert f"subprotocol {expected}" in r.stderr


async def test_cookies_set_by_the_server_reach_the_websocket():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"version": "2"}, headers={"Set-Cookie": "lb=node-7; Path=/"})

    rest = RestClient("http://127.0.0.1:1/", "t", transport=httpx.MockTransport(handler))
    await rest.api_info()
    seen = {}

    async def ws_handler(ws):
        seen.update(ws.request.headers)
        codec = wire.Codec(ws.subprotocol)
        async for frame in ws:
            msg = codec.decode(frame)
            reply = {"channel": "shell", "header": {"msg_id": "r", "msg_type": "kernel_info_reply"},
                     "parent_header": msg["header"], "metadata": {}, "content": {"status": "ok"}, "buffers": []}
            await ws.send(codec.encode(reply))

    async with serve(ws_handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        k, _ = await asyncio.wait_for(open_kernel(rest, KernelModel("k", "python3"), ws_base=f"ws://127.0.0.1:{port}/"), 10)
        await k.close()
    await rest.aclose()
    assert seen.get("cookie") == "lb=node-7" and seen.get("authorization") == "token t"


def test_help_is_grouped_with_examples():
    text = build_parser().format_help()
    groups = ["server and auth:", "kernel:", "network and TLS:", "display:", "debugging:", "examples:"]
    at = [text.find(g) for g in groups]
    assert -1 not in at and at == sorted(at), at
    assert text.count("\n  repl ") == 3  # three example lines


def run_repl(args, env, input=None):
    return subprocess.run([sys.executable, "-m", "repl", *args], env=env, input=input, capture_output=True,
                          timeout=120)


def one_line(r, *words):
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err
    return err


@pytest.mark.parametrize("key, literal", [("url", "1"), ("headers", '"str"'), ("env", '"x"'), ("kernel", '["a"]'),
                                          ("ca_cert", "5"), ("ws_url", "5"), ("token", "7"), ("token_file", "1.5")])
def test_config_values_of_the_wrong_type_are_one_line(tmp_path, key, literal):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'default = "s"\n[servers.s]\n{key} = {literal}\n')
    r = run_repl(["-c", "1"], {**_base_env(), "REPL_CONFIG": str(cfg)})
    one_line(r, str(cfg), key)


def test_config_not_utf8_and_missing(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(b'url = "caf\xe9"\n')
    one_line(run_repl(["-c", "1"], {**_base_env(), "REPL_CONFIG": str(cfg)}), "not UTF-8")
    missing = tmp_path / "nope.toml"
    r = run_repl(["--url", "ftp://x", "-c", "1"], {**_base_env(), "REPL_CONFIG": str(missing)})
    assert f"REPL_CONFIG points at {missing}, which does not exist" in r.stderr.decode()


def _base_env():
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_GATEWAY", "REPL_CONFIG"))}


def test_tokens_and_headers_that_are_not_ascii_are_one_line(gateway, tmp_path):
    env = {**_base_env(), "JUPYTER_GATEWAY_URL": gateway.url}
    err = one_line(run_repl(["--token", "tökén", "-c", "1"], env), "--token", "non-ASCII")
    assert "tökén" not in err
    one_line(run_repl(["-c", "1"], {**env, "JUPYTER_GATEWAY_AUTH_TOKEN": "tökén"}), "JUPYTER_GATEWAY_AUTH_TOKEN")
    one_line(run_repl(["--token", gateway.token, "--header", "X-A: café", "-c", "1"], env), "--header X-A")


def test_token_file_with_a_bom_and_a_token_in_the_url(gateway, tmp_path):
    env = {**_base_env(), "JUPYTER_GATEWAY_URL": gateway.url}
    bom = tmp_path / "token"
    bom.write_bytes(b"\xef\xbb\xbf" + gateway.token.encode() + b"\n")
    r = run_repl(["--token-file", str(bom), "-c", "print('bom ok')"], env)
    assert r.returncode == 0 and r.stdout == b"bom ok\n", r.stderr
    r = run_repl(["--url", f"{gateway.url}/?token={gateway.token}", "-c", "print('url ok')"], _base_env())
    assert r.returncode == 0 and r.stdout == b"url ok\n", r.stderr
    assert gateway.token.encode() not in r.stderr + r.stdout


def test_latin1_script_on_stdin_and_empty_attach(gateway):
    env = gateway.env()
    r = run_repl([], env, input=b"# caf\xe9\nprint('latin ok')\n")
    assert r.returncode == 0 and r.stdout == b"latin ok\n", r.stderr
    r = run_repl([], env, input=b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n")
    assert r.returncode == 0 and r.stdout == "café\n".encode(), r.stderr
    one_line(run_repl(["--attach", "", "-c", "1"], env), "--attach")


def test_output_the_terminal_cannot_encode_is_replaced(gateway):
    env = {**gateway.env(), "PYTHONIOENCODING": "ascii"}
    r = run_repl(["-c", "print('caf\\u00e9 ok')"], env)
    assert r.returncode == 0 and r.stdout == b"caf? ok\n", r.stderr


def test_errors_name_where_a_setting_came_from(gateway, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'default = "s"\n[servers.s]\nurl = "{gateway.url}"\ntoken = "{gateway.token}"\n'
                   'headers = { "X-Ingress-Auth" = "\u2026" }\n')
    base = {**_base_env(), "REPL_CONFIG": str(cfg)}
    err = one_line(run_repl(["-c", "1"], base), f"headers of {cfg}, server 's'", "X-Ingress-Auth", "ASCII")
    assert "--header" not in err
    cfg.write_text(f'[servers.s]\nurl = "{gateway.url}"\ntoken = "{gateway.token}"\nca_cert = "{tmp_path}/no-ca.pem"\n'
                   'env = { KERNEL_X = "1" }\n')
    err = one_line(run_repl(["--server", "s", "-c", "1"], base), f"ca_cert of {cfg}, server 's'", "no-ca.pem")
    assert "--ca-cert" not in err
    cfg.write_text(f'[servers.s]\nurl = "{gateway.url}"\ntoken = "{gateway.token}"\nenv = {{ KERNEL_X = "1" }}\n')
    r = run_repl(["--server", "s", "-c", "print('env ok')"], base)
    assert r.returncode == 0 and r.stdout == b"env ok\n", r.stderr
    assert f"env of {cfg}, server 's' ignored" in r.stderr.decode() and "--env" not in r.stderr.decode()
    one_line(run_repl(["-c", "1"], {**_base_env(), "JUPYTER_GATEWAY_URL": "ftp://x/"}), "JUPYTER_GATEWAY_URL", "http://")
    one_line(run_repl(["--url", "ftp://x/", "-c", "1"], _base_env()), "--url", "http://")
    one_line(run_repl(["--url", gateway.url, "--ws-url", "ftp://x/", "--token", gateway.token, "-c", "1"], _base_env()),
             "--ws-url")


@pytest.mark.parametrize("tail", ["/lab?token={t}", "/tree?token={t}", "/notebooks/x.ipynb?token={t}",
                                  "/lab/tree/dir/x.ipynb?token={t}", "/?token={t} :: /root", "/lab/workspaces/auto-a?token={t}#x"])
def test_a_url_copied_from_the_browser_or_server_list_works(gateway, tail):
    r = run_repl(["--url", gateway.url + tail.format(t=gateway.token), "-c", "print('browser ok')"], _base_env())
    assert r.returncode == 0 and r.stdout == b"browser ok\n", r.stderr
    assert gateway.token.encode() not in r.stderr + r.stdout


def test_a_jupyterhub_style_browser_url_keeps_its_user_base(jupyter_server):
    url = f"{jupyter_server.url}/lab/tree/x.ipynb"
    r = run_repl(["--url", url, "--token", jupyter_server.token, "-c", "print('hub path ok')"], _base_env())
    assert r.returncode == 0 and r.stdout == b"hub path ok\n", r.stderr


def test_server_base_of_urls_users_copy():
    assert urls.server_base("http://h:8888/lab?token=abc") == ("http://h:8888/", "abc")
    assert urls.server_base("https://hub/user/lab/lab/tree/x.ipynb") == ("https://hub/user/lab/", None)
    assert urls.server_base("https://hub/jh/user/alice/gpu/notebooks/a.ipynb") == ("https://hub/jh/user/alice/gpu/", None)
    assert urls.server_base("http://h:8888/tree/user/x.ipynb") == ("http://h:8888/", None)
    assert urls.server_base("http://localhost:8888/?token=t :: /srv") == ("http://localhost:8888/", "t")
    assert urls.server_base("http://gw:8888/base") == ("http://gw:8888/base", None)  # not a page: as given
    assert urls.server_base("gw:8888/tree") == ("gw:8888/", None)


def test_hub_settings_from_flags_and_the_config_file():
    file = {"servers": {"hub": {"url": "https://hub.example.org/", "named_server": "gpu",
                                "user_options": {"profile": "gpu", "cores": 4}}}}
    s = settings(["--server", "hub"], {}, file)
    assert (s.url, s.named_server, s.user_options) == ("https://hub.example.org/", "gpu", {"profile": "gpu", "cores": 4})
    s = settings(["--server", "hub", "--named-server", "cpu", "--option", "profile=cpu", "--option", "time=1:00:00"], {}, file)
    assert (s.named_server, s.user_options) == ("cpu", {"profile": "cpu", "cores": 4, "time": "1:00:00"})
    with pytest.raises(errors.UsageError, match="--option wants KEY=VALUE"):
        settings(["--option", "profile"])
    with pytest.raises(errors.UsageError, match="user_options must be a table"):
        settings(["--server", "hub"], {}, {"servers": {"hub": {"url": "h", "user_options": "gpu"}}})


def test_the_terminal_settings_from_flags_the_environment_and_the_file():
    assert (settings([]).title, settings([]).hyperlinks, settings([]).notify_after) == (True, "auto", 10.0)
    assert settings(["--title", "off"]).title is False
    assert settings([], env={"REPL_TITLE": "off"}).title is False
    assert settings(["--title", "on"], env={"REPL_TITLE": "off"}).title is True
    assert settings([], file={"servers": {"a": {"title": False}}, "default": "a"}).title is False
    assert settings([], env={"REPL_HYPERLINKS": "ON"}).hyperlinks == "on"
    assert settings(["--notify-after", "2.5"]).notify_after == 2.5
    assert settings([], file={"servers": {"a": {"notify_after": 0}}, "default": "a"}).notify_after == 0.0
    with pytest.raises(errors.UsageError, match="REPL_NOTIFY_AFTER wants seconds"):
        settings([], env={"REPL_NOTIFY_AFTER": "soon"})
    with pytest.raises(errors.UsageError, match="REPL_HYPERLINKS wants auto or on or off"):
        settings([], env={"REPL_HYPERLINKS": "maybe"})
    with pytest.raises(errors.UsageError, match="--notify-after wants seconds"):
        settings(["--notify-after", "-1"])
