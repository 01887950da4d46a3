"""repl at home in a modern terminal: the bytes it writes in a pty (OSC 133 marks, the window
title and its stack, OSC 52, notifications) and what it hands to $PAGER, against a real gateway."""

from __future__ import annotations

import re

A, B, C = "\x1b]133;A\x1b\\", "\x1b]133;B\x1b\\", "\x1b]133;C\x1b\\"


def D(status: int) -> str:
    return f"\x1b]133;D;{status}\x1b\\"


def marks(transcript: str) -> list[str]:
    """The OSC 133 marks and titles in order, A's repeated by redraws counted once."""
    found = re.findall(r"\x1b\](?:133;[^\x1b]*|2;[^\x1b]*)\x1b\\\\", transcript)
    out: list[str] = []
    for m in found:
        if not (out and m == out[-1] and m.startswith("\x1b]133;A")):
            out.append(m)
    return out


def test_marks_around_prompts_cells_and_commands_and_the_title(term):
    t = term()
    t.wait_prompt(1)
    t.enter("print('hi')")
    t.wait_prompt(2)
    t.enter("1/0")
    t.wait_prompt(3)
    t.enter("/kernels")
    t.wait_for("(* current kernel")
    t.enter("/nosuch")
    t.wait_for("unknown command")
    t.enter("x = (1,")
    t.wait_for("...:")
    t.enter("2)")
    t.wait_prompt(4)
    raw = t.transcript
    starts = [m.start() for m in re.finditer(re.escape(C), raw)]
    assert len(starts) == 5, marks(raw)
    sections = [raw[at:raw.find(A, at)] for at in starts]  # each from C to the next prompt's A
    for at in starts:  # before each: the prompt's A, then B where typing began
        assert raw.rfind(A, 0, at) < raw.rfind(B, 0, at)
    hi, err, kernels, unknown, cont = sections
    assert hi.index("hi") < hi.index(D(0)) and D(1) not in hi
    assert err.index("ZeroDivisionError") < err.index(D(1))
    assert kernels.index("current kernel") < kernels.index(D(0))  # a /command has its own C and D
    assert D(1) in unknown  # an unknown one failed
    assert D(0) in cont
    assert "\x1b]133;A;k=s\x1b\\" in raw[starts[3]:starts[4]]  # the continuation line
    # the title: the kernel and its state, busy while a cell runs; the terminal's own title kept first
    assert "\x1b[22;0t" in raw[:raw.index(A)]
    assert "\x1b]2;repl · python3 · idle\x1b\\" in raw[:starts[0]]
    assert hi.index("\x1b]2;repl · python3 · busy\x1b\\") < hi.index(D(0)) < hi.index("\x1b]2;repl · python3 · idle")
    assert "\x1b]2;" not in kernels  # (unchanged: not written again)
    t.ctrl("d")
    assert t.wait_exit() == 0
    assert t.transcript.rstrip().endswith("\x1b[23;0t\x1b[?1004l")  # the title before ours comes back


def test_nothing_of_it_on_a_dumb_terminal_and_no_title_when_turned_off(term):
    t = term(extra_env={"TERM": "dumb"})
    t.wait_for("In [1]")
    t.enter("print('hi')")
    t.wait_for("In [2]")
    t.ctrl("d")
    t.wait_exit()
    assert "\x1b]" not in t.transcript and "\x1b[22;0t" not in t.transcript
    t = term("--title", "off")
    t.wait_prompt(1)
    t.enter("print('hi')")
    t.wait_prompt(2)
    t.ctrl("d")
    t.wait_exit()
    assert A in t.transcript and D(0) in t.transcript
    assert "\x1b]2;" not in t.transcript and "\x1b[22;0t" not in t.transcript and "\x1b[23;0t" not in t.transcript


def paste(t, code: str) -> None:
    t.child.send("\x1b[200~" + code + "\x1b[201~")
    t.child.send("\r")


def a_pager(tmp_path):
    """A $PAGER that appends what it is given to a file, and the file."""
    out = tmp_path / "paged.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f"#!/bin/sh\ncat >> '{out}'\necho '<<end>>' >> '{out}'\n")
    script.chmod(0o755)
    return str(script), out


def test_pager_shows_a_cells_output_with_colours_and_long_help_goes_there(term, tmp_path):
    from tests.conftest import wait_until

    script, out = a_pager(tmp_path)
    t = term(extra_env={"PAGER": script, "TMUX": ""})
    t.wait_prompt(1)
    t.enter(r"print('\x1b[31mred\x1b[0m plain'); print('\x1b]0;evil\x07after')")
    t.wait_prompt(2)
    t.enter("for i in range(3): print('line', i)")
    t.wait_prompt(3)
    t.enter("/pager")  # the last cell
    wait_until(lambda: out.exists() and out.read_text().count("<<end>>") == 1, what="the pager")
    assert out.read_text() == "line 0\nline 1\nline 2\n<<end>>\n"
    t.wait_prompt(3)
    t.enter("/pager 1")
    wait_until(lambda: out.read_text().count("<<end>>") == 2, what="the pager")
    first = out.read_text().split("<<end>>\n")[1]
    assert first == "\x1b[31mred\x1b[0m plain\nafter\n"  # colours kept, the title sequence not
    t.enter("/pager 7")
    t.wait_for("no cell In [7] run in this repl")
    t.enter("/pager x")
    t.wait_for("usage: /pager [N]")
    # IPython's page payload longer than the screen goes to the pager, a short one is printed
    doc = "\\n".join(f"doc line {i}" for i in range(80))
    paste(t, f"def f():\n    '''{doc}'''\n")
    t.wait_prompt(4)
    t.enter("f?")
    wait_until(lambda: out.read_text().count("<<end>>") == 3, what="the pager")
    paged = out.read_text().split("<<end>>\n")[2]
    assert "Signature:" in paged and "doc line 79" in paged
    t.wait_prompt(5)
    assert "Signature:" not in t.text()
    t.enter("len?")
    t.wait_for("Return the number of items")
    assert out.read_text().count("<<end>>") == 3


def test_copy_puts_a_cells_text_on_the_clipboard_and_a_kernels_osc52_stays_blocked(term):
    import base64

    t = term(extra_env={"TMUX": ""})
    t.wait_prompt(1)
    t.enter(r"print('\x1b[1mbold\x1b[0m é'); print('\x1b]52;c;' + 'aGk=' + '\x07')")
    t.wait_prompt(2)
    t.enter("/copy 1")
    t.wait_for("copied the output of In [1]")
    sent = base64.b64encode("bold é\n\n".encode()).decode()
    assert f"\x1b]52;c;{sent}\x1b\\" in t.transcript
    assert t.transcript.count("\x1b]52;") == 1  # the kernel's own clipboard write never reached the terminal
    t.enter("/copy 5")
    t.wait_for("no cell In [5]")
    t.ctrl("d")
    t.wait_exit()
    t = term(extra_env={"TMUX": "/tmp/tmux-0/default,1,0"})  # inside tmux: wrapped for it to pass on
    t.wait_prompt(1)
    t.enter("print('x')")
    t.wait_prompt(2)
    t.enter("/copy")
    t.wait_for("copied the output of In [1]")
    sent = base64.b64encode(b"x\n").decode()
    assert f"\x1bPtmux;\x1b\x1b]52;c;{sent}\x1b\x1b\\\x1b\\" in t.transcript


def test_markdown_links_keep_their_target_and_html_tables_are_drawn(term):
    code = ("from IPython.display import Markdown, HTML, display\n"
            "display(Markdown('read [the docs](https://example.org/docs) now'))\n"
            "display(HTML('<table><thead><tr><th></th><th>name</th><th>value</th></tr></thead>"
            "<tbody><tr><th>0</th><td>alpha</td><td>1.5</td></tr><tr><th>1</th><td>b</td><td>-22.25</td></tr>"
            "</tbody></table>'))\n")
    t = term(extra_env={"TERM_PROGRAM": "", "KITTY_WINDOW_ID": "", "TMUX": ""})
    t.wait_prompt(1)
    paste(t, code)
    t.wait_prompt(2)
    assert "read the docs (https://example.org/docs) now" in t.text()
    lines = t.text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("   name"))
    assert lines[at:at + 4] == ["   name    value", "────────────────", "0  alpha     1.5", "1  b      -22.25"]
    t = term(extra_env={"TERM_PROGRAM": "WezTerm", "TMUX": ""})  # a terminal that draws hyperlinks
    t.wait_prompt(1)
    paste(t, code)
    t.wait_prompt(2)
    assert "read the docs now" in t.text()
    assert ";https://example.org/docs\x1b\\" in t.transcript and "\x1b]8;;\x1b\\" in t.transcript


def test_shift_tab_shows_the_first_lines_and_says_how_to_see_the_rest(term):
    t = term(extra_env={"TMUX": ""})
    t.wait_prompt(1)
    doc = "\\n".join(f"doc line {i}" for i in range(80))
    paste(t, f"def f(a, b=2):\n    '''{doc}'''\n")
    t.wait_prompt(2)
    t.type("f")
    t.type("\x1b[Z")  # Shift-Tab
    t.wait_for("more lines: f? shows it all")
    shown = t.text()[t.text().index("Signature: f(a, b=2)"):]
    assert "doc line 0" in shown and "doc line 6 …" in shown and "doc line 7" not in shown


def test_a_long_cell_ending_while_the_window_is_away_notifies(term):
    t = term(extra_env={"TMUX": "", "TERM_PROGRAM": "WezTerm", "REPL_NOTIFY_AFTER": "1", "KITTY_WINDOW_ID": ""})
    t.wait_prompt(1)
    t.enter("import time; time.sleep(1.5); print('slept')")
    t.wait_for(lambda t: "\x1b[?1004h" in t.transcript)  # the cell runs: focus reports on
    t.type("\x1b[O")  # the terminal says the window lost the focus
    t.wait_prompt(2)
    t.wait_for(lambda t: "\x1b]9;repl: In [1] on python3 finished after" in t.transcript)
    assert t.transcript.index("\x1b[?1004l") < t.transcript.index("\x1b]9;repl:")
    t.enter("print('typed')")  # the report was not typed into the prompt
    t.wait_prompt(3)
    assert "[O" not in t.text() and "In [2]: print('typed')" in t.text()
    t.enter("time.sleep(1.2)")  # the window keeps its focus: no notification
    t.wait_prompt(4)
    assert t.transcript.count("\x1b]9;") == 1


def test_a_python_kernel_started_here_learns_the_terminals_width(term):
    t = term(extra_env={"TMUX": ""})
    t.wait_prompt(1)
    t.enter("import os; print('cols', os.environ.get('COLUMNS'))")
    t.wait_for("cols 110")
    t.enter("import numpy as np")
    t.wait_prompt(3)
    t.enter("print('np', np.get_printoptions()['linewidth'])")  # imported by a cell: follows after it
    t.wait_for("np 110")
    t.child.setwinsize(36, 90)  # a resize: told again before the next cell
    t.enter("print('cols', os.environ.get('COLUMNS'), np.get_printoptions()['linewidth'])")
    t.wait_for("cols 90 90")
    t.enter("np.set_printoptions(linewidth=50)")  # the user's own setting wins
    t.child.setwinsize(36, 100)
    t.enter("print('now', os.environ.get('COLUMNS'), np.get_printoptions()['linewidth'])")
    t.wait_for("now 100 50")


def test_vi_mode_is_shown_before_the_prompt_as_ipython_does(term):
    t = term("--vi", extra_env={"TMUX": ""})
    t.wait_prompt(1)
    t.wait_for("[ins] In [1]:")
    t.type("\x1b")
    t.wait_for("[nav] In [1]:")
    t.type("i")
    t.wait_for("[ins] In [1]:")


def test_an_interrupted_cell_ends_with_status_1(term):
    t = term(extra_env={"TMUX": ""})
    t.wait_prompt(1)
    # no flush: ipykernel sends the line from its IO thread while the cell is in sleep, so the
    # Ctrl-C lands there (not in print's flush, where IPython's traceback formatter can crash)
    t.enter("import time; print('g' + 'oing'); time.sleep(30)")
    t.wait_for(lambda t: "going" in t.transcript)  # (the cell runs)
    t.ctrl("c")
    t.wait_for(lambda t: "KeyboardInterrupt" in t.transcript)
    t.wait_prompt(2)
    after = t.transcript[t.transcript.index("going"):]
    assert D(1) in after[:after.index(A)] and D(0) not in after
