"""Terminal safety: exact strings in, exact strings out."""

from repl.ui.output.sanitize import Sanitizer, clean


def test_keeps_colours_and_cursor_movement():
    text = "a\x1b[1;31mred\x1b[0m\r\x1b[2K\x1b[3Aup\b\tz\n"
    assert clean(text) == text


def test_drops_osc_queries_modes_and_resets():
    assert clean("A\x1b]52;c;aGk=\x07B") == "AB"
    assert clean("A\x1b]0;title\x1b\\B") == "AB"
    assert clean("A\x1b[6nB\x1b[cC\x1b[>cD\x1b[18tE") == "ABCDE"
    assert clean("A\x1b[?1049hB\x1b[?1000hC\x1bcD\x1bPq#0;1\x1b\\E") == "ABCDE"
    assert clean("A\x9b6nB\x0eC") == "A6nBC"


def test_sequences_split_across_chunks():
    s = Sanitizer()
    assert s.feed("x\x1b]52;c;") == "x"
    assert s.feed("aGk=") == ""
    assert s.feed("\x07y\x1b[3") == "y"
    assert s.feed("1mz") == "\x1b[31mz"
