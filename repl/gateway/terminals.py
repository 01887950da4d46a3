"""Jupyter Server's terminals (``api/terminals`` and ``terminals/websocket/NAME``): list, create,
open one's websocket. What the frames say is :mod:`repl.protocol.terminal`'s. Kernel Gateway and
Enterprise Gateway have no terminals (a 404): :meth:`Terminals.list` answers None there.

The owner of which terminal ``/terminal`` without a name goes back to (the last one left with
Ctrl-]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from repl import errors
from repl.gateway import urls

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from repl.gateway.options import ChannelOptions
    from repl.gateway.rest import RestClient


class Terminals:
    def __init__(self, rest: RestClient, ws_base: str, options: ChannelOptions) -> None:
        self.rest = rest
        self.ws_base = ws_base
        self.options = options
        self.last: str | None = None  # the terminal left with Ctrl-]: /terminal goes back to it

    async def list(self) -> list[dict[str, Any]] | None:
        """The server's terminals (name, last_activity), or None where it has none."""
        r = await self.rest.request("GET", "api/terminals")
        if r.status_code in (404, 405):
            return None
        data = self.rest.check(r, "listing terminals")
        if not isinstance(data, list):
            raise errors.ServerError("the server sent a malformed terminal list")
        return [t for t in data if isinstance(t, dict) and isinstance(t.get("name"), str)]

    async def create(self, name: str | None = None) -> str:
        r = await self.rest.request("POST", "api/terminals", json={"name": name} if name else {})
        if r.status_code in (404, 405):
            raise errors.UsageError(f"{self.rest.display_url} has no terminals (Kernel Gateway and Enterprise Gateway "
                                    "have none; Jupyter Server needs jupyter_server_terminals and terminado)")
        data = self.rest.check(r, "starting a terminal")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise errors.ServerError("the server sent a malformed terminal")
        return data["name"]

    async def open(self, name: str) -> ClientConnection:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        base = self.ws_base if self.ws_base.endswith("/") else self.ws_base + "/"
        url = f"{base}terminals/websocket/{quote(name, safe='')}"
        extra = {"ssl": self.options.ssl_context} if self.options.ssl_context is not None and url.startswith("wss") else {}
        try:
            return await connect(url, additional_headers=self.rest.ws_headers(), open_timeout=30, max_size=None,
                                 compression=None, ping_interval=self.options.ping_interval,
                                 ping_timeout=self.options.ping_timeout, close_timeout=1,
                                 proxy=None if urls.is_loopback(url.replace("ws", "http", 1)) else True,
                                 **extra)  # type: ignore[arg-type]  # (ssl only for wss)
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code == 404:
                raise errors.UsageError(f"no terminal {name} on {self.rest.display_url}") from None
            if code in (401, 403):
                raise errors.AuthError(f"{self.rest.display_url} refused the token for the terminal (HTTP {code})") from None
            raise errors.ServerError(f"the terminal's websocket was refused: HTTP {code}") from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise errors.ServerUnreachable(f"cannot open terminal {name} at {self.rest.display_url}: {exc}") from None
