"""What each /command does. Every user mistake becomes one line; the REPL goes on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Awaitable, Callable, TYPE_CHECKING

from repl import errors, notebook
from repl.protocol import hub as h
from repl.ui.slash import commands
from repl.ui.debugger import words as debugwords
from repl.ui.prompt import editor
from repl.ui.output import outputs, render, sanitize, tables
from repl.ui.output.console import terminal_size
from repl.ui.trace import Tracer

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.files.commands import Files
    from repl.gateway.terminals import Terminals
    from repl.cell import Cell
    from repl.kernel import Kernel
    from repl.ui.output.console import Console
    from repl.ui.widgets.focus import Focus
    from repl.workspace import Workspace


@contextlib.asynccontextmanager
async def progress(say: Callable[[str], None], what: str, every: float = 5.0):
    """A line every few seconds while something slow (a kernel launch on a cluster) goes on."""
    started = time.monotonic()

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            say(f"… still starting the {what} ({time.monotonic() - started:.0f} s; Ctrl-C cancels)")

    ticker = asyncio.ensure_future(tick())
    try:
        yield
    finally:
        ticker.cancel()


class Actions:
    """The /commands. Each ``do_NAME(arg)`` raises :class:`errors.ReplError` for a user mistake."""

    def __init__(self, ws: Workspace, say: Callable[[str], None], tracer: Tracer,
                 next_input: Callable[[str], None] = lambda text: None, focus: Focus | None = None,
                 console: Console | None = None, page: Callable[[str], Awaitable[str | None]] | None = None,
                 copy: Callable[[str], str | None] | None = None, color: bool = True) -> None:
        self.ws = ws
        self.console = console  # (the screen, for /terminal and progress bars)
        self._files: Files | None = None
        self._terminals: Terminals | None = None
        self.say = say
        self.tracer = tracer
        self.next_input = next_input  # text the next prompt starts with
        self.focus = focus  # the keyboard on a widget
        self.page = page  # text in $PAGER: None when shown, else why not
        self.copy = copy  # text to the clipboard: None when done, else why not
        self.color = color
        self._task: asyncio.Future | None = None

    def _current(self) -> Kernel:
        if self.ws.current is None:
            raise errors.UsageError("no current kernel: /new [SPEC] starts one, /use TARGET attaches to one")
        return self.ws.current

    async def run(self, cmd: commands.Command, warn: Callable[[str], None]) -> bool:
        """Carry out ``cmd`` (not /quit, which the prompt loop handles); mistakes become one line
        (and False)."""
        task = self._task = asyncio.ensure_future(getattr(self, "do_" + cmd.name)(cmd.arg))
        try:
            await task
            return True
        except errors.ReplError as exc:
            warn(f"repl: {exc}")
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            warn(f"repl: /{cmd.name} cancelled")
        finally:
            self._task = None
        return False

    def cancel(self) -> bool:
        """Ctrl-C: cancel the running command; False if none runs."""
        if self._task is None or self._task.done():
            return False
        self._task.cancel()
        return True

    async def do_widgets(self, arg: str) -> None:
        if arg.strip():
            raise errors.UsageError("usage: /widgets (it takes no argument)")
        roots = self.focus.candidates() if self.focus is not None else []
        if not roots:
            self.say("no widget with controls yet (a cell that displays a slider, a button, interact… makes one)")
            return
        for i, root in enumerate(roots, 1):
            first = render.strip_ansi(root.last).split("\n", 1)[0] if root.last else root.fallback
            self.say(sanitize.label(f"{i:>3}  {root.kernel.label}  {first[:60]}"))  # (the kernel's words)

    async def do_widget(self, arg: str) -> None:
        arg = arg.strip()
        if arg and not arg.isdigit():
            raise errors.UsageError("usage: /widget [N] (N: a number from /widgets)")
        if self.focus is not None:
            self.focus.take(int(arg) if arg else None)

    def _cell(self, arg: str, command: str) -> Cell:
        """Cell ``In [N]`` of the current kernel run in this repl (``arg``), or the last one."""
        arg = arg.strip()
        if arg and not arg.isdigit():
            raise errors.UsageError(f"usage: /{command} [N] (N: the number of a cell, In [N]; default: the last)")
        kernel = self._current()
        cells = kernel.cells
        if not arg:
            if not cells:
                raise errors.UsageError(f"no cell has run on {kernel.label} in this repl yet")
            return cells[-1]
        for cell in reversed(cells):
            if cell.execution_count == int(arg):
                return cell
        raise errors.UsageError(f"no cell In [{arg}] run in this repl on {kernel.label} (its output is kept only here)")

    @staticmethod
    def _which(cell: Cell) -> str:
        return f"In [{cell.execution_count if cell.execution_count is not None else '?'}]"

    async def do_pager(self, arg: str) -> None:
        cell = self._cell(arg, "pager")
        text = outputs.as_text(cell.saved_outputs(), terminal_size()[0], self.color)
        if not text.strip():
            raise errors.UsageError(f"{self._which(cell)} printed nothing")
        if self.page is None:
            raise errors.UsageError("no pager here")
        why = await self.page(text)
        if why is not None:
            raise errors.UsageError(why)

    async def do_copy(self, arg: str) -> None:
        cell = self._cell(arg, "copy")
        text = outputs.as_text(cell.saved_outputs(), terminal_size()[0], color=False)
        if not text.strip():
            raise errors.UsageError(f"{self._which(cell)} printed nothing to copy")
        why = self.copy(text) if self.copy is not None else "no clipboard here"
        if why is not None:
            raise errors.UsageError(f"not copied: {why}")
        lines = text.count("\n") + (not text.endswith("\n"))
        self.say(f"copied the output of {self._which(cell)} ({lines} line{'s' if lines != 1 else ''}, "
                 f"{len(text)} characters) to the clipboard")

    async def do_detach(self, arg: str) -> None:
        if arg.strip():
            raise errors.UsageError("usage: /detach (it takes no argument)")
        kernels = [k for k in self.ws.kernels.values() if not k.gone]
        if not kernels:
            raise errors.UsageError("no kernel to keep running: Ctrl-D leaves")
        stopped = next((k for k in kernels if k.debugger.stopped is not None), None)
        if stopped is not None:
            raise errors.UsageError(f"{stopped.label} is stopped in its debugger: go on first (c, or q), then /detach")
        cleared = await self.ws.detach()
        running = self.ws.running_in_background()
        cells = "; still running: " + ", ".join(f"In [{n if n is not None else '?'}] on {k.label}" for k, n in running) \
            if running else ""
        what = f"{len(kernels)} kernel{'s' if len(kernels) != 1 else ''}"
        removed = f" (breakpoints taken out of {', '.join(cleared)}: nobody would be there to go on)" if cleared else ""
        self.say(f"detached: {what} go{'es' if len(kernels) == 1 else ''} on running{cells}{removed}. "
                 f"Come back with: repl --resume")

    # ------------------------------------------------------------ files and terminals

    def _show_progress(self, line: str | None) -> None:
        """A progress bar drawn in place (no prompt shows while a command runs); None erases it."""
        if sys.stdout.isatty():
            sys.stdout.write("\r\x1b[K" + (sanitize.label(line) if line else ""))
            sys.stdout.flush()

    def _files_of(self) -> Files:
        if self._files is None:
            from repl.files.commands import Files
            from repl.ui.output.console import terminal_size

            self._files = Files(self.ws, self.say, self._show_progress, lambda: terminal_size()[0])
        return self._files

    async def do_upload(self, arg: str) -> None:
        await self._files_of().upload(arg)

    async def do_download(self, arg: str) -> None:
        await self._files_of().download(arg)

    def _terminals_of(self) -> Terminals:
        if self._terminals is None:
            from repl.gateway.terminals import Terminals

            self._terminals = Terminals(self.ws.rest, self.ws.ws_base, self.ws.options)
        return self._terminals

    async def do_terminals(self, arg: str) -> None:
        listed = await self._terminals_of().list()
        if listed is None:
            raise errors.UsageError(f"{self.ws.rest.display_url} has no terminals (Kernel Gateway and Enterprise "
                                    "Gateway have none)")
        if not listed:
            self.say("no terminals on the server: /terminal starts one")
            return
        from datetime import datetime

        from repl.protocol.terminal import ago

        last = self._terminals_of().last
        now = datetime.now().astimezone()
        self.say(tables.grid(["name", "last activity"], [[str(t["name"]) + (" *" if t["name"] == last else ""),
                                                          ago(str(t.get("last_activity", "")), now)] for t in listed]))

    async def do_terminal(self, arg: str) -> None:
        from repl.ui import terminal

        if len(arg.split()) > 1:
            raise errors.UsageError("usage: /terminal [NAME]")
        if not sys.stdin.isatty() or self.console is None:
            raise errors.UsageError("/terminal needs a terminal")
        terms = self._terminals_of()
        listed = await terms.list()
        if listed is None:
            raise errors.UsageError(f"{self.ws.rest.display_url} has no terminals (Kernel Gateway and Enterprise "
                                    "Gateway have none)")
        names = {str(t["name"]) for t in listed}
        name = arg.strip() or (terms.last if terms.last in names else None)
        existed = name is not None and name in names
        if name is None or not existed:
            name = await terms.create(name)
        link = await terms.open(name)
        with self.console.hold():
            ended = await terminal.run(link, replays=existed)
        terms.last = None if ended else name
        self.say(f"terminal {name} ended" if ended else
                 f"left terminal {name}; it keeps running: /terminal goes back to it, exit in it ends it")

    async def do_help(self, arg: str) -> None:
        self.say(commands.help_text())

    async def do_kernels(self, arg: str) -> None:
        models, hidden = await self.ws.list_kernels()
        if hidden:
            self.say("the server does not list its kernels (Kernel Gateway needs "
                     "--JupyterWebsocketPersonality.list_kernels=True); the kernels this repl knows:")
        current = self.ws.current.id if self.ws.current else None
        aliases = {k.id: k.alias for k in self.ws.kernels.values() if k.alias}
        aliases.update({kid: a for kid, a in self.ws.aliases.all().items() if kid not in aliases})
        sessions = {kid: f"{x.path} ({x.type})" for kid, x in self.ws.sessions.items()} if not hidden else {}
        self.say(tables.kernels(models, current, aliases, set(self.ws.kernels), sessions=sessions))

    async def do_specs(self, arg: str) -> None:
        self.say(tables.specs(await self.ws.rest.kernelspecs(refresh=True)))

    async def do_new(self, arg: str) -> None:
        words = arg.split()
        path = None
        if "--path" in words:
            at = words.index("--path")
            if at + 1 >= len(words):
                raise errors.UsageError("usage: /new [SPEC] [--path NOTEBOOK.ipynb]")
            path = words[at + 1]
            del words[at:at + 2]
        if len(words) > 1:
            raise errors.UsageError("usage: /new [SPEC] [--path NOTEBOOK.ipynb]")
        spec = words[0] if words else None
        article = "an" if (spec or "default")[0].lower() in "aeiou" else "a"
        self.say(f"starting {article} {spec or 'default'} kernel{f' for {path}' if path else ''}… (Ctrl-C cancels)")
        async with progress(self.say, "kernel"):
            kernel = await self.ws.start(spec, path=path)
        self.say(f"started {kernel.model.name} kernel {kernel.id[:8]}{f' for {path}' if path else ''}; it is now current")

    async def do_use(self, arg: str) -> None:
        before = set(self.ws.kernels)
        kernel = await self.ws.use(arg)
        verb = "switched to" if kernel.id in before else "attached to"
        self.say(f"{verb} {kernel.label} ({kernel.model.name} {kernel.id[:8]})")

    async def do_name(self, arg: str) -> None:
        if not arg:
            raise errors.UsageError("usage: /name ALIAS")
        kernel = self._current()
        if self.ws.name(kernel, arg):
            self.say(f"kernel {kernel.id[:8]} is now '{arg}'")
        else:
            self.say(f"kernel {kernel.id[:8]} is now '{arg}' for this session only: "
                     f"{self.ws.aliases.path} cannot be written")

    async def do_interrupt(self, arg: str) -> None:
        await self._current().interrupt()

    async def do_restart(self, arg: str) -> None:
        kernel = self._current()
        await self.ws.rest.restart(kernel.id)  # the kernel's shutdown_reply tells everyone, us included

    async def do_shutdown(self, arg: str) -> None:
        if arg:
            model = await self.ws.resolve_target(arg)
        else:
            model = self._current().model
        label = self.ws.kernels[model.id].label if model.id in self.ws.kernels else model.id[:8]
        await self.ws.shutdown(model)
        now = self.ws.current
        tail = f"; now on {now.label}" if now else "; no kernel left: /new [SPEC] starts one"
        self.say(f"shut down {label}{tail}")

    async def do_debug(self, arg: str) -> None:
        try:
            self.say(self.tracer.configure(arg))
        except ValueError as exc:
            raise errors.UsageError(str(exc)) from None

    async def do_last(self, arg: str) -> None:
        self.say(self.tracer.last())

    async def do_save(self, arg: str) -> None:
        words = arg.split()
        force = "-f" in words
        words = [w for w in words if w != "-f"]
        if len(words) != 1:
            raise errors.UsageError("usage: /save [-f] FILE.ipynb or DIRECTORY")
        kernel = self._current()
        path = Path(words[0]).expanduser()
        if path.is_dir() or words[0].endswith("/"):
            path = path / f"{kernel.label}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        elif path.suffix != ".ipynb":
            path = path.with_suffix(path.suffix + ".ipynb") if path.suffix else path.with_suffix(".ipynb")
        if path.exists() and not force:
            raise errors.UsageError(f"{path} exists: /save -f {words[0]} overwrites it")
        specs = await self.ws.rest.kernelspecs()
        entry = specs.get("kernelspecs", {}).get(kernel.model.name, {})
        display = entry.get("spec", {}).get("display_name", "") if isinstance(entry, dict) else ""
        nb = notebook.build(kernel.cells, kernel.session.kernel_info, kernel.model.name, display)
        try:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise errors.UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        gone = notebook.dropped(kernel.cells)
        lost = f"; the outputs of {gone} were no longer kept: {self.ws.keep.why}" if gone else ""
        self.say(f"saved {len(kernel.cells)} cells of {kernel.label} to {path}{lost}")

    async def do_edit(self, arg: str) -> None:
        if not arg.strip().isdigit():
            raise errors.UsageError("usage: /edit N (cell In [N] of the current kernel, in $VISUAL / $EDITOR)")
        kernel = self._current()
        code = await kernel.code_of(int(arg))
        suffix = editor.suffix_for(kernel.language_info)
        try:
            edited = await asyncio.get_running_loop().run_in_executor(None, editor.edit, code, suffix)
        except editor.EditorError as exc:
            raise errors.UsageError(str(exc)) from None
        self.next_input(edited)  # back at the prompt, ready to run with Enter

    async def do_hub(self, arg: str) -> None:
        hub = self.ws.hub
        if hub is None:
            raise errors.UsageError("not on a JupyterHub: /hub works when --url is a hub's (its address, or …/user/NAME/)")
        words = arg.split()
        if not words:
            servers = await hub.hub.servers(hub.user)
            self.say(tables.hub_servers(list(servers.values()), hub.name, hub.origin))
            return
        if words[0] not in ("start", "stop") or len(words) > 2:
            raise errors.UsageError("usage: /hub (your servers), /hub start [NAME], /hub stop [NAME]")
        try:
            name = h.server_name(words[1]) if len(words) > 1 else hub.name
        except ValueError as exc:
            raise errors.UsageError(str(exc)) from None
        if words[0] == "start":
            await hub.start(name, lambda what, line: self.say(line) if line else None)
            if name == hub.name:
                self.ws.retry_links()  # its kernels learn they are gone: /new starts one there
        else:
            self.say(f"stopping {hub.describe(name)}… (Ctrl-C stops waiting)")
            await hub.stop(name)
            mine = name == hub.name and self.ws.kernels
            if mine:
                await self.ws.server_stopped()
            self.say(f"stopped {hub.describe(name)}" + ("; its kernels are gone with it: /hub start brings the server "
                                                          "back" if mine else ""))

    # ------------------------------------------------------------ the kernel's debugger

    async def do_break(self, arg: str) -> None:
        parsed = debugwords.parse_break(arg)
        kernel = self._current()
        dbg = kernel.debugger
        if parsed is None:
            rows = [f"  {b.where()}" + (f"  if {b.condition}" if b.condition else "") for b in dbg.dap.breakpoints]
            if dbg.dap.exceptions != "noexc":
                rows.append(f"  on {dbg.dap.exceptions} exceptions")
            self.say(f"breakpoints on {kernel.label}:\n" + "\n".join(rows) if rows else f"no breakpoints on {kernel.label}")
        elif isinstance(parsed, str):
            await dbg.exceptions(parsed)
            self.say({"raised": f"{kernel.label} stops on every exception raised",
                      "uncaught": f"{kernel.label} stops on exceptions nothing catches",
                      "noexc": f"{kernel.label} no longer stops on exceptions"}[parsed])
        else:
            where = parsed.place
            b = await dbg.add(where.cell, where.path, where.line, parsed.condition)
            note = "" if b.verified else " (not confirmed by the debugger: is the file on the kernel's machine?)"
            self.say(f"breakpoint at {b.where()}" + (f" if {b.condition}" if b.condition else "") + f" on {kernel.label}{note}")

    async def do_unbreak(self, arg: str) -> None:
        where = debugwords.parse_unbreak(arg)
        kernel = self._current()
        if where is None:
            gone = await kernel.debugger.remove(None, "", None)
        else:
            gone = await kernel.debugger.remove(where.cell, where.path, where.line)
            if not gone:
                raise errors.UsageError(f"no breakpoint at {arg.strip()} on {kernel.label}")
        self.say(f"removed {len(gone)} breakpoint(s) from {kernel.label}")

    async def do_pause(self, arg: str) -> None:
        kernel = self._current()
        if arg:
            model = await self.ws.resolve_target(arg)
            if model.id not in self.ws.kernels:
                raise errors.UsageError(f"not attached to {arg}: /use it first")
            kernel = self.ws.kernels[model.id]
        if kernel.session.state != "busy":
            raise errors.UsageError(f"nothing runs on {kernel.label}: /pause stops a running cell")
        await kernel.debugger.pause()
