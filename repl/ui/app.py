"""The interactive prompt loop: read a cell, send it, stream its output, repeat.

Between prompts the app owns SIGINT (interrupt the cell) and SIGTSTP (send it to the
background). Output that is not the foreground cell's (background cells, other kernels,
other clients) is tagged with the kernel's name and printed above the prompt.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.lexers import DynamicLexer, PygmentsLexer, SimpleLexer
from prompt_toolkit.output import ColorDepth

from repl import errors
from repl.notebook import CellRecord
from repl.protocol import messages as m
from repl.protocol import session as s
from repl.protocol.outputs import resolve_line_edits
from repl.ui import commands, mime, render
from repl.ui.actions import Actions
from repl.ui.completion import ReplCompleter
from repl.ui.keys import INSPECT_TIMEOUT, make_bindings
from repl.ui import history as hist
from repl.ui.cellinput import CellInput
from repl.ui.console import Console, terminal_size
from repl.ui.lexer import pygments_lexer_for
from repl.ui.sanitize import Sanitizer, clean
from repl.workspace import Kernel, Workspace

PATIENCE_INTERRUPTS = 3  # Ctrl-C presses after which we stop waiting for a cell that will not end


@dataclass
class Foreground:
    kernel: Kernel
    req: s.Request
    done: asyncio.Future
    detach: asyncio.Future
    started: float
    mark: tuple = (0, True)
    presses: int = 0
    skipped: int = 0
    clear_pending: bool = False
    running: bool = False  # the kernel has started it (busy / execute_input seen)
    interrupt_on_start: bool = False


def tag_lines(text: str, tag: str) -> str:
    """Put ``tag`` at the start of every line of ``text``."""
    body = text[:-1] if text.endswith("\n") else text
    return tag + body.replace("\n", "\n" + tag) + ("\n" if text.endswith("\n") else "")


class App:
    def __init__(self, console: Console, server_label: str, style: render.Style, tracer=None,
                 vi: bool = False, pt_style=None) -> None:
        self.console = console
        self.vi = vi
        self.pt_style = pt_style
        self._next_input = ""
        self.tracer = tracer
        self.server_label = server_label
        self.style = style
        self.ws: Workspace | None = None
        self.actions = Actions(self)
        self._lexers: dict[str, PygmentsLexer] = {}
        self.prompt: PromptSession | None = None
        self._fg: Foreground | None = None
        self._records: dict[str, tuple[CellRecord, float]] = {}
        self._specs_cache: list[str] = []
        self._sanitizers: dict[tuple[str, str], Sanitizer] = {}
        self._states: dict[str, str] = {}
        self._keyboard: CellInput | None = None
        self._displays: dict[str, tuple] = {}
        self._early_sigint = False
        self.command_task: asyncio.Future | None = None

    # ------------------------------------------------------------ events from kernels

    def _tag(self, kernel: Kernel, ev: s.Event) -> str | None:
        fg = self._fg
        if fg is not None and ev.request is not None and ev.request is fg.req:
            return None
        if ev.other:
            return f"[{kernel.label} elsewhere] "
        return f"[{kernel.label}] "

    def on_events(self, kernel: Kernel, events: list) -> None:
        for ev in events:
            if isinstance(ev, s.KernelLost):
                self.console.line(render.kernel_lost(ev.state, kernel.label), "err")
                continue
            if isinstance(ev, s.InputRequest):
                if not ev.other:
                    asyncio.get_running_loop().create_task(self._answer_input(kernel, ev))
                continue
            req = ev.request
            record = self._records.get(req.msg_id) if req is not None else None
            if record is not None:
                record[0].add(ev)
                if isinstance(ev, s.RequestDone):
                    self._finished(kernel, req, record[1])
            fg = self._fg
            mine = fg is not None and ev.request is fg.req
            if mine and not fg.running and isinstance(ev, (s.ExecuteInput, s.Status)) and not isinstance(ev, s.KernelLost):
                if isinstance(ev, s.ExecuteInput) or getattr(ev, "state", "") == "busy":
                    fg.running = True
                    if fg.interrupt_on_start:
                        asyncio.get_running_loop().create_task(self._interrupt(kernel))
            if mine and fg.presses and isinstance(ev, (s.Stream, s.DisplayData)):
                fg.skipped += 1  # interrupted: drain the backlog without drawing it
                continue
            if mine and isinstance(ev, s.ClearOutput):
                if ev.wait:
                    fg.clear_pending = True
                else:
                    self.console.erase_to(fg.mark)
                    self._displays.clear()
                continue
            self.style.width = terminal_size()[0]
            pieces = self._safe(kernel, ev, render.render(ev, self.style))
            if not pieces:
                continue
            if mine and fg.clear_pending:
                fg.clear_pending = False
                self.console.erase_to(fg.mark)
                self._displays.clear()
            tag = self._tag(kernel, ev)
            display_id = ev.display_id if isinstance(ev, s.DisplayData) else None
            if display_id and ev.update and tag is None and self._redraw_display(display_id, pieces):
                continue  # redrawn in place; otherwise the new value is printed as new output
            start = self.console.mark() if display_id and not tag else None
            for stream, text in pieces:
                if tag:
                    text = tag_lines(resolve_line_edits(text), self.style.paint(render.DIM, tag))
                self.console.write(stream, text)
            if start is not None:
                self._displays[display_id] = (start, self.console.rows)
        self._refresh()

    def _redraw_display(self, display_id: str, pieces: list) -> bool:
        """Redraw a display in place if it is still the latest output on screen."""
        where = self._displays.get(display_id)
        if where is None:
            return False
        start, end = where
        if end != self.console.rows or not self.console.erase_to(start):
            return False
        for stream, text in pieces:
            self.console.write(stream, text)
        self._displays[display_id] = (start, self.console.rows)
        return True

    def _safe(self, kernel: Kernel, ev: s.Event, pieces: list) -> list:
        """Strip escape sequences that reach beyond the screen (see repl.ui.sanitize)."""
        if isinstance(ev, s.Stream):
            key = (kernel.id, ev.name)
            san = self._sanitizers.get(key)
            if san is None:
                san = self._sanitizers[key] = Sanitizer()
            return [(stream, san.feed(text)) for stream, text in pieces]
        return [(stream, text if stream == "image" else clean(text)) for stream, text in pieces]

    def _finished(self, kernel: Kernel, req: s.Request, started: float) -> None:
        self._records.pop(req.msg_id, None)
        if req.msg_id not in kernel.background:
            return
        kernel.background.discard(req.msg_id)
        count = req.execution_count if req.execution_count is not None else "?"
        how = {"ok": "finished", "lost": "was lost: the kernel died"}.get(req.status or "", "failed")
        secs = time.perf_counter() - started
        self.console.line(self.style.paint(render.DIM, f"[{kernel.label}] background cell In [{count}] {how} after {secs:.1f} s"))

    def on_state(self, kernel: Kernel, state: str) -> None:
        before = self._states.get(kernel.id)
        self._states[kernel.id] = state
        if state == "dead":
            self.console.line(f"repl: kernel {kernel.label} is gone from the server; /new starts another", "err")
        elif state == "reconnecting":
            self.console.line(f"repl: lost the connection to kernel {kernel.label}; reconnecting…", "err")
        elif state == "connected" and before == "reconnecting":
            self.console.line(f"repl: reconnected to kernel {kernel.label}", "err")
        elif state == "disconnected" and before == "reconnecting":
            self.console.line(f"repl: gave up reconnecting to kernel {kernel.label}", "err")
        self._refresh()

    def _refresh(self) -> None:
        if self.prompt is not None and self.prompt.app.is_running:
            self.prompt.app.invalidate()

    # ------------------------------------------------------------ prompt pieces

    def arguments_for(self, name: str):
        ws = self.ws
        if ws is None:
            return []
        if name == "new":
            return [(spec, "kernelspec") for spec in self._specs_cache]
        if name == "debug":
            return [(w, "mode") for w in ("on", "off", "full")]
        if name in ("use", "shutdown"):
            out = [(str(i), f"{m.name} {m.id[:8]}") for i, m in enumerate(ws.listing, 1)]
            out += [(k.alias, f"{k.model.name} {k.id[:8]}") for k in ws.kernels.values() if k.alias]
            out += [(kid, alias) for kid, alias in ws.aliases.all().items()]
            out += [(alias, kid[:8]) for kid, alias in ws.aliases.all().items()]
            out += [(m.id, m.name) for m in ws.listing]
            seen: set[str] = set()
            return [(a, d) for a, d in out if not (a in seen or seen.add(a))]
        return []

    def _message(self):
        k = self.ws.current if self.ws else None
        if k is None:
            return "[no kernel] > "
        n = k.session.next_count
        label = f"{k.label} " if len(self.ws.kernels) > 1 else ""
        if not self.style.color:
            return f"{label}In [{n}]: "
        return FormattedText([("ansicyan", label), ("ansigreen", "In ["), ("ansibrightgreen bold", str(n)),
                              ("ansigreen", "]: ")])

    def _continuation(self, width, line_number, is_soft_wrap):
        return " " * max(width - 5, 0) + "...: "

    def _toolbar(self):
        k = self.ws.current if self.ws else None
        if k is None:
            return f" {self.server_label} │ no kernel │ /new [SPEC] or /use TARGET "
        rtt = f"{k.last_rtt_ms:.0f} ms" if k.last_rtt_ms is not None else "–"
        text = f" {self.server_label} │ {k.label} {k.id[:8]} │ {k.state} │ {rtt} "
        busy = sum(1 for other in self.ws.kernels.values() if other.background)
        if busy:
            text += f"│ {busy} busy in background "
        return text

    def _lexer(self):
        k = self.ws.current if self.ws else None
        if k is None:
            return SimpleLexer()
        lexer = self._lexers.get(k.id)
        if lexer is None:
            lexer = self._lexers[k.id] = PygmentsLexer(pygments_lexer_for(k.session.language_info))
        return lexer

    # ------------------------------------------------------------ loop

    async def run(self, ws: Workspace) -> int:
        self.ws = ws
        loop = asyncio.get_running_loop()
        self.prompt = PromptSession(
            lexer=DynamicLexer(self._lexer),
            bottom_toolbar=self._toolbar,
            completer=ReplCompleter(self),
            complete_while_typing=False,
            complete_in_thread=False,
            prompt_continuation=self._continuation,
            multiline=True,
            key_bindings=make_bindings(self),
            history=hist.open_history(),
            auto_suggest=AutoSuggestFromHistory(),
            enable_history_search=True,
            vi_mode=self.vi,
            style=self.pt_style,
            include_default_pygments_style=self.pt_style is None,
            color_depth=None if self.style.color else ColorDepth.MONOCHROME,
        )
        try:
            self._specs_cache = sorted((await ws.rest.kernelspecs())["kernelspecs"])
        except errors.ReplError:
            pass
        self._own_signals(loop)
        try:
            while True:
                self.console.ensure_newline()
                try:
                    self.console.app = self.prompt.app
                    self._early_sigint = False
                    default, self._next_input = self._next_input, ""
                    text = await self.prompt.prompt_async(self._message, default=default)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    return 0
                finally:
                    self.console.app = None
                    self.console.flush_pending()
                    self._own_signals(loop)
                if not text.strip():
                    continue
                parsed = commands.parse(text)
                if isinstance(parsed, commands.Command):
                    if await self.actions.run(parsed):
                        return 0
                    continue
                if ws.current is None:
                    self.console.line("repl: no current kernel: /new [SPEC] starts one, /use TARGET attaches", "err")
                    continue
                await self.run_cell(ws.current, parsed)
        finally:
            for signum in (signal.SIGINT, signal.SIGTSTP):
                loop.remove_signal_handler(signum)

    def _own_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        # prompt_toolkit drops SIGINT handlers when a prompt ends: take it back, so Ctrl-C from
        # here until the next prompt interrupts the cell instead of killing us.
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        loop.add_signal_handler(signal.SIGTSTP, self._on_sigtstp)

    async def run_cell(self, kernel: Kernel, code: str) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        msg, req = kernel.session.execute(code)
        record = CellRecord(code)
        kernel.cells.append(record)
        self._records[req.msg_id] = (record, started)
        done = kernel.channel.wait_done(req)
        self.console.redrawable = True
        self._displays.clear()
        fg = self._fg = Foreground(kernel, req, done, loop.create_future(), started, self.console.mark())
        if self._early_sigint:
            self._early_sigint = False
            self._on_sigint()
        keyboard = self._keyboard = CellInput(self._on_sigtstp)
        try:
            await kernel.channel.send(msg)
            with keyboard:
                await asyncio.wait([done, fg.detach], return_when=asyncio.FIRST_COMPLETED)
            if done.done() and not done.cancelled():
                exc = done.exception()
                if exc is not None:
                    raise exc
                kernel.last_rtt_ms = (time.perf_counter() - started) * 1000
            record.execution_count = req.execution_count
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
        finally:
            self._fg = None
            self._keyboard = None
            if self.prompt is not None:
                keyboard.hand_to(self.prompt.input)
        if fg.skipped:
            self.console.line(self.style.paint(render.DIM, f"[{fg.skipped} output messages skipped after the interrupt]"))
        if record.execution_count is None:
            record.execution_count = kernel.session.next_count
        self._payloads(req)
        self.console.ensure_newline()
        self.console.write("out", "\n")  # a blank line between cells, as in jupyter console

    async def _answer_input(self, kernel: Kernel, ev: s.InputRequest) -> None:
        """input() / getpass() in the kernel: ask in place; Ctrl-C interrupts the kernel."""
        keyboard = self._keyboard
        if keyboard is not None:
            keyboard.pause()
        self.console.ensure_newline()
        session: PromptSession = PromptSession()
        if keyboard is not None:
            keyboard.hand_to(session.input)  # what was typed ahead answers the question
        value = ""
        try:
            self.console.app = session.app
            value = await session.prompt_async(ev.prompt, is_password=ev.password)
        except KeyboardInterrupt:
            self.console.app = None
            await self._interrupt(kernel)
            return
        except EOFError:
            value = ""
        finally:
            self.console.app = None
            self._own_signals(asyncio.get_running_loop())
            if keyboard is not None and self._keyboard is keyboard:
                keyboard.resume()
        try:
            await kernel.channel.send(m.input_reply(kernel.session.session_id, value, ev.header))
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")

    def _payloads(self, req: s.Request) -> None:
        """IPython's ``obj?`` pages and ``set_next_input`` from the execute_reply."""
        for p in req.payload:
            source = p.get("source")
            if source == "page" and isinstance(p.get("data"), dict):
                self.console.ensure_newline()
                self.console.write("out", clean(mime.to_text(p["data"], terminal_size()[0], self.style.color)).rstrip("\n") + "\n")
            elif source == "set_next_input" and isinstance(p.get("text"), str):
                self._next_input = p["text"]

    async def inspect(self, code: str, cursor: int) -> None:
        kernel = self.ws.current if self.ws else None
        if kernel is None:
            return
        msg = m.inspect_request(kernel.session.session_id, code, cursor)
        try:
            reply = await kernel.channel.ask(msg, INSPECT_TIMEOUT)
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
            return
        if reply is None:
            self.console.line("repl: the kernel did not answer the inspection in time", "err")
        elif reply.get("status") == "ok" and reply.get("found") and isinstance(reply.get("data"), dict):
            self.console.write("out", clean(mime.to_text(reply["data"], terminal_size()[0], self.style.color)).rstrip("\n") + "\n")
        else:
            self.console.line("no documentation for the name at the cursor")

    def _on_sigint(self) -> None:
        """Ctrl-C while no prompt is showing (the prompt handles its own as a key)."""
        fg = self._fg
        if fg is None:
            if self.command_task is not None and not self.command_task.done():
                self.console.write("out", "\n")
                self.command_task.cancel()  # e.g. a kernel launch that takes too long
                return
            self._early_sigint = True  # between the prompt and the cell: it is meant for the cell
            return
        fg.presses += 1
        self.console.write("out", "\n")  # after the terminal's ^C echo
        if fg.presses >= PATIENCE_INTERRUPTS:
            self.console.line("repl: no longer waiting for this cell; it goes on in the background", "err")
            self._to_background(fg)
            return
        if fg.running:
            asyncio.get_running_loop().create_task(self._interrupt(fg.kernel))
        else:
            fg.interrupt_on_start = True  # a signal before the kernel starts the cell would be lost

    def _on_sigtstp(self) -> None:
        """Ctrl-Z while a cell runs (read as a key, or a real SIGTSTP)."""
        fg = self._fg
        if fg is None:
            return
        self.console.line(self.style.paint(render.DIM, f"[{fg.kernel.label}] cell sent to the background; its output will be tagged"))
        self._to_background(fg)

    def _to_background(self, fg: Foreground) -> None:
        if fg.req.done or fg.detach.done():
            return
        fg.kernel.background.add(fg.req.msg_id)
        fg.detach.set_result(None)
        self._fg = None

    async def _interrupt(self, kernel: Kernel) -> None:
        assert self.ws is not None
        try:
            await self.ws.interrupt(kernel)
        except errors.ReplError as exc:
            self.console.line(f"repl: interrupt failed: {exc}", "err")
