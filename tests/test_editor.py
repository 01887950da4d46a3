"""Cells in the user's editor: Ctrl-X Ctrl-E, vi's v, /edit N, %edit; a failing editor loses nothing.
The editor is a script that records what it was given and writes new code."""

import sys
from pathlib import Path

import pytest

from repl.ui.prompt import editor

SCRIPT = """
import os, sys
path = sys.argv[-1]
with open(os.environ["ED_LOG"], "a") as log:
    log.write(os.path.splitext(path)[1] + "|" + open(path).read() + "\\n---\\n")
if os.environ.get("ED_WRITE"):
    open(path, "w").write(os.environ["ED_WRITE"] + "\\n")
"""


@pytest.fixture
def ed(tmp_path):
    script = tmp_path / "ed.py"
    script.write_text(SCRIPT)
    log = tmp_path / "ed.log"
    return {"VISUAL": f"{sys.executable} {script}", "ED_LOG": str(log), "ED_WRITE": "print('edited', 6 * 7)"}, log


def test_editor_helpers(tmp_path):
    assert editor.suffix_for({"file_extension": ".py"}) == ".py" and editor.suffix_for({"file_extension": "sh"}) == ".sh"
    assert editor.suffix_for({}) == ".txt" and editor.suffix_for({"file_extension": "../x"}) == ".txt"
    assert editor.command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    with pytest.raises(editor.EditorError, match="exited with status 1"):
        editor.edit("keep me", ".py", {"EDITOR": "false"})
    with pytest.raises(editor.EditorError, match="cannot run the editor"):
        editor.edit("keep me", ".py", {"EDITOR": str(tmp_path / "no-such-editor")})


@pytest.mark.parametrize("mode", ["emacs", "vi"])
def test_the_cell_goes_to_the_editor_and_back(term, ed, mode):
    env, log = ed
    t = term(*(["--vi"] if mode == "vi" else []), extra_env=env)
    t.wait_prompt(1)
    t.type("x = 'typed'")
    if mode == "vi":
        t.type("\x1b")  # to normal mode, then v
        t.type("v")
    else:
        t.type("\x18\x05")  # Ctrl-X Ctrl-E
    t.wait_for("In [1]: print('edited', 6 * 7)")
    assert log.read_text() == ".py|x = 'typed'\n---\n"  # the cell, in a file named for the kernel's language
    t.type("\r")
    t.wait_for("edited 42")


def test_edit_n_and_a_failing_editor(term, ed):
    env, log = ed
    t = term(extra_env=env)
    t.wait_prompt(1)
    t.enter("y = 1 + 1")
    t.wait_prompt(2)
    t.enter("/edit 1")
    t.wait_for("In [2]: print('edited', 6 * 7)")
    assert log.read_text() == ".py|y = 1 + 1\n---\n"
    t.type("\r")
    t.wait_for("edited 42")
    t.enter("/edit 9")
    t.wait_for("no cell In [9]")
    bad = term(extra_env={"VISUAL": "false"})
    bad.wait_prompt(1)
    bad.type("z = 'keep me'")
    bad.type("\x18\x05")
    bad.wait_for("exited with status 1; the text is unchanged")
    bad.wait_for("In [1]: z = 'keep me'")
    bad.type("\r")
    bad.wait_prompt(2)
    bad.enter("z")
    bad.wait_for("Out[2]: 'keep me'")


def test_percent_edit_opens_the_file_and_runs_it(term, ed, tmp_path):
    env, log = ed
    target = tmp_path / "work.py"
    target.write_text("print('before')\n")
    t = term(extra_env={**env, "ED_WRITE": "print('after', 2 * 21)"})
    t.wait_prompt(1)
    t.enter(f"%edit {target}")
    t.wait_for("after 42")
    assert target.read_text() == "print('after', 2 * 21)\n" and "print('before')" in log.read_text()


def test_jupyter_repl_is_repl():
    import os
    import subprocess

    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    out = subprocess.run(["jupyter", "repl", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("repl "), out.stderr


def test_percent_load_puts_the_file_in_the_next_prompt(term, tmp_path):
    source = tmp_path / "snippet.py"
    source.write_text("answer = 6 * 7\n")
    t = term()
    t.wait_prompt(1)
    t.enter(f"%load {source}")
    t.wait_for(lambda t: "answer = 6 * 7" in t.text().split("In [2]:")[-1] if "In [2]:" in t.text() else False)
    t.type("\r")
    t.wait_prompt(3)
    t.enter("answer")
    t.wait_for("Out[3]: 42")


BIG = """
import os, sys
mb = float(os.environ["BIG_MB"])
line = "x = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\\n"
text = "s = '" + "a" * int(mb * 1024 * 1024) + "'\\n" + line * 1000 + "print('BIG' + 'DONE', len(s))\\n"
open(sys.argv[-1], "w").write(text)
"""


def test_a_large_cell_from_the_editor_runs_and_one_too_large_is_refused(term, tmp_path):
    """A few MB from the editor runs without asking the kernel whether it is complete; a cell
    beyond what the server's websocket takes (10 MiB in a message) is one line, kept in the
    prompt, never sent (it used to close the link, be sent again on reconnect, and loop)."""
    import time

    script = tmp_path / "big.py"
    script.write_text(BIG)
    for mb, fits in ((4, True), (12, False)):
        t = term(extra_env={"VISUAL": f"{sys.executable} {script}", "BIG_MB": str(mb)})
        t.wait_prompt(1)
        t.type("\x18\x05")
        t.wait_for("print('BIG' + 'DONE', len(s))", timeout=120)
        started = time.monotonic()
        t.type("\r")
        if fits:
            t.wait_for("BIGDONE 4194304", timeout=120)
            t.wait_prompt(2, timeout=60)
        else:
            t.wait_for("too large to send", timeout=60)
            # back in the prompt, to edit; the cell fills the screen, so the toolbar says why
            t.wait_for(lambda t: "...: print('BIG' + 'DONE'" in t.text()
                       and "│ not sent: too large to send: 12" in t.text().splitlines()[-1], timeout=60)
            t.ctrl("c")  # (the prompt is responsive: the cell can be cleared and another one run)
            t.wait_for(lambda t: "│ idle" in t.text().splitlines()[-1], timeout=30)  # the next prompt: the usual toolbar
            t.enter("'still here'")
            t.wait_for("Out[1]: 'still here'", timeout=60)
            assert "reconnect" not in t.text() and "never received" not in t.text()
        print(f"{mb} MB cell from the editor: {time.monotonic() - started:.1f} s")
