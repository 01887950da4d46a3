"""The start-up's GETs over plain HTTP without httpx: httpx and the httpcore, anyio and h11 it
loads for its first client cost ~40 ms of CPU at every start, before the first answer, while
the UI's imports hold the same interpreter. The questions asked before a kernel is connected
(the server's version, its kernelspecs, the kernel) are one GET each; the HTTP/1.1 answer is
read by websockets' parser, which the kernel's websocket loads anyway.

Only what is sure to be the same as httpx's request comes here: ``http://`` with no proxy that
httpx would use. Anything this cannot do (a refused or reset connection, an answer it does not
parse, a compressed body) is :class:`Failed`: the caller asks again through httpx, whose error
is the one the user is told."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlsplit

from repl import __version__

PROXIES = ("http_proxy", "all_proxy")


class Failed(Exception):
    """Not answered here: ask through httpx."""


class Answer:
    """What the REST client reads of an answer: as httpx's Response names it."""

    def __init__(self, status_code: int, headers: dict[str, str], cookies: list[str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # (names in lower case)
        self.cookies = cookies  # ``name=value`` of each Set-Cookie
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def usable(base_url: str, loopback: bool, environ: Any = os.environ) -> bool:
    """Whether a GET of ``base_url``'s server may come here: plain HTTP, no credentials in the
    URL, and no proxy (httpx uses HTTP(S)_PROXY except for loopback)."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or "@" in parts.netloc:
        return False
    return loopback or not any(k.lower() in PROXIES and v for k, v in environ.items())


async def get(base_url: str, path: str, headers: dict[str, str], timeout: float, connect_timeout: float) -> Answer:
    """``GET path`` of the server at ``base_url`` (ends with ``/``), on a connection of its own.
    Raises TimeoutError after ``timeout`` s (``connect_timeout`` to connect), or Failed."""
    from websockets.exceptions import WebSocketException
    from websockets.http11 import Response
    from websockets.streams import StreamReader

    parts = urlsplit(base_url)
    lines = [f"GET {parts.path}{path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: */*",
             "Accept-Encoding: identity", "Connection: close", f"User-Agent: repl/{__version__}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
    try:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    except TimeoutError:
        raise
    except OSError as exc:
        raise Failed(str(exc)) from exc
    try:
        async with asyncio.timeout(timeout):
            writer.write(request)
            stream = StreamReader()
            parser = Response.parse(stream.read_line, stream.read_exact, stream.read_to_eof)
            next(parser)
            while True:
                data = await reader.read(65536)
                if data:
                    stream.feed_data(data)
                else:
                    stream.feed_eof()
                try:
                    next(parser)
                except StopIteration as done:
                    response = done.value
                    break
    except TimeoutError:
        raise
    except (OSError, EOFError, ValueError, LookupError, NotImplementedError, WebSocketException) as exc:
        raise Failed(str(exc)) from exc  # (the parser's errors: a truncated or malformed answer, too long a line)
    finally:
        writer.close()
    found = {name.lower(): value for name, value in response.headers.raw_items()}
    if found.get("content-encoding", "identity").lower() != "identity":
        raise Failed("a compressed answer")
    cookies = [v.split(";", 1)[0].strip() for k, v in response.headers.raw_items() if k.lower() == "set-cookie"]
    return Answer(response.status_code, found, [c for c in cookies if "=" in c], bytes(response.body))
