"""The prompt's keys for a widget that has the keyboard (:mod:`repl.ui.widgets.focus`).

F2 takes the keyboard to the newest widget with controls and gives it back. While a widget has
it, every key is the widget's (none reaches the half-typed line): Tab / Shift-Tab choose a
control, the rest go to the chosen one, Esc (or F2, Ctrl-C, Ctrl-D) gives the keyboard back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys

if TYPE_CHECKING:
    from repl.ui.widgets.focus import Focus

# prompt_toolkit's key -> the name repl.protocol.controls takes
NAMED = {
    "left": "left", "right": "right", "s-left": "s-left", "s-right": "s-right", "home": "home", "end": "end",
    "up": "up", "down": "down", "c-m": "enter", "c-j": "enter", "c-h": "backspace",
    "escape": "escape", "delete": "delete", "escape c-m": "a-enter",
}


def focus_bindings(focus: Callable[[], Focus | None]) -> KeyBindings:
    kb = KeyBindings()
    on = Condition(lambda: (f := focus()) is not None and f.active)

    def act(do: Callable[[Focus], object]):
        def handler(event) -> None:
            f = focus()
            if f is not None:
                do(f)
        return handler

    for key in ("c-c", "c-d"):
        kb.add(key, filter=on, eager=True)(act(lambda f: f.leave()))
    kb.add(Keys.Any, filter=on, eager=True)(_typed(focus))  # (first: the named keys below win over it)
    kb.add(Keys.BracketedPaste, filter=on, eager=True)(_typed(focus, pasted=True))
    kb.add("tab", filter=on, eager=True)(act(lambda f: f.next(1)))
    kb.add("s-tab", filter=on, eager=True)(act(lambda f: f.next(-1)))
    kb.add("f2", eager=True)(act(lambda f: f.leave() if f.active else f.take()))  # (after Keys.Any: it wins)
    for key, name in [*NAMED.items(), (" ", "space")]:
        kb.add(*key.split(" ") if key != " " else [" "], filter=on, eager=True)(act(_pressing(name)))
    return kb


def _pressing(name: str) -> Callable[[Focus], None]:
    return lambda f: f.press(name)


def _typed(focus: Callable[[], Focus | None], pasted: bool = False):
    def handler(event) -> None:
        f = focus()
        text = event.data
        if f is not None and text and (pasted or text.isprintable()):
            f.press(text, pasted=pasted)  # (a control key with no meaning here does nothing: it never reaches the line)
    return handler
