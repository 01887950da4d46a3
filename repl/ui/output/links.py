"""Links in rendered Markdown and HTML keep their target: the terminal's own hyperlinks (OSC 8)
where it draws them, else the address after the text (``the docs (https://…)``).

:func:`finish` takes rich's rendering, whose links rich marks with OSC 8 (the source was made
safe before rich saw it, so every OSC 8 in it is rich's), and gives text made safe by the
sanitizer around links of our own making: a target is a web, mail or file address of printable
ASCII, or it is shown as text.
"""

from __future__ import annotations

import re

from repl.ui.output.sanitize import clean, label

SCHEMES = ("http://", "https://", "mailto:", "ftp://", "file://")
_URL = re.compile(r"[!-~]+")  # printable ASCII, no space: nothing in it can end the sequence
_OSC8 = re.compile(r"\x1b\]8;([^;\x1b\x07]*);([^\x1b\x07]*)\x1b\\")
_ID = re.compile(r"id=[0-9A-Za-z_-]{1,32}")
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return _CSI.sub("", text)


def target(url: str) -> str | None:
    """``url`` if it may be a hyperlink's target."""
    if not url.lower().startswith(SCHEMES) or len(url) > 2048 or not _URL.fullmatch(url):
        return None
    return url


def hyperlink(url: str, text: str, params: str = "") -> str:
    """OSC 8: ``text`` (safe to print) linked to ``url`` (checked by :func:`target`)."""
    return f"\x1b]8;{params};{url}\x1b\\{text}\x1b]8;;\x1b\\"


def finish(text: str, hyperlinks: bool, color: bool = True) -> str:
    """rich's rendering made safe, its links as OSC 8 (``hyperlinks``) or followed by their
    address; without ``color``, no other escape sequence."""

    def safe(part: str) -> str:
        part = clean(part)
        return part if color else strip_ansi(part)

    if "\x1b]8;" not in text:
        return safe(text)
    pieces: list[tuple[str, str | None, str]] = []  # (text, url or None for plain text, params)
    at = 0
    url: str | None = None
    params = ""
    for m in _OSC8.finditer(text):
        pieces.append((text[at:m.start()], url, params))
        at = m.end()
        url = m.group(2) or None
        params = m.group(1) if _ID.fullmatch(m.group(1)) else ""
    pieces.append((text[at:], url, params))
    out: list[str] = []
    for i, (part, link, params) in enumerate(pieces):
        if link is None or not part:
            out.append(safe(part))
            continue
        good = target(link)
        if hyperlinks and good is not None:
            out.append(hyperlink(good, safe(part), params))
            continue
        out.append(safe(part))
        if not _continues(pieces, i, link) and strip_ansi(part).strip() != link:
            out.append(f" ({label(link)[:300]})")  # (the server's words: only colours pass, and there are none)
    return "".join(out)


def _continues(pieces: list[tuple[str, str | None, str]], i: int, link: str) -> bool:
    """The same link goes on after piece ``i`` (rich marks each wrapped line of a link)."""
    for part, url, _ in pieces[i + 1:]:
        if url == link and part:
            return True
        if url is not None or strip_ansi(part).strip():
            return False
    return False
