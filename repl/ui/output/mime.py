"""Mime bundle → terminal text: picks the richest representation the terminal can show.

Markdown is rendered by rich (headings, emphasis, lists, tables, highlighted code blocks), HTML
turned into Markdown by html2text and rendered the same way, its tables drawn aligned
(:mod:`repl.ui.output.htmltable`); links keep their target (:mod:`repl.ui.output.links`). JSON
pretty-printed, LaTeX shown as source, PNG/JPEG drawn
through :mod:`repl.ui.output.images`. A text/plain that is only an object's default repr
(``<IPython.core.display.Markdown object>``) does not win over a real representation.
"""

from __future__ import annotations

import io
import json
import re

from repl.ui.output import images, links
from repl.ui.output.sanitize import clean

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # drawn by repl.ui.widgets.view

_DEFAULT_REPR = re.compile(r"^<[\w.]+ object( at 0x[0-9a-f]+)?>$")
IMAGE_TYPES = ("image/png", "image/jpeg")
OWN = "own"  # a piece made safe here that holds sequences of our own (hyperlinks): not sanitized again
_TABLE = re.compile(r"(<table\b.*?</table\s*>)", re.IGNORECASE | re.DOTALL)


def _text(value) -> str | None:
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    return value if isinstance(value, str) else None


def markdown(text: str, width: int, color: bool, hyperlinks: bool = False) -> str:
    """Markdown rendered, made safe (links: OSC 8 with ``hyperlinks``, else the address after the text)."""
    from rich.console import Console
    from rich.markdown import Markdown

    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, no_color=not color,
                      color_system="256" if color else "standard", legacy_windows=False, highlight=False)
    console.print(Markdown(clean(text), code_theme="monokai"))  # (clean: every OSC 8 in what comes out is rich's)
    rendered = links.finish(out.getvalue(), hyperlinks, color)
    return "\n".join(line.rstrip() for line in rendered.split("\n"))


def html(text: str, width: int, color: bool = True, hyperlinks: bool = False) -> str:
    """HTML as Markdown (html2text) rendered as :func:`markdown` is, its tables drawn aligned."""
    import html2text

    from repl.ui.output import htmltable  # (and html.parser: with the first HTML)

    parts = _TABLE.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(htmltable.render(part, width, color))
        elif part.strip():
            h = html2text.HTML2Text(bodywidth=0)
            h.ignore_images = True
            md = h.handle(part)
            if md.strip():
                out.append(markdown(md, width, color, hyperlinks).rstrip("\n") + "\n")
    return "\n".join(out)


def _real_text(data: dict) -> bool:
    plain = _text(data.get("text/plain"))
    return any(k in data for k in ("text/markdown", "text/html", "text/latex")) or (
        plain is not None and not _DEFAULT_REPR.match(plain.strip()))


def to_text(data: dict, width: int = 80, color: bool = True, hyperlinks: bool = False) -> str:
    """Text for a bundle (no images); Markdown and HTML made safe already (see :data:`OWN`)."""
    plain = _text(data.get("text/plain"))
    real_plain = plain is not None and not _DEFAULT_REPR.match(plain.strip())
    md = _text(data.get("text/markdown"))
    if md is not None:
        return markdown(md, width, color, hyperlinks)
    if plain is not None and real_plain:
        return plain
    page = _text(data.get("text/html"))
    if page is not None:
        return html(page, width, color, hyperlinks)
    if "application/json" in data:
        return json.dumps(data["application/json"], indent=2, ensure_ascii=False, default=str) + "\n"
    latex = _text(data.get("text/latex"))
    if latex is not None:
        return latex
    if plain is not None:
        return plain
    kinds = ", ".join(sorted(str(k) for k in data)) or "empty"
    return f"<{kinds}>"


def pieces(data: dict, width: int, color: bool, drawing: images.Drawing,
           hyperlinks: bool = False) -> list[tuple[str, str]]:
    """(stream, text) pieces; streams "image" and :data:`OWN` hold our own escape sequences, not to
    be sanitized."""
    for mime in IMAGE_TYPES:
        b64 = _text(data.get(mime))
        if b64 is not None:
            return [("image", images.draw(mime, b64.strip(), drawing, width))]
    for mime in ("image/svg+xml", "application/pdf", "image/gif", "image/webp"):
        if mime in data and not _real_text(data):
            return [("out", f"[{mime} output: this terminal cannot draw it]\n")]
    text = to_text(data, width, color, hyperlinks)
    return [(OWN if "\x1b]8;" in text else "out", text if text.endswith("\n") else text + "\n")]
