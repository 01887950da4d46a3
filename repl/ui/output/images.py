"""Inline images: the kitty graphics protocol, iTerm2's inline images, sixel, or Unicode half
blocks in colour (any terminal: ssh, tmux); else a placeholder line.

``choose(setting, env, color)`` picks how: ``auto`` looks at what the terminal says it is (kitty:
TERM=xterm-kitty or KITTY_WINDOW_ID; iTerm2/WezTerm: TERM_PROGRAM or LC_TERMINAL; sixel: terminals
known to support it) and falls back to blocks when colour is on. Inside tmux or GNU screen the
graphics sequences are wrapped for the multiplexer to pass through to the outer terminal.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from typing import Mapping

def truecolor(env: Mapping[str, str]) -> bool:
    return env.get("COLORTERM", "").lower() in ("truecolor", "24bit")


PROTOCOLS = ("auto", "kitty", "iterm", "sixel", "blocks", "file", "off")
_SIXEL_TERMS = ("foot", "mlterm", "yaft", "contour", "sixel")
GRAPHICS = ("kitty", "iterm", "sixel")
# Pillow's own bound (PIL.Image.MAX_IMAGE_PIXELS): an image beyond it is not decoded here (Pillow
# would warn of a decompression bomb, and decoding it would take seconds and gigabytes).
MAX_PIXELS = 89_478_485


@dataclass(frozen=True)
class Drawing:
    """How images are drawn: the protocol, and what blocks and the multiplexer need to know."""

    protocol: str = "off"  # kitty, iterm, sixel, blocks, file (placeholder with a temp file), off
    rows: int = 24  # the most rows a block image takes
    truecolor: bool = False
    passthrough: str = ""  # "tmux" or "screen": wrap graphics sequences for the multiplexer


def multiplexer(env: Mapping[str, str]) -> str:
    term = env.get("TERM", "")
    if env.get("TMUX") or term.startswith("tmux"):
        return "tmux"
    if env.get("STY") or term.startswith("screen"):
        return "screen"
    return ""


def detect(env: Mapping[str, str]) -> str | None:
    """A graphics protocol the (outer) terminal speaks, from what it put in the environment."""
    term = env.get("TERM", "")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID"):
        return "kitty"
    if env.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    if any(name in term for name in _SIXEL_TERMS):
        return "sixel"
    return None


def choose(setting: str, env: Mapping[str, str], color: bool = True, rows: int = 24) -> Drawing:
    protocol = setting
    if setting == "auto":
        protocol = detect(env) or ("blocks" if color else "off")
    return Drawing(protocol, rows, truecolor(env), multiplexer(env) if protocol in GRAPHICS else "")


def wrap(seq: str, passthrough: str) -> str:
    """A graphics sequence, wrapped so tmux (``allow-passthrough on``) or screen hands it on."""
    if passthrough == "tmux":
        return "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    if passthrough == "screen":  # screen passes a DCS on, in pieces of at most 768 bytes
        return "".join(f"\x1bP{seq[i:i + 760]}\x1b\\" for i in range(0, len(seq), 760))
    return seq


def size_of(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding the image."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + length
    return None


_saved: dict[str, str] = {}  # content digest -> temp file: an image is written once, not per redraw


def saved(mime: str, data: bytes) -> str:
    """A temp file holding the image (so it can be opened), written the first time only."""
    key = hashlib.sha256(data).hexdigest()
    path = _saved.get(key)
    if path is None or not os.path.exists(path):
        fd, path = tempfile.mkstemp(prefix="repl-image-", suffix=".png" if mime == "image/png" else ".jpg")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _saved[key] = path
    return path


def placeholder(mime: str, data: bytes, note: str = "", keep: bool = False) -> str:
    """``[image/png 556×413, 23.6 KiB]``; with ``keep``, the path of a temp file holding it."""
    size = size_of(data)
    dims = f" {size[0]}×{size[1]}" if size else ""
    kb = len(data) / 1024
    where = f": {saved(mime, data)}" if keep else ""
    return f"[{mime}{dims}, {kb:.1f} KiB{where}]{note}\n"


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _as_png(mime: str, data: bytes) -> bytes | None:
    if mime == "image/png":
        return data
    Image = _pillow()
    if Image is None:
        return None
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, format="PNG")
    return out.getvalue()


def kitty(png: bytes) -> str:
    payload = base64.standard_b64encode(png).decode()
    chunks = [payload[i : i + 4096] for i in range(0, len(payload), 4096)] or [""]
    out = []
    for n, chunk in enumerate(chunks):
        more = 1 if n < len(chunks) - 1 else 0
        head = f"a=T,f=100,m={more}" if n == 0 else f"m={more}"
        out.append(f"\x1b_G{head};{chunk}\x1b\\")
    return "".join(out) + "\n"


def iterm(data: bytes) -> str:
    b64 = base64.standard_b64encode(data).decode()
    return f"\x1b]1337;File=inline=1;size={len(data)};preserveAspectRatio=1:{b64}\x07\n"


def sixel(data: bytes, max_width: int = 800) -> str | None:
    Image = _pillow()
    if Image is None:
        return None
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if img.width > max_width:
        img = img.resize((max_width, max(1, img.height * max_width // img.width)))
    img = img.quantize(colors=255)
    palette = img.getpalette()[: 255 * 3]
    w, h = img.size
    px = img.load()
    out = ['\x1bPq"1;1;%d;%d' % (w, h)]
    for i in range(len(palette) // 3):
        r, g, b = palette[3 * i : 3 * i + 3]
        out.append(f"#{i};2;{r * 100 // 255};{g * 100 // 255};{b * 100 // 255}")
    for band in range(0, h, 6):
        colours: dict[int, list[int]] = {}
        for x in range(w):
            for dy in range(6):
                y = band + dy
                if y < h:
                    colours.setdefault(px[x, y], [0] * w)[x] |= 1 << dy
        for n, (colour, bits) in enumerate(colours.items()):
            out.append(f"#{colour}" + "".join(chr(63 + b) for b in bits) + ("$" if n < len(colours) - 1 else ""))
        out.append("-")
    out.append("\x1b\\")
    return "".join(out) + "\n"


def draw(mime: str, b64: str, how: Drawing, cols: int) -> str:
    """Terminal text that shows the image (escape sequences, blocks, or a placeholder line)."""
    try:
        data = base64.b64decode(b64, validate=False)
    except (ValueError, TypeError):
        return f"[{mime}: not valid base64]\n"
    if _decoded(mime, how) and _too_large(data):
        return placeholder(mime, data, " (too large to draw)", keep=how.protocol == "file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's warnings (a decompression bomb) are not printed
            text = _drawn(mime, data, how, cols)
    except Exception as exc:  # a broken image must not break the REPL
        note = " (too large to draw)" if "DecompressionBomb" in type(exc).__name__ else " (could not be drawn)"
        return placeholder(mime, data, note, keep=how.protocol == "file")
    return text if text is not None else placeholder(mime, data, keep=how.protocol == "file")


def _decoded(mime: str, how: Drawing) -> bool:
    """Whether drawing decodes the image here (blocks, sixel, a JPEG for kitty)."""
    return how.protocol in ("blocks", "sixel") or (how.protocol == "kitty" and mime != "image/png")


def _too_large(data: bytes) -> bool:
    size = size_of(data)
    return size is not None and size[0] * size[1] > MAX_PIXELS


def _drawn(mime: str, data: bytes, how: Drawing, cols: int) -> str | None:
    seq: str | None = None
    if how.protocol == "blocks":
        from repl.ui.output import blocks  # (and Pillow, within): when a first image comes

        return blocks.draw(data, max(cols - 1, 1), how.rows, how.truecolor)
    if how.protocol == "kitty":
        png = _as_png(mime, data)
        seq = kitty(png) if png is not None else None
    elif how.protocol == "iterm":
        seq = iterm(data)
    elif how.protocol == "sixel":
        seq = sixel(data)
    if seq is None:
        return None
    return wrap(seq.rstrip("\n"), how.passthrough) + "\n"
