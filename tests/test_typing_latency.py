"""Typing at the real pace of a person, to a kernel behind a slow link (a loopback proxy that adds
latency each way): every Enter is honoured in order, typeahead is never merged, pastes stay whole."""

import time

import pytest

from tests.proxy import CutProxy


@pytest.fixture(params=[0.1, 0.3], ids=["100ms", "300ms"])
def far(gateway, request):
    p = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=request.param)
    yield p
    p.close()


def typist(t, *chunks, gap=0.05):
    """Type like a person: one chunk after another, ``gap`` seconds apart (the input's timing)."""
    for chunk in chunks:
        t.type(chunk)
        time.sleep(gap)


def test_enter_before_the_kernel_answers_is_kept_in_order(term, far):
    t = term(url=far.url)
    t.wait_prompt(1, timeout=90)
    typist(t, "if True:\r", "x = 1\r", "\r", "x * 7\r")
    t.wait_for("Out[2]: 7", timeout=60)
    assert "SyntaxError" not in t.plain()
    assert "if True:x" not in t.plain() and "...:     x = 1" in t.plain()  # two lines, not merged


def test_keys_typed_while_a_cell_runs_are_queued_not_merged(term, far):
    t = term(url=far.url)
    t.wait_prompt(1, timeout=90)
    t.enter("import time; print('started', flush=True); time.sleep(2)")
    t.wait_for(lambda t: "\nstarted" in t.text(), timeout=30)
    typist(t, "for i in range(2):\r", "print('item', i)\r", "\r")
    t.wait_for("item 1", timeout=60)
    assert "item 0" in t.plain() and "SyntaxError" not in t.plain()
    assert "range(2):print" not in t.plain() and "...:     print('item', i)" in t.plain()
    t.wait_prompt(3, timeout=30)


def test_a_paste_while_a_cell_runs_stays_one_paste(term, far):
    t = term(url=far.url)
    t.wait_prompt(1, timeout=90)
    t.enter("import time; print('started', flush=True); time.sleep(2)")
    t.wait_for(lambda t: "\nstarted" in t.text(), timeout=30)
    body = "def g():\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n    e = 5\n    return a + b + c + d + e"
    t.type(f"\x1b[200~{body}\x1b[201~")  # the terminal wraps a paste so (bracketed paste is on)
    typist(t, "\r", "\r", "g()\r")
    t.wait_for("Out[3]: 15", timeout=60)
    assert "SyntaxError" not in t.plain() and "IndentationError" not in t.plain()


def test_keys_after_an_enter_that_runs_go_to_the_next_prompt(term, far):
    t = term("--kernel", "bash", url=far.url)
    t.wait_prompt(1, timeout=90)
    typist(t, "echo one\r", "echo two\r")  # no local verdict for bash: each Enter asks the kernel
    t.wait_for(lambda t: "\ntwo" in t.text(), timeout=60)
    # (typeahead merged into the line would read "echo oneecho two"; the line drawn again once coloured is not that)
    assert "echo oneecho two" not in t.plain() and "\none" in t.text()
    assert any(line.rstrip().endswith("In [1]: echo one") for line in t.text().splitlines()), t.text()
    t.wait_prompt(3, timeout=30)
