"""Lines too long to draw are drawn around the cursor, with markers for the rest."""

from prompt_toolkit.document import Document
from prompt_toolkit.layout.processors import TransformationInput

from repl.ui.prompt.elide import ElideLongLines, marker


def transform(text: str, cursor: int, width: int = 80, height: int = 24):
    doc = Document(text, cursor)
    fragments = [("", line) for line in [doc.lines[doc.cursor_position_row]]]
    ti = TransformationInput(None, doc, doc.cursor_position_row, lambda i: i, fragments, width, height)  # type: ignore[arg-type]
    return ElideLongLines().apply_transformation(ti)


def shown(t) -> str:
    return "".join(f[1] for f in t.fragments)


def test_short_lines_are_untouched():
    t = transform("x" * 5000, 10)
    assert shown(t) == "x" * 5000 and t.source_to_display(4000) == 4000


def test_a_long_line_shows_the_stretch_before_the_cursor_and_says_how_much_is_hidden():
    text = "".join(f"{i:07d}" for i in range(150_000))  # 1,050,000 characters
    t = transform(text, len(text))
    out = shown(t)
    assert len(out) < 5000 and out.endswith(text[-1000:])
    head = t.fragments[0][1]
    hidden = int(head.strip(" …").split()[0].replace(",", ""))
    assert head == marker(hidden) and hidden + len(out) - len(head) == len(text)
    assert t.source_to_display(len(text)) == len(out)  # the cursor is drawn at the end
    assert t.display_to_source(len(out)) == len(text)


def test_the_stretch_follows_the_cursor_and_maps_positions_both_ways():
    text = "".join(f"{i:07d}" for i in range(150_000))
    cursor = 500_003
    t = transform(text, cursor)
    out = shown(t)
    assert out.count(" characters … ") == 2  # hidden before and after
    x = t.source_to_display(cursor)
    assert out[x:x + 20] == text[cursor:cursor + 20]
    assert t.display_to_source(x) == cursor
    assert t.source_to_display(0) == 0  # anything hidden before maps to the marker
