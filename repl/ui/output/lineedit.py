"""How stream text edits itself: \\r returns to the start of the line, \\b steps back one column.

``resolve_line_edits`` applies those edits to complete text (for places that cannot redraw: output
tagged above the prompt, saved notebooks), so a tqdm-style progress bar ends as one line.
"""

from __future__ import annotations


def resolve_line(line: str) -> str:
    buf: list[str] = []
    col = 0
    for ch in line:
        if ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            if col < len(buf):
                buf[col] = ch
            else:
                buf.append(ch)
            col += 1
    return "".join(buf)


def resolve_line_edits(text: str) -> str:
    if "\r" not in text and "\b" not in text:
        return text
    # a trailing \r\n is a plain line end
    return "\n".join(resolve_line(line) for line in text.replace("\r\n", "\n").split("\n"))
