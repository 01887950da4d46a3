"""Files in and out, and the server's terminal, as data (#26): the chunk plan, where paths land,
globs, the terminal's frames, and the kernel's side of a transfer run here on real files."""

import base64
import hashlib
import json
import os

import pytest
from pathlib import Path

from repl.files.commands import sources_and_dest, split_args
from repl.errors import UsageError
from repl.protocol import kernelfiles, terminal, transfer


def test_a_chunk_plan_is_one_plain_save_when_it_fits_and_numbered_to_minus_one_when_not():
    assert transfer.chunk_plan(0) == [transfer.Chunk(0, 0, None)]
    assert transfer.chunk_plan(10, 10) == [transfer.Chunk(0, 10, None)]
    plan = transfer.chunk_plan(25, 10)
    assert [(c.offset, c.length, c.number) for c in plan] == [(0, 10, 1), (10, 10, 2), (20, 5, -1)]
    assert [c.number for c in transfer.chunk_plan(20, 10)] == [1, -1]
    assert sum(c.length for c in transfer.chunk_plan(50 * 2**20 + 3)) == 50 * 2**20 + 3


def test_paths_land_in_the_kernels_notebook_directory_and_never_leave_the_root():
    assert transfer.base_dir_of("work/nb/analysis.ipynb") == "work/nb"
    assert transfer.base_dir_of(None) == ""
    assert transfer.resolve("data.csv", "work/nb") == "work/nb/data.csv"
    assert transfer.resolve("../raw/./x.csv", "work/nb") == "work/raw/x.csv"
    assert transfer.resolve("/top.csv", "work/nb") == "top.csv"
    assert transfer.resolve(".", "") == ""
    with pytest.raises(ValueError, match="outside the server's root"):
        transfer.resolve("../../../etc/passwd", "work/nb")


def test_targets_globs_and_part_files():
    assert transfer.target("a.csv", None, False, False) == "a.csv"
    assert transfer.target("a.csv", "b.csv", False, False) == "b.csv"
    assert transfer.target("a.csv", "data", True, False) == "data/a.csv"
    assert transfer.target("a.csv", "data/", False, False) == "data/a.csv"
    assert transfer.target("a.csv", "/", False, True) == "/a.csv"
    assert transfer.glob_split("data/*.csv") == ("data", "*.csv")
    with pytest.raises(ValueError):
        transfer.glob_split("d*/x.csv")
    assert transfer.glob_match("*.csv", ["b.csv", "a.csv", ".h.csv", "c.txt"]) == ["a.csv", "b.csv"]
    assert transfer.glob_match(".*", [".h", "x"]) == [".h"]
    assert transfer.part_name("d/a.csv", "ab12") == "d/a.csv.repl-part-ab12"
    assert not transfer.part_name("a.csv", "x").startswith(".")  # the contents API refuses hidden files


def test_arguments_split_like_a_shell_and_the_last_is_the_destination_unless_a_glob():
    assert split_args("-f 'my file.csv' dest/", "u") == (["my file.csv", "dest/"], True)
    assert sources_and_dest(["a", "b"]) == (["a"], "b")
    assert sources_and_dest(["*.csv", "*.json"]) == (["*.csv", "*.json"], None)
    assert sources_and_dest(["a"]) == (["a"], None)
    with pytest.raises(UsageError, match="usage"):
        split_args("-f", "usage: /upload")
    with pytest.raises(UsageError, match="quotation"):
        split_args("'open", "usage: /upload")


def test_the_progress_bar_fits_its_width():
    line = transfer.progress_bar("a-very-long-file-name-indeed.csv", 30 * 2**20, 60 * 2**20, 2.0, 80)
    assert len(line) < 80 and " 50%" in line and "30.0 MB / 60.0 MB" in line and "15.0 MB/s" in line


def test_terminal_frames_and_the_key_that_leaves():
    assert json.loads(terminal.stdin("ls\r")) == ["stdin", "ls\r"]
    assert json.loads(terminal.set_size(30, 100)) == ["set_size", 30, 100, 0, 0]
    assert terminal.parse('["stdout", "hi"]') == terminal.Frame("stdout", "hi")
    assert terminal.parse('["disconnect", 1]') == terminal.Frame("disconnect", "")
    assert terminal.parse("not json") is None and terminal.parse("{}") is None
    keys = terminal.Keys()
    assert keys.feed("é".encode()[:1]) == ("", False)  # half a character waits for its end
    assert keys.feed("é".encode()[1:] + b"x") == ("éx", False)
    assert keys.feed(b"ab\x1dcd") == ("ab", True)


def _step(op, **args):
    """A step as the kernel evaluates it: the expression's value, as its reply would carry it."""
    value = eval(kernelfiles.expression(op, **args)[kernelfiles.KEY], {})
    return kernelfiles.answer({"status": "ok", "user_expressions": {kernelfiles.KEY: {
        "status": "ok", "data": {"text/plain": repr(value)}}}})


def test_the_kernels_side_writes_a_part_file_checks_it_and_renames_it(tmp_path):
    data = os.urandom(3000)
    target = str(tmp_path / "t.bin")
    begun = _step("begin", target=target, force=False, suffix=".repl-part-x")
    assert begun == {"part": target + ".repl-part-x", "target": target}
    for piece in (data[:1000], data[1000:]):
        _step("append", part=begun["part"], data=base64.b64encode(piece).decode())
    assert not os.path.exists(target)
    with pytest.raises(ValueError, match="damaged"):
        eval(kernelfiles.expression("finish", part=begun["part"], target=target, size=len(data), sha256="0" * 64,
                                    force=False)[kernelfiles.KEY], {})
    assert os.listdir(tmp_path) == []  # a damaged part is not left behind
    begun = _step("begin", target=target, force=False, suffix=".repl-part-y")
    _step("append", part=begun["part"], data=base64.b64encode(data).decode())
    _step("finish", part=begun["part"], target=target, size=len(data), sha256=hashlib.sha256(data).hexdigest(), force=False)
    assert Path(target).read_bytes() == data and os.listdir(tmp_path) == ["t.bin"]
    with pytest.raises(FileExistsError):
        eval(kernelfiles.expression("begin", target=target, force=False, suffix="z")[kernelfiles.KEY], {})
    got = _step("read", path=target, offset=1000, length=500)
    assert base64.b64decode(got["data"]) == data[1000:1500]
    assert _step("hash", path=target) == {"size": 3000, "sha256": hashlib.sha256(data).hexdigest()}
    assert _step("stat", path=str(tmp_path))["kind"] == "dir"
    assert _step("glob", pattern=str(tmp_path / "*.bin")) == [target]


def test_a_kernels_refusal_is_its_exception_in_one_line():
    reply = {"status": "ok", "user_expressions": {kernelfiles.KEY: {
        "status": "error", "ename": "FileExistsError", "evalue": "/x exists", "traceback": []}}}
    with pytest.raises(kernelfiles.KernelFileError, match=r"^FileExistsError: /x exists$"):
        kernelfiles.answer(reply)
    with pytest.raises(kernelfiles.KernelFileError, match="user_expressions"):
        kernelfiles.answer({"status": "ok", "user_expressions": {}})


def test_names_in_messages_stay_on_one_line_and_hidden_paths_are_known():
    assert transfer.shown("downloaded nl\nname.txt to a\tb\r") == "downloaded nl<U+000A>name.txt to a<U+0009>b<U+000D>"
    assert transfer.is_hidden(".hidden") and transfer.is_hidden("a/.git/x") and transfer.is_hidden(".hid.csv")
    assert not transfer.is_hidden("a/b.txt") and not transfer.is_hidden("../a.txt") and not transfer.is_hidden("./a")


def test_the_reason_on_the_servers_error_page():
    page = ('<html><div class="error"><h1>403 : Forbidden</h1><p>The error was:</p><div class="traceback-wrapper">'
            '<pre class="traceback">link.txt is not in root static\n directory &amp; more</pre></div></html>')
    assert transfer.page_reason(page) == "link.txt is not in root static directory & more"
    assert transfer.page_reason("<h1>404 : Not Found</h1>") == "404 : Not Found"
    assert transfer.page_reason("{}") == ""


def test_a_terminals_last_activity_reads_as_how_long_ago():
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 12, 2, 14, 30, tzinfo=timezone.utc)
    assert terminal.ago("2026-12-02T14:29:40.5Z", now) == "just now"
    assert terminal.ago("2026-12-02T14:25:00Z", now) == "5 min ago"
    assert terminal.ago("2026-12-02T11:00:00+00:00", now) == "3 h ago"
    local = now.astimezone(timezone(timedelta(hours=2)))
    assert terminal.ago("2026-11-30T10:00:00Z", local) == "2026-11-30 12:00"  # in the local zone
    assert terminal.ago("", now) == "" and terminal.ago("soon", now) == "soon"
