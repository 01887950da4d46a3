"""What /save keeps (repl/keep.py, repl/cell.py, repl/notebook.py): one budget for the session,
the oldest cells' outputs dropped first (images counted), a marker where they were, and a stream's
text kept in pieces (no copy of the whole for each message)."""

from __future__ import annotations

import asyncio
import time

import pytest

from repl import errors, notebook
from repl.cell import CUT, MAX_KEPT, Cell
from repl.keep import MIB, Keep, size_of
from repl.protocol import session as s

KIB = 1024


@pytest.fixture
def make():
    loop = asyncio.new_event_loop()
    made = iter(range(1, 10_000))

    def cell(keep: Keep | None) -> Cell:
        n = next(made)
        req = s.Request(f"m{n}", "execute_request", "shell", code=f"cell {n}", execution_count=n)
        return Cell(req, {}, loop.create_future(), keep=keep)

    yield cell
    loop.close()


def out(cell: Cell, text: str, name: str = "stdout") -> None:
    cell.add(s.Stream(cell.request, False, name, text))


def picture(cell: Cell, png: str) -> None:
    cell.add(s.DisplayData(cell.request, False, {"image/png": png, "text/plain": "<Figure>"}, {}, None, False))


def texts(cell: Cell) -> list[str]:
    return [o.get("text", "") for o in cell.saved_outputs()]


def test_the_budget_drops_the_oldest_cells_outputs_first_and_marks_them(make):
    keep = Keep(100 * KIB)
    a, b, c = make(keep), make(keep), make(keep)
    out(a, "a" * 40 * KIB)
    out(b, "b" * 40 * KIB)
    assert not a.outputs_dropped and keep.total == a.kept + b.kept <= keep.limit
    out(c, "c" * 40 * KIB)  # over: a's go (the oldest), b's and c's stay
    assert a.outputs_dropped and not b.outputs_dropped and not c.outputs_dropped
    assert keep.total == b.kept + c.kept <= keep.limit and a.kept == 0
    (marker,) = texts(a)
    assert marker.startswith("[repl: output before this point was not kept") and "100 KiB" in marker
    assert "REPL_KEEP_MIB" in marker
    assert a.code == "cell 1" and a.execution_count == 1  # (its code and count stay)
    assert texts(b) == ["b" * 40 * KIB] and texts(c) == ["c" * 40 * KIB]
    assert notebook.dropped([a, b, c]) == 1
    nb = notebook.build([a, b, c], None, "python3")
    assert nb["cells"][0]["outputs"][0]["name"] == "stderr"
    assert "".join(nb["cells"][0]["outputs"][0]["text"]).startswith("[repl: output before this point was not kept")
    assert nb["cells"][0]["source"] == ["cell 1"]


def test_images_count_and_the_cell_whose_output_arrives_is_not_the_one_dropped(make):
    keep = Keep(100 * KIB)
    a, b = make(keep), make(keep)
    out(a, "a" * 10 * KIB)
    picture(b, "P" * 60 * KIB)
    assert b.kept > 60 * KIB and not a.outputs_dropped
    picture(b, "Q" * 30 * KIB)  # over: the older cell goes, not this one
    assert a.outputs_dropped and not b.outputs_dropped
    assert keep.total == b.kept <= keep.limit
    picture(b, "R" * 30 * KIB)  # this cell alone reaches the budget: its own cap, said once
    picture(b, "S" * 30 * KIB)
    saved = b.saved_outputs()
    assert [o["data"]["image/png"][0] for o in saved[:2]] == ["P", "Q"]
    assert saved[-1]["text"] == CUT and len(saved) == 3
    assert keep.total == b.kept <= keep.limit


def test_a_dropped_cell_that_still_prints_keeps_what_comes_after_the_marker(make):
    keep = Keep(64 * KIB)
    bg, fg = make(keep), make(keep)
    out(bg, "early\n")
    out(bg, "e" * 20 * KIB)
    out(fg, "x" * 50 * KIB)
    assert bg.outputs_dropped and not fg.outputs_dropped
    out(bg, "late\n")  # (a background cell still running)
    marker, late = texts(bg)
    assert marker.startswith("[repl: output before this point") and late == "late\n"
    new = make(keep)
    out(new, "n" * 15 * KIB)  # over again: fg's go, now older than what bg kept since
    assert fg.outputs_dropped and texts(bg)[-1] == "late\n" and keep.total <= keep.limit


def test_clear_output_gives_back_what_a_cell_kept(make):
    keep = Keep(MIB)
    a = make(keep)
    picture(a, "P" * 100 * KIB)
    a.add(s.ClearOutput(a.request, False, False))
    assert a.outputs == [] and a.kept == 0 and keep.total == 0 and keep.cells() == 0
    out(a, "again\n")
    assert texts(a) == ["again\n"] and keep.total == a.kept


def test_a_display_update_counts_the_new_size(make):
    keep = Keep(MIB)
    a = make(keep)
    a.add(s.DisplayData(a.request, False, {"text/plain": "1"}, {}, "d1", False))
    small = keep.total
    a.add(s.DisplayData(a.request, False, {"text/plain": "1" * 10 * KIB}, {}, "d1", True))
    assert keep.total == a.kept and keep.total > small + 10 * KIB - 100
    assert a.saved_outputs()[0]["data"]["text/plain"] == "1" * 10 * KIB


def test_without_a_budget_a_cell_still_has_its_own_cap(make):
    a = make(None)
    for _ in range(5):
        out(a, "y" * (MAX_KEPT // 4))
    saved = texts(a)
    assert saved[-1] == CUT and len(saved[0]) <= MAX_KEPT


def test_many_small_pieces_are_kept_in_linear_time_and_read_whole(make):
    a = make(Keep(64 * MIB))
    pieces = [f"{i}\n" for i in range(200_000)]
    t0 = time.perf_counter()
    for p in pieces:
        out(a, p)
    took = time.perf_counter() - t0
    assert len(a.outputs) == 1 and not a.full
    assert len(a.outputs[0]["_pieces"]) <= len(pieces) // 32  # (small pieces joined as they come, a run at a time)
    assert a.kept < 3 * len("".join(pieces))  # (so the budget is not spent on their overhead)
    assert texts(a) == ["".join(pieces)]
    assert texts(a) == ["".join(pieces)]  # (read again: the same)
    out(a, "tail")
    assert a.open_line() == ("stdout", "tail")
    # 200 000 messages: linear is well under a second; a copy of the whole for each would be ~0.7 TB copied
    assert took < 5.0


def test_the_open_line_spans_pieces(make):
    a = make(None)
    for p in ("done\nbe", "a", "t 7"):
        out(a, p)
    assert a.open_line() == ("stdout", "beat 7")
    out(a, "x" * 10_000)
    name, line = a.open_line() or ("", "")
    assert len(line) == 4096 and line.endswith("x")


def test_size_of_counts_what_the_outputs_hold():
    assert size_of("x" * 1000) >= 1000
    assert size_of("ж" * 1000) >= 2000  # (wider characters take more)
    assert size_of({"image/png": "P" * 5000, "text/plain": "<Figure>"}) > 5000
    assert size_of(["a" * 100, "b" * 100]) > 200


def test_the_budget_from_the_environment():
    assert Keep.from_env({}).limit == 32 * MIB
    assert Keep.from_env({"REPL_KEEP_MIB": "0.5"}).limit == MIB // 2
    assert Keep.from_env({"REPL_KEEP_MIB": "0"}).limit == 0
    for bad in ("lots", "-1", "nan"):
        with pytest.raises(errors.UsageError, match="REPL_KEEP_MIB is the MiB of output /save keeps"):
            Keep.from_env({"REPL_KEEP_MIB": bad})
