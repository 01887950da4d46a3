"""quickdraw's two drawing steps give exactly what prompt_toolkit's own give."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from prompt_toolkit.layout import containers
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.layout.mouse_handlers import MouseHandlers

from repl.ui.prompt.speedups import quickdraw


class Child:
    def __init__(self, d: Dimension) -> None:
        self.d = d

    def preferred_height(self, width: int, height: int) -> Dimension:
        return self.d


class Split:
    """What _divide_heights reads of an HSplit."""

    def __init__(self, dims: list[Dimension]) -> None:
        self.children = dims
        self._all_children = [Child(d) for d in dims]


APP = mock.Mock(is_done=False)  # what both read of the running application


@pytest.fixture(autouse=True)
def app():
    with mock.patch.object(quickdraw, "get_app", return_value=APP), mock.patch.object(containers, "get_app", return_value=APP):
        yield


def divided(fn, dims: list[Dimension], height: int, done: bool):
    APP.is_done = done
    return fn(Split(dims), containers.WritePosition(0, 0, 120, height))


def random_dimension(rng: random.Random, weight: int = 1) -> Dimension:
    low = rng.randint(0, 5)
    preferred = low + rng.randint(0, 9)
    high = preferred + rng.choice([0, 1, 4, 10**9])  # (10**9: prompt_toolkit's "no maximum")
    return Dimension(min=low, preferred=preferred, max=high, weight=weight)


@pytest.mark.parametrize("seed", range(4))
def test_the_heights_are_prompt_toolkits(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        dims = [random_dimension(rng) for _ in range(rng.randint(1, 7))]
        height = rng.randint(0, 70)
        for done in (False, True):
            want = divided(quickdraw.ORIGINAL_DIVIDE, dims, height, done)
            assert divided(quickdraw.divide_heights, dims, height, done) == want, (dims, height, done)


def test_a_tall_prompt_and_a_toolbar_as_the_prompt_has_them() -> None:
    # the input grows without bound, the toolbar is one row: the input takes the rest
    dims = [Dimension(min=1, preferred=1), Dimension.exact(0), Dimension.exact(1)]
    assert divided(quickdraw.divide_heights, dims, 40, False) == [39, 0, 1]
    assert divided(quickdraw.divide_heights, dims, 40, True) == [1, 0, 1]  # done: no more than preferred


def test_unequal_weights_are_left_to_prompt_toolkit() -> None:
    rng = random.Random(7)
    for _ in range(300):
        dims = [random_dimension(rng, weight=rng.randint(1, 3)) for _ in range(rng.randint(2, 5))]
        height = rng.randint(0, 50)
        want = divided(quickdraw.ORIGINAL_DIVIDE, dims, height, False)
        assert divided(quickdraw.divide_heights, dims, height, False) == want
    assert divided(quickdraw.divide_heights, [], 10, False) == []
    assert divided(quickdraw.divide_heights, [Dimension(min=20)], 10, False) is None  # too small: not drawn


def test_the_mouse_handlers_are_prompt_toolkits() -> None:
    rng = random.Random(3)
    ours, theirs = MouseHandlers(), MouseHandlers()
    handlers = [lambda e: None for _ in range(5)]
    for _ in range(200):
        x0, y0 = rng.randint(0, 100), rng.randint(0, 40)
        args = (x0, x0 + rng.randint(0, 30), y0, y0 + rng.randint(0, 10), rng.choice(handlers))
        quickdraw.set_mouse_handler_for_range(ours, *args)
        quickdraw.ORIGINAL_MOUSE(theirs, *args)
    assert ours.mouse_handlers == theirs.mouse_handlers
    assert sum(len(row) for row in ours.mouse_handlers.values()) > 1000  # (something was compared)


def test_installed_they_are_what_prompt_toolkit_calls() -> None:
    quickdraw.install()
    assert containers.HSplit._divide_heights is quickdraw.divide_heights
    assert MouseHandlers.set_mouse_handler_for_range is quickdraw.set_mouse_handler_for_range
    quickdraw.install()  # twice: still ours, and the originals kept are prompt_toolkit's
    assert quickdraw.ORIGINAL_DIVIDE is not quickdraw.divide_heights
