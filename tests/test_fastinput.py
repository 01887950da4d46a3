"""Long runs of plain text are read whole; everything else is parsed as prompt_toolkit would."""

from prompt_toolkit.keys import Keys

from repl.ui.prompt import fastinput


def test_long_runs_become_one_key_and_order_is_kept():
    text = "x" * 1000
    keys = fastinput.parse(f"ab\x1b[A{text}\r\x1b[1;5Ddone")
    kinds = [k.key for k in keys]
    enter = kinds.index(Keys.ControlM)
    assert kinds[:3] == ["a", "b", Keys.Up]
    assert "".join(k.data for k in keys[3:enter]) == text  # the run's head parsed, its body one key
    assert kinds.count(Keys.BracketedPaste) == 1 and len(keys) < 30
    assert kinds[enter + 1:] == [Keys.ControlLeft, "d", "o", "n", "e"]


def test_short_text_and_terminal_pastes_are_untouched():
    assert [k.key for k in fastinput.parse("hi\r")] == ["h", "i", Keys.ControlM]
    body = "y" * 500 + "\rz"
    keys = fastinput.parse(f"\x1b[200~{body}\x1b[201~")
    assert [(k.key, k.data) for k in keys] == [(Keys.BracketedPaste, body)]


def test_a_paste_cut_off_mid_run_waits_a_moment_for_the_rest():
    assert fastinput.FastInput._gap("x" * 4096) > 0
    assert fastinput.FastInput._gap("x" * 4096 + "\r") == 0  # ends with Enter: typed, nothing pending
    assert fastinput.FastInput._gap("abc") == 0  # keys typed by hand are never held
