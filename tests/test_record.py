"""The session record (repl/protocol/record.py, pure) and where it is kept (repl/records.py)."""

import os
import stat
import subprocess
import sys

import pytest

from repl import errors, records
from repl.protocol.record import Away, CellEntry, KernelEntry, Record, label_of, matches, summary


def sample(**kw) -> Record:
    k = KernelEntry("k1" * 18, "python3", "sess-1", alias="train", started_here=True, kernel_session="ks",
                    clock_offset=0.25, cells=[CellEntry("m1", 3, "print(1)", True, 1000.0, open_line=["stdout", "beat"])])
    return Record(id="r1", pid=123, url="http://gw:8888", kernels=[k], current=k.id, **kw)


def test_a_record_survives_json_whole():
    rec = sample(detached=True, left=1500.0, written=1500.5)
    again = Record.from_json(rec.to_json())
    assert again == rec
    assert again.kernels[0].cells[0].count == 3 and label_of(again.kernels[0], again) == "train"
    assert again.kernels[0].cells[0].open_line == ["stdout", "beat"]
    assert Record.from_json(rec.to_json().replace(',"open_line":["stdout","beat"]', "")).kernels[0].cells[0].open_line is None
    rec.kernels[0].last_number = 41
    assert Record.from_json(rec.to_json()).kernels[0].last_number == 41
    assert Record.from_json(rec.to_json().replace(',"last_number":41', "")).kernels[0].last_number is None  # older


def _cell(**kw):
    import asyncio

    from repl.cell import Cell
    from repl.protocol import session as s

    loop = asyncio.new_event_loop()
    try:
        return Cell(s.Request("m1", "execute_request", "shell", code="x"), {}, loop.create_future(), **kw), s
    finally:
        loop.close()


def test_the_line_a_cell_was_printing_is_its_unfinished_end():
    cell, s = _cell()
    assert cell.open_line() is None
    cell.add(s.Stream(cell.request, False, "stdout", "tick 1\ntick"))
    assert cell.open_line() == ("stdout", "tick")
    cell.add(s.Stream(cell.request, False, "stdout", " 2\n"))
    assert cell.open_line() is None
    cell.add(s.Stream(cell.request, False, "stderr", "warn"))
    cell.add(s.DisplayData(cell.request, False, {"text/plain": "x"}, {}, None, False))
    assert cell.open_line() is None  # (a display after it ended the line)


def test_a_carried_line_is_joined_to_its_end_or_shown_before_what_comes_instead():
    cell, s = _cell(carried=("stdout", "beat"))
    assert cell.with_carried(s.Status(cell.request, False, "busy")) == [s.Status(cell.request, False, "busy")]
    (joined,) = cell.with_carried(s.Stream(cell.request, False, "stdout", " 8\n"))
    assert joined.text == "beat 8\n" and cell.carried is None
    again = s.Stream(cell.request, False, "stdout", "9\n")
    assert cell.with_carried(again) == [again]  # (once)
    cell, s = _cell(carried=("stdout", "beat"))
    err = s.Stream(cell.request, False, "stderr", "boom\n")
    assert [e.text for e in cell.with_carried(err)] == ["beat", "boom\n"]
    cell, s = _cell(carried=("stdout", "beat"))
    done = s.RequestDone(cell.request, False)
    assert cell.with_carried(done)[0].text == "beat" and cell.with_carried(done) == [done]


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 99}', '{"version": 1, "id": "x", "pid": 1, "url": "u", "zzz": 1}',
                                  '{"version": 1, "id": "x", "pid": 1, "url": "u", "kernels": [{"id": "k"}]}'])
def test_a_damaged_record_is_refused_with_valueerror(text):
    with pytest.raises(ValueError):
        Record.from_json(text)


def test_summary_and_matching_name_the_server_kernels_and_when():
    rec = sample(detached=True, left=1000.0)
    line = summary(rec, now=1000.0 + 180)
    assert line == "http://gw:8888: train (1 running); detached 3 min ago"
    assert matches(rec, "gw:8888") and matches(rec, "http://gw:8888/") and not matches(rec, "other")
    local = sample(gateway={"url": "http://127.0.0.1:5555/", "pid": 1, "token": "t", "log_path": "/x"})
    assert matches(local, "local") and not matches(rec, "local")
    assert summary(local, now=local.since + 5).startswith("the local gateway: train")


@pytest.mark.parametrize("away, why", [
    (Away(100.0, unfinished=1, shared=False, active=True, replayed=3), None),  # replayed: all of it
    (Away(100.0, unfinished=1, shared=False, active=False), None),  # printed nothing: nothing lost
    (Away(100.0, unfinished=0, shared=True, active=True), None),  # nothing of ours was running
    (Away(100.0, unfinished=1, shared=False, active=True), "it printed while away and the server replayed nothing"),
    (Away(100.0, unfinished=1, shared=True, active=True, replayed=2), "another client is connected to it"),
    (Away(100.0, unfinished=2, shared=False, active=True, replayed=2, lost_ends=2), "the end of 2 cells never came"),
    (Away(100.0, unfinished=0, shared=False, active=False, restarted=True), "the kernel was restarted since"),
    # the kernel's own counts: the replay follows the last message we had
    (Away(100.0, unfinished=1, shared=False, active=True, replayed=9, last_number=31, first_number=32), None),
    # something came back dated before the return, but messages 32..48 went to another connection
    (Away(100.0, unfinished=1, shared=False, active=True, replayed=1, last_number=31, first_number=49),
     "17 of its messages went to another connection"),
    # a burst another client took, within a second of leaving (the server's activity cannot tell)
    (Away(100.0, unfinished=1, shared=False, active=False, last_number=31, first_number=40),
     "8 of its messages went to another connection"),
    # silent while away: the gap is the server's greeting of our connection
    (Away(100.0, unfinished=1, shared=False, active=False, last_number=31, first_number=35), None),
    (Away(100.0, unfinished=1, shared=False, active=False, last_number=None, first_number=90), None),  # killed
])
def test_what_tells_whether_the_output_while_away_is_complete(away, why):
    assert away.verdict() == why


def test_a_message_dated_before_we_came_back_was_replayed():
    away = Away(100.0, unfinished=1, shared=False, active=True)
    away.saw(101.0)
    away.saw(None)
    assert away.replayed == 0
    away.saw(99.5)
    assert away.replayed == 1
    away.saw(None, 12)
    away.saw(99.0, 11)
    away.saw(102.0, 14)
    assert away.first_number == 11 and away.replayed == 2


def test_the_journal_writes_0600_and_goes_when_no_kernel_is_left(tmp_path):
    kernels: list = []

    def fill(rec):
        rec.url, rec.kernels = "http://gw", list(kernels)

    j = records.Journal(fill, tmp_path / "sessions" / "a.jsonl")
    j.changed()
    assert not j.path.exists()  # no kernel: nothing to come back to
    kernels.append(sample().kernels[0])
    j.changed()
    assert stat.S_IMODE(os.stat(j.path).st_mode) == 0o600
    assert records.load(j.path).pid == os.getpid()
    kernels[0].alias = "renamed"
    j.changed()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(j.path.read_text() + '{"version": 1, "id": "cut sh')  # a crash mid-write
    assert records.load(cut).kernels[0].alias == "renamed"  # (the last whole line)
    assert records.resumable(tmp_path / "sessions") == []  # a live repl's record is not one
    j.detach()
    assert records.resumable(tmp_path / "sessions") == []  # (locked until we let go of it, leaving)
    j.close()
    (found,) = records.resumable(tmp_path / "sessions")
    assert found[1].detached and found[1].left is not None
    j.remove()
    assert not j.path.exists() and not j.path.with_suffix(".lock").exists()


def test_a_record_of_a_process_that_is_gone_is_resumable_and_kept_until_resumed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "sessions"
    folder.mkdir()
    rec = sample()
    rec.pid = dead.pid
    (folder / "r1.jsonl").write_text(rec.to_json())
    (folder / "junk.jsonl").write_text("{not json")
    ((path, back),) = records.resumable(folder)
    assert back.id == "r1"
    j = records.Journal(lambda r: None, path, back)  # coming back: locked, so nobody else takes it
    assert records.resumable(folder) == []
    with pytest.raises(errors.UsageError, match="being resumed by another repl"):
        records.Journal(lambda r: None, path, back)
    j.remove()  # left before the kernels were back: the record is as it was
    assert records.resumable(folder)[0][1] == back
    assert (folder / "junk.jsonl").exists()


def test_a_record_that_cannot_be_written_is_said_once(tmp_path):
    folder = tmp_path / "sessions"
    j = records.Journal(lambda rec: setattr(rec, "kernels", [sample().kernels[0]]), folder / "a.jsonl")
    folder.chmod(0o500)  # (root ignores modes: a directory where the file should be does not)
    (folder / "a.jsonl").mkdir() if os.geteuid() == 0 else None
    try:
        j.changed()
        assert j.failed is not None and "cannot write the session record" in j.failed
        j.failed = None
        j.changed()
        assert j.failed is None  # (said once)
    finally:
        folder.chmod(0o700)


def test_a_record_whose_embedded_gateway_is_gone_is_removed_not_offered(tmp_path):
    """A repl killed with SIGKILL takes its embedded gateway and kernels with it: nothing to come back to."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "sessions"
    folder.mkdir()
    for name, gateway_pid in (("gone", dead.pid), ("reused", os.getpid())):  # (a pid another program has now)
        rec = sample(gateway={"url": "http://127.0.0.1:9/", "pid": gateway_pid, "token": "t", "log_path": "/nowhere"})
        rec.pid = dead.pid
        (folder / f"{name}.jsonl").write_text(rec.to_json() + "\n")
    kept = sample()
    kept.pid = dead.pid
    (folder / "kept.jsonl").write_text(kept.to_json() + "\n")  # (not embedded: its server may still hold its kernels)
    assert [p.name for p, _ in records.resumable(folder)] == ["kept.jsonl"]
    assert sorted(p.name for p in folder.iterdir()) == ["kept.jsonl"]


def test_a_kernel_of_a_detached_session_is_found_by_id_prefix_or_alias(tmp_path, monkeypatch):
    from repl import resume

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "sessions"
    folder.mkdir()
    rec = sample(detached=True, left=1000.0)
    rec.pid = dead.pid
    (folder / "r1.jsonl").write_text(rec.to_json() + "\n")
    monkeypatch.setattr(records, "folder", lambda: folder)
    assert resume.holding("k1k1k1") == "it is in a detached session on http://gw:8888: repl --resume 1"
    assert resume.holding("train") == resume.holding("k1k1k1")
    assert resume.holding("k2") is None and resume.holding("tra") is None  # (an alias is whole)


def test_two_kernels_of_one_spec_are_named_as_the_prompt_names_them():
    rec = sample()
    rec.kernels += [KernelEntry("abcd" + "0" * 32, "python3", "s2"), KernelEntry("beef" + "0" * 32, "python3", "s3"),
                    KernelEntry("cafe" + "0" * 32, "bash", "s4")]
    assert [label_of(k, rec) for k in rec.kernels] == ["train", "python3-abcd", "python3-beef", "bash"]
    assert summary(rec, now=rec.since + 5).split(": ", 1)[1].startswith("train (1 running), python3-abcd, python3-beef, bash;")
