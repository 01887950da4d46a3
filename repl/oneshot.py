"""One-shot mode (-c CODE, or piped stdin): run the code, print its output, exit 0 or 1."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import TextIO

from repl import errors
from repl.protocol import session as s
from repl.ui import mime, render
from repl.ui.sanitize import Sanitizer, clean
from repl.workspace import Kernel, Workspace


class OneShot:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.err_tty = self.err.isatty()
        self._sanitizers: dict = {}

    def _write(self, f: TextIO, text: str, stream: str = "") -> None:
        # Exactly as sent into a pipe or file; a terminal gets only what is safe for it.
        if f.isatty():
            san = self._sanitizers.setdefault(stream or id(f), Sanitizer()) if stream else None
            text = san.feed(text) if san else clean(text)
        f.write(text)
        f.flush()

    def on_events(self, kernel: Kernel, events: list) -> None:
        for ev in events:
            if ev.other:
                continue
            if isinstance(ev, s.Stream):
                self._write(self.err if ev.name == "stderr" else self.out, ev.text, ev.name)
            elif isinstance(ev, (s.ExecuteResult, s.DisplayData)):
                text = mime.to_text(ev.data, 80, False)
                self._write(self.out, text if text.endswith("\n") else text + "\n")
            elif isinstance(ev, s.ErrorOutput):
                text = "\n".join(ev.traceback) or f"{ev.ename}: {ev.evalue}"
                self._write(self.err, (text if self.err_tty else render.strip_ansi(text)) + "\n")
            elif isinstance(ev, s.KernelLost):
                self.err.write(f"repl: {render.kernel_lost(ev.state, kernel.label)}\n")

    def on_state(self, kernel: Kernel, state: str) -> None:
        pass

    async def run(self, ws: Workspace, kernel: Kernel, code: str) -> int:
        loop = asyncio.get_running_loop()
        req, fut = await kernel.channel.execute(code, allow_stdin=False)

        def on_sigint() -> None:
            loop.create_task(ws.interrupt(kernel))

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            await fut
        finally:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGINT)
        if req.status == "lost":
            raise errors.KernelDead(f"kernel {kernel.label} died while running the code")
        return 1 if req.failed else 0
