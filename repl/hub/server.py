"""The JupyterHub server this repl works on: which hub, user and server, reaching it (started
and waited for if it is not running), starting and stopping servers for ``/hub``, and what
became of it when the kernels' links drop (stopped under us, the hub gone).

The one owner of what we know of that server on the hub (user, name, state); the workspace
holds it as ``ws.hub``. Its URL, once reached, is the REST client's (``ws.rest.base_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from repl import errors
from repl.gateway import urls
from repl.hub import spawn
from repl.protocol import hub as h

if TYPE_CHECKING:
    from repl.hub.client import HubClient

Report = Callable[[str, "str | None"], None]  # (what the toolbar says, a line to print or None)
WATCH_AFTER = 1.0  # s a link may be down (a blip) before the hub is asked what became of the server
WATCH_EVERY = 3.0
STOP_WAIT = 60.0  # s a server that is stopping may take
ACCESS = ("access:servers", "admin:servers")  # scopes (before any !filter) that reach a server


class HubServer:
    def __init__(self, hub: HubClient, *, user: str | None, name: str, options: dict) -> None:
        self.hub = hub
        self.user = user or ""
        self.name = name
        self.options = options  # the spawn's user_options
        self.state = "unknown"  # ready, starting, stopping, stopped, unknown (the hub cannot say)
        self._watch: asyncio.Task | None = None
        self._stopped_here = False  # /hub stop stopped it: its stop is not said again
        self._starting_here = False  # we are starting it: its spawn is not news either

    # ------------------------------------------------------------ what it is

    @property
    def hub_label(self) -> str:
        return urls.display(self.hub.base_url)

    @property
    def label(self) -> str:
        """For the toolbar: hub, user and server."""
        if not self.user:  # (not known yet)
            return self.hub_label
        return f"{self.hub_label} · {self.user}" + (f"/{self.name}" if self.name else "")

    def describe(self, name: str | None = None) -> str:
        """``alice's server 'gpu' on the hub at …`` (``name``: another server of the user)."""
        name = self.name if name is None else name
        what = "default server" if name == h.DEFAULT else f"server '{name}'"
        return f"{self.user}'s {what} on the hub at {self.hub_label}"

    @property
    def origin(self) -> str:
        """``https://hub.example.org``: server models give paths under it."""
        parts = urlsplit(self.hub.base_url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))

    def url_of(self, model: h.ServerModel, name: str) -> str:
        """The server's base URL: the hub's origin with the model's path (else the usual one)."""
        path = model.url or f"{urlsplit(self.hub.base_url).path}user/{self.user}/" + (f"{name}/" if name else "")
        return self.origin + (path if path.endswith("/") else path + "/")

    # ------------------------------------------------------------ reaching it

    async def reach(self, report: Report, running: Callable[[str], Awaitable[bool]]) -> str:
        """The server's base URL, once it is up: started if it is not running. ``running(url)``
        says whether a server answers there (for a token that may not read the server models)."""
        me = await self.hub.user()
        self.user = self.user or me.name
        if me.scopes and not any(s.split("!", 1)[0] in ACCESS for s in me.scopes):
            # it could start the server, and then not use it
            raise errors.ScopeError(f"the token lacks the scope access:servers, which using a server needs; make one "
                                    f"with it on the hub's Token page ({self.hub.token_page})")
        servers = me.servers if me.name == self.user else None
        if servers is None:
            with contextlib.suppress(errors.ScopeError):
                servers = await self.hub.servers(self.user)
        model = (servers or {}).get(self.name) or h.ServerModel(self.name)
        if servers is None:  # cannot read the models: look at the server itself
            model = h.ServerModel(self.name, ready=await running(self.url_of(model, self.name)))
        if model.ready:
            self.state = "ready"
            return self.url_of(model, self.name)
        return self.url_of(await self.start(self.name, report, model), self.name)

    async def start(self, name: str, report: Report, model: h.ServerModel | None = None) -> h.ServerModel:
        """Start ``name`` (waiting for a stop under way first) and follow its spawn to the end."""
        if model is None:
            model = await self.hub.server(self.user, name)
        who = self.describe(name)
        if model.ready:
            later = " (--option applies when it next starts: /hub stop, then /hub start)" if self.options and name == self.name else ""
            report(f"{who} is running", f"{who} is running already{later}")
            return model
        mine = name == self.name
        if mine:
            self._stopped_here, self._starting_here = False, True
        try:
            return await self._spawn(name, who, model, report)
        except errors.SpawnFailed:
            if mine:
                self.state = "stopped"
            raise
        except errors.ReplError:
            if mine and self.state == "starting":
                self.state = "unknown"  # refused, or the hub is gone: it may not be starting
            raise
        finally:
            if mine:
                self._starting_here = False

    async def _spawn(self, name: str, who: str, model: h.ServerModel, report: Report) -> h.ServerModel:
        began = time.monotonic()
        if model.pending == "stop":
            report(f"{who} is stopping; it starts after", f"{who} is stopping; starting it when it has stopped")
            await self._stopped(name)
        if name == self.name:
            self.state = "starting"
        if model.pending != "spawn":
            report(f"starting {who}", f"starting {who}… (Ctrl-C stops waiting; the spawn goes on)")
            request = self.hub.start(self.user, name, self.options if name == self.name else {})
        else:
            request = None
            report(f"{who} is starting", f"{who} is starting already; waiting for it… (Ctrl-C stops waiting)")
        seen: set[tuple[int | None, str]] = set()  # (a stream opened again starts from the beginning)

        def step(event: h.Progress, new: bool) -> None:
            took = f"{time.monotonic() - began:.0f} s"
            percent = f"{event.percent}% " if event.percent is not None else ""
            text = event.message or ("ready" if event.ready else "")
            short = text.rstrip(".…")
            fresh = new and (event.percent, text) not in seen
            seen.add((event.percent, text))
            report(f"starting {h.server_label(name)}" + (f": {percent}{short}" if percent or short else ""),
                   f"hub: {percent}{text} ({took})" if fresh and text and not (event.failed or event.ready) else None)

        ready = await spawn.follow(self.hub, self.user, name, step, request)
        if name == self.name:
            self.state = "ready"
        report(f"{who} is up", f"{who} is up ({time.monotonic() - began:.0f} s)")
        return ready

    async def stop(self, name: str) -> None:
        """Stop ``name``, waiting for the hub to have stopped it."""
        if name == self.name:
            self._stopped_here = True  # (its kernels' links drop: that is no news)
        if not await self.hub.stop(self.user, name):
            await self._stopped(name)
        if name == self.name:
            self.state = "stopped"

    async def _stopped(self, name: str) -> None:
        deadline = time.monotonic() + STOP_WAIT
        while (await self.hub.server(self.user, name)).pending == "stop":
            if time.monotonic() > deadline:
                raise errors.ServerTimeout(f"{self.describe(name)} did not stop in {STOP_WAIT:.0f} s")
            await asyncio.sleep(spawn.POLL_EVERY)

    # ------------------------------------------------------------ links that drop

    def link_down(self, down: Callable[[], bool], say: Callable[[str], None], retry: Callable[[], None],
                  lost: Callable[[], Awaitable[None]]) -> None:
        """A kernel's link dropped (or its kernel is gone): a moment later, ask the hub what became
        of the server, and say it (once per verdict) while ``down()``. A server that stopped took
        its kernels with it: ``lost()`` ends them. When the hub does not answer and the server
        turns out ready again, ``retry()`` makes the links try at once."""
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._watching(down, say, retry, lost))

    async def _watching(self, down: Callable[[], bool], say: Callable[[str], None], retry: Callable[[], None],
                        lost: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(WATCH_AFTER)
        said: str | None = None
        first = True
        while first or down():
            first = False
            verdict = await self.verdict()
            if verdict is not None and verdict != said:
                say(verdict)
                said = verdict
            if self.state in ("stopped", "stopping", "starting"):
                await lost()  # (its kernels: what waits for them ends now)
            elif self.state == "ready" and said is not None:
                retry()
            await asyncio.sleep(WATCH_EVERY)

    async def verdict(self) -> str | None:
        """What became of the server, in a line; None when it is running (the link is the trouble)."""
        try:
            model = await self.hub.server(self.user, self.name)
        except errors.ScopeError:
            return None
        except errors.ServerUnreachable as exc:
            self.state = "unknown"
            return (f"the hub does not answer either ({exc}); {self.describe()} may be gone with it: when the hub "
                    "is back, /hub start brings the server back")
        except errors.ReplError:
            return None
        if self._stopped_here or self._starting_here:
            return None  # (we stopped or are starting it: /hub says so)
        self.state = model.state
        if model.ready:
            return None
        if model.pending == "spawn":
            return f"{self.describe()} stopped and is starting again (started elsewhere); its kernels are gone with it"
        return (f"{self.describe()} has stopped (culled when idle, stopped from the browser, or by an admin); "
                "/hub start brings it back; its kernels are gone with it")

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
