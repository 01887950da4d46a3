"""The interactive prompt loop: read a cell, send it, stream its output, repeat.

Between prompts the app owns SIGINT (Ctrl-C for the running cell) and SIGTSTP (Ctrl-Z: send it to
the background); what a key or a kernel event means for the foreground cell is decided by
:mod:`repl.ui.foreground`, where output lands by :mod:`repl.ui.output`. ``input()`` from any cell
is asked one question at a time, never over the prompt: the prompt steps aside, keeping its text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass

from prompt_toolkit import PromptSession
from prompt_toolkit.utils import is_dumb_terminal

from repl import errors
from repl.protocol import session as s
from repl.ui import commands, editor, mime, render, turn
from repl.ui.asking import Asking
from repl.ui.cellinput import CellInput
from repl.ui.early import EarlyInput, Waited
from repl.ui.console import Console
from repl.ui.foreground import Do, Foreground
from repl.ui.output import RATE_LIMITED, OutputView
from repl.ui.prompt_parts import PromptParts
from repl.ui.questions import Ask, Item, Questions
from repl.timing import StartupProfile

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.ui.actions import Actions
    from repl.ui.debugging import DebugPrompt
    from repl.ui.widgetview import WidgetView
    from repl.cell import Cell
    from repl.gateway.channel import ChannelState
    from repl.kernel import Kernel
    from repl.opening import Opening
    from repl.workspace import Workspace


class _StepAside(Exception):  # the prompt makes way for a kernel's question (input() in the background)
    pass


@dataclass
class Running:  # the foreground cell while the app waits for it
    kernel: Kernel
    cell: Cell
    machine: Foreground
    wake: asyncio.Future  # set when the cell goes to the background


class App:
    def __init__(self, console: Console, server_label: str, style: render.Style, tracer,
                 vi: bool = False, pt_style=None, profile: StartupProfile | None = None) -> None:
        self.console = console
        self.server_label = server_label
        self.style = style
        self.tracer = tracer
        self.vi = vi
        self.pt_style = pt_style
        self.view = OutputView(console, style)
        self._widget_view: WidgetView | None = None  # made with the first widget
        self.prompt: PromptSession | None = None
        self._fg: Running | None = None
        self._keyboard: CellInput | None = None
        self.questions = Questions(console, lambda: self._keyboard,
                                   lambda req: self._fg is not None and req is self._fg.cell.request,
                                   self._prompting, lambda: self._own_signals(asyncio.get_running_loop()),
                                   self._interrupt, self._debug)
        self._debugging: DebugPrompt | None = None
        self._toolbar: Callable[[], str] = lambda: ""
        self._next_input = ""
        self._early_sigint = False
        self._actions: Actions | None = None
        self._exit_warned = False
        self.profile = profile or StartupProfile(False)
        self._failed: BaseException | None = None  # the first kernel could not be brought up
        self._early = EarlyInput(self.view.dim, self._on_sigtstp, self._on_sigint)  # input waiting for that kernel
        self._ws: Workspace | None = None
        self._turn_wait: asyncio.Future | None = None  # a cell waiting while our background cells run

    # ------------------------------------------------------------ from the kernels

    @property
    def widgets(self) -> WidgetView:
        if self._widget_view is None:
            from repl.ui.widgetview import WidgetView  # (and the widget drawing): with the first widget

            self._widget_view = WidgetView(self.view)
        return self._widget_view

    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None:
        fg = self._fg
        for ev in events:
            if self._not_output(kernel, ev) or (kernel.comms.models and self.widgets.capture(kernel, ev)):
                continue
            if isinstance(ev, s.RequestDone) and self._widget_view is not None:
                self._widget_view.flush(kernel)  # widgets its cells changed out of place, as they end
            if fg is not None and ev.request is fg.cell.request:
                self._foreground(fg, ev)
            elif isinstance(ev, s.RequestDone):
                self._background_done(kernel, ev.request)
            else:
                self._draw(kernel, ev, f"[{kernel.label}{' elsewhere' if ev.other else ''}] ")
        if self._debugging is not None:
            self._debugging.check(kernel)
        self._refresh()

    def _not_output(self, kernel: Kernel, ev: s.Event) -> bool:
        """Handle an event that is not a cell's output (the kernel lost, a question, the debugger,
        widgets); False for output."""
        if isinstance(ev, s.KernelLost):
            self.view.line("repl: " + render.kernel_lost(ev.state, kernel.label), "err")
        elif isinstance(ev, s.InputRequest):
            if not ev.other:
                self._ask(kernel, ev)
        elif isinstance(ev, s.DebugEvent):
            for note in kernel.debugger.take_notes():
                self.view.line("repl: " + note, "err")
            stop = kernel.debugger.take_stop()
            if stop is not None:
                self._ask(kernel, stop)
        elif isinstance(ev, s.CommEvent):
            self.widgets.changed(kernel, ev)
        else:
            return False
        return True

    def _foreground(self, fg: Running, ev: s.Event) -> None:
        do = fg.machine.event(ev)
        if do is Do.INTERRUPT:
            asyncio.ensure_future(self._interrupt(fg.kernel))
        elif do in (Do.CLEAR, Do.CLEAR_THEN_DRAW):
            self.view.clear()
        if do is Do.NEWLINE_THEN_DRAW:
            self.console.ensure_newline()
        if do in (Do.DRAW, Do.CLEAR_THEN_DRAW, Do.NEWLINE_THEN_DRAW):
            self._draw(fg.kernel, ev, None)

    def _draw(self, kernel: Kernel, ev: s.Event, tag: str | None) -> None:
        if isinstance(ev, s.Stream) and RATE_LIMITED.search(ev.text):
            self.view.rate_limited(kernel.label, next((c for c in reversed(kernel.cells) if c.request is ev.request), None))
        data = ev.data if isinstance(ev, (s.DisplayData, s.ExecuteResult)) else None
        if not (data and mime.WIDGET_VIEW in data and self.widgets.show(kernel, ev, tag)):
            self.view.show(kernel.id, ev, tag)

    def _background_done(self, kernel: Kernel, req: s.Request | None) -> None:
        cell = next((c for c in reversed(kernel.cells) if c.request is req), None)
        if cell is not None and cell.background:
            self.view.dim(render.background_done(kernel.label, cell.execution_count, cell.request.status,
                                                 time.perf_counter() - cell.started))

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None:
        self.kernel_notice(kernel, render.connection_change(kernel.label, state.label, before.label))

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None:
        if text:
            self.view.line("repl: " + text, "err")
        self._refresh()

    def _refresh(self) -> None:
        if self.prompt is not None and self.prompt.app.is_running:
            self.prompt.app.invalidate()

    # ------------------------------------------------------------ the loop

    async def run(self, ws: Workspace) -> int:
        """The prompt loop, until the user leaves. With ``ws.opening``, the prompt is up while the
        first kernel comes; if it cannot come, its error is raised once the prompt is gone."""
        opening, self._ws = ws.opening, ws
        parts = PromptParts(ws, self.server_label, self.style)
        asking = Asking(lambda: ws.current, self.console, self.style.color, lambda: ws.opening)
        self.prompt = parts.session(asking, self.vi, self.pt_style, self._on_sigint)
        def drawn(_app) -> None:  # the first kernel is brought up once the prompt is on screen
            self.profile.mark("prompt drawn")
            if opening is not None:
                opening.start()

        self.prompt.app.after_render += drawn
        if opening is not None and is_dumb_terminal():  # its prompt is another application: no hook
            opening.start()
        self._toolbar = parts.toolbar
        if opening is None:
            self._learn_specs(ws, parts)
        else:
            opening.task.add_done_callback(lambda task: self._opened(ws, parts, opening))
            ticker = asyncio.ensure_future(self._tick(opening))
            opening.task.add_done_callback(lambda task: ticker.cancel())
        loop = asyncio.get_running_loop()
        self._own_signals(loop)
        loop.add_signal_handler(signal.SIGCONT, ws.resumed)  # back from Ctrl-Z: are the links alive?
        try:
            while True:
                await self.questions.settle()  # the prompt may have stepped aside for them
                try:
                    text = await self._read(parts)
                except EOFError:
                    if self._may_exit(ws):
                        return 0
                    continue
                if self._failed is None and text and text.strip() and await self._handle(text, ws, opening):
                    return 0
                if self._failed is not None:
                    raise self._failed
        finally:
            for signum in (signal.SIGINT, signal.SIGTSTP, signal.SIGCONT):
                loop.remove_signal_handler(signum)

    # ------------------------------------------------------------ the first kernel, behind the prompt

    def _opened(self, ws: Workspace, parts: PromptParts, opening: Opening) -> None:
        task = opening.task
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._failed = exc
            self._step_aside()
            return
        self.view.line(opening.greeting(task.result()))
        if self.profile.on:
            for line in self.profile.lines():
                self.view.dim(line)

        def announced() -> None:
            opening.announced = True
            self._refresh()

        self.console.when_shown(announced)
        self._learn_specs(ws, parts)

    @staticmethod
    def _learn_specs(ws: Workspace, parts: PromptParts) -> None:
        async def learn() -> None:  # for /new completion
            with contextlib.suppress(errors.ReplError):
                parts.specs = sorted((await ws.rest.kernelspecs())["kernelspecs"])
        asyncio.ensure_future(learn())

    async def _tick(self, opening: Opening) -> None:
        while opening.showing:  # the toolbar counts the seconds of a slow start
            await asyncio.sleep(1.0)
            self._refresh()

    def _actions_for(self, ws: Workspace) -> Actions:
        if self._actions is None:  # (imported with the first /command)
            from repl.ui.actions import Actions

            self._actions = Actions(ws, self.console.line, self.tracer, self._set_next_input)
        return self._actions

    async def _handle(self, text: str, ws: Workspace, opening: Opening | None) -> bool:
        """Carry out one input: a /command or a cell. True means exit."""
        self._exit_warned = False
        parsed = commands.parse(text)
        early = not isinstance(parsed, commands.Unknown) and not (
            isinstance(parsed, commands.Command) and parsed.name in ("quit", "help"))
        if early and opening is not None:
            waited = await self._early.wait(opening, self.prompt.input if self.prompt is not None else None)
            if waited is Waited.DROPPED:
                self.view.line("repl: cancelled; the kernel is still on its way", "err")
            if waited is not Waited.UP:
                return waited is Waited.LEAVE
        if isinstance(parsed, commands.Unknown):
            self.view.line(f"repl: unknown command /{parsed.name} — /help lists them", "err")
        elif isinstance(parsed, commands.Command):
            if parsed.name == "quit":
                return True
            await self._actions_for(ws).run(parsed, lambda text: self.view.line(text, "err"))
        elif ws.current is None:
            self.view.line("repl: no current kernel: /new [SPEC] starts one, /use TARGET attaches", "err")
        else:
            return await self.run_cell(ws.current, parsed)  # True: the kernel asked us to leave
        return False

    async def _read(self, parts: PromptParts) -> str | None:
        assert self.prompt is not None
        self.console.ensure_newline()
        try:
            self.console.app = self.prompt.app
            self._early_sigint = False
            default, self._next_input = self._next_input, ""
            self._prompting()
            return await self.prompt.prompt_async(parts.message, default=default)
        except (KeyboardInterrupt, _StepAside):
            return None
        finally:
            self.prompt.app.erase_when_done = False
            self.console.app = None
            self.console.flush_pending()
            self._own_signals(asyncio.get_running_loop())

    def _set_next_input(self, text: str) -> None:
        self._next_input = text

    def _may_exit(self, ws: Workspace) -> bool:
        """Ctrl-D: exit, unless cells still run in the background and this is the first warning."""
        running = ws.running_in_background()
        if not running or self._exit_warned:
            return True
        self._exit_warned = True
        which = ", ".join(f"In [{n if n is not None else '?'}] on {k.label}" for k, n in running)
        self.view.line(f"repl: still running in the background: {which}; Ctrl-D again exits", "err")
        return False

    @staticmethod
    def _prompting() -> None:
        """At a prompt Ctrl-Z suspends repl to the shell (prompt_toolkit stops the process group):
        our SIGTSTP handler, which sends running cells to the background, steps aside."""
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTSTP)

    def _own_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        # prompt_toolkit drops SIGINT handlers when a prompt ends: take it back, so Ctrl-C from
        # here until the next prompt interrupts the cell instead of killing us.
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        loop.add_signal_handler(signal.SIGTSTP, self._on_sigtstp)

    async def run_cell(self, kernel: Kernel, code: str) -> bool:
        """Run one cell in the foreground; True if the kernel asked the REPL to exit."""
        loop = asyncio.get_running_loop()
        keyboard = self._keyboard = CellInput(self._on_sigtstp, self._on_sigint, on_eof=self._stop_waiting)
        wake = loop.create_future()

        def foreground(cell: Cell) -> None:  # before the request is sent: its first event is ours
            self._fg = Running(kernel, cell, Foreground(cell.request), wake)
            self.view.begin_cell()
            if self._early_sigint:
                self._early_sigint = False
                self._on_sigint()

        fg = None
        try:
            with keyboard:
                if kernel.background and not await self._turn(kernel, code):
                    return False
                cell = await kernel.execute(code, before_send=foreground)
                fg = self._fg
                await asyncio.wait([cell.done, wake], return_when=asyncio.FIRST_COMPLETED)
            if cell.done.done() and cell.done.exception() is not None:
                raise cell.done.exception()  # type: ignore[misc]
        except errors.ReplError as exc:
            self.view.line(f"repl: {exc}", "err")
            if isinstance(exc, errors.UsageError):  # e.g. too large to send: the text is not lost
                self._next_input = code
        finally:
            self._fg = None
            self._keyboard = None
            self.questions.cell_ended()
            if self.prompt is not None:
                keyboard.hand_to(self.prompt.input)
        if fg is not None:
            for line in fg.machine.summary():
                self.view.dim(line)
            self._next_input = self.view.payloads(fg.cell.request) or self._next_input
        self.console.ensure_newline()
        self.view.between_cells()
        edit = fg.cell.edit_asked if fg is not None else None
        if edit is not None:
            return await self._edit_magic(kernel, *edit)
        keep = fg.cell.exit_asked if fg is not None else None
        if keep:
            kernel.started_here = False  # %exit -k style: leave the kernel running
        return keep is not None

    async def _turn(self, kernel: Kernel, code: str) -> bool:
        """Wait while our background cells keep ``kernel`` busy; False if Ctrl-C took the cell back."""
        waiting = self._turn_wait = asyncio.ensure_future(turn.wait(kernel, self.view.dim))
        if self._early_sigint:  # Ctrl-C typed with its Enter: for this cell, not the one running
            self._early_sigint = False
            waiting.cancel()
        try:
            if await turn.finished(waiting):
                return True
        finally:
            self._turn_wait = None
        self._next_input = code
        self.view.line(turn.TAKEN_BACK, "err")
        return False

    async def _edit_magic(self, kernel: Kernel, path: str, line: int | None) -> bool:
        """``%edit``: the file in the user's editor, then run, as IPython does."""
        if not os.path.isfile(path):
            self.view.line(f"repl: %edit: {path} is on the kernel's machine, not this one", "err")
            return False
        try:
            argv = editor.command(os.environ)
            await asyncio.get_running_loop().run_in_executor(None, editor.edit_file, argv, path, line)
            with open(path, encoding="utf-8", errors="replace") as f:
                code = f.read()
        except (editor.EditorError, OSError) as exc:
            self.view.line(f"repl: %edit: {exc}", "err")
            return False
        return await self.run_cell(kernel, code) if code.strip() else False

    # ------------------------------------------------------------ input() and debugger stops

    async def _debug(self, kernel: Kernel, ask: Ask) -> None:
        if self._debugging is None:  # (imported with the first stop)
            from repl.ui.debugging import DebugPrompt

            ws = self._ws
            assert ws is not None
            self._debugging = DebugPrompt(self.view.line, self.style, self._toolbar, lambda cmd: self._actions_for(
                ws).run(cmd, lambda text: self.view.line(text, "err")))
        await self._debugging.run(kernel, ask)

    def _ask(self, kernel: Kernel, ev: Item) -> None:
        self.questions.add(kernel, ev, start=not self._step_aside())

    def _step_aside(self) -> bool:
        """End the prompt if it is showing, keeping its half-typed line for the next one (and
        not leaving it on screen twice); False if no prompt was showing."""
        if self.prompt is None or not self.prompt.app.is_running or self.console.app is not self.prompt.app:
            return False
        if self.prompt.app.is_done:
            return True  # it was answered and is on its way out already: exit() again would raise
        self._next_input = self.prompt.default_buffer.text
        self.prompt.app.erase_when_done = True
        self.prompt.app.exit(exception=_StepAside())
        return True

    # ------------------------------------------------------------ keys while a cell runs

    def _on_sigint(self) -> None:
        """Ctrl-C while no prompt is showing (the prompt handles its own as a key)."""
        if self._stop_waiting():
            return
        fg = self._fg
        if fg is None:
            if self._early.waiting:  # a cell waiting for the first kernel
                self.console.write("out", "\n")
                self._early.drop()
                return
            if self._turn_wait is not None and not self._turn_wait.done():  # a cell waiting its turn
                self.console.write("out", "\n")
                self._turn_wait.cancel()
                return
            if self._actions is not None and self._actions.cancel():  # e.g. a kernel launch taking too long
                self.console.write("out", "\n")
                return
            self._early_sigint = True  # between the prompt and the cell: it is meant for the cell
            return
        self.console.write("out", "\n")  # after the terminal's ^C echo
        if self.questions.ctrl_c_for_the_debugger():
            return  # typed before pdb's next prompt showed: it leaves pdb there
        do = fg.machine.ctrl_c(time.time(), fg.kernel.session.clock_offset)
        if do is Do.GIVE_UP:
            self.view.line("repl: no longer waiting for this cell; it goes on in the background", "err")
            self._detach(fg)
        elif do is Do.INTERRUPT:
            asyncio.ensure_future(self._interrupt(fg.kernel))

    def _stop_waiting(self) -> bool:
        """Ctrl-C or Ctrl-D while the (dbg) prompt waits for the debugger: it stops waiting."""
        if self._debugging is None or not self._debugging.stop_waiting():
            return False
        self.console.write("out", "\n")
        return True

    def _on_sigtstp(self) -> None:
        """Ctrl-Z while a cell runs (read as a key, or a real SIGTSTP)."""
        fg = self._fg
        if fg is not None and fg.machine.ctrl_z() is Do.DETACH:
            self.view.dim(f"[{fg.kernel.label}] cell sent to the background; its output will be tagged")
            self._detach(fg)

    def _detach(self, fg: Running) -> None:
        fg.cell.background, self._fg = True, None
        if self._widget_view is not None:
            self._widget_view.detach(fg.cell.request, f"[{fg.kernel.label}] ")
        if not fg.wake.done():
            fg.wake.set_result(None)

    async def _interrupt(self, kernel: Kernel) -> None:
        try:
            await kernel.interrupt()
        except errors.ReplError as exc:
            self.view.line(f"repl: interrupt failed: {exc}", "err")
