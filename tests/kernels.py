"""Helpers for tests that drive a repl.kernel.Kernel directly (no terminal)."""

from __future__ import annotations

import asyncio

from repl.gateway import urls
from repl.gateway.channel import ChannelOptions
from repl.gateway.rest import KernelModel, RestClient
from repl.kernel import Kernel


class Recorder:
    """A kernel listener that keeps every event, state change and notice."""

    def __init__(self):
        self.events = []
        self.states = []
        self.notices = []
        self.arrivals = asyncio.Queue()

    def kernel_events(self, kernel, events):
        for ev in events:
            self.events.append(ev)
            self.arrivals.put_nowait(ev)

    def kernel_state(self, kernel, state, before):
        self.states.append(state)

    def kernel_notice(self, kernel, text):
        self.notices.append(text)

    def of(self, kind, req=None):
        return [e for e in self.events if isinstance(e, kind) and (req is None or e.request is req)]


async def open_kernel(rest: RestClient, model: KernelModel, protocol: str = "auto", ws_base: str | None = None,
                      **options) -> tuple[Kernel, Recorder]:
    rec = Recorder()
    k = Kernel(model, rest, ws_base or urls.ws_base(rest.base_url), ChannelOptions(protocol=protocol, **options), rec,
               started_here=False)
    await k.connect()
    return k, rec
