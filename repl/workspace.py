"""The kernels of one REPL session: which are attached, which we started, which is current.

Owns the REST client and one :class:`KernelChannel` per attached kernel. Kernels started here
are shut down on close; attached ones are left running.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Callable

from repl import errors
from repl.gateway import urls
from repl.gateway.channel import KernelChannel
from repl.gateway.rest import KernelModel, RestClient
from repl.protocol.session import KernelSession


@dataclass(eq=False)
class Kernel:
    model: KernelModel
    session: KernelSession
    channel: KernelChannel
    started_here: bool
    alias: str | None = None
    last_rtt_ms: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def label(self) -> str:
        return self.alias or self.model.name or self.id[:8]

    @property
    def state(self) -> str:
        if self.channel.state in ("connecting", "reconnecting", "dead", "closed"):
            return self.channel.state
        if self.channel.state == "disconnected":
            return "disconnected"
        return self.session.state if self.session.state != "unknown" else "connected"


EventHandler = Callable[[Kernel, list], None]
StateHandler = Callable[[Kernel, str], None]


class Workspace:
    def __init__(
        self,
        rest: RestClient,
        *,
        ws_base: str | None = None,
        on_events: EventHandler | None = None,
        on_state: StateHandler | None = None,
        protocol: str = "auto",
        trace=None,
    ) -> None:
        self.rest = rest
        self.ws_base = ws_base or urls.ws_base(rest.base_url)
        self.on_events = on_events or (lambda k, ev: None)
        self.on_state = on_state or (lambda k, st: None)
        self.protocol = protocol
        self.trace = trace
        self.kernels: dict[str, Kernel] = {}
        self.current: Kernel | None = None

    async def start(self, spec: str | None = None) -> Kernel:
        model = await self.rest.start_kernel(spec)
        try:
            kernel = await self._connect(model, started_here=True)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.rest.shutdown(model.id)
            raise
        return kernel

    async def attach(self, target: str) -> Kernel:
        model = await self.rest.resolve(target)
        if model.id in self.kernels:
            self.current = self.kernels[model.id]
            return self.current
        kernel = await self._connect(model, started_here=False)
        # Learn the kernel's execution count so the prompt number continues from it.
        req, fut = await kernel.channel.execute("", silent=True, store_history=False, allow_stdin=False)
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError, errors.ReplError):
            await asyncio.wait_for(fut, 10)
            if req.execution_count is not None:
                kernel.session.next_count = req.execution_count + 1
        return kernel

    async def _connect(self, model: KernelModel, started_here: bool) -> Kernel:
        session = KernelSession()
        holder: list[Kernel] = []
        channel = KernelChannel(
            self.ws_base,
            model.id,
            session,
            headers=self.rest.auth_headers,
            on_events=lambda events: holder and self.on_events(holder[0], events),
            on_state=lambda state: holder and self.on_state(holder[0], state),
            protocol=self.protocol,
            trace=self.trace,
            display_url=self.rest.display_url,
        )
        kernel = Kernel(model, session, channel, started_here)
        holder.append(kernel)
        self.kernels[model.id] = kernel
        try:
            await channel.connect()
        except BaseException:
            self.kernels.pop(model.id, None)
            await channel.close()
            raise
        self.current = kernel
        return kernel

    async def interrupt(self, kernel: Kernel) -> None:
        await self.rest.interrupt(kernel.id)

    async def aclose(self) -> None:
        """Close every channel; shut down the kernels started here (attached ones keep running)."""
        kernels = list(self.kernels.values())
        self.kernels.clear()
        self.current = None
        await asyncio.gather(*(k.channel.close() for k in kernels), return_exceptions=True)
        await asyncio.gather(
            *(self.rest.shutdown(k.id) for k in kernels if k.started_here), return_exceptions=True
        )
