"""The output view, rendered into a string console and compared."""

import io
import os
import sys

from repl.protocol import session as s
from repl.ui.output import render
from repl.ui.output.console import Console
from repl.ui.output.view import OutputView


class Screen(io.StringIO):
    def isatty(self):
        return True


def view(color=False):
    out = Screen()
    return OutputView(Console(out=out, err=out), render.Style(color=color)), out


REQ = s.Request("m", "execute_request")


def test_foreground_output_is_plain_and_other_output_tagged_per_line():
    v, out = view()
    v.show("k1", s.Stream(REQ, False, "stdout", "a\nb\n"))
    v.show("k1", s.Stream(None, False, "stdout", "c\nd\n"), "[py] ")
    v.show("k1", s.Stream(None, True, "stdout", "e\n"), "[py elsewhere] ")
    assert out.getvalue() == "a\nb\n[py] c\n[py] d\n[py elsewhere] e\n"


def test_escape_sequences_split_across_messages_are_still_caught():
    v, out = view()
    v.show("k1", s.Stream(REQ, False, "stdout", "x\x1b]52;c;aGk="))
    v.show("k1", s.Stream(REQ, False, "stdout", "\x07y\n"))
    v.show("k2", s.Stream(REQ, False, "stdout", "\x1b[31mred\x1b[0m\n"))
    assert out.getvalue() == "xy\n\x1b[31mred\x1b[0m\n"


def test_clear_output_erases_back_to_the_cell_start():
    v, out = view()
    out.write("before\n")
    v.begin_cell()
    v.show("k", s.Stream(REQ, False, "stdout", "one\ntwo\n"))
    v.clear()
    assert out.getvalue() == "before\none\ntwo\n\x1b[2A\r\x1b[J"


def test_display_update_redraws_in_place_while_latest():
    v, out = view()
    v.begin_cell()
    v.show("k", s.DisplayData(REQ, False, {"text/plain": "10%"}, {}, "d1", False))
    v.show("k", s.DisplayData(REQ, False, {"text/plain": "50%"}, {}, "d1", True))
    assert out.getvalue() == "10%\n\x1b[1A\r\x1b[J50%\n"
    v.show("k", s.Stream(REQ, False, "stdout", "later\n"))
    v.show("k", s.DisplayData(REQ, False, {"text/plain": "90%"}, {}, "d1", True))
    assert out.getvalue().endswith("later\n90%\n")  # no longer the latest: printed anew


def test_notices_are_whole_lines():
    v, out = view(color=True)
    v.show("k", s.Stream(REQ, False, "stdout", "no newline"))
    v.dim("[py] done")
    assert out.getvalue() == "no newline\n\x1b[2m[py] done\x1b[0m\n"


def test_one_tag_per_line_for_coloured_and_other_clients_output():
    v, out = view(color=True)
    tag = "[py] "
    v.show("k", s.Stream(None, False, "stderr", "one\ntwo\n"), tag)
    v.show("k", s.Stream(None, False, "stdout", "three\n"), tag)
    v.show("k", s.ExecuteInput(None, True, "x = 1", 4), "[py elsewhere] ")
    plain = render.strip_ansi(out.getvalue())
    assert plain == "[py] one\n[py] two\n[py] three\n[py elsewhere] In [4]: x = 1\n"


def test_a_dumb_terminal_gets_no_escape_sequences():
    out = Screen()
    v = OutputView(Console(out=out, err=out), render.Style(color=False, escapes=False))
    v.show("k", s.Stream(REQ, False, "stdout", "\x1b[31mred\x1b[0m plain\n"))
    v.show("k", s.ErrorOutput(REQ, False, "E", "x", ["\x1b[31mTraceback\x1b[0m"]))
    assert out.getvalue() == "red plain\nTraceback\n"


def test_a_widget_is_rewritten_where_it_is_when_it_keeps_its_rows():
    v, out = view()
    v.begin_cell()
    v.place("w", "bar 10%\nline two")
    v.show("k", s.Stream(REQ, False, "stdout", "Traceback\n"))
    assert v.replace("w", "bar 99%\nline 2")  # same rows: over the old ones, the cursor back after
    assert out.getvalue().endswith("Traceback\n\x1b7\x1b[3A\r\x1b[2Kbar 99%\n\r\x1b[2Kline 2\n\x1b8")
    assert not v.replace("w", "one row now")  # fewer rows: not in place (drawn anew when the cell ends)
    assert not v.replace("w", "x" * 200 + "\nwraps")  # a wrapped line takes more rows


def test_a_widget_just_above_the_blank_line_between_cells_is_redrawn_with_it():
    v, out = view()
    v.begin_cell()
    v.place("w", "bar 10%")
    v.between_cells()
    assert v.replace("w", "bar 50%\nand more")
    assert out.getvalue() == "bar 10%\n\n\x1b[2A\r\x1b[Jbar 50%\nand more\n\n"
    assert v.replace("w", "bar 90%")
    assert out.getvalue().endswith("\x1b[3A\r\x1b[Jbar 90%\n\n")



def test_a_line_printed_in_pieces_gets_its_tag_once():
    """ipykernel flushes stdout on a timer too, so one print can come as "tick" and " 14\\n":
    the second piece goes on the line the first began (it once read "[py] tick[py]  14")."""
    v, out = view()
    v.show("k1", s.Stream(None, False, "stdout", "tick"), "[py] ")
    v.show("k1", s.Stream(None, False, "stdout", " 14\ntick"), "[py] ")
    v.show("k2", s.Stream(None, False, "stdout", "other\n"), "[sh] ")  # another's line: a new line first
    v.show("k1", s.Stream(None, False, "stdout", " 15\n"), "[py] ")
    assert out.getvalue() == "[py] tick 14\n[py] tick\n[sh] other\n[py]  15\n"


def test_a_background_cells_end_line_says_how_long_it_ran_only_when_that_is_known():
    assert render.background_done("py", 3, "ok", 15.06) == "[py] background cell In [3] finished after 15.1 s"
    assert render.background_done("py", None, "error", 2.0) == "[py] background cell In [?] failed after 2.0 s"
    # its end was lost while away: the time is since it was sent, not how long it ran
    assert render.background_done("py", 3, "unknown", 57.4, "cell") == \
        "[py] cell In [3] ended (its end was lost with the connection); sent 57.4 s ago"


SHORT_WRITES = """
import signal, sys
from repl.cli import whole_writes
whole_writes()
signal.signal(signal.SIGWINCH, lambda *a: None)  # (prompt_toolkit's, while a prompt is up)
for i in range(0, 40000, 200):
    sys.stdout.write("".join("x" * 70 + " %d\\n" % n for n in range(i, i + 200)))
    sys.stdout.flush()
print("END", flush=True)
"""


def test_no_output_is_lost_to_writes_a_resize_cuts_short_with_pythonunbuffered():
    """PYTHONUNBUFFERED makes sys.stdout write straight to the terminal; a SIGWINCH that cuts a
    write short lost the rest of it (28940 of these 40000 lines here, before)."""
    import re
    import time

    import pexpect

    child = pexpect.spawn(sys.executable, ["-c", SHORT_WRITES], env=dict(os.environ, PYTHONUNBUFFERED="1"),
                          encoding="utf-8", timeout=60)
    got, resizes = [], 0
    try:
        while True:
            resizes += 1
            child.setwinsize(24 + resizes % 2, 80)  # a resize: SIGWINCH while the terminal is behind
            time.sleep(0.001)
            try:
                got.append(child.read_nonblocking(4096, timeout=30))
            except pexpect.EOF:
                break
    finally:
        child.close()
    text = "".join(got)
    assert text.rstrip().endswith("END") and resizes > 100
    assert [int(n) for n in re.findall(r"x (\d+)\r?\n", text)] == list(range(40000))
