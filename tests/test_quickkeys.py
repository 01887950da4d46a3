"""quickkeys lists a layout's controls as prompt_toolkit does, and the key processor finds the
same bindings through it."""

from __future__ import annotations

import asyncio
import random

from prompt_toolkit import PromptSession
from prompt_toolkit.application.application import _CombinedRegistry
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import ConditionalContainer, DynamicContainer, Float, FloatContainer, HSplit, Layout, VSplit, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.shortcuts import CompleteStyle

from repl.ui.prompt.speedups import quickkeys


def tree(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.25:
        return Window(FormattedTextControl("x"))
    kind = rng.choice(["h", "v", "float", "cond", "dyn"])
    kids = [tree(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    if kind == "h":
        return HSplit(kids)
    if kind == "v":
        return VSplit(kids)
    if kind == "float":
        return FloatContainer(tree(rng, depth - 1), floats=[Float(k) for k in kids])
    if kind == "cond":
        alt = tree(rng, depth - 1) if rng.random() < 0.5 else None
        return ConditionalContainer(tree(rng, depth - 1), filter=rng.random() < 0.5, alternative_content=alt)
    inner = tree(rng, depth - 1)
    return DynamicContainer(lambda: inner)


def test_the_controls_of_random_layouts_come_in_prompt_toolkits_order():
    rng = random.Random(7)
    for _ in range(3000):
        root = tree(rng, rng.randint(1, 6))
        try:
            layout = Layout(root)
        except Exception:  # (a layout with no window at all: prompt_toolkit refuses it)
            continue
        assert quickkeys.controls(layout.container) == list(layout.find_all_controls())


def test_a_prompt_finds_the_same_bindings_for_each_key_with_and_without_it():
    kb = KeyBindings()
    kb.add("c-x", "c-e")(lambda e: None)

    async def main() -> None:
        with create_pipe_input() as inp:
            session: PromptSession = PromptSession(input=inp, output=DummyOutput(), bottom_toolbar="bar", key_bindings=kb,
                                                   complete_style=CompleteStyle.MULTI_COLUMN, multiline=True)
            asyncio.ensure_future(session.prompt_async())
            await asyncio.sleep(0)
            registry = session.app.key_processor._bindings
            assert isinstance(registry, _CombinedRegistry)
            keys = [(Keys.ControlM,), ("a",), (Keys.ControlX,), (Keys.ControlX, Keys.ControlE), (Keys.Tab,), (Keys.Escape,)]
            ours = [(registry.get_bindings_for_keys(k), registry.get_bindings_starting_with_keys(k)) for k in keys]
            quickkeys._CombinedRegistry._key_bindings = quickkeys.ORIGINAL  # type: ignore[misc]
            try:
                theirs = [(registry.get_bindings_for_keys(k), registry.get_bindings_starting_with_keys(k)) for k in keys]
            finally:
                quickkeys.install()
            assert ours == theirs and len(ours[0][0]) > 5 and ours[3][0]
            assert isinstance(_CombinedRegistry._key_bindings, property) and _CombinedRegistry._key_bindings.fget is quickkeys._key_bindings
            session.app.exit()

    quickkeys.install()
    asyncio.run(main())
