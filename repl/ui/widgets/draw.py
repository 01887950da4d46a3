"""Jupyter widgets drawn as terminal text, from their model state. Pure: state in, text out.

Progress bars (with description, value and bar style colour), text widgets, boxes (HBox on one
line, VBox on several), Output (the outputs captured into it), and read-only forms of checkboxes,
sliders, dropdowns, buttons and Valid. A model of another kind falls back to the text/plain the
kernel displayed with it. ``tqdm.notebook`` bars are an HBox of HTML, progress and HTML.
"""

from __future__ import annotations

import html
import math
import re
from typing import Callable

from repl.protocol.comms import REF, Comms, Model, displayed
from repl.protocol.controls import Focus, is_control
from repl.ui.output import sanitize

BAR_COLORS = {"success": "\x1b[32m", "info": "\x1b[36m", "warning": "\x1b[33m", "danger": "\x1b[31m"}
RESET = "\x1b[0m"
REVERSE, NO_REVERSE = "\x1b[7m", "\x1b[27m"  # the focused control, with colour
DIM, NO_DIM = "\x1b[2m", "\x1b[22m"  # a disabled control, with colour
MARKER = "▶ "  # the focused control, without colour
CURSOR = "▏"  # the end of the text being typed
EIGHTHS = " ▏▎▍▌▋▊▉█"
TRACK = 20  # cells of a slider's track
MAX_OPTIONS = 20  # RadioButtons drawn one a line: at most this many
_TAG = re.compile(r"<[^>]*>")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_FORMAT = re.compile(r"(,?)(?:\.(\d{1,2}))?([defg%])")


def inline_html(text: str) -> str:
    """HTML of a label or tqdm's text, as one line of plain text."""
    return html.unescape(_TAG.sub("", text.replace("<br>", " "))).replace("\xa0", " ").strip()


def bar(fraction: float, width: int) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


def _number(value: object, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def cells(text: str) -> int:
    """Cells ``text`` takes: escape sequences take none."""
    return len(_CSI.sub("", text)) if "\x1b" in text else len(text)


def readout(model: Model, value: object) -> str:
    """A slider's value as its ``readout_format`` says (d3-format; the simple specifiers:
    ``d``, ``.2f``, ``.3g``, ``,``, ``e``, ``%``), else ``:g``; nothing if ``readout`` is off."""
    if model.state.get("readout") is False:
        return ""
    spec = model.state.get("readout_format")
    match = _FORMAT.fullmatch(spec) if isinstance(spec, str) else None
    if match is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return _show(value)
    comma, digits, kind = match.groups()
    precision = f".{digits}" if digits is not None else ""
    if kind == "d":
        return format(int(round(value)), f"{comma}d")
    if kind == "g":  # d3 keeps the trailing zeros (".3g" of 10 is 10.0), Python's "#" does too
        return format(float(value), f"#{comma}{precision}g").rstrip(".").replace(".e", "e")
    return format(float(value), f"{comma}{precision}{kind}")


def track(fractions: list[float], marks: list[str]) -> str:
    """A slider's track with a handle (``marks``) at each fraction of it; between two handles
    the chosen range is drawn heavy."""
    line = ["─"] * TRACK
    at = [round(min(max(f, 0.0), 1.0) * (TRACK - 1)) for f in fractions]
    if len(at) == 2:
        for i in range(min(at), max(at)):
            line[i] = "━"
    for pos, mark in zip(at, marks, strict=False):
        line[pos] = mark
    return "".join(line)


def _fraction(value: float, lo: float, hi: float) -> float:
    return (value - lo) / (hi - lo) if hi > lo else 0.0


def _wrap(text: str, start: str, end: str) -> str:
    """Each line of ``text`` between ``start`` and ``end``, ``start`` again after any colour of the
    kernel's inside (its reset would end it)."""
    def one(line: str) -> str:
        return start + _SGR.sub(lambda m: m.group() + start, line) + end if line else line
    return "\n".join(one(line) for line in text.split("\n"))


MAX_LINES = 200  # a widget drawn taller is cut, with a line saying how much was left out
MAX_MODELS = 5000  # models drawn for one widget at most (its tree may be far bigger)


class Drawer:
    """``focus``: the control the keyboard is on (drawn marked: reverse video with colour, a
    ``▶`` before it without), with the text being typed into it if it is in edit."""

    def __init__(self, comms: Comms, width: int, color: bool,
                 max_lines: int = MAX_LINES, max_models: int = MAX_MODELS, focus: Focus | None = None) -> None:
        self.comms = comms
        self.width = width
        self.color = color
        self.max_lines = max_lines
        self.max_models = max_models
        self.focus = focus
        self._lines = self._models = 0  # drawn so far, by the draw under way

    def draw(self, model_id: str, fallback: str = "") -> str:
        """The widget as lines of text (no trailing newline), at most ``max_lines`` of them and
        from at most ``max_models`` models: a box too big is drawn in part, and says so."""
        self._lines = self._models = 0
        text = self._draw(model_id, fallback, set(), self.width)
        if text.count("\n") < self.max_lines:
            return text
        rows = text.split("\n")
        return "\n".join(rows[:self.max_lines - 1] + [f"… {len(rows) - self.max_lines + 1:,} more lines not drawn"])

    def _full(self) -> bool:
        return self._lines >= self.max_lines - 1 or self._models >= self.max_models

    def _draw(self, model_id: str, fallback: str, seen: set[str], width: int) -> str:
        model = self.comms.models.get(model_id)
        if model is None or model_id in seen:
            return fallback
        self._models += 1
        seen = seen | {model_id}
        name = model.name
        if name in ("HBoxModel", "BoxModel", "GridBoxModel"):
            return self._hbox(model, seen, width)
        if name in ("VBoxModel", "AccordionModel", "TabModel"):
            return self._vbox(model, seen, width)
        if name in ("FloatProgressModel", "IntProgressModel"):
            return self._progress(model, max(10, min(40, width - len(self._desc(model)) - 12)))
        if name == "OutputModel":
            return output_text(model.state.get("outputs"), lambda kid: self._draw(kid, "", seen, width))
        if name not in SIMPLE:
            return fallback
        return self._marked(model, self._simple(model)) if is_control(model) else self._simple(model)

    def _focused(self, model: Model) -> Focus | None:
        return self.focus if self.focus is not None and self.focus.model_id == model.comm_id else None

    def _marked(self, model: Model, text: str) -> str:
        """A control as the keyboard sees it: focused (reverse video, or ``▶``), or disabled (dim)."""
        if self._focused(model) is not None:
            if self.color:
                return _wrap(text, REVERSE, NO_REVERSE)
            return "\n".join((MARKER if i == 0 else " " * len(MARKER)) + line for i, line in enumerate(text.split("\n")))
        if self.color and model.state.get("disabled") is True:
            return _wrap(text, DIM, NO_DIM)
        return text

    @staticmethod
    def _kids(model: Model) -> list[str]:
        kids = model.state.get("children")
        return [k[len(REF):] for k in kids if isinstance(k, str) and k.startswith(REF)] if isinstance(kids, list) else []

    @staticmethod
    def _desc(model: Model) -> str:
        desc = model.state.get("description")
        return sanitize.label(inline_html(desc)) if isinstance(desc, str) else ""  # the kernel's words

    def _vbox(self, model: Model, seen: set[str], width: int) -> str:
        kids = self._kids(model)
        lines: list[str] = []
        for i, kid in enumerate(kids):
            if self._full():
                lines.append(f"… {len(kids) - i:,} more of the {len(kids):,} widgets in this box are not drawn")
                self._lines += 1
                break
            before = self._lines
            text = self._draw(kid, "", seen, width)
            if text:
                lines.append(text)
                self._lines = before + text.count("\n") + 1  # (a box inside counted its own already)
        return "\n".join(lines)

    def _hbox(self, model: Model, seen: set[str], width: int) -> str:
        kids = self._kids(model)
        texts = {k: self._draw(k, "", seen, width) for k in kids if not self._is_progress(k)}
        rest = sum(cells(t) + 1 for t in texts.values())
        parts = []
        for k in kids:
            if self._is_progress(k):
                progress = self.comms.models[k]
                parts.append(self._progress(progress, max(10, min(40, width - rest - len(self._desc(progress)) - 4))))
            elif texts[k]:
                parts.append(texts[k].replace("\n", " "))
        return " ".join(parts)

    def _is_progress(self, model_id: str) -> bool:
        model = self.comms.models.get(model_id)
        return model is not None and model.name in ("FloatProgressModel", "IntProgressModel")

    def _progress(self, model: Model, width: int) -> str:
        lo, hi = _number(model.state.get("min")), _number(model.state.get("max"), 100.0)
        value = _number(model.state.get("value"))
        fraction = (value - lo) / (hi - lo) if hi > lo else 0.0
        drawn = f"|{bar(fraction, width)}|"
        style = model.state.get("bar_style")
        if self.color and isinstance(style, str) and style in BAR_COLORS:
            drawn = BAR_COLORS[style] + drawn + RESET
        desc = self._desc(model)
        return f"{desc} {drawn}" if desc else drawn

    def _simple(self, model: Model) -> str:
        desc = self._desc(model)
        value = model.state.get("value")
        label = f"{desc} " if desc else ""
        kind = SIMPLE[model.name]
        if kind in _DRAW:
            return _DRAW[kind](self, model, label)
        if kind == "check":
            return f"[{'x' if value else ' '}] {desc}".rstrip()
        if kind == "valid":
            return label + ("✓" if value else "✗")
        if kind == "choice":
            labels = _labels(model)
            index = model.state.get("index")
            chosen = sanitize.label(str(labels[index])) if isinstance(index, int) and 0 <= index < len(labels) else ""
            return f"{label}[{chosen} ▾]"
        if kind == "play":
            return f"{label}[play] {_show(value)}"
        return f"[ {desc or 'button'} ]"

    def _edit(self, model: Model, hide: bool = False) -> str | None:
        """The text being typed into ``model``, with the cursor at its end and why Enter refused
        it; None if it is not in edit."""
        focus = self._focused(model)
        if focus is None or focus.edit is None:
            return None
        text = "•" * len(focus.edit) if hide else sanitize.label(focus.edit)
        return text + CURSOR + (f" ({focus.error})" if focus.error else "")

    def _text(self, model: Model, label: str) -> str:
        edit = self._edit(model)
        if edit is not None:
            return label + edit
        value = model.state.get("value")
        if model.name.startswith("HTML") and isinstance(value, str):
            return label + sanitize.label(inline_html(value))
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return label + sanitize.label(_show(value) if number else _show(value or ""))

    def _password(self, model: Model, label: str) -> str:
        edit = self._edit(model, hide=True)
        value = model.state.get("value")
        return label + (edit if edit is not None else "•" * len(value if isinstance(value, str) else ""))

    def _textarea(self, model: Model, label: str) -> str:
        edit = self._edit(model)
        value = model.state.get("value")
        text = edit if edit is not None else sanitize.label(value if isinstance(value, str) else "")
        return _hang(label, text.split("\n"))

    def _slider(self, model: Model, label: str) -> str:
        lo, hi = _number(model.state.get("min")), _number(model.state.get("max"), 100.0)
        value = model.state.get("value")
        shown = readout(model, value)
        return f"{label}{track([_fraction(_number(value), lo, hi)], ['●'])}" + (f" {shown}" if shown else "")

    def _log(self, model: Model, label: str) -> str:
        lo, hi = _number(model.state.get("min")), _number(model.state.get("max"), 4.0)
        base, value = _number(model.state.get("base"), 10.0), model.state.get("value")
        at = math.log(_number(value)) / math.log(base) if _number(value) > 0 and base > 0 and base != 1 else lo
        shown = readout(model, value)
        return f"{label}{track([_fraction(at, lo, hi)], ['●'])}" + (f" {shown}" if shown else "")

    def _handles(self, model: Model) -> list[str]:
        focus = self._focused(model)
        marks = ["●", "●"]
        if focus is not None:
            marks[1 if focus.handle else 0] = "◉"  # the handle the keys move
        return marks

    def _range(self, model: Model, label: str) -> str:
        lo, hi = _number(model.state.get("min")), _number(model.state.get("max"), 100.0)
        pair = model.state.get("value")
        a, b = (pair if isinstance(pair, list) and len(pair) == 2 else [lo, hi])
        line = label + track([_fraction(_number(a), lo, hi), _fraction(_number(b, hi), lo, hi)], self._handles(model))
        shown = readout(model, a), readout(model, b)
        return line + (f" {shown[0]}–{shown[1]}" if shown[0] else "")

    def _selection(self, model: Model, label: str) -> str:
        labels = _labels(model)
        index = model.state.get("index")
        at = index if isinstance(index, int) and 0 <= index < len(labels) else 0
        chosen = sanitize.label(str(labels[at])) if labels else ""
        line = label + track([_fraction(at, 0, len(labels) - 1)], ["●"])
        return line + (f" {chosen}" if chosen and model.state.get("readout") is not False else "")

    def _selection_range(self, model: Model, label: str) -> str:
        labels = _labels(model)
        index = model.state.get("index")
        a, b = index if isinstance(index, list) and len(index) == 2 else [0, len(labels) - 1]
        top = len(labels) - 1
        line = label + track([_fraction(_number(a), 0, top), _fraction(_number(b), 0, top)], self._handles(model))
        if not labels or model.state.get("readout") is False:
            return line
        names = [sanitize.label(str(labels[i])) if isinstance(i, int) and 0 <= i <= top else "" for i in (a, b)]
        return f"{line} {names[0]}–{names[1]}"

    def _toggles(self, model: Model, label: str) -> str:
        index = model.state.get("index")
        names = [sanitize.label(str(x)) for x in _labels(model)]
        return (label + " ".join(f"[{n}]" if i == index else f" {n} " for i, n in enumerate(names))).rstrip()

    def _radio(self, model: Model, label: str) -> str:
        index = model.state.get("index")
        labels = _labels(model)
        rows = [f"({'•' if i == index else ' '}) {sanitize.label(str(x))}" for i, x in enumerate(labels[:MAX_OPTIONS])]
        if len(labels) > MAX_OPTIONS:
            rows.append(f"… {len(labels) - MAX_OPTIONS:,} more")
        if model.state.get("orientation") == "horizontal":
            return label + "  ".join(rows)
        return _hang(label, rows)

    def _multiple(self, model: Model, label: str) -> str:
        """SelectMultiple: its ``rows`` options (5 if unset) around the cursor, one a line."""
        labels = _labels(model)
        index = model.state.get("index")
        picked = set(index) if isinstance(index, list) else set()
        focus = self._focused(model)
        cursor = min(max(focus.cursor, 0), len(labels) - 1) if focus is not None else -1
        rows = model.state.get("rows")
        shown = rows if isinstance(rows, int) and rows > 0 else 5
        first = min(max(cursor - shown // 2, 0), max(len(labels) - shown, 0))
        lines = [("" if focus is None else "›" if i == cursor else " ")
                 + f"[{'x' if i in picked else ' '}] {sanitize.label(str(labels[i]))}"
                 for i in range(first, min(first + shown, len(labels)))]
        if len(labels) > shown:
            lines.append(f"  ({len(labels):,} options)")
        return _hang(label, lines)


def _labels(model: Model) -> list:
    labels = model.state.get("_options_labels")
    return labels if isinstance(labels, list) else []


def _hang(label: str, lines: list[str]) -> str:
    """``lines`` under one another, the first after ``label``, the rest lined up with it."""
    pad = " " * cells(label)
    return "\n".join((label if i == 0 else pad) + line for i, line in enumerate(lines or [""]))


_DRAW: dict[str, Callable[[Drawer, Model, str], str]] = {
    "text": Drawer._text, "password": Drawer._password, "textarea": Drawer._textarea,
    "slider": Drawer._slider, "log": Drawer._log, "range": Drawer._range,
    "selection": Drawer._selection, "selection_range": Drawer._selection_range,
    "toggles": Drawer._toggles, "radio": Drawer._radio, "multiple": Drawer._multiple,
}


SIMPLE = {
    "HTMLModel": "text", "HTMLMathModel": "text", "LabelModel": "text", "TextModel": "text", "ComboboxModel": "text",
    "TextareaModel": "textarea", "PasswordModel": "password", "IntTextModel": "text", "FloatTextModel": "text",
    "BoundedIntTextModel": "text", "BoundedFloatTextModel": "text",
    "CheckboxModel": "check", "ToggleButtonModel": "check", "ValidModel": "valid",
    "IntSliderModel": "slider", "FloatSliderModel": "slider", "FloatLogSliderModel": "log",
    "IntRangeSliderModel": "range", "FloatRangeSliderModel": "range",
    "SelectionSliderModel": "selection", "SelectionRangeSliderModel": "selection_range", "PlayModel": "play",
    "DropdownModel": "choice", "SelectModel": "choice", "RadioButtonsModel": "radio",
    "ToggleButtonsModel": "toggles", "SelectMultipleModel": "multiple", "ButtonModel": "button",
}


def output_text(outputs: object, widget: Callable[[str], str] | None = None) -> str:
    """What an Output widget captured, as text (nbformat output dicts); ``widget`` draws a widget
    displayed in it (an Output inside an Output)."""
    if not isinstance(outputs, list):
        return ""
    parts = []
    for out in outputs:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(str(out.get("text", "")))
        elif kind in ("display_data", "execute_result"):
            data = out.get("data") if isinstance(out.get("data"), dict) else {}
            kid = displayed(data) if widget is not None else None
            if kid is not None and widget is not None:
                drawn = widget(kid)
                parts.append(drawn + "\n" if drawn else "")
                continue
            plain = data.get("text/plain", "") if isinstance(data, dict) else ""
            parts.append(("".join(plain) if isinstance(plain, list) else str(plain)) + "\n")
        elif kind == "error":
            parts.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n")
    return "".join(parts).rstrip("\n")

