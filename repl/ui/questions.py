"""``input()`` and ``getpass()`` from kernels, and stops in a kernel's debugger: asked one at a
time, in place, never over the prompt. The foreground cell's question is asked as the kernel put
it; a background cell's is tagged with its kernel. What was typed ahead while the cell ran answers
it; Ctrl-C interrupts the kernel that asked. A debugger stop gets the ``(dbg)`` prompt
(:mod:`repl.ui.debugger.prompt`) until execution goes on; an ``input()`` in code evaluated there is
asked at once (the (dbg) prompt waits for it). A question whose request has ended is not asked.
"""

from __future__ import annotations

import asyncio
import sys
import re
from collections import deque
from typing import Awaitable, Callable, TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings

from repl import errors
from repl.protocol import dap
from repl.protocol import session as s
from repl.ui.cellinput import CellInput
from repl.ui.output.console import Console
from repl.ui.output.sanitize import label
from repl.ui.prompt.fastinput import FastInput
from repl.ui.prompt.histsearch import start_at_the_line

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.kernel import Kernel

DEBUGGER_PROMPT = re.compile(r"^(\x1b\[[0-9;]*m)*(ipdb> |\(Pdb\) |\(Pdb\+\+\) |ipdb\+?> )")
PDB_GOES_ON = {"c", "cont", "continue", "q", "quit", "exit", "run", "restart"}  # pdb does not ask again soon
Ask = Callable[[PromptSession, str], Awaitable[str]]
Item = s.InputRequest | dap.Stopped


class _Ended(Exception):  # the request that asked has ended (interrupted): its question goes
    pass


class Questions:
    def __init__(
        self,
        console: Console,
        keyboard: Callable[[], CellInput | None],  # the keyboard of the running cell, if any
        is_foreground: Callable[[s.Request | None], bool],
        before_prompt: Callable[[], None],  # let Ctrl-Z at the question suspend repl
        after_prompt: Callable[[], None],  # take back the signal handlers a prompt drops
        interrupt: Callable[[Kernel], Awaitable[None]],
        debug: Callable[[Kernel, Ask], Awaitable[None]],  # the (dbg) prompt for a stopped kernel
    ) -> None:
        self.console = console
        self.keyboard = keyboard
        self.is_foreground = is_foreground
        self.before_prompt = before_prompt
        self.after_prompt = after_prompt
        self.interrupt = interrupt
        self.debug = debug
        self._queue: deque[tuple[Kernel, Item]] = deque()
        self._answering: asyncio.Task | None = None
        self._debugging: Kernel | None = None  # the kernel whose (dbg) prompt is being answered
        self._nested: set[asyncio.Task] = set()
        self._in_pdb = False  # the last answer went to pdb's prompt, which will ask again
        self._answers = InMemoryHistory()
        self._early_ctrl_c = False
        self._showing: tuple[s.Request | None, PromptSession] | None = None  # the input() question on screen
        self._keys = KeyBindings()
        self._keys.add("c-c", eager=True)(self._ctrl_c)

    def _ctrl_c(self, event) -> None:
        app = event.app
        if app.is_running and not app.future.done():
            app.exit(exception=KeyboardInterrupt(), style="class:aborting")
        else:  # this prompt was answered already: the key is for the next one
            self._early_ctrl_c = True

    def add(self, kernel: Kernel, ev: Item, start: bool) -> None:
        """Queue a question; ``start`` answering now unless a prompt must step aside first."""
        if isinstance(ev, s.InputRequest) and kernel is self._debugging and self.console.app is None:
            # input() in code the (dbg) prompt evaluates: the prompt is waiting for it, not showing
            task = asyncio.ensure_future(self._input(kernel, ev))
            self._nested.add(task)
            task.add_done_callback(self._nested.discard)
            return
        self._queue.append((kernel, ev))
        if start:
            self._start()

    def _start(self) -> None:
        if self._answering is None and self._queue:
            self._answering = asyncio.ensure_future(self._answer_all())

    async def settle(self) -> None:
        """Answer every queued question before the prompt shows again."""
        self._start()
        if self._answering is not None:
            await self._answering

    async def _answer_all(self) -> None:
        try:
            while self._queue:
                await self._answer(*self._queue.popleft())
        finally:
            self._answering = None

    async def _answer(self, kernel: Kernel, item: Item) -> None:
        self.console.ensure_newline()
        if isinstance(item, dap.Stopped):
            self._debugging = kernel
            try:
                await self.debug(kernel, self._prompt)
            finally:
                self._debugging = None
        elif item.request is not None and item.request.done:
            return  # its cell ended (interrupted, restarted): nobody waits for this answer
        else:
            await self._input(kernel, item)

    async def _prompt(self, session: PromptSession, question: str, password: bool = False) -> str:
        """One prompt, output going above it; raises KeyboardInterrupt (Ctrl-C), EOFError (Ctrl-D).
        What was typed while no prompt showed is given to it; once it is answered the running
        cell's keyboard takes over at once, so keys typed before the next prompt are kept (never
        echoed). A Ctrl-C typed right after Enter, before this prompt showed, is for this one."""
        if self._early_ctrl_c:
            self._early_ctrl_c = False
            raise KeyboardInterrupt
        keyboard = self.keyboard()
        if keyboard is not None:
            keyboard.pause()
            keyboard.hand_to(session.input)
        try:
            self.console.app = session.app
            self.before_prompt()
            return await session.prompt_async(question, is_password=password, key_bindings=self._keys,
                                              handle_sigint=False)  # (the app's own handler: App._on_sigint)
        finally:
            self.console.app = None
            self.after_prompt()
            if keyboard is not None and self.keyboard() is keyboard:
                keyboard.resume()

    def ctrl_c_for_the_debugger(self) -> bool:
        """Ctrl-C while a cell runs, just after a pdb command that pdb answers with its prompt
        again: it is for that prompt (to leave pdb), not an interrupt. True if taken so."""
        if not self._in_pdb:
            return False
        self._in_pdb = False  # once: a second press interrupts, whatever pdb does
        self._early_ctrl_c = True
        return True

    def cell_ended(self) -> None:
        self._in_pdb = self._early_ctrl_c = False

    def request_ended(self, request: s.Request | None) -> None:
        """``request`` is done: a question it asked that is on screen goes (nobody waits for its
        answer: an interrupt ended input() before the question showed, or while it did)."""
        showing = self._showing
        if showing is not None and request is not None and showing[0] is request:
            app = showing[1].app
            if app.is_running and app.future is not None and not app.future.done():
                app.erase_when_done = True
                app.exit(exception=_Ended())

    async def _input(self, kernel: Kernel, ev: s.InputRequest) -> None:
        # Answers share a history (pdb's commands come back with Up); a password is never kept.
        session: PromptSession = PromptSession(enable_suspend=True, history=None if ev.password else self._answers,
                                               input=FastInput(sys.stdin))  # (it takes the terminal's focus reports out)
        start_at_the_line(session)
        question = label(ev.prompt if self.is_foreground(ev.request) else f"[{kernel.label}] {ev.prompt}")
        self._showing = (ev.request, session)
        try:
            value = await self._prompt(session, question, ev.password)
        except _Ended:
            return
        except KeyboardInterrupt:
            if not DEBUGGER_PROMPT.match(ev.prompt):
                await self.interrupt(kernel)
                return
            value = "q"  # pdb takes an interrupt and asks again: Ctrl-C leaves it, as q does
        except EOFError:
            value = ""
        finally:
            self._showing = None
        pdb = bool(DEBUGGER_PROMPT.match(ev.prompt)) and self.is_foreground(ev.request)
        self._in_pdb = pdb and value.strip().split(" ")[0] not in PDB_GOES_ON
        try:
            await kernel.answer_input(value, ev.header)
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
