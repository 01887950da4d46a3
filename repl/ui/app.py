"""The interactive prompt loop: read a cell, send it, stream its output, repeat."""

from __future__ import annotations

import asyncio
import signal
import time

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.lexers import DynamicLexer, PygmentsLexer

from repl import errors
from repl.protocol import session as s
from repl.ui import commands, render
from repl.ui.console import Console
from repl.ui.lexer import pygments_lexer_for
from repl.workspace import Kernel, Workspace

PATIENCE_INTERRUPTS = 3  # Ctrl-C presses after which we stop waiting for a cell that will not end


class CommandCompleter(Completer):
    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        for name in commands.complete(text):
            yield Completion(name, start_position=-len(text))


class App:
    def __init__(self, console: Console, server_label: str, style: render.Style) -> None:
        self.console = console
        self.server_label = server_label
        self.style = style
        self.ws: Workspace | None = None
        self._lexers: dict[str, PygmentsLexer] = {}
        self.prompt: PromptSession | None = None
        self._cell: tuple[Kernel, asyncio.Future] | None = None
        self._presses = 0

    # ------------------------------------------------------------ events from kernels

    def on_events(self, kernel: Kernel, events: list) -> None:
        for ev in events:
            if isinstance(ev, s.KernelLost):
                self.console.line(render.kernel_lost(ev.state, kernel.label), "err")
                continue
            for stream, text in render.render(ev, self.style):
                self.console.write(stream, text)
        self._refresh()

    def on_state(self, kernel: Kernel, state: str) -> None:
        if state == "dead":
            self.console.line(f"kernel {kernel.label} is gone from the server; start another with --kernel or restart repl", "err")
        self._refresh()

    def _refresh(self) -> None:
        if self.prompt is not None and self.prompt.app.is_running:
            self.prompt.app.invalidate()

    # ------------------------------------------------------------ prompt pieces

    def _kernel(self) -> Kernel:
        assert self.ws is not None and self.ws.current is not None
        return self.ws.current

    def _message(self):
        n = self._kernel().session.next_count
        if not self.style.color:
            return f"In [{n}]: "
        return FormattedText([("ansigreen", "In ["), ("ansibrightgreen bold", str(n)), ("ansigreen", "]: ")])

    def _continuation(self, width, line_number, is_soft_wrap):
        return " " * max(width - 5, 0) + "...: "

    def _toolbar(self):
        k = self._kernel()
        rtt = f"{k.last_rtt_ms:.0f} ms" if k.last_rtt_ms is not None else "–"
        return f" {self.server_label} │ {k.label} {k.id[:8]} │ {k.state} │ {rtt} "

    def _lexer(self):
        k = self._kernel()
        lexer = self._lexers.get(k.id)
        if lexer is None:
            lexer = self._lexers[k.id] = PygmentsLexer(type(pygments_lexer_for(k.session.language_info)))
        return lexer

    # ------------------------------------------------------------ loop

    async def run(self, ws: Workspace) -> int:
        self.ws = ws
        self.prompt = PromptSession(
            lexer=DynamicLexer(self._lexer),
            bottom_toolbar=self._toolbar,
            completer=CommandCompleter(),
            complete_while_typing=False,
            prompt_continuation=self._continuation,
            enable_history_search=False,
        )
        while True:
            self.console.ensure_newline()
            try:
                self.console.app = self.prompt.app
                text = await self.prompt.prompt_async(self._message)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            finally:
                self.console.app = None
                self.console.flush_pending()
                # prompt_toolkit removes SIGINT handlers when the prompt ends: take it back, so
                # Ctrl-C from here until the next prompt interrupts the cell instead of killing us.
                asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._on_sigint)
            if not text.strip():
                continue
            parsed = commands.parse(text)
            if isinstance(parsed, commands.Command):
                if await self.command(parsed):
                    return 0
                continue
            await self.run_cell(self._kernel(), parsed)

    async def command(self, cmd: commands.Command) -> bool:
        """Run a /command; True means exit."""
        assert self.ws is not None
        kernel = self._kernel()
        try:
            if cmd.name == "quit":
                return True
            if cmd.name == "help":
                self.console.line(commands.help_text())
            elif cmd.name == "interrupt":
                await self.ws.interrupt(kernel)
            elif cmd.name == "restart":
                await self.ws.rest.restart(kernel.id)
                kernel.session.next_count = 1
                self.console.line(f"kernel {kernel.label} restarted")
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
        return False

    async def run_cell(self, kernel: Kernel, code: str) -> None:
        started = time.perf_counter()
        try:
            req, fut = await kernel.channel.execute(code)
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
            return
        self._cell = (kernel, fut)
        self._presses = 0
        try:
            await fut
            kernel.last_rtt_ms = (time.perf_counter() - started) * 1000
        except asyncio.CancelledError:
            if not fut.cancelled():
                raise
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
        finally:
            self._cell = None
        self.console.ensure_newline()
        self.console.write("out", "\n")  # a blank line between cells, as in jupyter console

    def _on_sigint(self) -> None:
        """Ctrl-C while no prompt is showing (the prompt handles its own as a key)."""
        if self._cell is None:
            return
        kernel, fut = self._cell
        self._presses += 1
        self.console.write("out", "\n")  # after the terminal's ^C echo
        if self._presses >= PATIENCE_INTERRUPTS and not fut.done():
            self.console.line("repl: no longer waiting for this cell; its output will still appear", "err")
            fut.cancel()
            return
        asyncio.get_running_loop().create_task(self._interrupt(kernel))

    async def _interrupt(self, kernel: Kernel) -> None:
        assert self.ws is not None
        try:
            await self.ws.interrupt(kernel)
        except errors.ReplError as exc:
            self.console.line(f"repl: interrupt failed: {exc}", "err")
