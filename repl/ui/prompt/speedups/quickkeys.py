"""prompt_toolkit's lookup of a key's bindings, without walking the layout twice a key.

For every key, prompt_toolkit's key processor asks the application's combined registry twice
(the key's bindings, then whether a longer binding starts with it), and each time the registry
lists every control in the layout (``Layout.find_all_controls``: a nested generator per
container, ~70 of them in a prompt with a toolbar and two completion menus) to look up its cache
of merged bindings. That walk was ~0.1 ms of each lookup here, a third of the key processor's
time for an Enter, and on the path of every key: Enter's request, a typed key's echo, Tab.

:func:`controls` lists the same controls in the same order (a depth-first walk over
``get_children()``, as ``layout.walk``) with one loop and a stack; the cache, its key and what is
built on a miss are prompt_toolkit's own. ``tests/test_quickkeys.py`` compares both.
"""

from __future__ import annotations

from prompt_toolkit.application.application import _CombinedRegistry
from prompt_toolkit.key_binding.key_bindings import KeyBindingsBase
from prompt_toolkit.layout.containers import Container, Window
from prompt_toolkit.layout.controls import UIControl

ORIGINAL = _CombinedRegistry._key_bindings


def controls(root: Container) -> list[UIControl]:
    """``list(Layout(root).find_all_controls())``, in one loop."""
    found: list[UIControl] = []
    stack: list[Container] = [root]
    pop, push = stack.pop, stack.extend
    while stack:
        c = pop()
        if isinstance(c, Window):
            found.append(c.content)
        children = c.get_children()
        if children:
            push(reversed(children))
    return found


def _key_bindings(self: _CombinedRegistry) -> KeyBindingsBase:
    layout = self.app.layout
    current_window = layout.current_window
    other_controls = controls(layout.container)
    key = current_window, frozenset(other_controls)
    return self._cache.get(key, lambda: self._create_key_bindings(current_window, other_controls))


def install() -> None:
    """Use it in every prompt of the process (idempotent)."""
    _CombinedRegistry._key_bindings = property(_key_bindings)  # type: ignore[assignment]
