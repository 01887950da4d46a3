"""One-shot mode (-c CODE, or piped stdin): run the code, print its output, exit 0 or 1.

Stream text goes out exactly as the kernel sent it into a pipe or file; a terminal gets it
sanitized. Results, displays and errors use the same renderer as the REPL, without colour
(tracebacks keep theirs on a terminal) and without the ``Out[N]:`` label.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import TextIO

from repl import errors
from repl.gateway.channel import ChannelState
from repl.kernel import Kernel
from repl.protocol import session as s
from repl.ui.output import render
from repl.ui.output.sanitize import Sanitizer, clean, label


class OneShot:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.plain = render.Style(color=False)
        self.tracebacks = render.Style(color=self.err.isatty())
        self._sanitizers: dict[str, Sanitizer] = {}
        self.broken = False  # the reader of our output went away (``repl -c … | head``)
        self._kernel: Kernel | None = None

    def _write(self, f: TextIO, text: str, stream: str = "") -> None:
        if self.broken:
            return
        if f.isatty():
            san = self._sanitizers.setdefault(stream, Sanitizer()) if stream else None
            text = san.feed(text) if san else clean(text)
        try:
            f.write(text)
            f.flush()
        except BrokenPipeError:
            self._pipe_closed()

    def _pipe_closed(self) -> None:
        """Like any Unix tool: stop quietly; the cell is interrupted, nobody reads its output."""
        self.broken = True
        with contextlib.suppress(OSError):  # no complaint from Python's own flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if self._kernel is not None:
            asyncio.ensure_future(self._kernel.interrupt())

    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None:
        for ev in events:
            if isinstance(ev, s.KernelLost):
                self.err.write(label(f"repl: {render.kernel_lost(ev.state, kernel.label)}") + "\n")
            elif ev.other:
                continue
            elif isinstance(ev, s.Stream):
                self._write(self.err if ev.name == "stderr" else self.out, ev.text, ev.name)
            elif isinstance(ev, (s.ExecuteResult, s.DisplayData)):
                for _, text in render.bundle(ev.data, self.plain):
                    self._write(self.out, text)
            elif isinstance(ev, s.ErrorOutput):
                for _, text in render.error(ev, self.tracebacks):
                    self._write(self.err, text)

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None:
        pass

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None:
        if text:
            self.err.write(label(f"repl: {text}") + "\n")

    async def run(self, kernel: Kernel, code: str) -> int:
        loop = asyncio.get_running_loop()
        self._kernel = kernel
        cell = await kernel.execute(code, allow_stdin=False)
        interrupted = False

        def on_sigint() -> None:
            nonlocal interrupted
            interrupted = True
            loop.create_task(kernel.interrupt())

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            await cell.done
        finally:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGINT)
        if cell.request.status == "lost":
            raise errors.KernelDead(f"kernel {kernel.label} died while running the code")
        if self.broken:
            return 128 + signal.SIGPIPE  # as a Unix tool killed by SIGPIPE reports it: 141
        if interrupted:
            return 130  # as for any program stopped by Ctrl-C (128 + SIGINT)
        return 1 if cell.request.failed else 0
