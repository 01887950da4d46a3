"""Jupyter widgets drawn as terminal text, from their model state. Pure: state in, text out.

Progress bars (with description, value and bar style colour), text widgets, boxes (HBox on one
line, VBox on several), Output (the outputs captured into it), and read-only forms of checkboxes,
sliders, dropdowns, buttons and Valid. A model of another kind falls back to the text/plain the
kernel displayed with it. ``tqdm.notebook`` bars are an HBox of HTML, progress and HTML.
"""

from __future__ import annotations

import html
import re
from typing import Callable

from repl.protocol.comms import REF, Comms, Model, displayed
from repl.ui.output import sanitize

BAR_COLORS = {"success": "\x1b[32m", "info": "\x1b[36m", "warning": "\x1b[33m", "danger": "\x1b[31m"}
RESET = "\x1b[0m"
EIGHTHS = " ▏▎▍▌▋▊▉█"
_TAG = re.compile(r"<[^>]*>")


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


MAX_LINES = 200  # a widget drawn taller is cut, with a line saying how much was left out
MAX_MODELS = 5000  # models drawn for one widget at most (its tree may be far bigger)


class Drawer:
    def __init__(self, comms: Comms, width: int, color: bool,
                 max_lines: int = MAX_LINES, max_models: int = MAX_MODELS) -> None:
        self.comms = comms
        self.width = width
        self.color = color
        self.max_lines = max_lines
        self.max_models = max_models
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
        return self._simple(model) if name in SIMPLE else fallback

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
        rest = sum(len(t) + 1 for t in texts.values())
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
        if kind == "text":
            text = inline_html(value) if model.name.startswith("HTML") and isinstance(value, str) else _show(value or "")
            return label + sanitize.label(text)
        if kind == "check":
            return f"[{'x' if value else ' '}] {desc}".rstrip()
        if kind == "valid":
            return label + ("✓" if value else "✗")
        if kind == "slider":
            lo, hi = _number(model.state.get("min")), _number(model.state.get("max"), 100.0)
            at = round(((_number(value) - lo) / (hi - lo) if hi > lo else 0) * 19)
            return f"{label}{'─' * at}●{'─' * (19 - at)} {_show(value)}"
        if kind == "choice":
            labels = model.state.get("_options_labels") or []
            index = model.state.get("index")
            chosen = sanitize.label(str(labels[index])) if isinstance(index, int) and 0 <= index < len(labels) else ""
            return f"{label}[{chosen} ▾]"
        return f"[ {desc or 'button'} ]"


SIMPLE = {
    "HTMLModel": "text", "HTMLMathModel": "text", "LabelModel": "text", "TextModel": "text",
    "TextareaModel": "text", "IntTextModel": "text", "FloatTextModel": "text",
    "CheckboxModel": "check", "ToggleButtonModel": "check", "ValidModel": "valid",
    "IntSliderModel": "slider", "FloatSliderModel": "slider",
    "DropdownModel": "choice", "RadioButtonsModel": "choice", "SelectModel": "choice", "ButtonModel": "button",
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

