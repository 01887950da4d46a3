"""The pygments lexer for a kernel, from its ``language_info``, falling back to plain text."""

from __future__ import annotations

from pygments.lexer import Lexer
from pygments.lexers import TextLexer, find_lexer_class_by_name, find_lexer_class_for_filename
from pygments.util import ClassNotFound

# Lexers kernels name that pygments only has when IPython is installed locally: pygments' own
# Python lexer is tried first, as looking the IPython one up imports IPython (~300 ms, at the
# first key typed).
_FALLBACKS = {"ipython3": "python3", "ipython": "python", "ipython2": "python2"}


def _candidates(info: dict) -> list[str]:
    names: list[str] = []
    for key in ("pygments_lexer", "name"):
        value = info.get(key)
        if isinstance(value, str) and value:
            names.append(value)
    mode = info.get("codemirror_mode")
    if isinstance(mode, dict):
        mode = mode.get("name")
    if isinstance(mode, str) and mode:
        names.append(mode)
    out: list[str] = []
    for name in names:
        if name.lower() in _FALLBACKS:
            out.append(_FALLBACKS[name.lower()])
        out.append(name)
    return out


def pygments_lexer_for(info: dict | None) -> type[Lexer]:
    """The lexer class (prompt_toolkit's PygmentsLexer instantiates it)."""
    info = info if isinstance(info, dict) else {}
    for name in _candidates(info):
        try:
            return find_lexer_class_by_name(name.lower())
        except ClassNotFound:
            continue
    ext = info.get("file_extension")
    if isinstance(ext, str) and ext:
        found = find_lexer_class_for_filename("cell" + (ext if ext.startswith(".") else "." + ext))
        if found is not None:
            return found
    return TextLexer
