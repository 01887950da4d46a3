"""The session's budget of kept output, through the real repl in a pty: one budget for every kernel,
the oldest cells' outputs dropped first, and /save saying what it no longer had."""

import json

import pytest

BIG = "from IPython.display import display; display({{'text/html': 'h' * 150_000, 'text/plain': '{}'}}, raw=True)"


def test_save_after_the_budget_is_spent_says_so_and_marks_the_cells(term, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    t = term(extra_env={"REPL_KEEP_MIB": "0.25"})  # 256 KiB for the whole session
    t.wait_prompt(1)
    t.enter("print('one')")
    t.wait_prompt(2)
    t.enter(BIG.format("big-1"))  # 150 KB of HTML, shown as its one text/plain line; it counts
    t.wait_for("big-1")
    t.wait_prompt(3)
    t.enter("/name first")
    t.wait_for("is now 'first'")
    t.enter("/new python3")  # another kernel: the same budget
    t.wait_for("started python3 kernel")
    t.wait_prompt(1)
    t.enter("/name second")
    t.wait_for("is now 'second'")
    t.enter(BIG.format("big-2"))
    t.wait_for("big-2")
    t.wait_prompt(2)
    t.enter("/use first")
    t.wait_for("switched to first")
    path = tmp_path / "first.ipynb"
    t.enter(f"/save {path}")
    t.wait_for(lambda t: "no longer kept" in t.plain().replace("\n", ""))
    said = t.plain().replace("\n", "")
    assert (f"saved 2 cells of first to {path}; the outputs of 2 were no longer kept: the session keeps its last "
            "256 KiB of output (REPL_KEEP_MIB)") in said
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["print('one')", BIG.format("big-1")]
    assert [c.execution_count for c in nb.cells] == [1, 2]
    for cell in nb.cells:
        (marker,) = cell.outputs
        assert marker.output_type == "stream" and marker.name == "stderr"
        assert marker.text.startswith("[repl: output before this point was not kept: the session keeps its last 256 KiB")
    json.loads(path.read_text())

    t.enter("/use second")  # the newest cell's output is whole
    t.wait_for("switched to second")
    other = tmp_path / "other.ipynb"
    t.enter(f"/save {other}")
    t.wait_for(f"saved 1 cells of second to {other}")
    (cell,) = nbformat.read(str(other), as_version=4).cells
    assert cell.outputs[0].data["text/html"] == "h" * 150_000


def test_a_bad_budget_is_one_line(term):
    t = term(extra_env={"REPL_KEEP_MIB": "lots"})
    t.wait_for("repl: REPL_KEEP_MIB is the MiB of output /save keeps for the session (e.g. 32; 0 keeps none), not 'lots'")
    assert t.wait_exit() == 2
    assert "Traceback" not in t.text()
