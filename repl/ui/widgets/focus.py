"""The keyboard on a widget: F2 (or /widget N) moves it from the prompt to a widget, F2 or Esc back.

The one owner of which widget has the keyboard and which of its controls is chosen. While it has
it, the widget is drawn above the prompt's line with the chosen control marked (the half-typed
line stays as it is) and the toolbar says which keys do what. A key is turned into a change by
:mod:`repl.protocol.controls`; the change is drawn at once (in place where the widget is drawn,
and above the prompt) and sent to the kernel as a widget-protocol ``update`` (a click as the
``custom`` click event). Per widget model one message is on its way at a time: changes made
meanwhile are merged and sent when it is done (a held key over a slow link does not flood the
kernel), and echoes of older values are not applied (:class:`repl.protocol.controls.Sync`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from repl.protocol import controls
from repl.ui.output import sanitize
from repl.protocol.comms import Model

if TYPE_CHECKING:
    from repl.kernel import Kernel
    from repl.ui.widgets.view import Root, WidgetView

RELEASE = 0.35  # a key not repeated for this long is let go: a continuous_update=False slider sends then


HELP = {
    "slider": "←/→ move (Shift ×10) · Home/End",
    "log": "←/→ move (Shift ×10) · Home/End",
    "range": "←/→ move · Space the other handle · Home/End",
    "selection": "←/→ choose · Home/End",
    "selection_range": "←/→ move · Space the other handle",
    "toggle": "Space toggles",
    "button": "Enter clicks",
    "choice": "↑/↓ choose",
    "multiple": "↑/↓ move · Space picks",
    "text": "type · Enter submits · Esc cancels",
    "textarea": "type · Alt-Enter submits · Esc cancels",
    "int": "type a number · Enter sets · ↑/↓ step",
    "float": "type a number · Enter sets · ↑/↓ step",
}


@dataclass
class Chosen:
    root: Root
    ids: list[str]  # the controls' model ids, in the order they are drawn
    focus: controls.Focus  # the chosen one, and what the keys are doing to it

    @property
    def kernel(self) -> Kernel:
        return self.root.kernel

    def model(self) -> Model | None:
        return self.kernel.comms.models.get(self.focus.model_id)


class Focus:
    def __init__(self, widgets: Callable[[], WidgetView | None], refresh: Callable[[], None],
                 say: Callable[[str], None]) -> None:
        self._widgets = widgets
        self.refresh = refresh
        self.say = say  # a line above the prompt (why F2 found nothing)
        self.chosen: Chosen | None = None
        self.note = ""  # said in the toolbar after the keys (why a key did nothing)
        self._release: asyncio.TimerHandle | None = None  # sends what continuous_update=False held
        self._in_place = False  # the widget is marked where it is drawn (else it is drawn above the prompt)

    @property
    def active(self) -> bool:
        return self.chosen is not None

    # ------------------------------------------------------------ taking and giving back

    def candidates(self) -> list[Root]:
        """The widgets that can take the keyboard, oldest first (as /widgets lists them)."""
        view = self._widgets()
        if view is None:
            return []
        return [r for r in view.roots() if not r.kernel.gone and controls.focusable(r.kernel.comms, r.model_id)]

    def take(self, n: int | None = None) -> bool:
        """The keyboard to the newest widget with controls (or the ``n``-th of /widgets)."""
        roots = self.candidates()
        if not roots:
            self.say("repl: no widget with controls to use (F2 goes to the newest one a cell displayed)")
            return False
        if n is not None and not 1 <= n <= len(roots):
            self.say(f"repl: no widget {n}: /widgets lists {len(roots)}")
            return False
        root = roots[-1] if n is None else roots[n - 1]
        found = controls.focusable(root.kernel.comms, root.model_id)
        self.chosen = Chosen(root, found, controls.Focus(found[0]))
        self.note = ""
        self._mark(self.chosen)
        self.refresh()
        return True

    def leave(self) -> None:
        self._let_go()
        chosen, self.chosen = self.chosen, None
        self.note = ""
        if chosen is not None:
            self._mark(chosen)
        self.refresh()

    def _mark(self, chosen: Chosen) -> None:
        """Redraw the widget where it is, marked as the focus is now (unmarked once left)."""
        view = self._widgets()
        if view is None:
            return
        view.focus = (chosen.root, chosen.focus) if self.chosen is chosen else None
        self._in_place = chosen.root.tag is None and view.redraw(chosen.kernel, chosen.root.model_id)

    def check(self) -> None:
        """After the kernel changed something: a widget whose kernel went, or that has no control
        left (closed, all disabled), gives the keyboard back; the chosen control is kept."""
        chosen = self.chosen
        if chosen is None:
            return
        now = [] if chosen.kernel.gone else controls.focusable(chosen.kernel.comms, chosen.root.model_id)
        if not now:
            self.leave()
            self.say("repl: the widget can no longer be used (its kernel went, or it was closed or disabled)")
            return
        chosen.ids = now
        if chosen.root.stale:
            self._in_place = False  # a change could not be drawn where it is: it is drawn above the prompt
        if chosen.focus.model_id not in now:
            chosen.focus = controls.Focus(now[0])
            self._mark(chosen)

    # ------------------------------------------------------------ what the prompt shows

    def panel(self, width: int, color: bool) -> str:
        """The widget as it is now, the chosen control marked (drawn above the prompt's line)."""
        chosen = self.chosen
        if chosen is None or self._in_place:
            return ""  # (marked where it is drawn)
        from repl.ui.widgets.draw import Drawer

        drawer = Drawer(chosen.kernel.comms, width, color, focus=chosen.focus)
        tag = sanitize.label(f"[{chosen.kernel.label}] ") if chosen.root.tag else ""  # (a kernel's name: the server's words)
        return tag + drawer.draw(chosen.root.model_id, chosen.root.fallback)

    def keys_help(self) -> str:
        chosen = self.chosen
        model = chosen.model() if chosen is not None else None
        if chosen is None or model is None:
            return ""
        words = HELP.get(controls.KINDS.get(model.name, ""), "")
        more = " · Tab next" if len(chosen.ids) > 1 else ""
        note = f" │ {self.note}" if self.note else ""
        return f" widget: {words}{more} · Esc/F2 back to the prompt{note} "

    # ------------------------------------------------------------ keys

    def next(self, step: int) -> None:
        chosen = self.chosen
        if chosen is None or not chosen.ids:
            return
        self._let_go()
        at = chosen.ids.index(chosen.focus.model_id) if chosen.focus.model_id in chosen.ids else 0
        chosen.focus = controls.Focus(chosen.ids[(at + step) % len(chosen.ids)])
        self.note = ""
        self._mark(chosen)
        self.refresh()

    def press(self, key: str, pasted: bool = False) -> None:
        """A key for the chosen control (prompt_toolkit's name, or the text typed or pasted)."""
        chosen = self.chosen
        model = chosen.model() if chosen is not None else None
        if chosen is None or model is None:
            return
        editing = chosen.focus.edit is not None
        outcome = controls.paste(model, key, chosen.focus) if pasted else controls.press(model, key, chosen.focus)
        self.note = ""
        if isinstance(outcome, controls.Update):
            chosen.focus = outcome.focus
            self._change(chosen.kernel, model, outcome)
        elif isinstance(outcome, controls.Custom):
            chosen.kernel.sync.custom(model.comm_id, outcome.content)
        elif isinstance(outcome, controls.Editing):
            chosen.focus = outcome.focus
            self.note = outcome.focus.error
        elif key == "escape" and not editing:
            self.leave()  # (Esc in an edit cancels the edit; otherwise it gives the keyboard back)
            return
        elif outcome.reason and outcome.reason != "already there":
            self.note = outcome.reason
        self._mark(chosen)
        self.refresh()

    def _change(self, kernel: Kernel, model: Model, update: controls.Update) -> None:
        """Drawn at once; sent now, or (continuous_update=False) once the keys pause."""
        model.state.update(update.state)  # (drawn by the caller)
        kernel.sync.change(model.comm_id, update.state, hold=update.hold)
        if update.custom is not None:
            kernel.sync.custom(model.comm_id, update.custom)
        if self._release is not None:
            self._release.cancel()
            self._release = None
        if update.hold:
            self._release = asyncio.get_running_loop().call_later(RELEASE, self._let_go)

    def _let_go(self) -> None:
        """The keys paused (or the focus moves): what continuous_update=False held is sent."""
        if self._release is not None:
            self._release.cancel()
            self._release = None
        chosen = self.chosen
        if chosen is not None and not chosen.kernel.gone:
            chosen.kernel.sync.release(chosen.focus.model_id)
