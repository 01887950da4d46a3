"""What the prompt shows besides the text: the In [N] message, continuation, toolbar, lexer,
and the arguments /commands complete with. Each reads the workspace; none changes it."""

from __future__ import annotations

import asyncio
import sys
from typing import Callable, TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.key_binding.vi_state import InputMode
from prompt_toolkit.shortcuts import CompleteStyle
from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import ANSI, FormattedText, merge_formatted_text
from prompt_toolkit.key_binding import merge_key_bindings
from prompt_toolkit.lexers import DynamicLexer, Lexer, PygmentsLexer, SimpleLexer
from prompt_toolkit.output import ColorDepth

from repl.ui.prompt import history as hist
from repl.ui.prompt import editor
from repl.ui.prompt.speedups import quickdraw, quickkeys
from repl.ui.prompt.speedups.quicksuggest import QuickSuggestFromHistory
from repl.ui.output import render
from repl.ui.output.console import terminal_size
from repl.ui.prompt.asking import Asking
from repl.ui.prompt.elide import ElideLongLines
from repl.ui.prompt.completion import ReplCompleter
from repl.ui.prompt.fastinput import FastInput
from repl.ui.prompt.histsearch import start_at_the_line
from repl.ui.prompt.keys import make_bindings
from repl.ui.widgets.keys import focus_bindings
from repl.ui.prompt.lexer import pygments_lexer_for
from repl.ui.output.sanitize import label
from repl.ui.term.shell import Shell

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.ui.widgets.focus import Focus
    from repl.workspace import Workspace


HUGE = 64 * 1024  # characters in the prompt beyond which it is not highlighted
LEXER_AFTER = 0.05  # s: a kernel's lexer is built this long after the prompt first wants it
VI_MODES = {InputMode.INSERT: "[ins] ", InputMode.INSERT_MULTIPLE: "[ins] ", InputMode.NAVIGATION: "[nav] ",
            InputMode.REPLACE: "[rep] ", InputMode.REPLACE_SINGLE: "[rep] "}


class PromptParts:
    def __init__(self, ws: Workspace, style: render.Style, shell: Shell) -> None:
        self.ws = ws
        self.style = style
        self.shell = shell  # the terminal's marks around prompt lines
        self.specs: list[str] = []  # kernelspec names, for /new completion
        self._lexers: dict[str, Lexer] = {}
        self._session: PromptSession | None = None  # the prompt, once made
        self.notice = ""  # said in the toolbar until the next input (e.g. why a cell was not sent)
        self.focus: Focus | None = None  # the keyboard on a widget (F2), once there are widgets
        self.vi = False  # vi editing mode: its mode is shown before the prompt

    @property
    def app(self) -> Application | None:
        """The prompt's application, once made."""
        return self._session.app if self._session is not None else None

    def message(self):
        focus = self.focus
        line = self._message()
        if self.vi and self.app is not None:  # the vi mode before the prompt, as IPython shows it
            mode = VI_MODES.get(self.app.vi_state.input_mode, "")
            line = merge_formatted_text([FormattedText([("ansiyellow" if self.style.color else "", mode)]), line]) if mode else line
        if focus is None or not focus.active:
            return line
        panel = focus.panel(terminal_size()[0], self.style.color)  # (the widget the keys go to, above the line)
        return merge_formatted_text([ANSI(panel.rstrip("\n") + "\n"), line])

    def _message(self):
        k = self.ws.current
        if k is None:
            opening = self.ws.opening
            if opening is not None and opening.pending:  # a new kernel's first cell is 1
                return self._in("", "1" if opening.fresh else " ")
            return "[no kernel] > "
        if k.language_info and k.id not in self._lexers:
            self.lexer()  # (its lexer is built: the line typed before the kernel came is coloured then)
        n = k.next_count  # (None: an attached kernel has not told us its count yet)
        return self._in(f"{k.label} " if len(self.ws.kernels) > 1 else "", " " if n is None else str(n))

    def _in(self, name: str, n: str):
        name = label(name)  # a kernel's name or alias: the server's words
        if not self.style.color:
            return f"{name}In [{n}]: "
        return FormattedText([("ansicyan", name), ("ansigreen", "In ["), ("ansibrightgreen bold", n),
                              ("ansigreen", "]: ")])

    def session(self, asking: Asking, vi: bool, pt_style, late_ctrl_c: Callable[[], None]) -> PromptSession:
        """The prompt, wired to these parts and to the kernel questions of ``asking``."""
        self.vi = vi
        quickdraw.install()
        quickkeys.install()
        completer = ReplCompleter(self.arguments_for, asking.complete)
        session: PromptSession = PromptSession(
            input=FastInput(sys.stdin), input_processors=[ElideLongLines()],
            lexer=DynamicLexer(self.lexer), bottom_toolbar=self.toolbar,
            completer=completer, complete_while_typing=False,
            complete_in_thread=False, prompt_continuation=self._continuation, multiline=True,
            complete_style=CompleteStyle.MULTI_COLUMN,  # (candidates in columns, the chosen one's type below, as IPython)
            key_bindings=merge_key_bindings([
                make_bindings(asking.quick_verdict, asking.kernel_verdict, asking.inspect, self.edit, late_ctrl_c,
                              completer.tab),
                focus_bindings(lambda: self.focus)]),  # (last: while a widget has the keyboard, its keys win)
            history=hist.open_history(), auto_suggest=QuickSuggestFromHistory(), enable_history_search=True,
            vi_mode=vi, style=pt_style, enable_suspend=True, include_default_pygments_style=pt_style is None,
            color_depth=None if self.style.color else ColorDepth.MONOCHROME,
        )
        self._session = session
        return start_at_the_line(session)

    async def edit(self, buffer: Buffer) -> None:
        """Ctrl-X Ctrl-E / vi ``v``: the cell in the user's editor; back in the prompt, ready to run."""
        k = self.ws.current
        suffix = editor.suffix_for(k.language_info if k is not None else None)
        text = buffer.text
        try:
            edited = await run_in_terminal(lambda: editor.edit(text, suffix), in_executor=True)
        except editor.EditorError as exc:
            message = f"repl: {exc}"
            await run_in_terminal(lambda: print(message, file=sys.stderr, flush=True))
            return
        buffer.document = Document(edited, len(edited))

    @staticmethod
    def continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
        return " " * max(width - 5, 0) + "...: "

    def _continuation(self, width: int, line_number: int, is_soft_wrap: int):
        text = self.continuation(width, line_number, is_soft_wrap)
        return self.shell.continuation(text) if not is_soft_wrap else text

    def toolbar(self) -> str:
        return label(self._toolbar())  # it names kernels and frames: the server's and the kernel's words

    def _toolbar(self) -> str:
        if self.focus is not None and self.focus.active:
            return self.focus.keys_help()
        if self.notice:
            return f" {self.ws.server_label} │ {self.notice} "
        k = self.ws.current
        opening = self.ws.opening
        if opening is not None and opening.showing:
            return f" {self.ws.server_label} │ {opening.status()} │ type ahead: it runs when the kernel is up "
        if k is None:
            return f" {self.ws.server_label} │ no kernel │ /new [SPEC] or /use TARGET "
        rtt = f"{k.last_rtt_ms:.0f} ms" if k.last_rtt_ms is not None else "–"
        state = k.state
        frame = k.debugger.dap.current if k.debugger.stopped else None
        if frame is not None:
            state = f"stopped at {k.debugger.where(frame)} in {frame.name}"
        text = f" {self.ws.server_label} │ {k.label} {k.id[:8]} │ {state} │ {rtt} "
        busy = sum(1 for other in self.ws.kernels.values() if other.background)
        if busy:
            text += f"│ {busy} busy in background "
        return text

    def lexer(self) -> Lexer:
        k = self.ws.current
        if k is None or not k.language_info or self._huge():
            return SimpleLexer()  # highlighting a huge paste would cost seconds per redraw
        lexer = self._lexers.get(k.id)
        if lexer is None:
            lexer = self._lexers[k.id] = SimpleLexer()  # plain until it is built
            self._build_lexer(k.id, k.language_info)
        return lexer

    def _build_lexer(self, kid: str, info: dict) -> None:
        """Build a kernel's lexer in a thread, a moment after the prompt that wants it is drawn:
        finding pygments' Python lexer and compiling its rules takes ~75 ms, which stood between
        a kernel's coming and its prompt. What is typed meanwhile is drawn plain, then coloured."""
        loop = asyncio.get_running_loop()

        def built(made: asyncio.Future) -> None:
            if not made.cancelled() and made.exception() is None:
                self._lexers[kid] = made.result()
                if self._session is not None:  # (a new lexer object: the prompt keeps the lines lexed by the old one)
                    self._session.lexer = DynamicLexer(self.lexer)
                    self._session.app.invalidate()

        def build() -> None:
            loop.run_in_executor(None, lambda: PygmentsLexer(pygments_lexer_for(info))).add_done_callback(built)

        loop.call_later(LEXER_AFTER, build)

    def _huge(self) -> bool:
        app = self.app
        return app is not None and len(app.current_buffer.text) > HUGE

    def arguments_for(self, name: str) -> list[tuple[str, str]]:
        ws = self.ws
        if name == "new":
            return [(spec, "kernelspec") for spec in self.specs]
        if name == "debug":
            return [(w, "mode") for w in ("on", "off", "full")]
        if name == "break":
            return [("raised", "stop on every exception"), ("uncaught", "stop on uncaught exceptions"),
                    ("noexc", "stop on no exception")]
        if name == "unbreak":
            return [("all", "every breakpoint")]
        if name == "upload":
            return local_entries()
        if name not in ("use", "shutdown", "pause"):
            return []
        out = [(str(i), f"{m.name} {m.id[:8]}") for i, m in enumerate(ws.listing, 1)]
        out += [(k.alias, f"{k.model.name} {k.id[:8]}") for k in ws.kernels.values() if k.alias]
        out += [(kid, alias) for kid, alias in ws.aliases.all().items()]
        out += [(alias, kid[:8]) for kid, alias in ws.aliases.all().items()]
        out += [(m.id, m.name) for m in ws.listing]
        seen: set[str] = set()
        return [(a, d) for a, d in out if not (a in seen or seen.add(a))]  # type: ignore[func-returns-value]


def local_entries(limit: int = 500) -> list[tuple[str, str]]:
    """The files and directories here, for /upload's first argument (a directory ends with /)."""
    import os

    try:
        with os.scandir(".") as it:
            found = sorted((e.name + ("/" if e.is_dir() else ""), "directory" if e.is_dir() else "file")
                           for _, e in zip(range(limit), it, strict=False) if not e.name.startswith("."))
    except OSError:
        return []
    return found
