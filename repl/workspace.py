"""The kernels of one REPL session: which are attached, which we started, which is current.

Owns the REST client and one :class:`repl.kernel.Kernel` per attached kernel. Kernels started
here are shut down on close (retried while the server says they are busy restarting), also one
whose launch we stopped waiting for (Ctrl-C, --launch-timeout) once the launch says which it is;
attached ones are left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import TYPE_CHECKING

from repl import errors
from repl.aliases import AliasStore
from repl.gateway import urls
from repl.gateway.options import ChannelOptions
from repl.keep import Keep

LAUNCH_GRACE = 60.0  # s a launch we no longer wait for may take to say which kernel it made

if TYPE_CHECKING:  # the kernel machinery is imported with the first kernel, after the first prompt
    from repl.gateway.local import LocalGateway
    from repl.gateway.rest import KernelModel, RestClient, SessionModel
    from pathlib import Path

    from repl.protocol.record import Record
    from repl.records import Journal
    from repl.hub.server import HubServer
    from repl.kernel import Kernel, Listener
    from repl.opening import Opening


def path_matches(path: str, target: str) -> bool:
    """Whether ``target`` names the notebook at ``path``: the path, a tail of it that starts at a
    directory, or the same without the file's extension (``proj/analysis`` for proj/analysis.ipynb)."""
    want = target.strip().strip("/")
    if not want:
        return False
    name = path.rsplit("/", 1)[-1]
    stem = path[: len(path) - len(name)] + name.rsplit(".", 1)[0] if "." in name else path
    return any(p == want or p.endswith("/" + want) for p in (path.strip("/"), stem.strip("/")))


class Workspace:
    def __init__(
        self,
        rest: RestClient,
        listener: Listener,
        *,
        options: ChannelOptions | None = None,
        ws_base: str | None = None,
        trace=None,
        aliases: AliasStore | None = None,
        kernel_env: dict | None = None,
        keep: Keep | None = None,
    ) -> None:
        self.rest = rest
        self.keep = keep or Keep()  # what /save keeps of the output of all its kernels' cells, oldest dropped first
        self.listener = listener
        self.options = options or ChannelOptions()
        self.ws_base = ws_base or urls.ws_base(rest.base_url)
        self._ws_base_given = ws_base is not None
        self.trace = trace
        self.aliases = aliases or AliasStore(rest.display_url)
        self.kernel_env = kernel_env  # KERNEL_* sent at start (Enterprise Gateway only)
        self.listing: list[KernelModel] = []  # the last /kernels answer, for index targets
        self.sessions: dict[str, SessionModel] = {}  # kernel id -> its notebook session, from that answer
        self.kernels: dict[str, Kernel] = {}
        self._current: Kernel | None = None
        self.opening: Opening | None = None  # the first kernel, brought up behind the prompt
        self.hub: HubServer | None = None  # the server is a JupyterHub's: which, and what became of it
        self._cleanups: set[asyncio.Future] = set()
        self.address = rest.display_url  # the server as the user named it (a hub's, before its server is known)
        self.named_server: str | None = None
        self.gateway: LocalGateway | None = None  # the embedded one, if it is ours
        self.journal: Journal | None = None  # the session record, written as it changes (interactive only)
        self._recording: tuple | None = None  # keep a record from the first change (made then: not before the prompt)
        self.detached = False  # left with /detach: nothing is shut down
        self.resuming = False  # coming back to a session: until its kernels are all back, nothing is shut down

    @property
    def current(self) -> Kernel | None:
        return self._current

    @current.setter
    def current(self, kernel: Kernel | None) -> None:
        if kernel is not self._current:
            self._current = kernel
            self.changed()

    def keep_record(self, back: tuple[Path, Record] | None) -> None:
        """Keep the session's record (``back``: the one of the session we come back to)."""
        self._recording = back or ()

    def changed(self) -> None:
        """What the session record says changed: write it now."""
        if self.journal is None and self._recording is not None:
            from repl.records import Journal

            back, self._recording = self._recording, None  # (made once)
            self.journal = Journal(self.fill, *back)
        if self.journal is not None:
            self.journal.changed()
            if self.journal.failed and self._current is not None:  # (said once: repl --resume will not find it)
                why, self.journal.failed = self.journal.failed, None
                self.listener.kernel_notice(self._current, why + "; repl --resume cannot come back to this session")

    def fill(self, rec: Record) -> None:
        """The session record: where, which kernels, their cells not done (see repl.records)."""
        rec.url = self.address
        rec.named_server = (self.hub.name if self.hub is not None else self.named_server) or None
        rec.gateway = self.gateway.record() if self.gateway is not None else None
        rec.current = self._current.id if self._current is not None else None
        rec.kernels = [k.entry() for k in self.kernels.values() if not k.gone]

    async def rebase(self, url: str) -> None:
        """Work on the server at ``url`` (a hub's single-user server, once it is known and up)."""
        await self.rest.rebase(url)
        self.rest.behind_hub = self.hub is not None
        if not self._ws_base_given:
            self.ws_base = urls.ws_base(self.rest.base_url)
        self.aliases = AliasStore(self.rest.display_url, self.aliases.path)

    @property
    def server_label(self) -> str:
        """Where the kernels are, for the toolbar: the hub, user and server, or the server's URL."""
        return self.hub.label if self.hub is not None else self.rest.display_url

    def _link_down(self, kernel: Kernel) -> None:
        """A kernel's link dropped: on a hub, find out whether the server was stopped under us."""
        if self.hub is not None:
            self.hub.link_down(lambda: any(not k.connected and not k.gone for k in self.kernels.values()),
                               lambda text: self.listener.kernel_notice(kernel, text), self.retry_links,
                               self.server_stopped)

    async def server_stopped(self) -> None:
        """The (hub's) server was stopped: its kernels are gone with it."""
        for k in list(self.kernels.values()):
            await k.lose_with_server()

    def retry_links(self) -> None:
        """Every link that is down tries again now (its server is back)."""
        for k in self.kernels.values():
            k.channel.retry_now()

    async def start(self, spec: str | None = None, path: str | None = None) -> Kernel:
        """Start a kernel (with ``path``: through a session for that notebook, Jupyter Server only)."""
        # We wait launch_timeout for it; the request itself is given longer, so that a launch we
        # stopped waiting for still tells us which kernel it made, to shut it down.
        bound = self.rest.launch_timeout
        if path is not None:
            launch = asyncio.ensure_future(self.rest.start_session(path, spec, timeout=bound + LAUNCH_GRACE))
        else:
            launch = asyncio.ensure_future(self.rest.start_kernel(spec, env=self.kernel_env, timeout=bound + LAUNCH_GRACE))
        try:
            model = await asyncio.wait_for(asyncio.shield(launch), bound)
        except (asyncio.CancelledError, asyncio.TimeoutError, TimeoutError) as exc:
            # Cancelled or out of time while the server launches it: let the launch finish out of
            # the user's way, then shut down exactly the kernel it made.
            self._cleanups.add(asyncio.ensure_future(self._shut_down_when_launched(launch)))
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise errors.ServerTimeout(f"the kernel did not start in time (--launch-timeout {bound:g} s); "
                                       "it is shut down when it comes") from None
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

    async def attach(self, target: str | KernelModel) -> Kernel:
        """Attach to a kernel named by ``target`` (or to the kernel ``target`` describes)."""
        model = await self.resolve_target(target) if isinstance(target, str) else target
        if model.id in self.kernels:
            self.current = self.kernels[model.id]
            return self.current
        kernel = await self._connect(model, started_here=False)
        kernel.learn_count()
        kernel.learn_widgets()
        return kernel

    async def _connect(self, model: KernelModel, started_here: bool) -> Kernel:
        kernel = self._kernel(model, started_here)
        self.kernels[model.id] = kernel
        try:
            await kernel.connect()
        except BaseException:
            self.kernels.pop(model.id, None)
            await kernel.close()
            raise
        self.current = kernel
        self._relabel()
        self.changed()
        return kernel

    def _kernel(self, model: KernelModel, started_here: bool, session_id: str | None = None) -> Kernel:
        from repl.kernel import Kernel

        return Kernel(model, self.rest, self.ws_base, self.options, self.listener, started_here=started_here,
                      alias=self.aliases.get(model.id), trace=self.trace, on_link_down=self._link_down,
                      on_change=self.changed, session_id=session_id, keep=self.keep)

    async def resume(self, rec: Record) -> tuple[Kernel | None, list[str]]:
        """Come back to the kernels of a session left earlier, with their websocket session ids (the
        server replays what they printed meanwhile) and their cells; the current one first. Returns
        the current kernel (None if every one is gone) and a line for each kernel that is gone.

        All or nothing: a kernel that cannot be read or reached (not: is gone) ends the resume with
        its error, and nothing is shut down on the way out; the record stays for another try."""
        from repl.protocol.record import label_of

        self.resuming = True
        self.changed()  # (the record is ours now, locked: no other repl takes it)
        gone = []
        for entry in sorted(rec.kernels, key=lambda e: e.id != rec.current):
            kernel: Kernel | None = None
            try:
                model = await self.rest.kernel(entry.id)
                kernel = self._kernel(model, entry.started_here, entry.session_id)
                if entry.alias and not kernel.alias:
                    kernel.alias = entry.alias
                kernel.adopt(entry, rec.since)
                self.kernels[model.id] = kernel
                await kernel.connect()
            except (errors.NoSuchKernel, errors.KernelDead):
                self.kernels.pop(entry.id, None)
                if kernel is not None:
                    await kernel.close()
                running = f"; what its {len(entry.cells)} running cell(s) printed is lost" if entry.cells else ""
                gone.append(f"kernel {label_of(entry, rec)} ({entry.id[:8]}) is gone from {self.rest.display_url}{running}")
                self.aliases.forget([entry.id])
                continue
            except errors.ReplError as exc:
                raise errors.ReplError(f"could not come back to kernel {label_of(entry, rec)} ({entry.id[:8]}): {exc}; "
                                       "nothing was changed: repl --resume tries again") from None
            kernel.learn_widgets()
            kernel.judge_away_soon()
            if self._current is None:
                self.current = kernel
        self._relabel()
        self.resuming = False
        if self.journal is not None:
            self.journal.resumed()  # (every kernel gone: the record goes)
        return self._current, gone

    async def detach(self) -> list[str]:
        """Leave, keeping every kernel and its cells running (the embedded gateway too): the
        record says how to come back. Breakpoints are taken out first (a stop nobody is there to
        go on from would hold the kernel); returns the labels of kernels that had some."""
        cleared = []
        for k in self.kernels.values():
            with contextlib.suppress(errors.ReplError, asyncio.TimeoutError, TimeoutError):
                if not k.gone and await asyncio.wait_for(k.debugger.leave(), 5):
                    cleared.append(k.label)
        if self.gateway is not None:
            await self.gateway.detach()
        self.detached = True
        if self.journal is not None:
            self.journal.detach()
        return cleared

    def _relabel(self) -> None:
        names = [k.model.name for k in self.kernels.values()]
        for k in self.kernels.values():
            k.same_spec_attached = names.count(k.model.name) > 1

    async def list_kernels(self) -> tuple[list[KernelModel], bool]:
        """The server's kernels (and False), or, when it hides them, the ones we know (and True).

        Attached kernels missing from the server's list are marked gone.
        """
        listing = asyncio.ensure_future(self.rest.kernels())
        sessions = asyncio.ensure_future(self.rest.sessions())
        try:
            models = await listing
        except errors.ListingDisabled:
            sessions.cancel()
            models = [k.model for k in self.kernels.values()]
            self.listing = models
            return models, True
        except BaseException:
            sessions.cancel()
            raise
        try:
            found = await sessions
        except errors.ReplError:
            found = None
        self.sessions = {x.kernel_id: x for x in found or []}
        present = {m.id for m in models}
        for k in list(self.kernels.values()):
            if k.id not in present:
                await k.check()
        self.aliases.prune(present)
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
            found = await self._by_number(target)
            if found is not None:
                return found
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
        try:
            return await self.rest.resolve(target)  # an id prefix: one request, as before sessions
        except errors.NoSuchKernel:
            by_path = await self._by_path(target)
            if by_path is None:
                raise
            return by_path

    async def _by_path(self, target: str) -> KernelModel | None:
        """The kernel of the notebook ``target`` names (path, unique suffix, file name, without
        .ipynb), on servers with sessions; None if no notebook matches."""
        with contextlib.suppress(errors.ReplError):
            await self.list_kernels()  # fresh: a notebook may have been opened since
        found = [x for x in self.sessions.values() if path_matches(x.path, target)]
        if len({x.kernel_id for x in found}) > 1:
            names = ", ".join(sorted(f"{x.path} ({x.kernel_id[:8]})" for x in found))
            raise errors.NoSuchKernel(f"'{target}' names {len(found)} notebooks: {names}; give more of the path")
        if not found:
            return None
        kid = found[0].kernel_id
        return next((m for m in self.listing if m.id == kid), None) or await self.rest.kernel(kid)

    async def _by_number(self, target: str) -> KernelModel | None:
        """A digits-only target: an index from /kernels when it is one; None to try it as an id prefix."""
        if not self.listing:
            await self.list_kernels()
        n = int(target)
        index = self.listing[n - 1] if 1 <= n <= len(self.listing) else None
        if len(target) < 4:  # too short for an id prefix: it is an index
            if index is None:
                raise errors.NoSuchKernel(f"no kernel number {n}: /kernels lists {len(self.listing)}")
            return index
        prefixed = [m for m in self.listing if m.id.startswith(target)]
        if index is not None and prefixed:
            ids = ", ".join(m.id[:12] for m in prefixed)
            raise errors.NoSuchKernel(f"'{target}' is kernel number {n} and the start of {ids}: give more of the id")
        return index

    async def use(self, target: str) -> Kernel:
        """Switch to a kernel, attaching to it first if needed; a kernel gone from the server is refused."""
        model = await self.resolve_target(target)
        kernel = self.kernels.get(model.id)
        if kernel is None:
            return await self.attach(model)
        if kernel.gone or not await kernel.check():
            raise kernel.gone_error()
        self.current = kernel
        return kernel

    def name(self, kernel: Kernel, alias: str) -> bool:
        """Give a kernel an alias; False if it could not be remembered beyond this session."""
        saved = self.aliases.set(kernel.id, alias)
        for other in self.kernels.values():
            if other is not kernel and other.alias == alias:
                other.alias = None
        kernel.alias = alias
        self.changed()
        return saved

    async def shutdown(self, model: KernelModel) -> None:
        kernel = self.kernels.pop(model.id, None)
        if kernel is not None:
            await kernel.close()
            gc.unfreeze()  # (it may be among what start-up froze, repl.ui.first_kernel.settle_heap: collected again)
        try:
            await self.rest.shutdown(model.id)
        finally:
            self.aliases.forget([model.id])
            self.listing = [m for m in self.listing if m.id != model.id]
            if self.current is kernel:
                self.current = next(iter(self.kernels.values()), None)
            self._relabel()
            self.changed()

    def resumed(self) -> None:
        """The process was stopped (Ctrl-Z) and continues: check every connection now rather than
        at the next keepalive ping; a dead one reconnects."""
        for kernel in self.kernels.values():
            kernel.channel.check_soon()

    def running_in_background(self) -> list[tuple[Kernel, int | None]]:
        """(kernel, execution count) of every cell still running in the background."""
        return [(k, c.execution_count) for k in self.kernels.values() for c in k.background]

    def running(self) -> bool:
        """Whether a cell of ours runs, in the foreground or the background."""
        return any(k.entry().cells for k in self.kernels.values() if not k.gone)

    async def aclose(self) -> list[str]:
        """Close every channel; shut down the kernels started here (attached ones keep running).
        Returns a line for each kernel that could not be shut down (it is still on the server), and
        one for a hub's server we leave while it starts."""
        if self._cleanups:
            await asyncio.wait(self._cleanups, timeout=10)
        if self.hub is not None:
            self.hub.close()
        kernels = list(self.kernels.values())
        if self.detached and self.journal is not None:
            await asyncio.gather(*(k.leave() for k in kernels), return_exceptions=True)
            self.journal.changed()  # once more, now that nothing more comes: with the lines they were printing
        journal, self.journal, self._recording = self.journal, None, None  # (what follows is not for the record)
        self.kernels.clear()
        self.current = None
        await asyncio.gather(*(k.close() for k in kernels), return_exceptions=True)
        if journal is not None:
            journal.close() if self.detached else journal.remove()
        mine = [k for k in kernels if k.started_here and not k.gone and not self.detached and not self.resuming]
        results = await asyncio.gather(*(self.rest.shutdown(k.id) for k in mine), return_exceptions=True)
        left = []
        if self.hub is not None:
            await self.hub.hub.aclose()
            if self.hub.state == "starting":  # we left while it spawned: the hub goes on
                left.append(f"{self.hub.describe()} goes on starting; /hub stop (or the hub's page) stops it")
        return left + [f"could not shut down kernel {k.label} ({k.id[:8]}) on {self.rest.display_url}: {r}; it may still be running there"
                for k, r in zip(mine, results, strict=True) if isinstance(r, errors.ReplError)]
