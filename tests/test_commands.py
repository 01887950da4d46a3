"""Recognising /commands: pure, no terminal."""

from repl.ui.commands import Command, Unknown, parse


def test_commands_aliases_typos_and_code():
    assert parse("/use 2") == Command("use", "2")
    assert parse("/exit") == Command("quit", "")  # IPython would autocall exit() and kill the kernel
    assert parse("/nosuch") == Unknown("nosuch")
    assert parse("  /nosuch  ") == Unknown("nosuch")
    for code in ("/usr/bin/env ls", "/f 1", "/a/b", "x = 1", "/nosuch\nmore"):
        assert parse(code) == code
    assert parse("//help") == "/help"
