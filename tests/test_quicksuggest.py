"""quicksuggest gives exactly prompt_toolkit's suggestion from history, as the history grows and
when it is read again."""

from __future__ import annotations

import random

from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory

from repl.ui.prompt.speedups.quicksuggest import QuickSuggestFromHistory

PIECES = ["a", "ab", "b", " ", "x = ", "os.", "getcwd", "\n", "\r", "\u2028", "é", "", "\x0b", "(", "1"]


def words(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(n)))


def suggestions(buffer: Buffer, ours: QuickSuggestFromHistory, theirs: AutoSuggestFromHistory, text: str):
    doc = Document(text, len(text))
    a, b = ours.get_suggestion(buffer, doc), theirs.get_suggestion(buffer, doc)
    return (a.text if a else None), (b.text if b else None)


def test_the_same_suggestion_as_prompt_toolkits_on_random_histories():
    rng = random.Random(7)
    theirs = AutoSuggestFromHistory()
    found = 0
    for _ in range(300):
        history = InMemoryHistory()
        buffer = Buffer(history=history)
        ours = QuickSuggestFromHistory()
        for _ in range(rng.randrange(12)):
            history.append_string(words(rng, 8))
        for _ in range(30):
            if rng.random() < 0.2:
                history.append_string(words(rng, 8))  # a cell run meanwhile
            text = words(rng, 4)
            mine, expected = suggestions(buffer, ours, theirs, text)
            assert mine == expected, (history.get_strings(), text)
            found += expected is not None
    assert found > 500  # (most texts tried have a suggestion: the comparison is not all "none")


def test_a_history_read_again_or_another_buffer_is_followed():
    theirs, ours = AutoSuggestFromHistory(), QuickSuggestFromHistory()
    first = InMemoryHistory()
    for cell in ("print(1)", "print(22)"):
        first.append_string(cell)
    buffer = Buffer(history=first)
    assert suggestions(buffer, ours, theirs, "print(") == ("22)", "22)")
    first._loaded_strings = ["print(333)"]  # (as a history loaded again from its file)
    assert suggestions(buffer, ours, theirs, "print(") == ("333)", "333)")
    other = Buffer(history=InMemoryHistory())
    other.history.append_string("prin")
    assert suggestions(other, ours, theirs, "pri") == ("n", "n")
    assert suggestions(other, ours, theirs, "print(") == (None, None)
