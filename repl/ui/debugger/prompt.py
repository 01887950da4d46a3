"""The ``(dbg)`` prompt: shown while a kernel is stopped in its debugger, with pdb's words.

Where it stopped is printed first (why, the cell or file and line, the function, a few
highlighted lines). Then each line is a step (``n s r c``), a look (``w u d l v``), ``q``, a
/command (as at the cell prompt), or code evaluated in the current frame. The prompt has its own
history and completes from the debugger. While it waits for the debugger, Ctrl-C or Ctrl-D
(:meth:`DebugPrompt.stop_waiting`) gives the wait up at once: the link may be down.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Awaitable, Callable, Coroutine, TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import InMemoryHistory
from pygments import highlight
from pygments.formatters import TerminalFormatter

from repl import errors
from repl.debugger import EvaluationError  # (this module comes with a first stop: the kernel's modules are in)
from repl.protocol import dap
from repl.ui.slash import commands
from repl.ui.output import render
from repl.ui.debugger.words import HELP, dbg_line
from repl.ui.prompt.fastinput import FastInput
from repl.ui.prompt.histsearch import start_at_the_line
from repl.ui.prompt.lexer import pygments_lexer_for
from repl.ui.output import sanitize

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.debugger import Debugger
    from repl.kernel import Kernel

PAGE = 50  # variables shown at once
AROUND = 2  # lines either side of the current one when execution stops (``l``: 5)

SLOW_ANSWER = 2.0  # seconds before a wait for the debugger says so
Ask = Callable[[PromptSession, str], Awaitable[str]]  # prompt once (raises KeyboardInterrupt, EOFError)
Run = Callable[[commands.Command], Awaitable[object]]  # carry out a /command (its mistakes: one line)


def stop_reason(stop: dap.Stopped) -> str:
    if stop.reason == "exception":
        what = f"{stop.text}: {stop.description}" if stop.text and stop.description else stop.text or stop.description
        return f"stopped on {what or 'an exception'}"
    if stop.reason == "breakpoint":
        return "stopped at a breakpoint"
    if stop.reason == "pause":
        return "paused"
    return ""  # a step: where it is says it all


def listing(lines: list[str], current: int, around: int, style: render.Style, info: dict) -> str:
    """Numbered lines ``current ± around`` (1-based), the current one marked, highlighted."""
    lo, hi = max(current - around, 1), min(current + around, len(lines))
    if lo > hi:
        return ""
    code = "\n".join(lines[lo - 1:hi])
    if style.color:
        code = highlight(code, pygments_lexer_for(info)(stripnl=False), TerminalFormatter()).rstrip("\n")
    width = len(str(hi))
    out = []
    for n, text in zip(range(lo, hi + 1), code.split("\n"), strict=False):
        mark = "->" if n == current else "  "
        out.append(f"{style.paint(render.DIM, f'{n:>{width}}')} {mark} {text}")
    return "\n".join(out)


def variable_line(v: dict, parent: str = "") -> str:
    name, value, kind = str(v.get("name", "?")), str(v.get("value", "")), str(v.get("type", ""))
    if kind == "MoreItemsRange" and parent:  # debugpy's next hundred items of a large container
        return f"  {name} {value}: v {parent}.{name}"
    if not value and not kind and v.get("variablesReference"):
        return f"  {name} …"  # a group (debugpy's "special variables"), expanded by v NAME
    if len(value) > 200:
        value = value[:200] + "…"
    return f"  {name} = {value}" + (f"  ({kind})" if kind else "")


NOT_ITEMS = ("special variables", "function variables", "protected variables", "len()")


def extent(found: list[dict], parent: str) -> str:
    """How big the container is, when debugpy says (its ``len()`` entry), and how much of it the
    debugger lists: a dict of 200,000 items is listed as its first 500."""
    length = next((str(v.get("value", "")) for v in found if v.get("name") == "len()"), "")
    if not length.isdigit():
        return ""
    if any(v.get("type") == "MoreItemsRange" for v in found):  # the rest is in groups: all of it is there
        return f" ({parent or 'it'} has {int(length):,} items)"
    listed = sum(1 for v in found if str(v.get("name", "")) not in NOT_ITEMS
                 and not str(v.get("name", "")).startswith("Unable to handle"))
    cut = f"; the debugger lists the first {listed}" if listed < int(length) else ""
    return f" ({parent or 'it'} has {int(length):,} items{cut})"


class DebugCompleter(Completer):
    def __init__(self, debugger: Debugger) -> None:
        self.debugger = debugger

    def get_completions(self, document, complete_event):
        return iter(())

    async def get_completions_async(self, document, complete_event):
        text = document.text_before_cursor
        if not text.strip():
            return
        try:
            targets = await self.debugger.completions(text, len(text) + 1, self.debugger.dap.current)
        except errors.ReplError:
            return
        word = len(text) - len(text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"))
        for t in targets:
            label = str(t.get("text") or t.get("label") or "")
            start = t.get("start")
            offset = start - len(text) if isinstance(start, int) and 0 <= start <= len(text) else -(len(text) - word)
            if label:
                yield Completion(label, start_position=offset, display=sanitize.label(label),
                                 display_meta=sanitize.label(str(t.get("type", ""))))


class _WentOn(Exception):
    pass


class _GaveUp(Exception):  # Ctrl-C or Ctrl-D while waiting for the debugger
    pass


class DebugPrompt:
    def __init__(self, say: Callable[[str, str], None], style: render.Style, toolbar: Callable[[], str],
                 command: Run) -> None:
        self.say = say  # (text, stream)
        self.style = style
        self.toolbar = toolbar
        self.command = command
        self._work: asyncio.Future | None = None  # what the prompt waits for between two lines
        self.history = InMemoryHistory()  # the (dbg) prompt's own: never mixed with cells
        self._showing: tuple[Kernel, PromptSession] | None = None

    async def run(self, kernel: Kernel, ask: Ask) -> None:
        """Show where ``kernel`` stopped and read debugger commands until it goes on."""
        dbg = kernel.debugger
        stop = dbg.stopped
        if stop is None:
            return
        try:
            if not await self._wait(kernel, dbg.stack()):
                return  # it went on before we looked
            await self._wait(kernel, self._where(kernel, stop_reason(stop), AROUND))
        except errors.ReplError as exc:
            self.say(f"repl: {exc}", "err")
            return
        except _GaveUp:
            pass  # the (dbg) prompt all the same: c, q or another try
        session: PromptSession = PromptSession(input=FastInput(sys.stdin), history=self.history, completer=DebugCompleter(dbg),
                                               complete_while_typing=False, bottom_toolbar=self.toolbar,
                                               enable_suspend=True)
        start_at_the_line(session)  # (a Ctrl-C while searching ends the search with the line)
        self._showing = (kernel, session)
        try:
            await self._loop(kernel, stop, session, ask)
        finally:
            self._showing = None

    def check(self, kernel: Kernel) -> None:
        """Events came from ``kernel``: if it went on without us (another client continued, the
        kernel restarted), the (dbg) prompt it had goes away."""
        if self._showing is None or self._showing[0] is not kernel or kernel.debugger.stopped is not None:
            return
        app = self._showing[1].app
        if app.is_running and app.future is not None and not app.future.done():  # (batches of events: exit once)
            app.exit(exception=_WentOn())

    def stop_waiting(self) -> bool:
        """Ctrl-C or Ctrl-D while this prompt waits for the debugger: stop waiting. True if it was."""
        if self._work is None or self._work.done():
            return False
        self._work.cancel()
        return True

    async def _wait(self, kernel: Kernel, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await one exchange with the debugger; :meth:`stop_waiting` ends it (raises _GaveUp)."""
        work = self._work = asyncio.ensure_future(coro)
        try:
            done, _ = await asyncio.wait([work], timeout=SLOW_ANSWER)
            if not done and not kernel.connected:  # the link is down: say what is going on, and how to stop it
                self.say(f"repl: waiting for the debugger of {kernel.label} ({kernel.state})… Ctrl-C or Ctrl-D "
                         "stops waiting", "err")
                await asyncio.wait([work])
        finally:
            self._work = None
            work.cancel()  # (done already, unless we are cancelled ourselves)
        if work.cancelled():
            self.say(f"repl: stopped waiting for the debugger of {kernel.label}; it is still stopped "
                     "(c continues, q stops debugging)", "err")
            raise _GaveUp
        return work.result()

    async def _loop(self, kernel: Kernel, stop: dap.Stopped, session: PromptSession, ask: Ask) -> None:
        dbg = kernel.debugger
        while dbg.stopped is stop:
            try:
                text = await ask(session, self._message(dbg))
            except KeyboardInterrupt:
                continue  # Ctrl-C clears the line
            except EOFError:
                text = "c"
            except _WentOn:
                text = ""
            if dbg.stopped is not stop:
                self.say(f"[{kernel.label}] execution went on", "err")
                return
            try:
                if await self._wait(kernel, self._do(kernel, text)):
                    return
            except EvaluationError as exc:  # the code raised: the kernel's traceback, as the kernel gave it
                self.say(str(exc).rstrip("\n"), "err")
            except errors.ReplError as exc:
                self.say(f"repl: {exc}", "err")
            except _GaveUp:
                pass

    @staticmethod
    def _message(dbg) -> str:
        frame = dbg.dap.current
        return sanitize.label(f"(dbg) {frame.name}:{frame.line}> ") if frame is not None else "(dbg) > "

    async def _do(self, kernel: Kernel, text: str) -> bool:
        """Carry out one line; True when execution goes on (the prompt ends)."""
        dbg = kernel.debugger
        parsed = commands.parse(text)
        if not isinstance(parsed, str):
            await self._slash(parsed)
            return False
        action, arg = dbg_line(parsed)
        if action in ("n", "s", "r", "c"):
            await dbg.resume(action)
            return True
        if action == "q":
            removed = await dbg.quit()
            self.say(f"[{kernel.label}] debugger detached; {removed} breakpoint(s) removed", "err")
            return True
        if action in ("u", "d"):
            if not dbg.dap.move(1 if action == "u" else -1):
                self.say(f"repl: already at the {'outermost' if action == 'u' else 'innermost'} frame", "err")
                return False
            await self._where(kernel, "", AROUND)
        elif action == "w":
            self._stack(kernel)
        elif action == "l":
            await self._where(kernel, "", 5)
        elif action == "v":
            await self._variables(kernel, arg)
        elif action == "h":
            self.say(HELP, "out")
        elif arg.strip():
            self._result(await dbg.evaluate(arg, dbg.dap.current))
        return False

    async def _slash(self, parsed: commands.Command | commands.Unknown) -> None:
        """A /command typed at (dbg): carried out as at the cell prompt (not /quit)."""
        if isinstance(parsed, commands.Unknown):
            raise errors.UsageError(f"unknown command /{parsed.name} — /help lists them")
        if parsed.name == "quit":
            raise errors.UsageError("the debugger holds a cell: c lets it go on, q stops debugging; then /quit")
        await self.command(parsed)

    async def _where(self, kernel: Kernel, headline: str, around: int) -> None:
        frame = kernel.debugger.dap.current
        if frame is None:
            return
        place, lines = await kernel.debugger.source(frame)
        head = f"[{kernel.label}] " + (f"{headline}: " if headline else "") + f"{place}, in {frame.name}"
        self.say(self.style.paint(render.BOLD_RED if "exception" in headline or " on " in headline else "\x1b[1m", head), "out")
        shown = listing(lines, frame.line, around, self.style, kernel.language_info)
        self.say(shown or "  (source not available)", "out")

    def _stack(self, kernel: Kernel) -> None:
        dbg = kernel.debugger
        rows = []
        for i, frame in enumerate(dbg.dap.frames):
            mark = ">" if i == dbg.dap.frame else " "
            rows.append(f"{mark} {i:>2}  {frame.name}  {dbg.where(frame)}")
        self.say("\n".join(rows) or "  (no frames)", "out")

    async def _variables(self, kernel: Kernel, arg: str) -> None:
        dbg = kernel.debugger
        frame = dbg.dap.current
        if frame is None:
            return
        scopes = await dbg.scopes(frame)
        words = arg.split()
        if not words:
            for scope in scopes:
                found = await dbg.variables(int(scope.get("variablesReference", 0)))
                self.say(f"{scope.get('name', 'scope')}:", "out")
                self._page(found, 0, more="")
            return
        name, start = words[0], int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        match = await self._lookup(dbg, scopes, name)
        ref = int(match.get("variablesReference", 0) or 0)
        self.say(variable_line(match).strip(), "out")
        if ref:  # debugpy ignores DAP's start/count: the page is cut here
            found = await dbg.variables(ref)
            self._page(found, start, more=f"v {name} {start + PAGE}", parent=name)

    @staticmethod
    async def _lookup(dbg: Debugger, scopes: list[dict], name: str) -> dict:
        """The variable ``name`` of the frame (``a.b`` walks attributes and items)."""
        parts = name.split(".")
        refs = [int(s.get("variablesReference", 0) or 0) for s in scopes]
        match: dict = {}
        for depth, part in enumerate(parts):
            found = None
            for ref in refs:
                found = next((v for v in await dbg.variables(ref) if v.get("name") == part), None) if ref else None
                if found is not None:
                    break
            if found is None:
                raise errors.UsageError(f"no variable {'.'.join(parts[:depth + 1])} in this frame")
            match = found
            refs = [int(match.get("variablesReference", 0) or 0)]
        return match

    def _page(self, found: list[dict], start: int, more: str, parent: str = "") -> None:
        """``PAGE`` of the debugger's listing ``found`` from ``start``, and how much more there is."""
        page = found[start:]
        rows = [variable_line(v, parent) for v in page[:PAGE]] or ["  (nothing)"]
        if len(page) > PAGE:
            rows.append(f"  … {len(page) - PAGE} more" + (f": {more}" if more else "") + extent(found, parent))
        self.say("\n".join(rows), "out")

    def _result(self, body: dict) -> None:
        result = str(body.get("result", ""))
        if result:
            self.say(self.style.paint(render.RED, "Out: ") + result, "out")
