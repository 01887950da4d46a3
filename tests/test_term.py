"""The terminal's own sequences (repl.ui.term) and what Markdown and HTML links and tables become:
pure, no terminal."""

from __future__ import annotations

import base64

from repl.ui.output import htmltable, links, mime, outputs
from repl.ui.term import caps, osc
from repl.ui.term.focus import WindowFocus
from repl.ui.term.shell import Shell

PANDAS_STYLE = """<style type="text/css">#T_a_row0_col0 { color: red; }</style>
<table id="T_a"><thead><tr><th class="blank level0">&nbsp;</th><th class="col_heading">name</th>
<th class="col_heading">value</th></tr></thead><tbody>
<tr><th class="row_heading">0</th><td>alpha &amp; beta</td><td>1.500000</td></tr>
<tr><th class="row_heading">1</th><td>γ</td><td>-22.000000</td></tr></tbody></table>"""


def test_words_from_a_server_cannot_end_or_start_a_sequence():
    evil = "py\x1b]0;x\x07\x1b\\\u202e\nthon"
    title = osc.title(evil)
    assert title.startswith("\x1b]2;") and title.endswith("\x1b\\")
    assert "\x1b" not in title[4:-2] and "\x07" not in title and "\n" not in title
    assert "<U+001B>" in title and "<U+202E>" in title
    assert osc.notification("osc777", "a;b", "c;d") == "\x1b]777;notify;a,b;c,d\x1b\\"
    assert osc.notification("osc9", "repl", "In [3] finished") == "\x1b]9;repl: In [3] finished\x1b\\"
    assert osc.notification("osc99", "repl", "x") == "\x1b]99;i=repl:d=0;repl\x1b\\\x1b]99;i=repl:d=1:p=body;x\x1b\\"
    assert osc.notification("bell", "repl", "x") == "\a"


def test_tmux_passthrough_doubles_every_escape():
    seq = osc.clipboard("hi")
    assert seq == "\x1b]52;c;" + base64.b64encode(b"hi").decode() + "\x1b\\"
    assert osc.tmux(seq) == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x1b\x1b\\\x1b\\"


def test_what_the_terminal_takes_is_read_from_its_environment():
    assert caps.detect({"TERM": "dumb"}, tty=True) == caps.Terminal()
    assert caps.detect({"TERM": "xterm-kitty"}, tty=False) == caps.Terminal()
    kitty = caps.detect({"TERM": "xterm-kitty"}, tty=True)
    assert kitty.escapes and kitty.hyperlinks and kitty.notify == "osc99" and kitty.title and not kitty.tmux
    assert caps.detect({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True).notify == "osc9"
    assert caps.detect({"TERM": "xterm-256color", "VTE_VERSION": "7600"}, True).notify == "osc777"
    plain = caps.detect({"TERM": "xterm"}, True)
    assert plain.notify == "bell" and not plain.hyperlinks
    tmux = caps.detect({"TERM": "screen", "TMUX": "/tmp/t,1,0", "KITTY_WINDOW_ID": "1"}, True)
    assert tmux.tmux and tmux.notify == "osc99" and not tmux.hyperlinks  # (tmux 3.3 drops OSC 8)
    assert caps.detect({"TERM": "screen", "TMUX": "x"}, True, hyperlinks="on").hyperlinks
    assert not caps.detect({"TERM": "xterm-kitty"}, True, hyperlinks="off").hyperlinks
    assert not caps.detect({"TERM": "xterm"}, True, title=False).title
    assert tmux.passthrough("\x1b]9;x\x1b\\") == "\x1bPtmux;\x1b\x1b]9;x\x1b\x1b\\\x1b\\"


def test_focus_reports_are_taken_out_of_the_keys():
    focus = WindowFocus()
    assert focus.take("abc") == "abc" and focus.focused is None and not focus.away()
    assert focus.take("a\x1b[Ob") == "ab" and focus.away()
    assert focus.take("\x1b[O\x1b[Ix") == "x" and focus.focused is True
    assert focus.take("\x1b[A") == "\x1b[A"  # other keys are keys


def test_the_shell_marks_and_title_only_on_a_terminal_that_takes_them():
    written: list[str] = []
    off = Shell(caps.Terminal(), written.append)
    off.open()
    off.state("python3", "idle")
    off.started()
    off.ended(0, "In [1]")
    assert off.prompt("In [1]: ") == "In [1]: " and written == []
    on = Shell(caps.detect({"TERM": "xterm"}, True), written.append)
    on.open()
    assert written == ["\x1b[22;0t"]
    fragments = on.prompt("In [1]: ")
    assert fragments[0] == ("[ZeroWidthEscape]", "\x1b]133;A\x1b\\") and fragments[-1] == ("[ZeroWidthEscape]", "\x1b]133;B\x1b\\")
    on.state("python3", "idle")
    on.state("python3", "idle")  # (unchanged: not written again)
    assert written[1:] == ["\x1b]2;repl · python3 · idle\x1b\\"]
    on.started()
    on.ended(1, "In [1]")  # quick, and the window's focus unknown: no notification
    assert written[2:] == ["\x1b]133;C\x1b\\\x1b[?1004h", "\x1b[?1004l\x1b]133;D;1\x1b\\"]  # focus reports while it runs
    on.close()
    assert written[-1] == "\x1b[23;0t\x1b[?1004l"
    assert on.copy("x" * (2 * 1024 * 1024)) is not None  # too much for a terminal's clipboard


def test_links_keep_their_target():
    text = "see [the docs](https://example.org/a) and <https://x.y/> or [js](javascript:alert(1))"
    plain = mime.markdown(text, 80, color=False)
    assert plain.strip() == "see the docs (https://example.org/a) and https://x.y/ or [js](javascript:alert(1))"
    linked = mime.markdown(text, 80, color=False, hyperlinks=True)
    assert "\x1b]8;id=" in linked and ";https://example.org/a\x1b\\the docs\x1b]8;;\x1b\\" in linked
    # a link wrapped over two lines says its address once, after its end
    wrapped = mime.markdown("w " * 30 + "[a long link text that wraps](https://w.x/y)", 70, color=False)
    assert wrapped.count("(https://w.x/y)") == 1 and wrapped.rstrip().endswith("wraps (https://w.x/y)")
    # HTML links too
    assert mime.to_text({"text/html": '<p>see <a href="https://e.com/">docs</a></p>'}, 80, False).strip() == \
        "see docs (https://e.com/)"
    # a kernel's own OSC 8 in Markdown's source does not survive; a target that is not an address is text
    assert "\x1b]8" not in mime.markdown("x \x1b]8;;https://evil\x1b\\y\x1b]8;;\x1b\\", 80, False, True)
    assert links.finish("\x1b]8;;javascript:x\x1b\\click\x1b]8;;\x1b\\", True) == "click (javascript:x)"
    assert links.target("https://ok.org/?q=1") and not links.target("https://a b") and not links.target("ftp:/\x07")
    # a cell's output with a link is our own piece: not sanitized again (that would drop the link)
    assert mime.pieces({"text/markdown": "[a](https://a.b/)"}, 80, True, mime.images.Drawing(), True)[0][0] == mime.OWN
    assert mime.pieces({"text/markdown": "[a](https://a.b/)"}, 80, True, mime.images.Drawing())[0][0] == "out"


def test_html_tables_are_aligned_with_a_header_rule_and_cut_to_the_width():
    assert mime.to_text({"text/html": PANDAS_STYLE, "text/plain": "<pandas.io.formats.style.Styler object at 0x7f>"},
                        60, color=False) == (
        "   name               value\n"
        "───────────────────────────\n"
        "0  alpha & beta    1.500000\n"
        "1  γ             -22.000000\n")
    narrow = htmltable.render(PANDAS_STYLE, 20, color=False)
    assert narrow.splitlines()[0] == "   name" and narrow.splitlines()[-1] == \
        "… 1 more column not shown (the table is 27 characters wide)"
    assert all(len(line) <= 20 for line in narrow.splitlines()[:-1])
    bold = htmltable.render(PANDAS_STYLE, 60, color=True)
    assert "\x1b[1mname" in bold and "\x1b[1m0\x1b[0m" in bold
    # no <thead>: the leading rows of <th> are the header; a long cell is cut
    simple = htmltable.render("<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>" + "x" * 60 + "</td></tr></table>",
                              80, color=False)
    assert simple.splitlines()[1].startswith("─") and simple.splitlines()[2].endswith("x…")
    assert htmltable.render("<table></table>", 80) == ""
    # a link in a cell keeps its target, as links elsewhere do; a target not fit to show is left out
    linked = htmltable.render('<table><tr><th>site</th></tr><tr><td><a href="https://e.com/x">e</a></td></tr>'
                              '<tr><td><a href="javascript:alert(1)">js</a></td></tr></table>', 80, color=False)
    assert linked.splitlines()[2:] == ["e (https://e.com/x)", "js"]
    # text around a table stays text
    assert mime.html("<p>before</p>" + PANDAS_STYLE + "<p>after</p>", 60, False).split("\n")[0] == "before"


def test_a_cells_outputs_as_one_text_for_the_pager_and_the_clipboard():
    cell_outputs = [
        {"output_type": "stream", "name": "stdout", "text": "\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07x\n"},
        {"output_type": "execute_result", "execution_count": 3, "data": {"text/plain": "42"}, "metadata": {}},
        {"output_type": "display_data", "data": {"text/markdown": "[a](https://a.b/)"}, "metadata": {}},
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["\x1b[31mTrace\x1b[0m", "E: v"]},
    ]
    assert outputs.as_text(cell_outputs, 80, color=True) == \
        "\x1b[31mred\x1b[0m x\nOut[3]: 42\n\x1b[4;34ma\x1b[0m (https://a.b/)\n\x1b[31mTrace\x1b[0m\nE: v\n"
    assert outputs.as_text(cell_outputs, 80, color=False) == "red x\nOut[3]: 42\na (https://a.b/)\nTrace\nE: v\n"


def test_shift_tab_shows_the_signature_and_the_first_lines_of_the_docstring():
    from repl.ui.prompt import helptext

    red, reset = "\x1b[0;31m", "\x1b[0m"
    params = [f"    arg{i}=None," for i in range(40)]
    doc = [f"doc line {i}" for i in range(200)]
    text = "\n".join([f"{red}Signature:{reset} read_csv(", *params, ")", f"{red}Docstring:{reset}", *doc,
                      f"{red}File:{reset}      /x.py", f"{red}Type:{reset}      function"]) + "\n"
    short = helptext.brief(text, "pd.read_csv", 36, ("", ""))
    lines = short.rstrip("\n").split("\n")
    assert lines[0].startswith(f"{red}Signature:") and lines[7].endswith(" …")
    assert lines[8] == f"{red}Docstring:{reset}" and lines[9] == "doc line 0" and "doc line 7" not in short
    assert lines[-1] == f"… {len(text.splitlines()) - len(lines) + 1} more lines: pd.read_csv? shows it all"
    assert len(lines) == 17
    small = f"{red}Signature:{reset} f()\n{red}Docstring:{reset}\nshort\n"
    assert helptext.brief(small, "f", 36) == small  # short help is shown whole
    other = "\n".join(f"line {i}" for i in range(50)) + "\n"  # a kernel without IPython's sections
    assert helptext.brief(other, "", 24, ("", "")).split("\n")[:9] == [f"line {i}" for i in range(8)] + ["… 42 more lines: ? after the name shows it all"]
    assert helptext.name_at("x = pd.read_csv", 15) == "pd.read_csv" and helptext.name_at("f(", 2) == ""


def test_a_long_cell_that_ends_while_the_window_is_away_says_so():
    import dataclasses
    import time

    from repl.ui.term.focus import WINDOW

    written: list[str] = []
    kitty = caps.detect({"TERM": "xterm-kitty"}, True)
    shell = Shell(kitty, written.append)
    shell.started()
    shell._started = time.monotonic() - 11  # (it ran 11 s)
    shell.ended(0, "In [4] on python3")  # the window kept its focus: nothing
    assert "99;" not in written[-1]
    shell.started()
    WINDOW.take("\x1b[O")  # the user went to another window
    shell._started = time.monotonic() - 11
    shell.ended(1, "In [5] on python3")
    assert written[-1].endswith("\x1b]99;i=repl:d=0;repl\x1b\\\x1b]99;i=repl:d=1:p=body;In [5] on python3 failed after 11 s\x1b\\")
    shell.started()  # a quick one: nothing, away or not
    WINDOW.take("\x1b[O")
    shell.ended(0, "In [6] on python3")
    assert "99;" not in written[-1]
    tmux = Shell(dataclasses.replace(kitty, tmux=True, notify="osc9"), written.append)
    tmux.started()
    WINDOW.take("\x1b[O")
    tmux._started = time.monotonic() - 11
    tmux.ended(0, "In [7] on python3")
    assert written[-1].endswith("\x1bPtmux;\x1b\x1b]9;repl: In [7] on python3 finished after 11 s\x1b\x1b\\\x1b\\")
    bell = Shell(dataclasses.replace(kitty, tmux=True, notify="bell"), written.append)
    bell.started()
    WINDOW.take("\x1b[O")
    bell._started = time.monotonic() - 11
    bell.ended(0, "In [7] on python3")
    assert written[-1].endswith("\x1b\\\a")  # a plain bell: tmux passes it on itself (wrapped, it was lost)
    never = Shell(dataclasses.replace(kitty, notify_after=0), written.append)  # --notify-after 0
    never.started()
    WINDOW.take("\x1b[O")
    never._started = time.monotonic() - 1000
    never.ended(0, "In [8]")
    assert written[-1] == "\x1b]133;D;0\x1b\\"


def test_completion_types_only_where_the_kernel_knows_them():
    from repl.ui.prompt.completion import kernel_matches

    reply = {"status": "ok", "matches": ["abs", "absolute", "x"], "cursor_start": 0, "metadata": {
        "_jupyter_types_experimental": [{"text": "abs", "type": "function"}, {"text": "absolute", "type": "<unknown>"}]}}
    assert kernel_matches(reply, 2) == ([("abs", "function"), ("absolute", ""), ("x", "")], -2)
