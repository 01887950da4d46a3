"""What Shift-Tab shows of the kernel's documentation: the signature and the first lines of the
docstring, as IPython's own Shift-Tab does; the rest is for ``obj?`` (which goes to the pager when
longer than the screen). Pure: text in, text out.

IPython's inspection is sections under coloured headers (``Signature:``, ``Init signature:``,
``Docstring:``, ``File:``, ``Type:``); other kernels' text is cut after its first lines.
"""

from __future__ import annotations

import re

HEADER = re.compile(r"^(?:\x1b\[[0-9;]*m)*([A-Z][A-Za-z ]{1,30}):(?:\x1b\[0m)?(?:\s|$)")
SIGNATURE_LINES = 8
DOC_LINES = 8
NAME = re.compile(r"[\w.]+$")


def name_at(code: str, cursor: int) -> str:
    """The dotted name before the cursor (what ``?`` would be asked of)."""
    m = NAME.search(code[:cursor])
    return m.group(0) if m else ""


def _cut(lines: list[str], limit: int) -> list[str]:
    return lines if len(lines) <= limit else lines[:limit - 1] + [lines[limit - 1] + " …"]


def brief(text: str, name: str, rows: int, dim: tuple[str, str] = ("\x1b[2m", "\x1b[0m")) -> str:
    """``text`` cut to the signature and the first lines of the docstring when it is longer than
    about a third of the screen (``rows``), with a line saying how to see it all."""
    lines = text.rstrip("\n").split("\n")
    limit = max(SIGNATURE_LINES, rows // 3)
    if len(lines) <= limit:
        return text
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        m = HEADER.match(line)
        if m or not sections:
            sections.append(((m.group(1) if m else "").lower(), [line]))
        else:
            sections[-1][1].append(line)
    kept: list[str] = []
    if not any("signature" in head or "docstring" in head for head, _ in sections):
        kept = lines[:limit]
    else:
        doc = False
        for head, body in sections:
            if "signature" in head:
                kept += _cut(body, SIGNATURE_LINES)
            elif "docstring" in head and not doc:
                doc = True
                kept += _cut([line for line in body if line.strip()] if len(body) > DOC_LINES else body, DOC_LINES)
    more = f"{name}? shows it all" if name else "? after the name shows it all"
    return "\n".join(kept) + f"\n{dim[0]}… {len(lines) - len(kept)} more lines: {more}{dim[1]}\n"
