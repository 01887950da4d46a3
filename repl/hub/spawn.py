"""Following a spawn until the server is ready or the hub gives up on it.

Two sources, whichever speaks first: the hub's progress stream (percent and message, as they
come) and the server's model, polled, for when a proxy buffers the stream. A failure is one
:class:`errors.SpawnFailed` with the hub's own message.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Awaitable, Callable

from repl import errors
from repl.protocol import hub as h

if TYPE_CHECKING:
    from repl.hub.client import HubClient

POLL_EVERY = 1.0  # s between looks at the server's model
FIRST_LOOK = 0.25  # s before the first: the spawn is under way (its progress can be read) once it says so
REASON_WAIT = 3.0  # s the progress stream has to say why a start request failed
STOPPED_TWICE = 2  # looks that find it stopped (not pending) before the spawn is taken to have failed


async def follow(hub: HubClient, user: str, name: str, report: Callable[[h.Progress, bool], None],
                 request: Awaitable[bool] | None = None, poll_every: float = POLL_EVERY) -> h.ServerModel:
    """Wait for ``user``'s server ``name`` to be ready; ``report(event, new)`` is told each step
    (``new``: a step of the stream, worth a line; else a state the model showed). ``request`` is
    the start request, if one was made: the hub answers it only once the server is up or after
    its slow_spawn_timeout (10 s), so the spawn is followed meanwhile; its error ends the wait."""
    return await _Follow(hub, user, name, report, poll_every).run(request)


class _Follow:
    def __init__(self, hub: HubClient, user: str, name: str, report: Callable[[h.Progress, bool], None],
                 poll_every: float) -> None:
        self.hub, self.user, self.name, self.report, self.poll_every = hub, user, name, report, poll_every
        self.done: asyncio.Future[h.ServerModel] = asyncio.get_running_loop().create_future()
        self.failure: str | None = None  # the stream's failure message, the best reason there is
        # Set once this spawn is under way: before that the progress stream tells the last one's end
        # (a failure of an earlier start, said again at once).
        self.spawning = asyncio.Event()

    async def run(self, request: Awaitable[bool] | None) -> h.ServerModel:
        self.requested = request is None  # the hub has taken the start request (a spawn is under way)
        if self.requested:
            self.spawning.set()
        tasks = [asyncio.ensure_future(self.stream()), asyncio.ensure_future(self.poll())]
        if request is not None:
            tasks.append(asyncio.ensure_future(self.request(request)))
        try:
            return await self.done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def end(self, result: h.ServerModel | BaseException) -> None:
        if self.done.done():
            return
        if isinstance(result, BaseException):
            self.done.set_exception(result)
        else:
            self.done.set_result(result)

    def failed(self, message: str) -> errors.SpawnFailed:
        return errors.SpawnFailed(f"the hub at {self.hub.display_url} could not start {h.server_label(self.name)} "
                                  f"of {self.user}: {message}")

    async def request(self, request: Awaitable[bool]) -> None:
        try:
            ready = await request
        except errors.ServerError as exc:
            # a spawn that fails at once is a bare 500 ("Internal Server Error"): the hub's reason
            # comes on the progress stream
            self.requested = True
            self.spawning.set()
            await asyncio.wait([self.done], timeout=REASON_WAIT)
            self.end(exc)
            return
        except errors.ReplError as exc:
            self.end(exc)
            return
        self.requested = True
        self.spawning.set()
        if not ready:
            return
        try:
            model = await self.hub.server(self.user, self.name)
        except errors.ScopeError:
            model = h.ServerModel(self.name, ready=True, stopped=False)  # (the stream or the server itself will tell)
        if model.ready:
            self.end(model)
        # else the hub said 201 for a spawn that is not pending (yet, or any more: it failed at
        # once): the model and the stream tell which

    async def stream(self) -> None:
        """The progress stream; opened again if it ends early (asked before the spawn began)."""
        seen = 0
        await self.spawning.wait()
        while not self.done.done():
            with contextlib.suppress(errors.ReplError):
                async for event in self.hub.progress(self.user, self.name):
                    seen += 1
                    if seen > 1 or event.message:
                        self.report(event, True)
                    if event.failed:
                        self.failure = event.message or "the spawn failed"
                        self.end(self.failed(self.failure))
                        return
                    if event.ready:
                        self.end(h.ServerModel(self.name, ready=True, stopped=False, url=event.url))
                        return
            await asyncio.sleep(self.poll_every)

    async def poll(self) -> None:
        stopped = 0
        said = None
        wait = FIRST_LOOK
        while not self.done.done():
            await asyncio.sleep(wait)
            wait = self.poll_every
            try:
                model = await self.hub.server(self.user, self.name)
            except errors.ScopeError:
                return  # the stream alone then
            except errors.ReplError as exc:
                self.end(exc)
                return
            if model.ready:
                self.end(model)
            elif model.pending:
                stopped = 0
                if model.pending == "spawn":
                    self.spawning.set()
                if model.state != said:
                    said = model.state
                    self.report(h.Progress(message=f"the hub says it is {model.state}"), False)
            elif self.requested:
                stopped += 1
                if stopped >= STOPPED_TWICE:
                    await asyncio.sleep(self.poll_every)  # the stream's reason may be on its way
                    self.end(self.failed(self.failure or "it stopped without saying why (the hub's log may)"))


