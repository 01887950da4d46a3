"""This session's cells of a kernel as an nbformat 4 notebook (pure data; the caller writes it).

The outputs are kept by each :class:`repl.cell.Cell` in nbformat's shape already (those the session's
budget let go are a marker output, :meth:`repl.cell.Cell.drop_outputs`; :func:`dropped` counts them)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from repl.cell import Cell


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def build(cells: Sequence[Cell], kernel_info: dict | None, spec_name: str, spec_display: str = "") -> dict:
    info = kernel_info or {}
    found = info.get("language_info")
    language_info: dict = found if isinstance(found, dict) else {}
    nb_cells: list[dict] = []
    for cell in cells:
        outputs = cell.saved_outputs()
        for out in outputs:
            if out["output_type"] == "stream":
                out["text"] = _lines(out["text"])
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


def dropped(cells: Sequence[Cell]) -> int:
    """How many of ``cells`` no longer have their outputs (the session's budget let them go)."""
    return sum(1 for c in cells if c.outputs_dropped)
