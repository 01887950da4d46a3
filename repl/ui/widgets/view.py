"""Widgets on screen: drawn where the kernel displayed them, redrawn in place as their models change.

A displayed widget (``application/vnd.jupyter.widget-view+json``) is a root; a change to any model
inside it (a tqdm bar's progress inside its HBox) redraws the root in place while it is on screen
and its drawing takes as many rows, during its cell and after it (a thread's bar between cells).
A root that cannot be redrawn in place (its height changed, or it belongs to a background cell whose lines
went above the prompt) is drawn once more, as it is then, when the cell that displayed it ends, so
its end is never missing; after that cell it is left as it was, never drawn a second time (two
copies of one live widget are never on screen) and a line says, once, that it is out of date.
Output widgets capture what ``with out:`` prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from repl.protocol import session as s
from repl.protocol.comms import Model
from repl.protocol.controls import Focus
from repl.ui.output.mime import WIDGET_VIEW
from repl.ui.output.render import strip_ansi
from repl.ui.output.view import OutputView
from repl.ui.widgets.draw import Drawer

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.kernel import Kernel

MIME = WIDGET_VIEW
DIM, NO_DIM = "\x1b[2m", "\x1b[22m"


@dataclass
class Root:
    kernel: Kernel
    model_id: str
    fallback: str
    tag: str | None
    request: s.Request | None  # the request that displayed it
    last: str = ""
    stale: bool = False  # changed since it was last drawn, and not redrawn in place
    known: bool = False  # drawn from its model (not only its text/plain: the state had not come yet)
    rows: int = 0  # lines of what the screen shows of it
    ended: bool = False  # the cell that displayed it has ended
    frozen: bool = False  # changed after its cell and could not be redrawn: said so, once
    below: bool = False  # an Output whose captured output went below it since it was last cleared


def widget_of(ev: s.Event) -> str | None:
    data = ev.data if isinstance(ev, (s.DisplayData, s.ExecuteResult)) else None
    view = data.get(MIME) if isinstance(data, dict) else None
    model_id = view.get("model_id") if isinstance(view, dict) else None
    return model_id if isinstance(model_id, str) and model_id else None


class WidgetView:
    def __init__(self, view: OutputView) -> None:
        self.view = view
        self._roots: list[Root] = []
        self.focus: tuple[Root, Focus] | None = None  # the widget the keyboard is on, and its control (F2)

    def _text(self, root: Root) -> str:
        style = self.view.style
        focus = self.focus if self.focus is not None and self.focus[0] is root else None
        return Drawer(root.kernel.comms, style.width, style.color, focus=focus[1] if focus else None).draw(
            root.model_id, root.fallback)

    def show(self, kernel: Kernel, ev: s.Event, tag: str | None) -> bool:
        """Draw a widget display; False if ``ev`` is not one."""
        model_id = widget_of(ev)
        if model_id is None:
            return False
        data = ev.data if isinstance(ev, (s.DisplayData, s.ExecuteResult)) else {}
        plain = data.get("text/plain", "")
        root = Root(kernel, model_id, plain if isinstance(plain, str) else "", tag, ev.request)
        self._roots = [r for r in self._roots if r.model_id != model_id or r.kernel is not kernel][-50:]
        self._roots.append(root)
        root.last = self._text(root)
        root.rows = _lines(root.last) if tag is None else 0
        root.known = bool(kernel.comms.models.get(model_id, None) and kernel.comms.models[model_id].state)
        self.view.place(self._key(root), root.last, tag)
        return True

    def lost(self, kernel: Kernel) -> None:
        """The kernel's widgets no longer work (it restarted, or went): drawn dim where they are
        (those that can be), and forgotten."""
        for root in [r for r in self._roots if r.kernel is kernel]:
            self._roots.remove(root)
            if root.tag is None and root.last:
                plain = strip_ansi(root.last).split("\n")
                self.view.replace(self._key(root), "\n".join(f"{DIM}{line}{NO_DIM}" for line in plain))

    def roots(self) -> list[Root]:
        """The widgets drawn, oldest first."""
        return list(self._roots)

    def redraw(self, kernel: Kernel, model_id: str) -> bool:
        """A model changed here (a key on it, the focus moved): redraw what shows it, as for a
        change from the kernel; False if some of it could not be redrawn in place."""
        return self.changed(kernel, s.CommEvent(None, False, "comm_msg", {"comm_id": model_id}, []))

    def changed(self, kernel: Kernel, ev: s.CommEvent) -> bool:
        """A comm message changed (or closed) a model: redraw what shows it. False if some of it
        could not be redrawn in place (it is drawn again when it finishes or its cell ends)."""
        comm_id = str(ev.content.get("comm_id", ""))
        mine = [r for r in self._roots if r.kernel is kernel]
        holders = set(kernel.comms.holders(comm_id, [r.model_id for r in mine]))
        in_place = True
        for root in mine:
            if root.model_id not in holders and root.model_id != comm_id:
                continue
            if ev.kind == "comm_close" and root.model_id == comm_id:
                self.view.replace(self._key(root), "")  # closed (tqdm leave=False): gone, if it can be
                self._roots.remove(root)
                continue
            text = self._text(root)
            if text == root.last:
                continue
            root.last = text
            if root.tag is None and self._in_place(root, text):
                root.stale = False
                continue
            in_place = False
            root.stale = not root.ended
            if root.ended and not root.frozen:
                root.frozen = True  # what the screen shows of it is out of date: say so, once
                self.view.dim("repl: a widget above changed but no longer fits where it is drawn: "
                              "what it shows there is out of date")
            if not root.known:  # its state came after it was shown as text: draw it now
                root.known = True
                self._again(root)
        return in_place

    def _in_place(self, root: Root, text: str) -> bool:
        """Redraw ``root`` where it is; one that shrank keeps its rows (blank below it), so a
        cleared Output or a shorter line after later output is still redrawn in place."""
        key = self._key(root)
        if self.view.replace(key, text):
            root.rows = _lines(text)
            return True
        short = root.rows - _lines(text)
        return short > 0 and self.view.replace(key, text.rstrip("\n") + "\n" * (short + int(bool(text))))

    def detach(self, request: s.Request, tag: str) -> None:
        """A cell went to the background: its widgets are tagged from now on, never redrawn over
        the prompt."""
        for root in self._roots:
            if root.request is request:
                root.tag = tag

    def flush(self, kernel: Kernel, request: s.Request | None) -> None:
        """A cell of ``kernel`` ended: widgets it displayed that could not be redrawn in place are
        drawn again, as they are now. A widget of an earlier cell is not: it is left as it was."""
        for root in self._roots:
            if root.kernel is kernel and root.request is request:
                root.ended = True
                if root.stale:
                    self._again(root)

    def _again(self, root: Root) -> None:
        root.stale = False
        root.rows = _lines(root.last) if root.tag is None else 0
        self.view.place(self._key(root), root.last, root.tag)

    def capture(self, kernel: Kernel, ev: s.Event) -> bool:
        """Output that an Output widget captures (``with out:``): kept in it and redrawn in place;
        True if so. Output the widget cannot show in place is shown where it comes, as usual.
        ``clear_output`` there clears that widget's outputs only, never the cell's."""
        req = ev.request
        model = kernel.comms.capturing(req.msg_id) if req is not None else None
        if model is None or not isinstance(ev, (s.Stream, s.DisplayData, s.ExecuteResult, s.ErrorOutput, s.ClearOutput)):
            return False
        if isinstance(ev, s.ClearOutput):
            model.clear_on_next = ev.wait
            if not ev.wait:
                model.state["outputs"] = []
                kernel.comms.restate(model)
                self.changed(kernel, s.CommEvent(None, False, "comm_msg", {"comm_id": model.comm_id}, []))
                self._cleared(kernel, model)
            return True  # (not redrawn in place: drawn as it is when the cell ends)
        if model.clear_on_next:
            self._cleared(kernel, model)
        _append(model, ev)
        kernel.comms.restate(model)
        if self.changed(kernel, s.CommEvent(None, False, "comm_msg", {"comm_id": model.comm_id}, [])):
            return True
        for root in self._roots:
            if root.kernel is kernel and kernel.comms.holders(model.comm_id, [root.model_id]):
                root.stale = False  # the output itself, shown below, tells what changed
                root.below = root.below or root.ended
        return False

    def _cleared(self, kernel: Kernel, model: Model) -> None:
        """An Output widget of an earlier cell was cleared after some of its output was printed
        below it (it did not fit): that output is no longer current, and a line says so."""
        below = [r for r in self._roots if r.kernel is kernel and r.below
                 and kernel.comms.holders(model.comm_id, [r.model_id])]
        for root in below:
            root.below = False
        if below:
            self.view.dim("repl: an Output widget was cleared: its output printed above is no longer in it")

    @staticmethod
    def _key(root: Root) -> str:
        return f"widget:{root.kernel.id}:{root.model_id}"


def _lines(text: str) -> int:
    return text.count("\n") + int(bool(text) and not text.endswith("\n"))


def _append(model: Model, ev: s.Event) -> None:
    outputs = [] if model.clear_on_next else list(model.state.get("outputs") or [])
    model.clear_on_next = False
    if isinstance(ev, s.Stream):
        if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].get("name") == ev.name:
            outputs[-1] = {**outputs[-1], "text": outputs[-1].get("text", "") + ev.text}
        else:
            outputs.append({"output_type": "stream", "name": ev.name, "text": ev.text})
    elif isinstance(ev, (s.DisplayData, s.ExecuteResult)):
        outputs.append({"output_type": "display_data", "data": dict(ev.data), "metadata": {}})
    elif isinstance(ev, s.ErrorOutput):
        outputs.append({"output_type": "error", "ename": ev.ename, "evalue": ev.evalue, "traceback": []})
    model.state["outputs"] = outputs
