"""Where kernel output goes: straight to the terminal while no prompt is showing, and above the
prompt (through prompt_toolkit's run_in_terminal, batched per tick) while one is."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
import os
import select
import sys
import time
from typing import Any, Callable, Iterator, TextIO
import weakref

from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.utils import get_cwidth

from repl.ui.output.lineedit import resolve_line
from repl.ui.output.render import strip_ansi
from repl.ui.output.sanitize import label


NOT_READY_TRIES = 20  # × batch_delay: how long output waits for a prompt that just started
PIECE = 16 * 1024  # output written above the prompt at a time, between looks at the keyboard
BURST = 0.008  # s of writing above the prompt between two drawings of it
KEYS_FIRST = 0.002  # s: output above the prompt waits this long when a key is waiting to be read
DRAW_WAIT = 0.05  # s the next piece waits for the prompt to be drawn (if no drawing comes, it goes then)
HOLD = 0.3  # s an unfinished line waits above the prompt for its end: a print comes in pieces
# ("beat", " 7\n"), and a line written above the prompt is ended there (the prompt is drawn below)


def display_rows(text: str, columns: int) -> int:
    """How many terminal rows ``text`` moves the cursor down (wrapped lines count as many)."""
    lines = text.split("\n")[:-1]
    if all(len(line) <= columns for line in lines):
        return len(lines)  # the common case on the output hot path: no line can wrap
    rows = 0
    for line in lines:
        line = strip_ansi(line)
        if "\r" in line or "\b" in line:
            line = resolve_line(line)
        width = len(line) if line.isascii() else get_cwidth(line)
        rows += max(1, -(-width // max(columns, 1)))
    return rows


_size_cache: list = [0.0, (80, 24)]


def terminal_size(fresh: bool = False) -> tuple[int, int]:
    """(columns, lines), asked of the terminal at most every half second (it is on the output path),
    or now when ``fresh``."""
    now = time.monotonic()
    if fresh or now - _size_cache[0] > 0.5:
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
            _size_cache[1] = (size.columns, size.lines)
        except (OSError, ValueError):
            _size_cache[1] = (80, 24)
        _size_cache[0] = now
    return _size_cache[1]


def _keys_waiting(app: Application) -> bool:
    """Keys typed and not read yet by the prompt."""
    try:
        return bool(select.select([app.input.fileno()], [], [], 0)[0])
    except (OSError, ValueError, NotImplementedError):  # (an input with no file: a pipe in tests)
        return False


class Console:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, batch_delay: float = 0.01) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.at_line_start = True
        self._app: Application | None = None  # the prompt's application while it is showing
        self.batch_delay = batch_delay
        self._pending: deque[tuple[str, str]] = deque()  # taken from the front a piece at a time
        self._shown: list[Callable[[], None]] = []  # to call once the pending text is out
        self._scheduled = False
        self._open_since: float | None = None  # when the pending output's unfinished last line began
        self._holding: asyncio.TimerHandle | None = None  # the flush after an unfinished line's wait
        self._after_draw: asyncio.TimerHandle | None = None  # the next piece: at the prompt's drawing, or then
        self._not_ready = 0  # tries while the prompt's renderer could not place output above it
        self.rows = 0  # rows moved down by direct writes: lets us erase recent output
        self.redrawable = True  # False once something uncounted reached the screen (positions unknown)
        self._left: int | None = None  # rows the prompt showing leaves on screen when it ends
        self._hooked: weakref.WeakSet = weakref.WeakSet()  # prompts whose last drawing we count
        self.held = False  # another program has the screen (/terminal): output waits, shown after
        self._pending_at_line_start = True  # the first text waiting begins a line (nothing of its line is out)

    @property
    def app(self) -> Application | None:
        return self._app

    @app.setter
    def app(self, app: Application | None) -> None:
        if app is None and self._app is not None:
            if self._left is None:
                self.redrawable = False  # it ended without its last drawing: positions unknown
            else:
                self.rows += self._left  # its message and input stay on screen: counted
        self._left = None
        if app is not None and app not in self._hooked:
            self._hooked.add(app)
            app.after_render += self._rendered
        self._app = app

    def _rendered(self, sender: Any) -> None:
        """After each drawing of a prompt: the next piece of output above it, if one waits for
        the drawing; once it is done, the rows it leaves on screen (its message and input,
        wrapped, continuation lines; the toolbar is gone, as prompt_toolkit draws a done prompt at
        its layout's preferred height), or none when it erased itself."""
        app: Any = sender
        if sender is not self._app:
            return
        if self._after_draw is not None:
            self._after_draw.cancel()
            self._after_draw = None
            asyncio.get_running_loop().call_soon(self._flush_above_prompt)
        if not app.is_done:
            return
        if app.erase_when_done:
            self._left = 0
            return
        try:
            size = app.output.get_size()
            height = app.layout.container.preferred_height(size.columns, size.rows).preferred
            self._left = min(height, size.rows)
        except Exception:  # (a layout that cannot say: positions unknown)
            self._left = None

    def _file(self, stream: str) -> TextIO:
        return self.err if stream == "err" else self.out

    def write(self, stream: str, text: str) -> None:
        if not text:
            return
        if not self._pending:
            self._pending_at_line_start = self.at_line_start
        if self.held:
            self._pending.append((stream, text))
        elif self.app is not None and self.app.is_running:
            self._pending.append((stream, text))
            if text.endswith("\n"):
                self._open_since = None
            elif self._open_since is None or "\n" in text:
                self._open_since = time.monotonic()
            if self._holding is not None and self._open_since is None:  # the line it waited for is whole
                self._holding.cancel()
                self._holding, self._scheduled = None, False
            if not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_later(self.batch_delay, self._flush_above_prompt)
        else:
            self.flush_pending()
            f = self._file(stream)
            f.write(text)
            f.flush()
            self.rows += display_rows(text, terminal_size()[0]) if "\n" in text else 0
        self.at_line_start = text.endswith("\n")

    def control(self, seq: str) -> None:
        """A sequence of our own that moves nothing (a mark, the title, the clipboard): written
        now, after the output before it when no prompt shows; never counted, never sanitized."""
        if not seq:
            return
        if self.app is None or not self.app.is_running:
            self.flush_pending()
        self.out.write(seq)
        self.out.flush()

    def mark(self) -> tuple[int, bool]:
        """A position in the output that :meth:`erase_to` can come back to."""
        self.flush_pending()
        return self.rows, self.at_line_start

    def _up_to(self, mark: tuple[int, bool]) -> int | None:
        """Rows back up to ``mark``, if what was written since is all still on screen."""
        rows, at_start = mark
        up = self.rows - rows
        if not self.redrawable or not self.out.isatty() or not at_start:  # (mid-line: column unknown)
            return None
        return up if 0 <= up < terminal_size()[1] - 1 else None

    def erase_to(self, mark: tuple[int, bool]) -> bool:
        """Erase everything written since ``mark`` if it is all still on screen; True if done."""
        up = self._up_to(mark)
        if up is None or (self.app is not None and self.app.is_running):
            return False
        self.out.write((f"\x1b[{up}A" if up else "") + "\r\x1b[J")
        self.out.flush()
        self.rows = mark[0]
        self.at_line_start = True
        return True

    def rewrite(self, mark: tuple[int, bool], pieces: list[tuple[str, str]]) -> bool:
        """Write ``pieces`` in place of everything written since ``mark``, if it is all still on
        screen; True if done. While a prompt shows (a widget changed between cells) it is erased,
        the text rewritten above it, and the prompt drawn again below, as :meth:`_print_above`
        does: never drawn over."""
        app = self.app
        if app is None or not app.is_running:
            if not self.erase_to(mark):
                return False
            for stream, text in pieces:
                self.write(stream, text)
            return True
        renderer = app.renderer
        below = getattr(renderer, "_min_available_height", None)
        up = self._up_to(mark)
        if up is None or self._pending or not isinstance(below, int) or below <= 0 \
                or getattr(app, "_running_in_terminal", True) or not self.at_line_start:
            return False
        before = self.rows
        renderer.erase(leave_alternate_screen=False)  # the cursor is where the prompt began
        self.out.write((f"\x1b[{up}A" if up else "") + "\r\x1b[J")
        self.out.flush()
        self.rows = mark[0]
        columns = terminal_size()[0]
        for stream, text in pieces:
            f = self._file(stream)
            f.write(text)
            f.flush()
            self.rows += display_rows(text, columns)
        if pieces and not pieces[-1][1].endswith("\n"):
            self.out.write("\n")  # the prompt is drawn again below: finish the line
            self.rows += 1
        self.out.flush()
        self.at_line_start = True
        renderer._min_available_height = max(below - (self.rows - before), 1)
        app.invalidate()
        return True

    def overwrite(self, start: tuple[int, bool], end: int, text: str) -> bool:
        """Write ``text`` over the rows from ``start`` to ``end`` (output came after them) if they
        are all still on screen and ``text`` takes exactly as many rows: a widget's bar changing
        colour above a traceback is redrawn where it is. The cursor goes back where it was; a
        prompt showing is erased first and drawn again. True if done."""
        app = self.app
        running = app is not None and app.is_running
        up = self._up_to(start)
        rows = end - start[0]
        columns = terminal_size()[0]
        if up is None or rows <= 0 or end > self.rows or self._pending or not text.endswith("\n"):
            return False
        if text.count("\n") != rows or display_rows(text, columns) != rows:
            return False  # it would wrap, or take more or fewer rows: not in place
        if running:
            assert app is not None
            below = getattr(app.renderer, "_min_available_height", None)
            if not isinstance(below, int) or below <= 0 or getattr(app, "_running_in_terminal", True) \
                    or not self.at_line_start:
                return False
            app.renderer.erase(leave_alternate_screen=False)
            app.renderer._min_available_height = below  # (drawn again where it was)
        lines = "".join("\r\x1b[2K" + line + "\n" for line in text[:-1].split("\n"))
        self.out.write("\x1b7" + f"\x1b[{up}A" + lines + "\x1b8")  # (DECSC, DECRC: back to the column too)
        self.out.flush()
        if running:
            assert app is not None
            app.invalidate()
        return True

    def line(self, text: str, stream: str = "out") -> None:
        """A whole line of our own (notices, errors), starting on a fresh line. It may hold the
        kernel's or the server's words (names, messages): only its colours reach the terminal."""
        self.ensure_newline()
        self.write(stream, label(text) + "\n")

    def take_open_line(self, stream: str, shown: str) -> bool:
        """Take back the unfinished last line, ``shown`` so far, to be written again as edited (a
        progress bar's \\r): from what waits to be written, or, written and with no prompt below
        it, from the screen (erased, when it fits on one row). False when neither can be done
        (part of it is out above a prompt, another stream's text is in it, it wrapped)."""
        if not self._pending and not self.held and not (self.app is not None and self.app.is_running):
            line = strip_ansi(shown)
            if self.at_line_start or not 0 < (len(line) if line.isascii() else get_cwidth(line)) < terminal_size()[0]:
                return False
            f = self._file(stream)
            f.write("\r\x1b[K")
            f.flush()
            self.at_line_start = True
            return True
        taken: list[tuple[str, str]] = []
        while self._pending:
            st, text = self._pending[-1]
            cut = text.rfind("\n") + 1
            if st != stream and cut < len(text):
                break
            if cut:
                if cut < len(text):
                    self._pending[-1] = (st, text[:cut])
                self.at_line_start = True
                return True
            taken.append(self._pending.pop())
        if not self._pending and taken and self._pending_at_line_start:
            self.at_line_start = True
            return True
        self._pending.extend(reversed(taken))
        return False

    def ensure_newline(self) -> None:
        if not self.at_line_start:
            self.write("out", "\n")

    def when_shown(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once what was written so far is on the screen."""
        if self._pending:
            self._shown.append(fn)
        else:
            fn()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Output waits while another program has the screen; it is written when that ends."""
        self.held = True
        try:
            yield
        finally:
            self.held = False
            self.flush_pending()

    def interrupt_prompt(self) -> bool:
        """SIGINT while a prompt or question runs (there Ctrl-C is a key: this came from kill): it
        ends as for the key; True if one was running (prompts leave SIGINT to us: App._on_sigint)."""
        app = self._app
        if app is None or not app.is_running or app.future is None or app.future.done():
            return False
        app.exit(exception=KeyboardInterrupt(), style="class:aborting")
        return True

    def flush_pending(self) -> None:
        if self.held:
            return
        pending, self._pending = list(self._pending), deque()
        self._open_since = None
        self._write_out(pending)

    def _write_out(self, pending: list[tuple[str, str]]) -> None:
        shown, self._shown = (self._shown, []) if not self._pending else ([], self._shown)
        if not self._pending:
            self._open_since = None
        columns = terminal_size()[0]
        for stream, text in pending:
            f = self._file(stream)
            f.write(text)
            self.rows += display_rows(text, columns) if "\n" in text else 0
        if pending:
            if not pending[-1][1].endswith("\n"):
                self.out.write("\n")  # the prompt redraws below: finish the line
                self.rows += 1
                self.at_line_start = True
            self.out.flush()
            self.err.flush()
        for fn in shown:
            fn()

    def _take(self, limit: int) -> list[tuple[str, str]]:
        """Pending output up to about ``limit`` characters, cut after a line's end."""
        taken: list[tuple[str, str]] = []
        size = 0
        while self._pending and size < limit:
            stream, text = self._pending[0]
            if size + len(text) > limit:
                cut = text.rfind("\n", 0, limit - size) + 1
                if cut == 0 and taken:
                    break
                if 0 < cut < len(text):
                    taken.append((stream, text[:cut]))
                    self._pending[0] = (stream, text[cut:])
                    break
            taken.append(self._pending.popleft())
            size += len(text)
        return taken

    def _held(self) -> float:
        """How much longer the unfinished line at the end of the pending output may wait for the
        rest of it (0: write it now)."""
        if self._open_since is None:
            return 0.0
        return max(0.0, self._open_since + HOLD - time.monotonic())

    def _hold_tail(self, piece: list[tuple[str, str]]) -> float:
        """Put the unfinished last line of ``piece`` (all that is pending) back to wait for its end;
        the seconds it may wait, or 0 when it is written now."""
        held = self._held() if piece and not self._pending else 0.0
        if held:
            stream, text = piece.pop()
            cut = text.rfind("\n") + 1
            if cut:
                piece.append((stream, text[:cut]))
            self._pending.appendleft((stream, text[cut:]))
        return held

    def _flush_above_prompt(self, late: bool = False) -> None:
        """Write what waits above the prompt, when it can go now (``late``: the drawing it waited
        for did not come in time; it goes anyway)."""
        self._scheduled, self._holding, self._after_draw = False, None, None
        if not self._pending or self.held:
            return
        if self.app is None or not self.app.is_running:
            self.flush_pending()
        elif self.app.is_done:
            return  # the prompt draws its last: what waits is written after it (App._read)
        elif _keys_waiting(self.app):  # the key and its echo first, then the output (a flood must
            self._scheduled = True  # not stand between a keystroke and its echo)
            asyncio.get_running_loop().call_later(KEYS_FIRST, self._flush_above_prompt)
        elif self.app.invalidated and not late:  # a drawing is on its way (a key read, say): it first
            self._after_drawing()
        elif self._print_above(self.app):
            self._not_ready = 0
        elif self._not_ready < NOT_READY_TRIES:  # a prompt just started (its renderer does not know
            self._not_ready += 1  # where it is yet): soon, rather than through cooked mode, which echoes keys
            self._scheduled = True
            asyncio.get_running_loop().call_later(self.batch_delay, self._flush_above_prompt)
        else:
            self._not_ready = 0
            run_in_terminal(self.flush_pending, in_executor=False)

    def _after_drawing(self) -> None:
        """The next write above the prompt at its next drawing (:meth:`_rendered`), or in
        DRAW_WAIT if none comes."""
        self._scheduled = True
        self._after_draw = asyncio.get_running_loop().call_later(DRAW_WAIT, self._flush_above_prompt, True)

    def settle(self) -> bool:
        """Write what waits to be shown above the prompt now (a redraw in place counts rows from
        it); True if nothing is left waiting."""
        app = self.app
        for _ in range(64):  # (pieces of PIECE characters: a flood is not written all at once here)
            if not self._pending:
                return True
            if app is None or not app.is_running:
                self.flush_pending()
            elif not self._print_above(app, hold=False):
                return False
        return not self._pending

    def _print_above(self, app: Application, hold: bool = True) -> bool:
        """Write pending output above the running prompt, in pieces: erase the prompt, write for
        up to BURST (or until a key is waiting to be read), draw the prompt again (telling its
        renderer how far down the output pushed it), and the next burst once the prompt has been
        drawn. False when that cannot be done here (the renderer does not know where the prompt
        is, or is suspended).

        A key read meanwhile is drawn before more output: prompt_toolkit puts a drawing off while
        other callbacks are ready, up to 10 ms (``max_render_postpone_time``), and bursts written
        one after another held the echo of a key already read for that long. Pieces are small, as
        writing one blocks until the terminal takes it: 64 KB took up to 13 ms here with the
        machine's two cores busy with the flood (bench/all.py: echo, its 90th percentile).

        run_in_terminal does more each time: it waits for the answer to its last cursor-position
        question, detaches the keyboard, switches the terminal to cooked mode and back, and asks
        where the cursor is again; and megabytes written at once (a flood of output) sit between
        a keystroke and its echo. Both held keystrokes for up to ~100 ms (bench/all.py: echo)."""
        renderer = app.renderer
        below = getattr(renderer, "_min_available_height", None)  # rows from the prompt's top to the bottom
        if not isinstance(below, int) or below <= 0 or getattr(app, "_running_in_terminal", True):
            return False
        began, rows, held, wrote = time.monotonic(), 0, 0.0, False
        while self._pending and not held:
            piece = self._take(PIECE)
            held = self._hold_tail(piece) if hold else 0.0
            if not piece:
                break
            if not wrote:
                renderer.erase(leave_alternate_screen=False)
                wrote = True
            before = self.rows
            self._write_out(piece)  # (counts the rows it writes, the line it ends too)
            rows += self.rows - before
            if time.monotonic() - began >= BURST or _keys_waiting(app):
                break
        if wrote:
            renderer._min_available_height = max(below - rows, 1)  # (at the bottom: the terminal scrolls)
            app.invalidate()
        if self._pending and not self._scheduled:  # the rest after the prompt is drawn again
            loop = asyncio.get_running_loop()
            if held:
                self._scheduled = True
                self._holding = loop.call_later(held, self._flush_above_prompt)
            elif wrote:
                self._after_drawing()
            else:
                self._scheduled = True
                loop.call_soon(self._flush_above_prompt)
        return True
