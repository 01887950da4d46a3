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
from repl.aliases import AliasStore
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
    cells: list = field(default_factory=list)  # CellRecords of this session, for /save
    background: set = field(default_factory=set)  # msg_ids of cells sent to the background

    @property
    def id(self) -> str:
        return self.model.id

    same_spec_attached: bool = False  # another attached kernel has the same spec: show the id too

    @property
    def label(self) -> str:
        if self.alias:
            return self.alias
        name = self.model.name or "kernel"
        return f"{name}-{self.id[:4]}" if self.same_spec_attached else name

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
        aliases: AliasStore | None = None,
        channel_options: dict | None = None,
    ) -> None:
        self.channel_options = dict(channel_options or {})
        self.kernel_env: dict | None = None  # KERNEL_* sent at start (Enterprise Gateway only)
        self._cleanups: set[asyncio.Future] = set()
        self.rest = rest
        self.aliases = aliases or AliasStore(rest.display_url)
        self.listing: list[KernelModel] = []  # the last /kernels answer, for index targets
        self.ws_base = ws_base or urls.ws_base(rest.base_url)
        self.on_events = on_events or (lambda k, ev: None)
        self.on_state = on_state or (lambda k, st: None)
        self.on_error: Callable[[Exception], None] | None = None
        self.protocol = protocol
        self.trace = trace
        self.kernels: dict[str, Kernel] = {}
        self.current: Kernel | None = None

    async def start(self, spec: str | None = None) -> Kernel:
        launch = asyncio.ensure_future(self.rest.start_kernel(spec, env=self.kernel_env))
        try:
            model = await asyncio.shield(launch)
        except asyncio.CancelledError:
            # Cancelled while the server launches it: let the launch finish out of the user's
            # way, then shut down exactly the kernel it made.
            self._cleanups.add(asyncio.ensure_future(self._shut_down_when_launched(launch)))
            raise
        try:
            kernel = await self._connect(model, started_here=True)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.rest.shutdown(model.id)
            raise
        return kernel

    async def _shut_down_when_launched(self, launch: asyncio.Future) -> None:
        with contextlib.suppress(Exception):
            model = await launch
            await self.rest.shutdown(model.id)

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
            headers_fn=self.rest.cookie_header,
            **self.channel_options,
        )
        kernel = Kernel(model, session, channel, started_here, alias=self.aliases.get(model.id))
        channel.on_error = self.on_error
        holder.append(kernel)
        self.kernels[model.id] = kernel
        try:
            await channel.connect()
        except BaseException:
            self.kernels.pop(model.id, None)
            await channel.close()
            raise
        self.current = kernel
        self._relabel()
        return kernel

    def _relabel(self) -> None:
        names = [k.model.name for k in self.kernels.values()]
        for k in self.kernels.values():
            k.same_spec_attached = names.count(k.model.name) > 1

    async def list(self) -> tuple[list[KernelModel], bool]:
        """The server's kernels (and False), or, when it hides them, the ones we know (and True)."""
        try:
            models = await self.rest.kernels()
        except errors.ListingDisabled:
            models = [k.model for k in self.kernels.values()]
            self.listing = models
            return models, True
        self.aliases.prune(m.id for m in models)
        for k in self.kernels.values():
            k.alias = self.aliases.get(k.id)
        self.listing = models
        return models, False

    async def resolve_target(self, target: str) -> KernelModel:
        """A kernel by index from /kernels, alias, or id prefix."""
        target = target.strip()
        if not target:
            raise errors.UsageError("which kernel? give an index from /kernels, an alias or an id prefix")
        if target.isdigit():
            if not self.listing:
                await self.list()
            n = int(target)
            if 1 <= n <= len(self.listing):
                return self.listing[n - 1]
            raise errors.NoSuchKernel(f"no kernel number {n}: /kernels lists {len(self.listing)}")
        for k in self.kernels.values():
            if target in (k.alias, k.label):
                return k.model
        kid = self.aliases.find(target)
        if kid is not None:
            try:
                return await self.rest.kernel(kid)
            except errors.NoSuchKernel:
                self.aliases.forget([kid])
                raise errors.NoSuchKernel(f"kernel '{target}' is gone from {self.rest.display_url}") from None
        attached = [k.model for k in self.kernels.values() if k.id.startswith(target)]
        if len(attached) == 1:
            return attached[0]
        return await self.rest.resolve(target)

    async def use(self, target: str) -> Kernel:
        """Switch to a kernel, attaching to it first if needed."""
        model = await self.resolve_target(target)
        kernel = self.kernels.get(model.id)
        if kernel is None:
            return await self.attach(model.id)
        self.current = kernel
        return kernel

    def name(self, kernel: Kernel, alias: str) -> None:
        for other in self.kernels.values():
            if other is not kernel and other.alias == alias:
                other.alias = None
        self.aliases.set(kernel.id, alias)
        kernel.alias = alias

    async def shutdown(self, model: KernelModel) -> None:
        kernel = self.kernels.pop(model.id, None)
        if kernel is not None:
            await kernel.channel.close()
        try:
            await self.rest.shutdown(model.id)
        finally:
            self.aliases.forget([model.id])
            self.listing = [m for m in self.listing if m.id != model.id]
            if self.current is kernel:
                self.current = next(iter(self.kernels.values()), None)
            self._relabel()

    async def interrupt(self, kernel: Kernel) -> None:
        await self.rest.interrupt(kernel.id)

    async def aclose(self) -> None:
        """Close every channel; shut down the kernels started here (attached ones keep running)."""
        if self._cleanups:
            await asyncio.wait(self._cleanups, timeout=10)
        kernels = list(self.kernels.values())
        self.kernels.clear()
        self.current = None
        await asyncio.gather(*(k.channel.close() for k in kernels), return_exceptions=True)
        await asyncio.gather(
            *(self.rest.shutdown(k.id) for k in kernels if k.started_here), return_exceptions=True
        )
