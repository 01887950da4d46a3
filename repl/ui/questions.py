"""``input()`` and ``getpass()`` from kernels: asked one question at a time, in place, never over
the prompt. The foreground cell's question is asked as the kernel put it; a background cell's is
tagged with its kernel. What was typed ahead while the cell ran answers it; Ctrl-C interrupts the
kernel that asked.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Awaitable, Callable

from prompt_toolkit import PromptSession

from repl import errors
from repl.kernel import Kernel
from repl.protocol import session as s
from repl.ui.cellinput import CellInput
from repl.ui.console import Console


class Questions:
    def __init__(
        self,
        console: Console,
        keyboard: Callable[[], CellInput | None],  # the keyboard of the running cell, if any
        is_foreground: Callable[[s.Request | None], bool],
        before_prompt: Callable[[], None],  # let Ctrl-Z at the question suspend repl
        after_prompt: Callable[[], None],  # take back the signal handlers a prompt drops
        interrupt: Callable[[Kernel], Awaitable[None]],
    ) -> None:
        self.console = console
        self.keyboard = keyboard
        self.is_foreground = is_foreground
        self.before_prompt = before_prompt
        self.after_prompt = after_prompt
        self.interrupt = interrupt
        self._queue: deque[tuple[Kernel, s.InputRequest]] = deque()
        self._answering: asyncio.Task | None = None

    def add(self, kernel: Kernel, ev: s.InputRequest, start: bool) -> None:
        """Queue a question; ``start`` answering now unless a prompt must step aside first."""
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

    async def _answer(self, kernel: Kernel, ev: s.InputRequest) -> None:
        keyboard = self.keyboard()
        if keyboard is not None:
            keyboard.pause()
        self.console.ensure_newline()
        session: PromptSession = PromptSession(enable_suspend=True)
        if keyboard is not None:
            keyboard.hand_to(session.input)  # what was typed ahead answers the question
        question = ev.prompt if self.is_foreground(ev.request) else f"[{kernel.label}] {ev.prompt}"
        try:
            self.console.app = session.app
            self.before_prompt()
            value = await session.prompt_async(question, is_password=ev.password)
        except KeyboardInterrupt:
            self.console.app = None
            await self.interrupt(kernel)
            return
        except EOFError:
            value = ""
        finally:
            self.console.app = None
            self.after_prompt()
            if keyboard is not None and self.keyboard() is keyboard:
                keyboard.resume()
        try:
            await kernel.answer_input(value, ev.header)
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
