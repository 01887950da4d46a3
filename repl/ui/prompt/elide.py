"""Lines too long to draw are drawn in part: the stretch around the cursor, with a marker for
the rest.

prompt_toolkit lays out and wraps a whole line on every redraw, so a 1 MB paste on one line
costs seconds per key. A screenful either side of the cursor is all that can be seen; the text
beyond it is replaced by a marker that says how much is there. Editing, moving and running the
text are untouched: only the display is cut.
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput

STYLE = "class:elided reverse"
MINIMUM = 2000  # characters either side of the cursor, whatever the window's size


def cut(fragments: StyleAndTextTuples, start: int, end: int) -> StyleAndTextTuples:
    """The part of ``fragments`` between character positions ``start`` and ``end``."""
    out: StyleAndTextTuples = []
    pos = 0
    for frag in fragments:
        text = frag[1]
        after = pos + len(text)
        if after > start and pos < end:
            piece = text[max(start - pos, 0):end - pos]
            out.append((frag[0], piece, *frag[2:]))
        pos = after
        if pos >= end:
            break
    return out


def marker(count: int) -> str:
    return f" … {count:,} characters … "


class ElideLongLines(Processor):
    def apply_transformation(self, ti: TransformationInput) -> Transformation:
        length = sum(len(f[1]) for f in ti.fragments)
        reach = max(ti.width * max(ti.height, 1), MINIMUM)
        if length <= 3 * reach:
            return Transformation(ti.fragments)
        doc = ti.document
        focus = ti.source_to_display(doc.cursor_position_col) if ti.lineno == doc.cursor_position_row else 0
        start = max(focus - reach, 0)
        end = min(max(focus, start) + reach, length)
        head = marker(start) if start else ""
        tail = marker(length - end) if end < length else ""
        fragments = cut(ti.fragments, start, end)
        if head:
            fragments.insert(0, (STYLE, head))
        if tail:
            fragments.append((STYLE, tail))

        def to_display(i: int) -> int:
            if i < start:
                return 0
            return len(head) + min(i, end) - start

        def to_source(i: int) -> int:
            return min(max(i - len(head), 0) + start, end)

        return Transformation(fragments, to_display, to_source)
