"""Images drawn with Unicode half blocks, for terminals without a graphics protocol (ssh, tmux).

Each character cell shows two pixels, one above the other: ``▀`` in the upper pixel's colour on
the lower pixel's colour. The image is scaled to the width given (keeping its aspect ratio, as a
cell is about twice as tall as wide) and capped at a number of rows. 24-bit colour where the
terminal says it has it (``COLORTERM``), else the nearest of the 256-colour palette. Transparent
pixels show the terminal's own background.
"""

from __future__ import annotations

import io

UPPER = "▀"
LOWER = "▄"
RESET = "\x1b[0m"
_CUBE = (0, 95, 135, 175, 215, 255)

Pixel = tuple[int, int, int] | None  # None: transparent


def _cube_index(v: int) -> int:
    return 0 if v < 48 else 1 if v < 115 else (v - 35) // 40


def palette256(r: int, g: int, b: int) -> int:
    """The nearest xterm-256 colour: the 6×6×6 cube or the grey ramp, whichever is closer."""
    ri, gi, bi = _cube_index(r), _cube_index(g), _cube_index(b)
    cube = (_CUBE[ri], _CUBE[gi], _CUBE[bi])
    grey_level = min(23, max(0, round(((r + g + b) / 3 - 8) / 10)))
    grey = 8 + 10 * grey_level
    d_cube = sum((a - c) ** 2 for a, c in zip((r, g, b), cube, strict=True))
    d_grey = sum((a - grey) ** 2 for a in (r, g, b))
    return 232 + grey_level if d_grey < d_cube else 16 + 36 * ri + 6 * gi + bi


def _sgr(fg: Pixel, bg: Pixel, true: bool) -> str:
    parts = []
    for color, base in ((fg, 38), (bg, 48)):
        if color is None:
            parts.append(str(base + 1))  # 39 / 49: the terminal's default
        elif true:
            parts.append(f"{base};2;{color[0]};{color[1]};{color[2]}")
        else:
            parts.append(f"{base};5;{palette256(*color)}")
    return "\x1b[" + ";".join(parts) + "m"


def cell_size(width: int, height: int, cols: int, max_rows: int) -> tuple[int, int]:
    """(pixels across, pixel rows) to scale to: at most ``cols`` wide, ``2 * max_rows`` tall."""
    w = max(1, min(cols, width))
    h = max(1, round(height * w / width))
    if h > 2 * max_rows:
        h = 2 * max_rows
        w = max(1, round(width * h / height))
    return w, h + (h % 2)


def render_pixels(rows: list[list[Pixel]], true: bool) -> str:
    """Text for a grid of pixels (an even number of rows)."""
    lines = []
    for y in range(0, len(rows), 2):
        top, bottom = rows[y], rows[y + 1] if y + 1 < len(rows) else [None] * len(rows[y])
        out, last = [], None
        for up, down in zip(top, bottom, strict=True):
            if up is None and down is None:
                glyph, fg, bg = " ", None, None
            elif up is None:
                glyph, fg, bg = LOWER, down, None
            else:
                glyph, fg, bg = UPPER, up, down
            code = _sgr(fg, bg, true)
            if code != last:
                out.append(code)
                last = code
            out.append(glyph)
        lines.append("".join(out) + RESET)
    return "\n".join(lines) + "\n"


def draw(data: bytes, cols: int, max_rows: int, true: bool) -> str:
    """A PNG or JPEG as half blocks (raises if Pillow cannot read it)."""
    from PIL import Image

    opened = Image.open(io.BytesIO(data))
    w, h = cell_size(opened.width, opened.height, cols, max_rows)
    opened.draft("RGB", (w * 2, h * 2))  # a JPEG is decoded near the size drawn (PNG cannot be)
    source = opened.convert("RGBA")
    img = source.resize((w, h), Image.Resampling.BOX if w < source.width else Image.Resampling.NEAREST)
    raw = img.tobytes()  # RGBA, 4 bytes a pixel, row by row (getdata is deprecated in Pillow 12)
    rows: list[list[Pixel]] = []
    for y in range(h):
        row: list[Pixel] = []
        for i in range(y * w * 4, (y + 1) * w * 4, 4):
            row.append(None if raw[i + 3] < 128 else (raw[i], raw[i + 1], raw[i + 2]))
        rows.append(row)
    return render_pixels(rows, true)
