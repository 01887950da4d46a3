"""A cell's kept outputs (nbformat's shape, :attr:`repl.cell.Cell.outputs`) as one text, for
``/pager`` and ``/copy``: streams, results (``Out[N]:``), displays as text, tracebacks. Pure.

The text is the kernel's: made safe by the sanitizer, keeping its colours when ``color``.
"""

from __future__ import annotations

from repl.ui.output import mime
from repl.ui.output.render import strip_ansi
from repl.ui.output.sanitize import clean


def as_text(outputs: list[dict], width: int = 80, color: bool = True) -> str:
    parts: list[str] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(str(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            text = mime.to_text(out.get("data") or {}, width, color)
            if kind == "execute_result":
                count = out.get("execution_count")
                head = f"Out[{count if count is not None else ' '}]: "
                text = head + ("\n" if "\n" in text.rstrip("\n") else "") + text
            parts.append(text if text.endswith("\n") else text + "\n")
        elif kind == "error":
            trace = "\n".join(str(line) for line in out.get("traceback") or []) or \
                f"{out.get('ename', '')}: {out.get('evalue', '')}"
            parts.append(trace + "\n")
        if parts and not parts[-1].endswith("\n") and kind != "stream":
            parts[-1] += "\n"
    text = clean("".join(parts))
    return text if color else strip_ansi(text)
