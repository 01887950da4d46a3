"""The first kernel, brought up behind the prompt: the embedded gateway (if any), the server's
API, then the kernel started or attached. The prompt is drawn and takes typing meanwhile; the
toolbar shows :attr:`Opening.what`; a cell entered early waits for :attr:`Opening.task`.

Independent requests go together (``/api`` with the kernelspecs or the kernel lookup); the
websocket opens as soon as the kernel's id is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from repl import __version__, errors
from repl.config import kernel_env_for
from repl.protocol.messages import USERNAME

if TYPE_CHECKING:
    from repl.protocol.record import Record
    from repl.gateway.local import LocalGateway
    from repl.gateway.rest import KernelModel, RestClient
    from repl.hub.server import HubServer
    from repl.kernel import Kernel

    _Asked = tuple[asyncio.Future[dict], asyncio.Future[dict], asyncio.Future[KernelModel] | None]  # api, specs, lookup


class Kernels(Protocol):
    """What an opening needs of the workspace it brings the first kernel into
    (:class:`repl.workspace.Workspace` has it; the workspace keeps its opening, so it knows this
    module, and this module knows only that shape)."""

    rest: RestClient
    kernel_env: dict | None
    opening: Any
    hub: HubServer | None

    async def rebase(self, url: str) -> None: ...

    async def start(self, spec: str | None = None, path: str | None = None) -> Kernel: ...

    async def attach(self, target: str | KernelModel) -> Kernel: ...

    async def resolve_target(self, target: str) -> KernelModel: ...

    @property
    def kernels(self) -> dict[str, Kernel]: ...

    async def resume(self, rec: Record) -> tuple[Kernel | None, list[str]]: ...


class Opening:
    def __init__(self, ws: Kernels, *, gateway: LocalGateway | None, attach: str | None, spec: str | None,
                 env: dict[str, str], warn: Callable[[str], None], mark: Callable[[str], None] = lambda what: None,
                 env_source: str = "--env", say: Callable[[str], None] | None = None,
                 hub: tuple[str | None, dict, str] | None = None, resume: Record | None = None) -> None:
        self.ws = ws
        ws.opening = self  # the workspace's first kernel: the prompt and the keys read it there
        self.attach = attach
        self.resume = resume  # the record of a session to come back to
        self.language: str | None = None  # of the kernel to come, once its spec is known
        self.language_known = asyncio.Event()  # (set when the opening ends too, known or not)
        self.announced = False  # its greeting is on screen: the prompt may show the kernel
        self.what = "starting the local gateway" if gateway is not None else f"connecting to {ws.rest.display_url}"
        self.since = time.monotonic()
        self._warn = warn
        self._say = say or warn  # a line of progress (a hub's spawn)
        self._hub = hub  # (the named server, the spawn's user_options, where the name came from) if the URL may be a hub's
        self._mark = mark
        self._env_source = env_source  # where the kernel env came from (a flag or the config file)
        self._how = (gateway, spec, env)
        self._runner: asyncio.Task | None = None
        self.task: asyncio.Future[Kernel] = asyncio.get_running_loop().create_future()  # done when it is up

    def start(self) -> None:
        """Go (once): after the first prompt is drawn, as the imports it begins with hold the loop."""
        if self._runner is None and not self.task.done():
            self.since = time.monotonic()
            self._runner = asyncio.ensure_future(self._run(*self._how))
            self._runner.add_done_callback(self._ended)

    async def language_soon(self, wait: float) -> str | None:
        """The language of the kernel to come, waiting up to ``wait`` s for its spec to be known."""
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
            await asyncio.wait_for(self.language_known.wait(), wait)
        return self.language

    def _ended(self, runner: asyncio.Task) -> None:
        self.language_known.set()
        if self.task.done():
            return
        if runner.cancelled():
            self.task.cancel()
        elif runner.exception() is not None:
            self.task.set_exception(runner.exception())  # type: ignore[arg-type]
        else:
            self.task.set_result(runner.result())

    @property
    def fresh(self) -> bool:
        """A new kernel (not attached): its first cell is In [1]."""
        return self.attach is None and self.resume is None

    @property
    def pending(self) -> bool:
        return not self.task.done()

    @property
    def showing(self) -> bool:
        """For the toolbar: on its way, or up and not announced yet (the kernel shows after its greeting)."""
        return self.pending or (not self.announced and not self.task.cancelled() and self.task.exception() is None)

    def status(self) -> str:
        """For the toolbar: what is going on, and for how long once it is slow."""
        took = time.monotonic() - self.since
        return f"{self.what}…" + (f" {took:.0f} s" if took >= 3 else "")

    def greeting(self, kernel: Kernel) -> str:
        lang = kernel.language_info
        what = f"{kernel.model.name} kernel {kernel.id[:8]}"
        if lang.get("name"):
            what += f" ({lang.get('name')} {lang.get('version', '')})".replace(" )", ")")
        verb = "attached to" if self.attach else "back to" if self.resume is not None else "started"
        where = self.ws.hub.describe() if self.ws.hub is not None else self.ws.rest.display_url
        others = len(self.ws.kernels) - 1 if self.resume is not None else 0
        more = f" (and {others} more: /kernels)" if others > 0 else ""
        return f"repl {__version__}: {verb} {what} on {where}{more}. /help for commands, Ctrl-D to exit."

    def still(self) -> str:
        """What goes on when the user stops waiting for it (Ctrl-C)."""
        hub = self.ws.hub
        if hub is not None and hub.state == "starting":
            return f"{hub.describe()} goes on starting (/hub stop stops it); the kernel comes when it is up"
        return "the kernel is still on its way"

    def _ask(self, api: asyncio.Future[dict]) -> _Asked:
        """With ``/api``: the kernelspecs and the kernel to attach to, asked at once."""
        specs = asyncio.ensure_future(self.ws.rest.kernelspecs())
        lookup = asyncio.ensure_future(self.ws.resolve_target(self.attach)) if self.attach else None
        return api, specs, lookup

    async def _through_hub(self, asked: _Asked, named: str | None, options: dict, named_source: str) -> _Asked:
        """When the URL is a JupyterHub's: reach the user's server (started if it is not
        running) and ask that server; else the requests ``asked`` as they are."""
        from repl.hub.client import HubClient
        from repl.hub.server import HubServer
        from repl.protocol import hub as h

        rest = self.ws.rest
        where = h.locate(rest.base_url)
        client = HubClient(rest.sibling(where.base))
        probe = asyncio.ensure_future(client.version())
        api = asked[0]
        try:
            first: list[asyncio.Future[Any]] = [probe, api]
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            if not probe.done() and api.done() and isinstance(api.exception(), (errors.ServerUnreachable, errors.ServerTimeout)):
                probe.cancel()  # nothing answers there (or not in TLS): that says most, and at once
                version = None
            else:
                version = await probe
        except BaseException:
            probe.cancel()
            await client.aclose()
            raise
        if version is None:
            await client.aclose()
            return asked
        _drop(*(f for f in asked if f is not None))
        if named is not None:
            try:
                named = h.server_name(named)
            except ValueError as exc:
                raise errors.UsageError(f"{named_source}: {exc}") from None
        if named is not None and where.server and where.server != named:
            raise errors.UsageError(f"the URL names server '{where.server}' and {named_source} '{named}': give one of them")
        server = self.ws.hub = HubServer(client, user=where.user, name=named if named is not None else where.server or h.DEFAULT,
                                         options=options)
        self.what = f"asking the hub at {server.hub_label} for your server"

        def report(what: str, line: str | None) -> None:
            self.what = what
            if server.state == "starting":  # the kernel's language is a spawn away: Enter does not wait for it
                self.language_known.set()
            if line is not None:
                self._say("repl: " + line)

        await self.ws.rebase(await server.reach(report, rest.answers_at))
        self.what = f"connecting to {server.describe()}"
        return self._ask(asyncio.ensure_future(rest.api_info()))

    async def cancel(self) -> None:
        """Stop bringing the kernel up (the user left first); a kernel half launched is shut
        down by the workspace when its launch ends."""
        runner = self._runner
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(BaseException):
                await runner
        self.task.cancel()

    async def _run(self, gateway: LocalGateway | None, spec: str | None, env: dict[str, str]) -> Kernel:
        rest = self.ws.rest
        # the kernelspecs (a spec is checked before its launch, and says the language of what is
        # typed meanwhile) and the kernel, asked with /api; of our own gateway, once it answers
        api: asyncio.Future[dict] = asyncio.ensure_future(gateway.ready() if gateway is not None else rest.api_info())
        if gateway is not None:
            try:
                await asyncio.wait([api])
            except BaseException:  # (Ctrl-D while it starts: the gateway is stopped, its start fails unheard)
                _drop(api)
                raise
        api, specs, lookup = self._ask(api)
        if gateway is None and self._hub is not None:  # (asked meanwhile: a hub's URL is the exception)
            api, specs, lookup = await self._through_hub((api, specs, lookup), *self._hub)
        try:
            api_info = await api  # first: its error (not a gateway, unreachable, not TLS) says most
            self._mark("server answered")
            if gateway is not None:
                self.what = "starting a kernel" if spec is None else f"starting a {spec} kernel"
            if lookup is None:
                model, known = None, await specs  # (the spec is checked before its launch)
            else:
                model = await lookup
                await asyncio.wait([specs])  # sent with the lookup: about as quick; only for the language
                known = specs.result() if not specs.cancelled() and specs.exception() is None else {}
        except BaseException:
            _drop(specs, *([lookup] if lookup is not None else []))
            raise
        name = model.name if model is not None else spec or str(known.get("default", ""))
        if self.resume is not None:
            name = next((k.name for k in self.resume.kernels if k.id == self.resume.current), name)
        self.language = _language(known, name)
        self.language_known.set()
        kernel_env = kernel_env_for(api_info, env, USERNAME)
        if env and kernel_env is None:
            self._warn(f"repl: {self._env_source} ignored: only Enterprise Gateway takes kernel environment variables")
        self.ws.kernel_env = kernel_env
        if self.resume is not None:
            kernel = await self._come_back(self.resume)
        elif model is None:
            self.what = f"starting a {name or 'default'} kernel"
            kernel = await self.ws.start(spec)
        else:
            self.what = f"attaching to {model.name} kernel {model.id[:8]}"
            kernel = await self.ws.attach(model)
        self._mark("kernel connected")
        return kernel


    async def _come_back(self, rec: Record) -> Kernel:
        from repl.protocol.record import ago, label_of

        n = len(rec.kernels)
        self.what = f"coming back to {n} kernel{'s' if n != 1 else ''}"
        left = "detached" if rec.detached else "whose repl was killed"
        self._say(f"repl: coming back to the session {left} {ago(time.time() - rec.since)}: "
                  + ", ".join(label_of(k, rec) for k in rec.kernels))
        kernel, gone = await self.ws.resume(rec)
        for line in gone:
            self._warn(f"repl: {line}")
        if kernel is None:
            raise errors.NoSuchKernel(f"nothing to come back to on {self.ws.rest.display_url}: every kernel of that "
                                      "session is gone; plain `repl` starts a new one")
        return kernel


def _language(specs: dict, name: str | None) -> str | None:
    entry = specs.get("kernelspecs", {}).get(name or "") or {}
    language = (entry.get("spec") or {}).get("language") if isinstance(entry, dict) else None
    return str(language).lower() if language else None


def _drop(*futures: asyncio.Future) -> None:
    """Cancel requests no longer wanted; an error they already met is not reported again."""
    for f in futures:
        f.cancel()
        f.add_done_callback(lambda f: f.cancelled() or f.exception())
