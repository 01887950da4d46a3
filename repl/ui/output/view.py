"""Where kernel output lands on screen: the one owner of what was drawn and where.

Sanitizes kernel text for the terminal (per kernel and stream, since an escape sequence may be
split across messages), tags output that is not the foreground cell's (``[label]`` for
background cells and other kernels, ``[label elsewhere]`` for other clients), remembers where
each display is so ``update_display_data`` redraws it in place while it is still the latest
output on screen, and erases a cell's output for ``clear_output``. What ``place`` drew (a live
widget) keeps its position across prompts and cells (the console counts the rows every prompt
leaves): it is redrawn in place while it is on screen and its drawing takes as many rows.
"""

from __future__ import annotations

import re

from repl.cell import Cell
from repl.protocol import session as s
from repl.ui.output import mime
from repl.ui.output import render
from repl.ui.output.console import Console, display_rows, terminal_size
from repl.ui.output.lineedit import resolve_line_edits
from repl.ui.output.sanitize import Sanitizer, clean, label


RATE_LIMITED = re.compile(r"IOPub (data|message) rate exceeded")


def _edits_its_line(text: str) -> bool:
    """Whether ``text`` goes back over the line it continues (\\r, \\b before its first line end)."""
    head = text.replace("\r\n", "\n").split("\n", 1)[0]
    return "\r" in head or "\b" in head


def tag_lines(text: str, tag: str, first: bool = True) -> str:
    """Put ``tag`` at the start of every line of ``text`` (a kernel's name: made a label); not
    before the first when it goes on a line the same tag began."""
    tag = label(tag)
    body = text[:-1] if text.endswith("\n") else text
    return (tag if first else "") + body.replace("\n", "\n" + tag) + ("\n" if text.endswith("\n") else "")


class OutputView:
    def __init__(self, console: Console, style: render.Style) -> None:
        self.console = console
        self.style = style
        self._sanitizers: dict[tuple[str, str], Sanitizer] = {}
        self._displays: dict[str, tuple[tuple[int, bool], int]] = {}  # this cell's displays
        self._placed: dict[str, tuple[tuple[int, bool], int]] = {}  # live widgets, any cell's
        self._cell_mark: tuple[int, bool] = (0, True)
        self._gap = -1  # console.rows just after the blank line between cells
        self._open: tuple[str, str, str] | None = None  # (source, stream, tag) of a tagged line not ended yet
        self._open_text = ""  # that line's text so far, as the kernel sent it (its \r and \b too)

    def begin_cell(self) -> None:
        """A foreground cell starts: its output may be erased back to here."""
        if not self.console.redrawable:  # something uncounted reached the screen: positions lost
            self._placed.clear()
        self.console.redrawable = True
        self._displays.clear()
        self._cell_mark = self.console.mark()

    def screen_lost(self) -> None:
        """Something else had the terminal (an editor): no position on screen is known any more."""
        self.console.redrawable = False
        self._placed.clear()

    def between_cells(self) -> None:
        """The blank line between cells, as in jupyter console. A display just above it is still
        redrawn in place (with the blank line after it again)."""
        self.console.write("out", "\n")
        self._gap = self.console.rows

    def clear(self) -> None:
        """clear_output: erase the foreground cell's output, if it is all still on screen."""
        if self.console.erase_to(self._cell_mark):
            self._placed = {k: v for k, v in self._placed.items() if v[0][0] < self._cell_mark[0]}
        self._displays.clear()

    def line(self, text: str, stream: str = "out") -> None:
        self._open = None
        self.console.line(text, stream)

    def dim(self, text: str) -> None:
        self._open = None
        self.console.line(self.style.paint(render.DIM, text))

    def show(self, source: str, ev: s.Event, tag: str | None = None) -> None:
        """Draw one event. ``source`` keys the sanitizers (a kernel id); ``tag`` marks output that
        is not the foreground cell's."""
        self.style.width = terminal_size()[0]
        pieces = self._safe(source, ev, render.render(ev, self.style))
        if not self.style.escapes:  # (TERM=dumb draws no pictures: an image is its placeholder line)
            pieces = [("out", render.strip_ansi(clean(text))) if stream in ("image", mime.OWN) else (stream, render.strip_ansi(text))
                      for stream, text in pieces]
        if not pieces:
            return
        display_id = ev.display_id if isinstance(ev, s.DisplayData) else None
        update = isinstance(ev, s.DisplayData) and ev.update
        if display_id and update and self._redraw(display_id, pieces):
            return  # redrawn in place (a cell's display, updated by it or after it); otherwise
            # the new value is printed as new output
        start = self.console.mark() if display_id and not tag else None
        painted = self.style.paint(render.DIM, tag) if tag else ""
        for stream, text in pieces:
            opened, self._open = self._open, None
            if tag:  # (a kernel's print may come in pieces: "tick", " 14\n")
                going_on = opened == (source, stream, tag) and not self.console.at_line_start
                if going_on and _edits_its_line(text) and self.style.escapes \
                        and self.console.take_open_line(stream, label(tag) + resolve_line_edits(self._open_text)):
                    text, going_on = self._open_text + text, False  # (a progress bar: its line again, edited)
                if not going_on:
                    self.console.ensure_newline()
                line = (self._open_text if going_on else "") + text
                self._open_text = line[line.rfind("\n") + 1:]
                text = tag_lines(resolve_line_edits(text), painted, first=not going_on)
                if not text.endswith("\n"):
                    self._open = (source, stream, tag)
            self.console.write(stream, text)
        if display_id and start is not None:
            self._displays[display_id] = (start, self.console.rows)

    def rate_limited(self, label: str, cell: Cell | None) -> None:
        """The server's IOPub rate limit dropped output: say so once per cell, and what governs it."""
        if cell is not None and cell.rate_limited:
            return
        if cell is not None:
            cell.rate_limited = True
        self.line(f"repl: the server dropped output of {label}: its IOPub rate limit was exceeded "
                  "(the server's iopub_data_rate_limit / iopub_msg_rate_limit settings govern it)", "err")

    def place(self, key: str, text: str, tag: str | None = None) -> None:
        """Text of our own making (a widget) that ``replace`` may redraw in place; tagged, it is not."""
        text = clean(text)
        text = text + "\n" if text and not text.endswith("\n") else text
        if tag:
            self.console.write("out", tag_lines(text, self.style.paint(render.DIM, tag)))
            return
        self.console.ensure_newline()
        start = self.console.mark()
        self.console.write("out", text)
        self._placed[key] = (start, self.console.rows)

    def replace(self, key: str, text: str) -> bool:
        """Redraw what ``place`` drew under ``key``, if it is still the latest output on screen, or
        still on screen and the new text takes as many rows (a widget is live: it changes in place,
        as in JupyterLab, between cells too; an ``update_display_data`` after other output is
        printed anew instead)."""
        text = clean(text)
        return self._redraw(key, [("out", text + "\n" if text and not text.endswith("\n") else text)], anywhere=True)

    def payloads(self, req: s.Request) -> tuple[str, list[str]]:
        """Show IPython's ``obj?`` pages from an execute_reply; return its ``set_next_input`` text
        and the pages longer than the screen, not shown (they are for the pager)."""
        next_input = ""
        long: list[str] = []
        columns, rows = terminal_size()
        for p in req.payload:
            source = p.get("source")
            if source == "page" and isinstance(p.get("data"), dict):
                text = clean(mime.to_text(p["data"], columns, self.style.color)).rstrip("\n") + "\n"
                if self.style.escapes and self.console.out.isatty() and display_rows(text, columns) > rows - 2:
                    long.append(text)
                    continue
                self.console.ensure_newline()
                self.console.write("out", text)
            elif source == "set_next_input" and isinstance(p.get("text"), str):
                next_input = p["text"]
        return next_input, long

    def _redraw(self, display_id: str, pieces: list, anywhere: bool = False) -> bool:
        displays = self._placed if anywhere else self._displays
        where = displays.get(display_id)
        if where is None or not self.console.settle():  # (output waiting to be shown comes first)
            return False
        start, end = where
        gap = end + 1 == self.console.rows == self._gap  # only the blank line after the cell came since
        if end != self.console.rows and not gap and anywhere and len(pieces) == 1 and pieces[0][0] == "out":
            return self.console.overwrite(start, end, pieces[0][1])  # output came after it: if it fits
        if (end != self.console.rows and not gap) or not self.console.rewrite(start, pieces + [("out", "\n")] * int(gap)):
            return False
        displays[display_id] = (start, self.console.rows - int(gap))
        if gap:
            self._gap = self.console.rows  # the blank line, drawn again after it
        return True

    def _safe(self, source: str, ev: s.Event, pieces: list) -> list:
        """Strip escape sequences that reach beyond the screen (see repl.ui.output.sanitize)."""
        if isinstance(ev, s.Stream):
            key = (source, ev.name)
            san = self._sanitizers.get(key)
            if san is None:
                san = self._sanitizers[key] = Sanitizer()
            return [(stream, san.feed(text)) for stream, text in pieces]
        return [(stream, text if stream in ("image", mime.OWN) else clean(text)) for stream, text in pieces]
