"""The kernel's and the server's words are data: the same hostile string (a window title, a
clipboard write, a cursor query, a full reset, a right-to-left override, a zero-width space) fed
through every surface that shows them, and the raw bytes repl writes read back.

Against a fake server (tests/fakeserver.py: kernel names, kernelspec display names and
languages, session paths, error messages) and a real gateway and ipykernel (the debugger)."""

import base64
import os
import re
import struct
import subprocess
import sys
import warnings
import zlib

import pytest

from repl.gateway.rest import KernelModel
from repl.ui.output import images
from repl.ui.output import tables
from repl.ui.output.sanitize import clean, label
from tests.fakeserver import BAD, HOSTILE, OTHER, FakeServer, raw_leaks
from tests.term import Term

SHOWN = ("A<U+001B>]0;PWNED<U+0007>B<U+001B>]52;c;cHduZWQ=<U+0007>C<U+001B>[6nD<U+001B>cE<U+202E>F<U+200B>G")  # as a label shows it
OUTPUT = "A" "B" "C" "D" "E<U+202E>F<U+200B>G"  # HOSTILE as kernel output shows it (escape sequences dropped)


def paste(t, code: str) -> None:
    t.type("\x1b[200~" + code + "\x1b[201~")
    t.type("\r")


# ------------------------------------------------------------ the one sanitizer, by itself


def test_a_label_keeps_colours_only_and_shows_what_is_invisible():
    assert label(HOSTILE) == SHOWN
    assert label("\x1b[1;31mred\x1b[0m") == "\x1b[1;31mred\x1b[0m"
    assert label("up\x1b[2A\x1b[Jx\x1b7y\x1b8") == "up<U+001B>[2A<U+001B>[Jx<U+001B>7y<U+001B>8"  # no cursor moves
    assert label("a\rb\bc\u200dd\ufeffe\u2066f\u00adg") == "a<U+000D>b<U+0008>c<U+200D>d<U+FEFF>e<U+2066>f<U+00AD>g"
    assert label("line one\r\nline two\ttab") == "line one\nline two\ttab"
    assert label("é 日本 🐍") == "é 日本 🐍"  # text is text


def test_output_shows_reordering_controls_but_keeps_its_cursor_work():
    assert clean("abc\u202edef\u2067g\u200bh\ufeffi") == "abc<U+202E>def<U+2067>g<U+200B>h<U+FEFF>i"
    assert clean("👩\u200d💻 \u05e9\u200f") == "👩\u200d💻 \u05e9\u200f"  # joiners and marks: emoji and scripts need them
    assert clean("10%\r\x1b[2K20%") == "10%\r\x1b[2K20%"


def test_table_cells_are_labels_and_the_columns_still_line_up():
    models = [KernelModel("a" * 36, "py"), KernelModel("b" * 36, "n" + HOSTILE, "idle\r\x1b[2Kbusy")]
    text = tables.kernels(models, None, {}, set(), sessions={"b" * 36: "nb\u202e\n.ipynb (notebook)"})
    assert raw_leaks(text) == [] and "\r" not in text and "\x1b" not in text
    header, _, row = text.splitlines()[:3]
    assert row.index("n" + SHOWN) == header.index("spec") and row.index("idle<U+000D><U+001B>[2Kbusy") == header.index("state")
    assert "nb<U+202E><U+000A>.ipynb" in row
    spec = tables.specs({"default": "", "kernelspecs": {"x": {"spec": {"display_name": HOSTILE, "language": "l\u200b"}}}})
    assert spec.splitlines()[1].split() == ["x", "l<U+200B>", SHOWN]


async def test_completions_from_the_kernel_show_as_labels():
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import to_plain_text

    from repl.ui.prompt.completion import ReplCompleter

    async def ask(code, cursor):
        return {"status": "ok", "matches": ["x" + HOSTILE], "cursor_start": 0,
                "metadata": {"_jupyter_types_experimental": [{"text": "x" + HOSTILE, "type": "t" + HOSTILE}]}}

    got = [c async for c in ReplCompleter(lambda name: [], ask).get_completions_async(Document("x"), None)]
    assert [(to_plain_text(c.display), to_plain_text(c.display_meta)) for c in got] == [("x" + SHOWN, "t" + SHOWN)]


def test_widget_descriptions_values_and_options_show_as_labels():
    from repl.protocol.comms import Comms
    from repl.ui.widgets.draw import Drawer
    from tests.test_widgets import opened

    c = Comms()
    opened(c, "s", "IntSliderModel", value=5, description="n" + HOSTILE + "\x1b[2A\x1b[J")
    opened(c, "l", "LabelModel", value="v" + HOSTILE + "\r")
    opened(c, "d", "DropdownModel", _options_labels=["o" + HOSTILE], index=0, description="pick")
    opened(c, "col", "VBoxModel", children=["IPY_MODEL_s", "IPY_MODEL_l", "IPY_MODEL_d"])
    drawn = Drawer(c, 200, False).draw("col").split("\n")
    assert [d.split(" ")[0] for d in drawn] == ["n" + SHOWN + "<U+001B>[2A<U+001B>[J", "v" + SHOWN + "<U+000D>", "pick"]
    assert drawn[2] == f"pick [o{SHOWN} ▾]"


# ------------------------------------------------------------ the server's words, in a pty


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.close()


def fake_term(fake, tmp_path, *args, env=None):
    full = dict(os.environ, REPL_DATA_DIR=str(tmp_path / "data"), TERM="xterm", **(env or {}))
    full.pop("JUPYTER_GATEWAY_URL", None)
    full.pop("JUPYTER_GATEWAY_AUTH_TOKEN", None)
    return Term(["--url", fake.url, "--token", "t", *args], env=full, cols=400)  # (labels show every escape: wide)


def test_kernel_names_sessions_specs_and_output_from_a_hostile_server(fake, tmp_path):
    t = fake_term(fake, tmp_path, "--attach", OTHER)
    try:
        t.wait_for(f"n{SHOWN} 5678ef01 │ idle")  # the toolbar names the kernel
        t.enter("1")
        t.wait_for("out " + OUTPUT)  # a cell's output
        t.enter("/kernels")
        t.wait_for("nb" + SHOWN + ".ipynb")  # the session path, and the kernel's name and state
        assert "idle" + SHOWN in t.text()
        t.enter("/specs")
        t.wait_for("Py " + SHOWN)  # a display name, a language, a kernelspec's name
        assert "lang" + SHOWN in t.text() and "x" + SHOWN in t.text()
    finally:
        t.close()
    assert raw_leaks(t.transcript) == []


def test_a_server_error_message_is_one_clean_line_at_the_prompt_and_under_c(fake, tmp_path):
    fake.broken = True  # its kernel list answers HTTP 500 with a hostile message
    t = fake_term(fake, tmp_path, "--attach", BAD)
    try:
        assert t.wait_exit(60) == 2
    finally:
        t.close()
    assert "HTTP 500 (boom " + SHOWN + ")" in t.plain() and raw_leaks(t.transcript) == []

    env = dict(os.environ, REPL_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "repl", "--url", fake.url, "--token", "t", "--attach", BAD, "-c", "1"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "HTTP 500 (boom " + SHOWN + ")" in done.stderr and raw_leaks(done.stderr) == []


# ------------------------------------------------------------ the kernel's words, in the debugger

SETUP = (
    "import os, sys, tempfile\n"
    "E = chr(27)\n"
    "H = 'A' + E + ']0;PWNED' + chr(7) + 'B' + E + ']52;c;cHduZWQ=' + chr(7) + 'C' + E + '[6nD' + E + 'cE' + chr(0x202e) + 'F' + chr(0x200b) + 'G'\n"
    "d = tempfile.mkdtemp()\n"
    "open(os.path.join(d, 'hostmod.py'), 'w').write('def g(x):  # ' + H + '\\n    raise ValueError(x)\\n')\n"
    "sys.path.insert(0, d)\n"
    "import hostmod\n"
    "class R:\n"
    "    def __repr__(self):\n"
    "        return 'r' + H\n"
    "r = R()\n"
    "globals()['v' + H] = 1\n"
    "def f(x):\n"
    "    return hostmod.g(x)\n"
    "f.__code__ = f.__code__.replace(co_name='fn' + H, co_qualname='fn' + H)\n"
)


def test_the_debuggers_texts_are_sanitized(term):
    t = term(rows=60)
    t.wait_prompt(1)
    paste(t, SETUP)
    t.wait_prompt(2)
    assert HOSTILE[0] and raw_leaks(t.transcript) == []
    t.enter("/break raised")
    t.wait_for("stops on every exception raised")
    t.enter("f(H)")
    t.wait_for("(dbg) g:2>", timeout=90)
    assert f"stopped on ValueError: {SHOWN}" in t.plain()  # the exception's message
    assert f"# {SHOWN}" in t.plain()  # a source line listed from a file
    t.enter("u")
    t.wait_for(f"(dbg) fn{SHOWN}:")  # a function's name, in the prompt and where it is
    t.enter("w")
    t.wait_for(lambda t: t.plain().count(f"fn{SHOWN}") >= 3)  # the stack
    t.enter("!r")
    t.wait_for(f"Out: r{SHOWN}")  # an evaluated result
    t.enter("v")
    t.wait_for(f"v{SHOWN} = 1")  # a variable's name, and values
    t.wait_for(f"r = r{SHOWN}")
    t.enter("(_ for _ in ()).throw(ValueError('e' + H))")
    t.wait_for(f"e{SHOWN}")  # the debugger's error text
    assert raw_leaks(t.transcript) == []
    t.enter("q")
    t.wait_prompt(3, timeout=90)
    assert raw_leaks(t.transcript) == []


# ------------------------------------------------------------ pictures


def png_header(width: int, height: int) -> bytes:
    """A PNG that says it is ``width`` × ``height`` (its pixels are cut off)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_an_image_too_large_to_decode_says_so_without_a_warning():
    data = base64.b64encode(png_header(12000, 12000)).decode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for how in (images.Drawing("blocks"), images.Drawing("sixel")):
            assert images.draw("image/png", data, how, 80).startswith("[image/png 12000×12000, 0.0 KiB] (too large to draw)")
    assert caught == []


def test_a_huge_png_from_the_kernel_prints_no_pillow_warning(term):
    t = term()
    t.wait_prompt(1)
    t.enter(f"from IPython.display import Image; Image(data={png_header(12000, 12000)!r})")
    t.wait_for("image/png 12000×12000")
    t.wait_prompt(2)
    assert "too large to draw" in t.text()
    assert "DecompressionBomb" not in t.plain()


def test_a_dumb_terminal_shows_an_image_as_its_placeholder_line(term):
    t = term(extra_env={"TERM": "dumb"})
    t.wait_for("started python3 kernel", timeout=60)
    t.enter(f"from IPython.display import Image; Image(data={png_header(3, 2)!r})")
    t.wait_for("[image/png 3×2, 0.0 KiB]")
    t.enter("import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.show()")
    t.wait_for(lambda t: len(re.findall(r"\[image/png \d+×\d+, [\d.]+ KiB\]", t.text())) == 2, timeout=90)  # a plot
