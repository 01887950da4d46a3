"""A cell in the user's editor ($VISUAL, else $EDITOR): the text goes out in a temp file whose
extension follows the kernel's language, and comes back when the editor exits. A missing or
failing editor is one line; the text it was given is never lost."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from typing import Mapping

from repl.ui import keymode

FALLBACKS = ("editor", "nano", "vi")


class EditorError(Exception):
    pass


def command(env: Mapping[str, str]) -> list[str]:
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            return shlex.split(value)
    for name in FALLBACKS:
        found = shutil.which(name)
        if found:
            return [found]
    raise EditorError("no editor: set $VISUAL or $EDITOR")


def suffix_for(language_info: dict | None) -> str:
    ext = (language_info or {}).get("file_extension")
    if not isinstance(ext, str) or not ext.strip(". ") or "/" in ext:
        return ".txt"
    return ext if ext.startswith(".") else "." + ext


def edit(text: str, suffix: str, env: Mapping[str, str] | None = None, line: int | None = None) -> str:
    """The text after the user edited it (blocking: run it in the terminal, not over a prompt)."""
    argv = command(os.environ if env is None else env)
    fd, path = tempfile.mkstemp(prefix="repl-cell-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return edit_file(argv, path, line)
    finally:
        os.unlink(path)


def edit_file(argv: list[str], path: str, line: int | None = None) -> str:
    at = [f"+{line}"] if line and os.path.basename(argv[0]) in ("vi", "vim", "nvim", "nano", "emacs", "emacsclient") else []
    try:
        with keymode.as_started():
            status = subprocess.call([*argv, *at, path])
    except OSError as exc:
        raise EditorError(f"cannot run the editor {argv[0]!r}: {exc.strerror or exc}") from None
    if status != 0:
        raise EditorError(f"the editor {os.path.basename(argv[0])!r} exited with status {status}; the text is unchanged")
    with open(path, encoding="utf-8", errors="replace") as f:
        edited = f.read()
    return edited[:-1] if edited.endswith("\n") else edited
