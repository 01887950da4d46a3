"""An HTML ``<table>`` (pandas' ``to_html``, ``df.style``, any other) drawn as an aligned text
table: header rows, a rule under them, numbers right-aligned, cut to the terminal's width with a
line saying what was left out. Pure: HTML in, text out (the caller sanitizes it).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from prompt_toolkit.utils import get_cwidth

from repl.ui.output import links

GAP = 2  # spaces between columns
CELL = 40  # characters a cell shows at most (a long text is cut with …)
MAX_ROWS = 500
_NUMBER = re.compile(r"[-+]?(\d[\d,_]*\.?\d*|\.\d+)([eE][-+]?\d+)?%?|nan|NaN|inf|-inf|None|NaT|<NA>")


class _Cells(HTMLParser):
    """Rows of (text, is_header) cells; which rows are the header's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, bool]]] = []
        self.head_rows = 0
        self._in_head = False
        self._cell: list[str] | None = None
        self._header = False
        self._span = 1
        self._skip = 0  # inside <style> / <script>
        self._href: str | None = None  # the target of the link being read, if one is fit to show
        self._link_at = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and len(self.rows) < MAX_ROWS:
            self._end_cell()
            self.rows.append([])
            if self._in_head:
                self.head_rows = len(self.rows)
        elif tag in ("td", "th") and self.rows:
            self._end_cell()
            self._cell, self._header = [], tag == "th"
            span = dict(attrs).get("colspan") or "1"
            self._span = min(int(span), 50) if str(span).isdigit() and int(span) > 0 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "a" and self._cell is not None:
            self._href = links.target(str(dict(attrs).get("href") or ""))
            self._link_at = len(self._cell)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag == "thead":
            self._end_cell()
            self._in_head = False
        elif tag in ("td", "th", "tr"):
            self._end_cell()
        elif tag == "a" and self._cell is not None and self._href:
            text = "".join(self._cell[self._link_at:]).strip()
            if text != self._href:  # a link keeps its target: the address after its text, as elsewhere
                self._cell.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)

    def _end_cell(self) -> None:
        if self._cell is None or not self.rows:
            self._cell = None
            return
        text = " ".join("".join(self._cell).split())
        self.rows[-1].extend([(text, self._header)] + [("", self._header)] * (self._span - 1))
        self._cell = None


def _cut(text: str, width: int) -> str:
    if get_cwidth(text) <= width:
        return text
    out = ""
    for ch in text:
        if get_cwidth(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def _pad(text: str, width: int, right: bool) -> str:
    room = " " * max(0, width - get_cwidth(text))
    return room + text if right else text + room


def render(html: str, width: int, color: bool = True) -> str:
    """The table as text, at most ``width`` columns wide."""
    parsed = _Cells()
    parsed.feed(html)
    parsed.close()
    rows = [row for row in parsed.rows if row]
    if not rows:
        return ""
    head = parsed.head_rows
    if head == 0:  # no <thead>: the leading rows of <th> only are the header
        while head < len(rows) - 1 and all(h for _, h in rows[head]):
            head += 1
    ncols = max(len(row) for row in rows)
    rows = [[(_cut(t, CELL), h) for t, h in row] + [("", False)] * (ncols - len(row)) for row in rows]
    widths = [max(get_cwidth(row[c][0]) for row in rows) for c in range(ncols)]
    numeric = [all(not t or _NUMBER.fullmatch(t) or h for t, h in (row[c] for row in rows[head:]))
               and any(t and not h for t, h in (row[c] for row in rows[head:])) for c in range(ncols)]
    shown, used = 0, 0
    for w in widths:
        if used + w + (GAP if shown else 0) > width:
            break
        used += w + (GAP if shown else 0)
        shown += 1
    shown = max(shown, 1)
    if shown == 1 and widths[0] > width:
        widths[0] = max(width, 1)
        rows = [[(_cut(row[0][0], width), row[0][1]), *row[1:]] for row in rows]
    bold, dim, reset = ("\x1b[1m", "\x1b[2m", "\x1b[0m") if color else ("", "", "")
    lines = []
    for i, row in enumerate(rows):
        cells = [_pad(row[c][0], widths[c], numeric[c]) for c in range(shown)]
        if color:  # header rows and header cells (an index) in bold
            cells = [f"{bold}{cell}{reset}" if (i < head or row[c][1]) and cell.strip() else cell
                     for c, cell in enumerate(cells)]
        lines.append((" " * GAP).join(cells).rstrip())
        if i == head - 1:
            lines.append("─" * min(width, sum(widths[:shown]) + GAP * (shown - 1)))
    if shown < ncols:
        lines.append(f"{dim}… {ncols - shown} more column{'s' if ncols - shown != 1 else ''} not shown "
                     f"(the table is {sum(widths) + GAP * (ncols - 1)} characters wide){reset}")
    return "\n".join(lines) + "\n"
