"""This session's cells of a kernel as an nbformat 4 notebook (pure data; the caller writes it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from repl.protocol import session as s


MAX_CHARS = 4 * 1024 * 1024  # a flood must not grow memory without bound


@dataclass
class CellRecord:
    code: str
    execution_count: int | None = None
    outputs: list = field(default_factory=list)

    kept_chars: int = 0

    def add(self, ev: s.Event) -> None:
        """Record an output event of this cell in nbformat's shape (at most MAX_CHARS of text)."""
        if self.kept_chars >= MAX_CHARS:
            if self.kept_chars == MAX_CHARS:
                self.kept_chars += 1
                self.outputs.append({"output_type": "stream", "name": "stderr",
                                     "text": "\n[repl: output beyond this point was not kept]\n"})
            return
        if isinstance(ev, s.Stream):
            self.kept_chars = min(MAX_CHARS, self.kept_chars + len(ev.text))
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == ev.name:
                last["text"] += ev.text
            else:
                self.outputs.append({"output_type": "stream", "name": ev.name, "text": ev.text})
        elif isinstance(ev, s.ExecuteResult):
            self.outputs.append({"output_type": "execute_result", "execution_count": ev.execution_count,
                                 "data": dict(ev.data), "metadata": dict(ev.metadata)})
        elif isinstance(ev, s.DisplayData):
            out = {"output_type": "display_data", "data": dict(ev.data), "metadata": dict(ev.metadata)}
            if ev.update and ev.display_id:
                for old in self.outputs:
                    if old.get("_display_id") == ev.display_id:
                        old["data"], old["metadata"] = out["data"], out["metadata"]
                return
            if ev.display_id:
                out["_display_id"] = ev.display_id
            self.outputs.append(out)
        elif isinstance(ev, s.ErrorOutput):
            self.outputs.append({"output_type": "error", "ename": ev.ename, "evalue": ev.evalue,
                                 "traceback": list(ev.traceback)})
        elif isinstance(ev, s.ClearOutput):
            self.outputs.clear()


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def build(cells: list[CellRecord], kernel_info: dict | None, spec_name: str, spec_display: str = "") -> dict:
    info = kernel_info or {}
    language_info = info.get("language_info") if isinstance(info.get("language_info"), dict) else {}
    nb_cells = []
    for cell in cells:
        outputs = []
        for out in cell.outputs:
            out = {k: v for k, v in out.items() if not k.startswith("_")}
            if out["output_type"] == "stream":
                out["text"] = _lines(out["text"])
            outputs.append(out)
        nb_cells.append({
            "cell_type": "code",
            "id": uuid.uuid4().hex[:12],
            "execution_count": cell.execution_count,
            "metadata": {},
            "source": _lines(cell.code),
            "outputs": outputs,
        })
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": spec_name,
                "display_name": spec_display or spec_name,
                "language": str(language_info.get("name", "")),
            },
            "language_info": language_info,
        },
        "cells": nb_cells,
    }
