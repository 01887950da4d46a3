"""Recognising /commands: pure, no terminal."""

from repl.ui.slash.commands import Command, Unknown, parse


def test_commands_aliases_typos_and_code():
    assert parse("/use 2") == Command("use", "2")
    assert parse("/exit") == Command("quit", "")  # IPython would autocall exit() and kill the kernel
    assert parse("/nosuch") == Unknown("nosuch")
    assert parse("  /nosuch  ") == Unknown("nosuch")
    for code in ("/usr/bin/env ls", "/f 1", "/a/b", "x = 1", "/nosuch\nmore"):
        assert parse(code) == code
    assert parse("//help") == "/help"


def test_the_readme_names_every_command_and_key_help_lists():
    from pathlib import Path

    from repl.ui.slash import commands

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
    missing = [f"/{name}" for name in commands.COMMANDS if f"`/{name}" not in readme]
    missing += [key for key, _ in commands.KEYS if not all(word in readme for word in key.replace("...", "").split())]
    assert not missing, f"README does not name: {missing}"


def test_the_kernels_legend_says_what_its_marks_mean():
    from repl.gateway.rest import KernelModel
    from repl.ui.output import tables

    models = [KernelModel("a" * 36, "python3"), KernelModel("b" * 36, "bash"), KernelModel("c" * 36, "python3")]
    text = tables.kernels(models, "a" * 36, {}, {"a" * 36, "b" * 36})
    assert "attached in this session" not in text
    assert text.splitlines()[-1] == "(* current kernel; + also open in this repl (started or attached here))"
    assert tables.kernels(models[2:], None, {}, set()).splitlines()[-1].startswith("1  cccccccc")  # no marks: no legend
