"""The start-up's GETs without httpx (repl.gateway.quick), against a raw HTTP server on loopback:
what they read, what they hand back to httpx, and that httpx is not loaded by them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from repl import errors
from repl.gateway import quick
from repl.gateway.rest import RestClient


class Raw:
    """A loopback server answering each connection with ``answer`` (bytes), and keeping what it
    was asked."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.asked: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.asked.append(await reader.readuntil(b"\r\n\r\n"))
            if self.answer is None:  # never answers
                await asyncio.sleep(30)
            writer.write(self.answer or b"")
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/base/"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


def http(status: str, headers: list[str], body: bytes) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode() + body


async def test_a_get_reads_status_headers_cookies_and_a_sized_body():
    body = json.dumps({"version": "2.5"}).encode()
    raw = Raw(http("200 OK", ["Content-Type: application/json", f"Content-Length: {len(body)}",
                              "Set-Cookie: lb=node-7; Path=/", "Set-Cookie: other=x; HttpOnly"], body))
    async with raw as url:
        answer = await quick.get(url, "api", {"Authorization": "token t"}, 5, 5)
    assert answer.status_code == 200 and answer.json() == {"version": "2.5"}
    assert answer.headers["content-type"] == "application/json"
    assert answer.cookies == ["lb=node-7", "other=x"]
    asked = raw.asked[0].decode()
    assert asked.startswith("GET /base/api HTTP/1.1\r\n") and "Authorization: token t\r\n" in asked
    assert "Host: 127.0.0.1:" in asked and "Accept-Encoding: identity" in asked


async def test_a_chunked_body_and_one_that_ends_with_the_connection():
    chunked = http("404 Not Found", ["Transfer-Encoding: chunked", "Content-Type: text/html"], b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    async with Raw(chunked) as url:
        answer = await quick.get(url, "api", {}, 5, 5)
    assert answer.status_code == 404 and answer.text == "hello world"
    async with Raw(http("200 OK", [], b"to the end")) as url:
        assert (await quick.get(url, "api", {}, 5, 5)).text == "to the end"


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", b"SSH-2.0-OpenSSH\r\n\r\n",
                                    http("200 OK", ["Content-Encoding: gzip", "Content-Length: 3"], b"abc")])
async def test_what_it_cannot_read_is_handed_to_httpx(answer):
    async with Raw(answer) as url:
        with pytest.raises(quick.Failed):
            await quick.get(url, "api", {}, 5, 5)


async def test_a_refused_connection_is_handed_to_httpx_and_a_silent_server_times_out():
    async with Raw(b"") as url:
        pass  # (closed: its port refuses now)
    with pytest.raises(quick.Failed):
        await quick.get(url, "api", {}, 5, 5)
    async with Raw(None) as url:
        with pytest.raises(TimeoutError):
            await quick.get(url, "api", {}, 0.3, 5)


def test_only_plain_http_without_a_proxy_comes_here():
    assert quick.usable("http://gw:8888/", loopback=False, environ={})
    assert not quick.usable("https://gw:8888/", loopback=False, environ={})
    assert not quick.usable("http://u:p@gw:8888/", loopback=False, environ={})
    assert not quick.usable("http://gw:8888/", loopback=False, environ={"HTTP_PROXY": "http://proxy:3128"})
    assert not quick.usable("http://gw:8888/", loopback=False, environ={"all_proxy": "socks5://proxy"})
    assert quick.usable("http://127.0.0.1:8888/", loopback=True, environ={"HTTP_PROXY": "http://proxy:3128"})


async def test_the_rest_client_keeps_the_cookies_and_maps_errors_as_httpx_would():
    version = json.dumps({"version": "2"}).encode()
    raw = Raw(http("200 OK", [f"Content-Length: {len(version)}", "Content-Type: application/json",
                              "Set-Cookie: lb=node-7; Path=/"], version))
    async with raw as url:
        rest = RestClient(url, "t")
        assert (await rest.api_info())["version"] == "2"
        await rest.api_info()
        assert "Cookie: lb=node-7" in raw.asked[1].decode()  # (sent back, as a browser would)
        assert rest.ws_headers()["Cookie"] == "lb=node-7"
        assert "httpx" not in sys.modules or rest._client is None
        await rest.aclose()
    denied = Raw(http("403 Forbidden", ["Content-Type: application/json", "Content-Length: 2"], b"{}"))
    async with denied as url:
        rest = RestClient(url, "secret-token")
        with pytest.raises(errors.AuthError) as caught:
            await rest.api_info()
        assert "secret-token" not in str(caught.value) and "rejected the token" in str(caught.value)
    async with Raw(None) as url:
        rest = RestClient(url, "t", timeout=0.3)
        with pytest.raises(errors.ServerTimeout):
            await rest.api_info()


def test_attaching_loads_no_httpx(gateway):
    """The start-up's questions are answered without httpx: a one-shot run attached to a kernel of
    the fixture's gateway ends without it ever being imported (-c: the same opening, no terminal)."""
    import httpx

    headers = {"Authorization": f"token {gateway.token}"}
    kid = httpx.post(f"{gateway.url}/api/kernels", json={"name": "python3"}, headers=headers).json()["id"]
    try:
        code = ("import runpy, sys\nsys.argv = ['repl', '--attach', sys.argv[1], '-c', 'print(6*7)']\ntry:\n"
                " runpy.run_module('repl', run_name='__main__')\nexcept SystemExit:\n pass\nprint('httpx' in sys.modules)")
        r = subprocess.run([sys.executable, "-c", code, kid], env=gateway.env(), capture_output=True, text=True, timeout=120)
        assert r.stdout.splitlines() == ["42", "False"], r.stdout + r.stderr
    finally:
        httpx.delete(f"{gateway.url}/api/kernels/{kid}", headers=headers)
