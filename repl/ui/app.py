"""The interactive prompt loop: read an input, hand it on, repeat until the user leaves.

The loop owns the prompt (and what the next one starts with), the signal handlers between prompts
(SIGINT: Ctrl-C for the running cell; SIGTSTP: Ctrl-Z sends it to the background; SIGCONT: back
from a suspend) and leaving (Ctrl-D, ``/quit``). A cell is run by :mod:`repl.ui.runner`, kernel
events are routed by :mod:`repl.ui.routing`, the first kernel comes behind the prompt through
:mod:`repl.ui.first_kernel`, ``/commands`` are carried out by :mod:`repl.ui.slash.actions`. ``input()``
from any cell and debugger stops are asked one at a time by :mod:`repl.ui.questions`, never over
the prompt: the prompt steps aside, keeping its text.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.utils import is_dumb_terminal

from repl.protocol import session as s
from repl.timing import StartupProfile
from repl.ui.slash import commands
from repl.ui import keymode
from repl.ui.output import render
from repl.ui.prompt.asking import Asking
from repl.ui.output.console import Console, terminal_size
from repl.ui.early import EarlyInput
from repl.ui.first_kernel import FirstKernel
from repl.ui.output.view import OutputView
from repl.ui.prompt.parts import PromptParts
from repl.ui.questions import Item, Questions
from repl.ui.routing import Router
from repl.ui.runner import Hooks, Runner
from repl.ui.term import pager, width
from repl.ui.term.caps import Terminal
from repl.ui.term.shell import Shell

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.gateway.channel import ChannelState
    from repl.kernel import Kernel
    from repl.ui.slash.actions import Actions
    from repl.ui.trace import Tracer
    from repl.workspace import Workspace


class _StepAside(Exception):  # the prompt makes way for a kernel's question (input() in the background)
    pass


@dataclass(frozen=True)
class Look:
    """How the prompt looks and behaves: given at start, never changed."""

    style: render.Style
    tracer: Tracer  # the message trace, for /debug and /last
    vi: bool = False
    pt_style: object = None
    terminal: Terminal = Terminal()  # what the terminal takes of our own sequences (marks, title, clipboard)


class App:
    def __init__(self, console: Console, look: Look, profile: StartupProfile | None = None) -> None:
        self.console = console
        self.look = look
        self.view = OutputView(console, look.style)
        self.prompt: PromptSession | None = None
        self.runner = Runner(self.view, console, Hooks(
            prompt_input=lambda: self.prompt.input if self.prompt is not None else None,
            set_next_input=self._set_next_input, notice=self._notice, cell_ended=lambda: self.questions.cell_ended(),
            ctrl_c_for_pdb=lambda: self.questions.ctrl_c_for_the_debugger(),
            other_waits=lambda: self.router.stop_waiting(),
            detach_widgets=lambda request, tag: self.router.detach_widgets(request, tag), ctrl_c=self._on_sigint,
            page=self._page))
        self.router = Router(self.view, console, look.style, lambda: self.runner.foreground, self.runner.interrupt,
                             self._ask, self._refresh, self._command, lambda: self._parts.toolbar() if self._parts else "")
        self.questions = Questions(console, lambda: self.runner.keyboard, self.runner.is_foreground, self._prompting,
                                   lambda: self._own_signals(asyncio.get_running_loop()), self.runner.interrupt,
                                   self.router.debug)
        early = EarlyInput(self.view.dim, self.runner.on_sigtstp, self._on_sigint)  # input waiting for the first kernel
        self.first = FirstKernel(self.view, profile or StartupProfile(False), self._refresh, self._step_aside, early)
        self._parts: PromptParts | None = None  # the prompt's message, toolbar and keys, made with the workspace
        self._next_input = ""  # what the next prompt starts with
        self._exit_warned = False
        self._actions: Actions | None = None  # (made with the first /command)

    # ------------------------------------------------------------ the kernels' listener

    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None:
        self.router.kernel_events(kernel, events)
        for ev in events:  # (an input() question of a request that ended goes from the screen)
            if isinstance(ev, s.RequestDone):
                self.questions.request_ended(ev.request)

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None:
        self.router.kernel_state(kernel, state, before)

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None:
        self.router.kernel_notice(kernel, text)

    def _refresh(self) -> None:
        if self.prompt is not None and self.prompt.app.is_running:
            self.prompt.app.invalidate()

    # ------------------------------------------------------------ the loop

    async def run(self, ws: Workspace) -> int:
        """The prompt loop, until the user leaves. With ``ws.opening``, the prompt is up while the
        first kernel comes; if it cannot come, its error is raised once the prompt is gone."""
        opening = ws.opening
        parts = self._parts = PromptParts(ws, self.look.style, Shell(self.look.terminal, self.console.control))
        parts.focus = self.router.focus
        asking = Asking(lambda: ws.current, self.console, self.look.style.color, lambda: ws.opening)
        self.prompt = parts.session(asking, self.look.vi, self.look.pt_style, self._on_sigint)
        self.prompt.app.after_render += lambda _app: self.first.drawn(opening)
        self.runner.send_at_enter(self.prompt.default_buffer, lambda: ws.current if self.first.up(ws) else None,
                                  lambda kernel: width.tell(kernel, *terminal_size(fresh=True)))
        # (the prompt's last drawing, still in raw mode: a Ctrl-Z from then on is for the cell, never a stop)
        self.prompt.app.after_render += lambda app: self._own_signals(loop) if app.is_done else self._title(ws)
        self.shell.open()
        if opening is not None and is_dumb_terminal():  # its prompt is another application: no hook
            opening.start()
        self.first.follow(ws, parts)
        loop = asyncio.get_running_loop()
        self._own_signals(loop)
        loop.add_signal_handler(signal.SIGCONT, ws.resumed)  # back from Ctrl-Z: are the links alive?
        try:
            with keymode.held():  # keys typed between prompts wait for the next one (Ctrl-D too)
                while True:
                    await self.questions.settle()  # the prompt may have stepped aside for them
                    try:
                        text = await self._read(parts)
                    except EOFError:
                        if self._may_exit(ws):
                            return 0
                        continue
                    if self.first.failed is None and text and text.strip() and await self._handle(text, ws, opening):
                        return 0
                    if self.first.failed is not None:
                        raise self.first.failed
        finally:
            self.shell.close()
            for signum in (signal.SIGINT, signal.SIGTSTP, signal.SIGCONT):
                loop.remove_signal_handler(signum)

    @property
    def shell(self) -> Shell:
        """The terminal's marks, title, notifications and clipboard (the prompt's, made with it)."""
        assert self._parts is not None  # (made before the first prompt; nothing uses it before)
        return self._parts.shell

    def _title(self, ws: Workspace, state: str | None = None) -> None:
        k = ws.current
        if k is None:
            self.shell.state(None, "starting" if ws.opening is not None and ws.opening.pending else "no kernel")
        else:
            self.shell.state(k.label, state or k.state)

    async def _command(self, cmd: commands.Command) -> bool:
        """Carry out a /command (also one typed at the (dbg) prompt)."""
        if self._actions is None:  # (imported with the first /command)
            from repl.ui.slash.actions import Actions

            assert self._parts is not None  # (commands come from the prompt, made with the workspace)
            self._actions = Actions(self._parts.ws, self.console.line, self.look.tracer, self._set_next_input, self.router.focus,
                                    console=self.console, page=self._page, copy=self.shell.copy,
                                    color=self.look.style.color)
        return await self._actions.run(cmd, lambda text: self.view.line(text, "err"))

    async def _handle(self, text: str, ws: Workspace, opening) -> bool:
        """Carry out one input: a /command or a cell. True means exit."""
        self._exit_warned = False
        parsed = commands.parse(text)
        early = not isinstance(parsed, commands.Unknown) and not (
            isinstance(parsed, commands.Command) and parsed.name in commands.WITHOUT_KERNEL)
        if early and opening is not None:
            go_on = await self.first.wait(opening, self.prompt.input if self.prompt is not None else None)
            if not go_on:
                return go_on is None
        self.shell.started()  # (OSC 133 C: what follows is its output, up to D)
        if isinstance(parsed, commands.Unknown):
            self.view.line(f"repl: unknown command /{parsed.name} — /help lists them", "err")
        elif isinstance(parsed, commands.Command):
            if parsed.name == "quit":
                self.shell.ended(0)
                return True
            ok = await self._command(parsed)
            self.console.ensure_newline()
            self.shell.ended(0 if ok else 1)
            return ws.detached  # (/detach: leave)
        elif ws.current is None:
            self.view.line("repl: no current kernel: /new [SPEC] starts one, /use TARGET attaches", "err")
        else:
            kernel = ws.current
            await width.tell(kernel, *terminal_size(fresh=True))  # (pandas and numpy wrap at the terminal's width)
            self._title(ws, "busy")
            leave = await self.runner.run_cell(kernel, parsed)  # True: the kernel asked us to leave
            cell = self.runner.last
            count = cell.execution_count if cell is not None else None
            self.shell.ended(0 if cell is not None and (cell.background or not cell.request.failed) else 1,
                             f"In [{count if count is not None else '?'}] on {kernel.label}")
            self._title(ws)
            return leave
        self.shell.ended(1)
        return False

    async def _read(self, parts: PromptParts) -> str | None:
        assert self.prompt is not None
        self.console.ensure_newline()
        try:
            self.console.app = self.prompt.app
            self.runner.prompt_showing()
            default, self._next_input = self._next_input, ""
            self._prompting()
            return await self.prompt.prompt_async(lambda: self.shell.prompt(parts.message()), default=default,
                                                  handle_sigint=False)  # (ours: _on_sigint)
        except (KeyboardInterrupt, _StepAside):
            return None
        finally:
            parts.notice = ""
            self.prompt.app.erase_when_done = False
            self.console.app = None
            if self.runner.prompt_ended():
                self.shell.started()  # (OSC 133 C before what the cell sent at Enter printed)
            self.console.flush_pending()
            self._own_signals(asyncio.get_running_loop())

    async def _page(self, text: str) -> str | None:
        """``text`` in $PAGER (between prompts); None when shown, else why it was not."""
        self.console.flush_pending()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, pager.page, text)
        finally:
            self.view.screen_lost()  # the pager had the terminal: rows above are not ours to count

    def _set_next_input(self, text: str) -> None:
        self._next_input = text

    def _notice(self, text: str) -> None:
        if self._parts is not None:
            self._parts.notice = text

    def _may_exit(self, ws: Workspace) -> bool:
        """Ctrl-D: exit, unless cells still run in the background and this is the first warning."""
        running = ws.running_in_background()
        if not running or self._exit_warned:
            return True
        self._exit_warned = True
        which = ", ".join(f"In [{n if n is not None else '?'}] on {k.label}" for k, n in running)
        self.view.line(f"repl: still running in the background: {which}; Ctrl-D again exits (shutting down the "
                       "kernels this repl started), /detach leaves them running", "err")
        return False

    # ------------------------------------------------------------ signals between prompts

    @staticmethod
    def _prompting() -> None:
        """At a prompt Ctrl-Z suspends repl to the shell (prompt_toolkit stops the process group):
        our SIGTSTP handler, which sends running cells to the background, steps aside."""
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTSTP)

    def _own_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        # prompt_toolkit drops SIGINT handlers when a prompt ends: take it back, so Ctrl-C from
        # here until the next prompt interrupts the cell instead of killing us.
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        loop.add_signal_handler(signal.SIGTSTP, self.runner.on_sigtstp)

    def _on_sigint(self) -> None:
        """Ctrl-C while no prompt is showing (prompts take theirs as a key, and leave SIGINT to us): for
        whatever waits, first the (dbg) prompt's wait, then input waiting for the first kernel, the cell."""
        if pager.showing() or self.router.stop_waiting() or self.console.interrupt_prompt():
            return  # (in the pager, Ctrl-C is the pager's)
        if self.runner.foreground is None and self.first.early.waiting:  # a cell waiting for the first kernel
            self.console.write("out", "\n")
            self.first.early.drop()
            return
        if self.runner.on_sigint():
            return
        if self._actions is not None and self._actions.cancel():  # e.g. a kernel launch taking too long
            self.console.write("out", "\n")
            return
        self.runner.ctrl_c_before_the_cell()  # between the prompt and the cell: it is meant for the cell

    # ------------------------------------------------------------ questions: input() and debugger stops

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
