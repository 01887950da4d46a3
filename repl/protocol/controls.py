"""Driving Jupyter widget controls from the keyboard: which controls a displayed widget holds, what
a key does to each, and the rules for the state we send and the echoes we get. Pure: no I/O.

:func:`focusable` lists the controls of a displayed widget in the order they are drawn.
:func:`press` turns a key on the focused control into an :data:`Outcome`: an :class:`Update` of
the model's state (ipywidgets 8 state names: ``value``, ``index``), a :class:`Custom` message
(a Button's ``{"event": "click"}``), a change of the :class:`Focus` alone (:class:`Editing`: text
being typed, the handle of a range slider) or :class:`Nothing`. :class:`Sync` sends the updates as
JupyterLab's widget manager does (``@jupyter-widgets/base`` ``WidgetModel``): one update in flight
per model, later changes merged and sent when it completes, and echoes of our older updates
dropped so a slider never jumps back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

from repl.protocol.comms import REF, Comms, Model, displayed

MAX_CONTROLS = 1000  # controls listed for one widget at most
MAX_VISITS = 5000  # models looked at for one widget at most (as many as the drawing draws)

# the model names that are controls, and what kind of keys they take
KINDS = {
    "IntSliderModel": "slider", "FloatSliderModel": "slider", "PlayModel": "slider",
    "FloatLogSliderModel": "log",
    "IntRangeSliderModel": "range", "FloatRangeSliderModel": "range",
    "SelectionSliderModel": "selection", "SelectionRangeSliderModel": "selection_range",
    "CheckboxModel": "toggle", "ToggleButtonModel": "toggle",
    "ButtonModel": "button",
    "DropdownModel": "choice", "RadioButtonsModel": "choice", "SelectModel": "choice",
    "ToggleButtonsModel": "choice",
    "SelectMultipleModel": "multiple",
    "TextModel": "text", "PasswordModel": "text", "ComboboxModel": "text",
    "TextareaModel": "textarea",
    "IntTextModel": "int", "BoundedIntTextModel": "int",
    "FloatTextModel": "float", "BoundedFloatTextModel": "float",
}
CONTAINERS = frozenset({"HBoxModel", "VBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"})
SUBMITS = frozenset({"TextModel", "PasswordModel", "ComboboxModel"})  # ipywidgets' Text._handle_string_msg


def is_control(model: Model | None) -> bool:
    return model is not None and model.name in KINDS


def disabled(model: Model) -> bool:
    return model.state.get("disabled") is True


def continuous(model: Model) -> bool:
    """``continuous_update``: False means a slider's new value is sent once the keys pause or on
    Enter (:attr:`Update.hold`), not at every key."""
    return model.state.get("continuous_update", True) is not False


def _kids(model: Model) -> list[str]:
    if model.name in CONTAINERS:
        kids = model.state.get("children")
        return [k[len(REF):] for k in kids if isinstance(k, str) and k.startswith(REF)] if isinstance(kids, list) else []
    if model.name == "OutputModel":  # widgets displayed inside an Output (``interact``'s output)
        outputs = model.state.get("outputs")
        shown = [displayed(o.get("data")) for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
        return [s for s in shown if s]
    return []


def focusable(comms: Comms, root_id: str, limit: int = MAX_CONTROLS) -> list[str]:
    """The ids of the enabled controls inside the displayed widget ``root_id`` (itself included),
    depth first in the order they are drawn; each once, however often the tree holds it."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [root_id]
    visits = 0
    while todo and len(found) < limit and visits < MAX_VISITS:
        mid = todo.pop()
        model = comms.models.get(mid)
        if model is None or mid in seen:
            continue
        seen.add(mid)
        visits += 1
        if is_control(model) and not disabled(model):
            found.append(mid)
        todo.extend(reversed(_kids(model)))
    return found


@dataclass(frozen=True)
class Focus:
    """The focused control and what the keys are doing to it."""

    model_id: str
    handle: int = 0  # range sliders: 0 moves the lower handle, 1 the upper (Space switches)
    cursor: int = 0  # SelectMultiple: the option the cursor is on (Space picks it or not)
    edit: str | None = None  # text boxes: the text being typed, the cursor at its end; None: not in edit
    error: str = ""  # why the last Enter in edit was refused ("not a number")


@dataclass(frozen=True)
class Update:
    """Set ``state`` on the model now (it is drawn so) and send it, as the widget protocol's
    ``update``, through :class:`Sync`. ``hold``: the control's ``continuous_update`` is False:
    keep it and send it when the keys pause or at the next Update that is not held (Enter gives
    one with an empty state: send what is held). ``custom``: a custom message to send after it
    (Text's ``{"event": "submit"}``)."""

    state: dict
    focus: Focus
    hold: bool = False
    custom: dict | None = None


@dataclass(frozen=True)
class Custom:
    """Send ``content`` as the widget protocol's ``custom`` message (a Button's click)."""

    content: dict


@dataclass(frozen=True)
class Editing:
    """Only the focus changed (text typed, an edit begun, left or refused, a handle switched):
    redraw, send nothing."""

    focus: Focus


@dataclass(frozen=True)
class Nothing:
    """The key does nothing here; ``reason`` says why, in a few words (may be empty)."""

    reason: str = ""


Outcome = Update | Custom | Editing | Nothing

ALIASES = {"c-m": "enter", "c-j": "enter", " ": "space", "c-h": "backspace", "escape enter": "a-enter",
           "c-enter": "a-enter"}
MOVES = {"left": -1, "down": -1, "right": 1, "up": 1,
         "s-left": -10, "s-down": -10, "s-right": 10, "s-up": 10, "pagedown": -10, "pageup": 10}


def _printable(key: str) -> bool:
    return len(key) == 1 and key.isprintable()


def press(model: Model, key: str, focus: Focus) -> Outcome:
    """What ``key`` (prompt_toolkit's names: ``left``, ``s-left``, ``home``, ``space``, ``enter``,
    ``a-enter``, ``backspace``, ``escape``…, or one printable character) does to the focused
    control ``model``."""
    key = ALIASES.get(key, key)
    kind = KINDS.get(model.name)
    if kind is None:
        return Nothing("not a control")
    if disabled(model):
        return Nothing("disabled")
    return _PRESS[kind](model, key, focus)


def paste(model: Model, text: str, focus: Focus) -> Outcome:
    """Pasted text: typed into a text box (a one-line box takes the first line)."""
    kind = KINDS.get(model.name)
    if kind not in ("text", "textarea", "int", "float") or disabled(model):
        return Nothing("not a text box")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if kind != "textarea":
        text = text.split("\n", 1)[0]
    text = "".join(ch for ch in text if ch.isprintable() or ch == "\n")
    return Editing(replace(focus, edit=_current(model, focus) + text, error=""))


# --- numbers ---------------------------------------------------------------------------------


def _num(value: object, default: float = 0.0) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else default


def decimals(x: float) -> int:
    """Digits after the point that ``x`` is written with (0.1 → 1, 0.05 → 2, 1e-07 → 7)."""
    text = repr(float(x)).lower()
    mantissa, _, exp = text.partition("e")
    places = len(mantissa.partition(".")[2].rstrip("0")) - (int(exp) if exp else 0)
    return min(max(places, 0), 15)


def _grid(value: float, lo: float, step: float, moves: int) -> int:
    """The grid point ``moves`` steps from ``value`` (one off the grid goes first to the nearest
    point that way)."""
    at = (value - lo) / step
    if abs(at - round(at)) < 1e-9:
        return round(at) + moves
    return math.ceil(at) + moves - 1 if moves > 0 else math.floor(at) + moves + 1


def stepped(value: float, key: str, lo: float, hi: float, step: float, integer: bool) -> float | None:
    """``value`` moved by ``key`` on the grid ``lo + k * step`` within [lo, hi]: ±step, ±10 steps
    with Shift (or PageUp/PageDown), Home/End to the ends; rounded to the step's precision (no
    0.30000000000000004). None: not a key that moves."""
    if key == "home":
        new = lo
    elif key == "end":
        new = hi
    elif key in MOVES and step > 0:
        new = lo + _grid(value, lo, step, MOVES[key]) * step
    else:
        return None
    new = min(max(new, lo), hi)
    if integer:
        return int(round(new))
    return round(new, max(decimals(step), decimals(lo)))


def _step(model: Model, default: float) -> float:
    step = _num(model.state.get("step"), default)
    return step if step > 0 else default


def _integer(model: Model) -> bool:
    return model.name.startswith(("Int", "Play", "BoundedInt"))


def _moved(model: Model, focus: Focus, state: dict) -> Outcome:
    """An Update of ``state`` unless it changes nothing; held while ``continuous_update`` is False."""
    if all(model.state.get(k) == v for k, v in state.items()):
        return Nothing("already there")
    return Update(state, focus, hold=not continuous(model))


def _send_held(key: str, focus: Focus) -> Outcome | None:
    """Enter on a slider: send now what ``continuous_update=False`` held back."""
    return Update({}, focus) if key == "enter" else None


def _slider(model: Model, key: str, focus: Focus) -> Outcome:
    held = _send_held(key, focus)
    if held is not None:
        return held
    integer = _integer(model)
    lo, hi = _num(model.state.get("min")), _num(model.state.get("max"), 100.0)
    value = _num(model.state.get("value"), lo)
    new = stepped(value, key, lo, hi, _step(model, 1.0 if integer else 0.1), integer)
    if new is None:
        return Nothing(f"{key}: not used by a slider")
    return _moved(model, focus, {"value": new})


def _log(model: Model, key: str, focus: Focus) -> Outcome:
    """FloatLogSlider: ``min``, ``max`` and ``step`` are on the exponent; value = base ** exponent."""
    held = _send_held(key, focus)
    if held is not None:
        return held
    lo, hi = _num(model.state.get("min")), _num(model.state.get("max"), 4.0)
    base = _num(model.state.get("base"), 10.0)
    if base <= 0 or base == 1:
        return Nothing("not a usable base")
    value = _num(model.state.get("value"), base ** lo)
    exponent = math.log(value) / math.log(base) if value > 0 else lo
    step = _step(model, 0.1)
    new = stepped(round(exponent, 12), key, lo, hi, step, False)
    if new is None:
        return Nothing(f"{key}: not used by a slider")
    return _moved(model, focus, {"value": base ** new})


def _pair(value: object, lo: float, hi: float) -> list[float]:
    if isinstance(value, list) and len(value) == 2:
        a, b = _num(value[0], lo), _num(value[1], hi)
        return [min(a, b), max(a, b)]
    return [lo, hi]


def _handles(model: Model, key: str, focus: Focus, name: str, lo: float, hi: float, step: float,
             integer: bool) -> Outcome:
    """Two handles on [lo, hi]; the keys move the one ``focus.handle`` says, never past the other."""
    held = _send_held(key, focus)
    if held is not None:
        return held
    if key == "space":
        return Editing(replace(focus, handle=1 - focus.handle))
    pair = _pair(model.state.get(name), lo, hi)
    h = 1 if focus.handle else 0
    bounds = (lo, pair[1]) if h == 0 else (pair[0], hi)
    new = stepped(pair[h], key, bounds[0], bounds[1], step, integer)
    if new is None:
        return Nothing(f"{key}: not used by a range slider")
    pair[h] = new
    if integer:
        pair = [int(p) for p in pair]
    return _moved(model, focus, {name: pair})


def _range(model: Model, key: str, focus: Focus) -> Outcome:
    integer = _integer(model)
    lo, hi = _num(model.state.get("min")), _num(model.state.get("max"), 100.0)
    return _handles(model, key, focus, "value", lo, hi, _step(model, 1.0 if integer else 0.1), integer)


def _labels(model: Model) -> list:
    labels = model.state.get("_options_labels")
    return labels if isinstance(labels, list) else []


def _selection(model: Model, key: str, focus: Focus) -> Outcome:
    held = _send_held(key, focus)
    if held is not None:
        return held
    count = len(_labels(model))
    if not count:
        return Nothing("no options")
    index = model.state.get("index")
    new = stepped(_num(index), key, 0, count - 1, 1, True)
    if new is None:
        return Nothing(f"{key}: not used by a slider")
    return _moved(model, focus, {"index": new})


def _selection_range(model: Model, key: str, focus: Focus) -> Outcome:
    count = len(_labels(model))
    if not count:
        return Nothing("no options")
    return _handles(model, key, focus, "index", 0, count - 1, 1, True)


def _toggle(model: Model, key: str, focus: Focus) -> Outcome:
    if key not in ("space", "enter"):
        return Nothing(f"{key}: Space toggles")
    return Update({"value": not model.state.get("value")}, focus)


def _button(model: Model, key: str, focus: Focus) -> Outcome:
    if key not in ("space", "enter"):
        return Nothing(f"{key}: Enter clicks")
    return Custom({"event": "click"})  # ipywidgets' Button._handle_button_msg


CHOICE_MOVES = {"up": -1, "down": 1, "pageup": -10, "pagedown": 10}
SIDEWAYS = {"left": -1, "right": 1}  # ToggleButtons lie in a row


def _choice_move(key: str, at: int | None, count: int, sideways: bool) -> int | None:
    if key == "home":
        return 0
    if key == "end":
        return count - 1
    move = CHOICE_MOVES.get(key, SIDEWAYS.get(key) if sideways else None)
    if move is None:
        return None
    return 0 if at is None else min(max(at + move, 0), count - 1)


def _choice(model: Model, key: str, focus: Focus) -> Outcome:
    count = len(_labels(model))
    if not count:
        return Nothing("no options")
    index = model.state.get("index")
    at = index if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < count else None
    new = _choice_move(key, at, count, model.name == "ToggleButtonsModel")
    if new is None:
        return Nothing(f"{key}: Up/Down choose")
    return Nothing("already there") if new == at else Update({"index": new}, focus)


def _multiple(model: Model, key: str, focus: Focus) -> Outcome:
    """SelectMultiple: Up/Down move a cursor over the options, Space (or Enter) picks the option
    under it or takes it out of ``index``."""
    count = len(_labels(model))
    if not count:
        return Nothing("no options")
    cursor = min(max(focus.cursor, 0), count - 1)
    if key in ("space", "enter"):
        index = model.state.get("index")
        picked = {i for i in index if isinstance(i, int)} if isinstance(index, list) else set()
        picked ^= {cursor}
        return Update({"index": sorted(picked)}, replace(focus, cursor=cursor))
    new = _choice_move(key, cursor, count, False)
    if new is None:
        return Nothing(f"{key}: Up/Down move, Space picks")
    return Editing(replace(focus, cursor=new))


# --- text boxes ------------------------------------------------------------------------------


def _current(model: Model, focus: Focus) -> str:
    """The text in the box: the edit, or the value as the box shows it."""
    if focus.edit is not None:
        return focus.edit
    value = model.state.get("value")
    if isinstance(value, str):
        return value
    return "" if value is None or isinstance(value, bool) else number_text(value)


def number_text(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def _parse(model: Model, text: str) -> int | float | str:
    """The number typed into a number box, clamped if it is bounded; a str says why it is not one."""
    text = text.strip()
    integer = KINDS.get(model.name) == "int"
    try:
        if "_" in text:  # Python reads 1_000; a browser's number box does not
            raise ValueError(text)
        number: int | float = int(text) if integer else float(text)
    except ValueError:
        return "not a whole number" if integer else "not a number"
    if not math.isfinite(number):
        return "not a finite number"
    if model.name.startswith("Bounded"):
        lo, hi = model.state.get("min"), model.state.get("max")
        number = min(max(number, _num(lo, number)), _num(hi, number))
        number = int(number) if integer else float(number)
    return number


def _submit(model: Model, focus: Focus) -> Outcome:
    text = _current(model, focus)
    left = replace(focus, edit=None, error="")
    if KINDS[model.name] in ("int", "float"):
        number = _parse(model, text)
        if isinstance(number, str):
            return Editing(replace(focus, edit=text, error=number))
        state: dict = {} if model.state.get("value") == number else {"value": number}
    else:
        state = {} if model.state.get("value") == text else {"value": text}
    custom = {"event": "submit"} if model.name in SUBMITS else None
    if not state and custom is None:
        return Editing(left)
    return Update(state, left, custom=custom)


def _number_step(model: Model, key: str, focus: Focus) -> Outcome:
    """Up/Down on a number box not in edit: ±step (1 when it has none), clamped if bounded."""
    integer = KINDS[model.name] == "int"
    value = _num(model.state.get("value"))
    step = _step(model, 1.0)
    bounded = model.name.startswith("Bounded")
    lo = _num(model.state.get("min"), -math.inf) if bounded else -math.inf
    hi = _num(model.state.get("max"), math.inf) if bounded else math.inf
    new = value + MOVES[key] * step
    new = min(max(new, lo), hi)
    new = int(round(new)) if integer else round(new, max(decimals(step), decimals(value)))
    return _moved(model, focus, {"value": new})


def _text(model: Model, key: str, focus: Focus) -> Outcome:
    """Text boxes: printable keys and Backspace edit (an edit begins from the value, or at Enter);
    Enter submits; Esc leaves the edit; Ctrl-U empties it. A Textarea takes Enter as a new line
    and submits on Alt-Enter."""
    kind = KINDS[model.name]
    editing = focus.edit is not None
    text = _current(model, focus)
    if _printable(key) or key == "space":
        return Editing(replace(focus, edit=text + (" " if key == "space" else key), error=""))
    if key == "backspace":
        return Editing(replace(focus, edit=text[:-1], error=""))
    if key == "c-u":
        return Editing(replace(focus, edit="", error=""))
    if key == "escape":
        return Editing(replace(focus, edit=None, error="")) if editing else Nothing("not in edit")
    if key == "enter" and not editing:
        return Editing(replace(focus, edit=text, error=""))
    if key == "enter" and kind == "textarea":
        return Editing(replace(focus, edit=text + "\n", error=""))
    if key in ("enter", "a-enter"):
        return _submit(model, focus)
    if not editing and kind in ("int", "float") and key in ("up", "down"):
        return _number_step(model, key, focus)
    return Nothing(f"{key}: not used by a text box")


_PRESS: dict[str, Callable[[Model, str, Focus], Outcome]] = {
    "slider": _slider, "log": _log, "range": _range, "selection": _selection,
    "selection_range": _selection_range, "toggle": _toggle, "button": _button, "choice": _choice,
    "multiple": _multiple, "text": _text, "textarea": _text, "int": _text, "float": _text,
}


# --- sending ---------------------------------------------------------------------------------


def update_data(state: dict) -> dict:
    """The ``data`` of a ``comm_msg`` that sets ``state`` (widget protocol 2: method ``update``)."""
    return {"method": "update", "state": state, "buffer_paths": []}


def custom_data(content: dict) -> dict:
    """The ``data`` of a ``comm_msg`` carrying a custom message (a Button's click)."""
    return {"method": "custom", "content": content}


Send = Callable[[str, dict], str]  # (comm_id, the comm_msg's data) -> the msg_id it went out with


@dataclass
class _Line:
    """What :class:`Sync` knows of one model."""

    flight: set[str] = field(default_factory=set)  # msg_ids of our updates not yet done
    buffer: dict | None = None  # changes made while one was in flight: sent as one when it is done
    after: list[dict] = field(default_factory=list)  # custom messages waiting behind the buffer
    held: dict = field(default_factory=dict)  # changes kept back (continuous_update=False)
    expected: dict[str, str] = field(default_factory=dict)  # attribute -> msg_id of its echo to come


class Sync:
    """The state we send and the echoes we get, for the models of one kernel (keyed by comm id),
    by ipywidgets 8's rules as JupyterLab keeps them:

    - one update of ours in flight per model (sent, not yet :meth:`done`); changes made meanwhile
      are merged and sent as one update when it is done, so a held key never floods the kernel;
    - every attribute sent remembers the msg_id that carried it; an ``echo_update`` of it with
      another parent is an older echo and is dropped (:meth:`filter`); the one expected clears
      the expectation, and is dropped too if a newer value of it waits to be sent; a plain
      ``update`` (the kernel's own change, another client's) is always applied.

    ``send(comm_id, data)`` sends a ``comm_msg`` and returns its msg_id (built at once, sent
    later: nothing here waits)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lines: dict[str, _Line] = {}

    def _line(self, comm_id: str) -> _Line:
        return self._lines.setdefault(comm_id, _Line())

    def busy(self, comm_id: str) -> bool:
        """An update of ours to ``comm_id`` is in flight."""
        line = self._lines.get(comm_id)
        return bool(line and line.flight)

    def waiting(self, comm_id: str) -> dict:
        """What is not sent yet: held back and buffered behind the update in flight."""
        line = self._lines.get(comm_id)
        return {**(line.buffer or {}), **line.held} if line else {}

    def change(self, comm_id: str, state: dict, hold: bool = False) -> bool:
        """Our change to the model ``comm_id`` (already set on it): held back (``hold``), sent,
        or merged into the buffer while an update is in flight. True if an update went out now."""
        line = self._line(comm_id)
        if hold:
            line.held.update(state)
            return False
        state = {**line.held, **state}
        line.held = {}
        if not state:
            return False
        if line.flight:
            line.buffer = {**(line.buffer or {}), **state}
            return False
        self._update(comm_id, line, state)
        return True

    def release(self, comm_id: str) -> bool:
        """The keys paused: send what was held back (``continuous_update=False``)."""
        return self.change(comm_id, {})

    def custom(self, comm_id: str, content: dict) -> bool:
        """A custom message (a click, a submit): sent now, or after the buffered update if one
        waits (so a Text's submit never overtakes its value). True if it went out now."""
        line = self._line(comm_id)
        if line.held:
            self.change(comm_id, {})
        if line.buffer is not None:
            line.after.append(content)
            return False
        self._send(comm_id, custom_data(content))
        return True

    def _update(self, comm_id: str, line: _Line, state: dict) -> None:
        msg_id = self._send(comm_id, update_data(state))
        if msg_id:
            line.flight.add(msg_id)
            for name in state:
                line.expected[name] = msg_id

    def done(self, msg_id: str) -> None:
        """The request ``msg_id`` is done (the kernel went idle for it): if it was our update in
        flight, the buffer goes out as one update, and the custom messages behind it."""
        for comm_id, line in list(self._lines.items()):
            if msg_id not in line.flight:
                continue
            line.flight.discard(msg_id)
            if line.flight or line.buffer is None:
                return
            state, after = line.buffer, line.after
            line.buffer, line.after = None, []
            self._update(comm_id, line, state)
            for content in after:
                self._send(comm_id, custom_data(content))
            return

    def filter(self, content: dict, parent_msg_id: str, buffers: list | None = None) -> tuple[dict, list]:
        """A ``comm_msg`` from the kernel, as it should be applied: an ``echo_update`` without the
        attributes it must not set (their buffers taken out with them); anything else unchanged."""
        buffers = list(buffers or [])
        data = content.get("data") if isinstance(content, dict) else None
        line = self._lines.get(str(content.get("comm_id", ""))) if isinstance(content, dict) else None
        if not isinstance(data, dict) or data.get("method") != "echo_update" or line is None:
            return content, buffers
        state = data.get("state")
        if not isinstance(state, dict):
            return content, buffers
        drop = set()
        for name in state:
            expected = line.expected.get(name)
            if expected is None:
                continue
            if expected != parent_msg_id:
                drop.add(name)  # an older echo (ours or another client's): the value would jump back
                continue
            del line.expected[name]  # ours: from now on echoes are applied again
            if name in (line.buffer or {}) or name in line.held:
                drop.add(name)  # a newer value of it waits to be sent
        if not drop:
            return content, buffers
        paths = data.get("buffer_paths")
        kept_paths, kept_buffers = [], []
        for i, path in enumerate(paths if isinstance(paths, list) else []):
            if isinstance(path, list) and path and path[0] in drop:
                continue
            kept_paths.append(path)
            if i < len(buffers):
                kept_buffers.append(buffers[i])
        data = {**data, "state": {k: v for k, v in state.items() if k not in drop}, "buffer_paths": kept_paths}
        return {**content, "data": data}, kept_buffers

    def forget(self, comm_id: str) -> None:
        """The comm closed."""
        self._lines.pop(comm_id, None)

    def reset(self) -> None:
        """The kernel restarted or died: nothing of ours is in flight any more."""
        self._lines.clear()
