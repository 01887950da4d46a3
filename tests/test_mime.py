"""Mime bundle rendering and line edits: exact strings."""

import base64

from repl.ui.output.lineedit import resolve_line_edits
from repl.protocol.session import DisplayData, ExecuteResult
from repl.ui.output import images
from repl.ui.output import mime
from repl.ui.output import render

PNG_1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_line_edits():
    assert resolve_line_edits("\r 10%\r 50%\r100%\ndone\n") == "100%\ndone\n"
    assert resolve_line_edits("abc\b\bX\n") == "aXc\n"
    assert resolve_line_edits("a\r\nb\n") == "a\nb\n"


def test_markdown_is_formatted():
    text = mime.to_text({"text/markdown": "# Title\n\n*emph* and **bold**\n\n- one\n- two\n",
                         "text/plain": "<IPython.core.display.Markdown object>"}, 30, False)
    assert text.splitlines() == ["            Title", "", "emph and bold", "", " • one", " • two"]


def test_markdown_code_block_is_highlighted_with_colour():
    text = mime.to_text({"text/markdown": "```python\ndef f(): pass\n```\n"}, 40, True)
    assert "\x1b[" in text and "def" in render.strip_ansi(text)


def test_html_becomes_readable_text():
    bundle = {"text/html": "<h2>Hi</h2><p>a <b>para</b></p>", "text/plain": "<IPython.core.display.HTML object>"}
    assert mime.to_text(bundle, 60, color=False) == "Hi\n\na para\n"  # (as Markdown: html2text, then rich)
    assert "\x1b[1mpara\x1b[0m" in mime.to_text(bundle, 60)


def test_real_plain_text_wins_over_html():
    assert mime.to_text({"text/html": "<table/>", "text/plain": "   a\n0  1"}) == "   a\n0  1"


def test_json_and_latex():
    assert mime.to_text({"application/json": {"a": [1]}, "text/plain": "<IPython.core.display.JSON object>"}) == '{\n  "a": [\n    1\n  ]\n}\n'
    assert mime.to_text({"text/latex": "$x^2$", "text/plain": "<IPython.core.display.Latex object>"}) == "$x^2$"


def test_execute_result_prompt():
    style = render.Style(color=False)
    ev = ExecuteResult(None, False, 3, {"text/plain": "42"}, {})
    assert render.render(ev, style) == [("out", "Out[3]: 42\n")]
    ev = ExecuteResult(None, False, 4, {"text/plain": "a\nb"}, {})
    assert render.render(ev, style) == [("out", "Out[4]: \n"), ("out", "a\nb\n")]


def test_image_protocols():
    data = base64.b64decode(PNG_1x1)
    assert images.size_of(data) == (1, 1)
    kitty = images.draw("image/png", PNG_1x1, images.Drawing("kitty"), 80)
    assert kitty.startswith("\x1b_Ga=T,f=100,m=0;") and kitty.endswith("\x1b\\\n")
    iterm = images.draw("image/png", PNG_1x1, images.Drawing("iterm"), 80)
    assert iterm.startswith("\x1b]1337;File=inline=1;size=70;") and iterm.endswith("\x07\n")
    sixel = images.draw("image/png", PNG_1x1, images.Drawing("sixel"), 80)
    assert sixel.startswith('\x1bPq"1;1;1;1') and sixel.endswith("\x1b\\\n")
    placeholder = images.draw("image/png", PNG_1x1, images.Drawing("file"), 80)
    assert placeholder.startswith("[image/png 1×1, 0.1 KiB: ") and placeholder.endswith(".png]\n")


def test_display_with_image_goes_unsanitized_stream():
    ev = DisplayData(None, False, {"image/png": PNG_1x1, "text/plain": "<Image>"}, {}, None, False)
    ((stream, text),) = render.render(ev, render.Style(images=images.Drawing("kitty")))
    assert stream == "image" and text.startswith("\x1b_G")


def test_detection():
    assert images.choose("auto", {"TERM": "xterm-kitty"}).protocol == "kitty"
    assert images.choose("auto", {"TERM_PROGRAM": "iTerm.app"}).protocol == "iterm"
    assert images.choose("auto", {"TERM": "tmux-256color", "LC_TERMINAL": "iTerm2"}).protocol == "iterm"
    assert images.choose("auto", {"TERM": "foot"}).protocol == "sixel"
    assert images.choose("auto", {"TERM": "xterm-256color"}).protocol == "blocks"
    assert images.choose("sixel", {}).protocol == "sixel"
