"""Comms and the Jupyter widget models behind them: bookkeeping only, no I/O.

Kernels open comms (``comm_open``), send on them (``comm_msg``) and close them (``comm_close``),
all on iopub. ipywidgets 8 speaks the widget message protocol 2.x inside: a comm of target
``jupyter.widget`` is a model whose ``state`` arrives whole at open and changes by ``update`` /
``echo_update`` messages (binary buffers placed by ``buffer_paths``). :class:`Comms` keeps those
models so a widget can be drawn as it is now, and says which displayed widgets a change touches
(a progress bar inside a tqdm HBox redraws the HBox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repl.protocol import messages as m

WIDGET_TARGET = "jupyter.widget"
REF = "IPY_MODEL_"
VIEW = "application/vnd.jupyter.widget-view+json"  # the mime type a widget is displayed with


@dataclass
class Model:
    comm_id: str
    state: dict = field(default_factory=dict)
    clear_on_next: bool = False  # an Output widget's ``clear_output(wait=True)``: at its next output

    @property
    def name(self) -> str:
        """The model's class: ``FloatProgressModel``, ``HBoxModel``, ``OutputModel``, …"""
        return str(self.state.get("_model_name", ""))

    def children(self) -> list[str]:
        """Ids of the models this one refers to (children, and any IPY_MODEL_ reference)."""
        out: list[str] = []
        for value in self.state.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith(REF):
                    out.append(item[len(REF):])
        outputs = self.state.get("outputs") if self.name == "OutputModel" else None
        for output in outputs if isinstance(outputs, list) else []:
            shown = displayed(output.get("data") if isinstance(output, dict) else None)
            if shown:
                out.append(shown)  # a widget displayed inside an Output widget (``with out:``)
        return out


def displayed(data: object) -> str | None:
    """The model id a mime bundle displays (``application/vnd.jupyter.widget-view+json``), if any."""
    view = data.get(VIEW) if isinstance(data, dict) else None
    model_id = view.get("model_id") if isinstance(view, dict) else None
    return model_id if isinstance(model_id, str) and model_id else None


@dataclass(frozen=True)
class Opened:
    model: Model | None  # None: a comm of a target we do not handle
    target: str


@dataclass(frozen=True)
class Changed:
    model: Model


@dataclass(frozen=True)
class Closed:
    comm_id: str


CommChange = Opened | Changed | Closed


def _place_buffers(state: dict, paths: Any, buffers: list) -> None:
    """Put binary buffers into the state where ``buffer_paths`` says (we keep them as bytes)."""
    if not isinstance(paths, list):
        return
    for path, buf in zip(paths, buffers, strict=False):
        if not isinstance(path, list) or not path:
            continue
        node: Any = state
        for key in path[:-1]:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict) or (isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node)):
            node[path[-1]] = buf


@dataclass
class Comms:
    models: dict[str, Model] = field(default_factory=dict)
    others: set[str] = field(default_factory=set)  # open comms of other targets (not drawn)
    # msg_id -> the Output widgets capturing it, innermost last (``with a:`` then ``with b:``
    # inside it: b captures until it lets go, then a again, as in JupyterLab)
    _capture: dict[str, list[str]] = field(default_factory=dict)
    # who refers to whom, both ways, so a change finds the displayed widgets holding it by walking
    # up from it (walking down every displayed tree on every message was quadratic: thousands of
    # widgets in a VBox took minutes and starved the link's keepalive)
    _parents: dict[str, set[str]] = field(default_factory=dict)
    _kids: dict[str, list[str]] = field(default_factory=dict)

    def _link(self, model: Model, kids: list[str] | None = None) -> None:
        cid = model.comm_id
        for kid in self._kids.pop(cid, []):
            parents = self._parents.get(kid)
            if parents is not None:
                parents.discard(cid)
                if not parents:
                    del self._parents[kid]
        kids = model.children() if kids is None else kids
        if kids:
            self._kids[cid] = kids
            for kid in kids:
                self._parents.setdefault(kid, set()).add(cid)

    def restate(self, model: Model) -> None:
        """``model``'s state was changed here (an Output widget's captured outputs): index it again."""
        self._link(model)

    def _index(self, model: Model) -> None:
        """Keep the Output widgets' ``msg_id`` findable at once: every output event asks."""
        for mid, stack in list(self._capture.items()):
            if model.comm_id in stack:
                stack.remove(model.comm_id)
                if not stack:
                    del self._capture[mid]
        msg_id = model.state.get("msg_id")
        if model.name == "OutputModel" and isinstance(msg_id, str) and msg_id:
            self._capture.setdefault(msg_id, []).append(model.comm_id)

    def receive(self, kind: str, content: Any, buffers: list | None = None) -> CommChange | None:
        comm_id = m.field(content, "comm_id", str, "")
        if not comm_id:
            return None
        data = m.field(content, "data", dict, {})
        if kind == "comm_open":
            target = m.field(content, "target_name", str, "")
            if target != WIDGET_TARGET:
                self.others.add(comm_id)
                return Opened(None, target)
            state = dict(m.field(data, "state", dict, {}))
            _place_buffers(state, data.get("buffer_paths"), buffers or [])
            opened = self.models[comm_id] = Model(comm_id, state)
            self._index(opened)
            self._link(opened)
            return Opened(opened, target)
        if kind == "comm_msg":
            model = self.models.get(comm_id)
            method = m.field(data, "method", str, "")
            if model is None or method not in ("update", "echo_update"):
                return None
            update = dict(m.field(data, "state", dict, {}))
            _place_buffers(update, data.get("buffer_paths"), buffers or [])
            model.state.update(update)
            if "msg_id" in update or "_model_name" in update:
                self._index(model)
            if comm_id in self._kids or any(isinstance(v, list) or (isinstance(v, str) and v.startswith(REF))
                                            for v in update.values()):
                self._link(model)
            return Changed(model)
        if kind == "comm_close":
            self.others.discard(comm_id)
            closed = self.models.pop(comm_id, None)
            if closed is None:
                return None
            closed.state.pop("msg_id", None)
            self._index(closed)
            self._link(closed, [])
            return Closed(comm_id)
        return None

    def expect(self, comm_id: str) -> None:
        """A widget comm that was open before we came (``comm_info_reply``): its state follows
        from the ``request_state`` we send on it."""
        self.models.setdefault(comm_id, Model(comm_id))

    def holders(self, model_id: str, roots: list[str]) -> list[str]:
        """Which of ``roots`` (displayed widgets) contain ``model_id``, themselves included: its
        ancestors, found by walking up (as long as the way up, not the size of the trees)."""
        wanted = set(roots)
        found: set[str] = set()
        seen: set[str] = set()
        todo = [model_id]
        while todo:
            mid = todo.pop()
            if mid in seen:
                continue
            seen.add(mid)
            if mid in wanted:
                found.add(mid)
            todo.extend(self._parents.get(mid, ()))
        return [root for root in roots if root in found]

    def capturing(self, msg_id: str) -> Model | None:
        """The Output widget that captures what the request ``msg_id`` prints (``with out:``)."""
        stack = self._capture.get(msg_id) if msg_id else None
        return self.models.get(stack[-1]) if stack else None

    def reset(self) -> None:
        """The kernel is gone: so are its comms."""
        self.models.clear()
        self.others.clear()
        self._capture.clear()
        self._parents.clear()
        self._kids.clear()
