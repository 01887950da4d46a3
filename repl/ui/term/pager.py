"""Text in the user's pager: ``$PAGER``, else ``less -R`` (colours kept), with the terminal as
repl found it at start. Blocking: run it in an executor. While it shows, Ctrl-C is the pager's."""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import Mapping

from repl.ui import keymode

DEFAULT = ["less", "-R"]
_showing = [False]


def command(env: Mapping[str, str]) -> list[str]:
    """The pager's argv; a ``$PAGER`` that does not parse is the default."""
    given = env.get("PAGER", "").strip()
    try:
        argv = shlex.split(given) if given else []
    except ValueError:
        argv = []
    return argv or list(DEFAULT)


def showing() -> bool:
    """True while a pager has the terminal (a Ctrl-C is for it)."""
    return _showing[0]


def page(text: str, env: Mapping[str, str] | None = None) -> str | None:
    """Show ``text`` in the pager; None when done, else a line saying why it could not be."""
    env = os.environ if env is None else env
    argv = command(env)
    penv = dict(env)
    penv.setdefault("LESS", "-R")  # (a less given as $PAGER keeps the colours too)
    _showing[0] = True
    try:
        with keymode.as_started():
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=penv)
            assert proc.stdin is not None
            try:
                proc.stdin.write(text.encode("utf-8", errors="replace"))
                proc.stdin.close()
            except BrokenPipeError:  # the pager quit before reading it all ('q' in less)
                pass
            proc.wait()
    except FileNotFoundError:
        return f"no pager {argv[0]!r}: set $PAGER (e.g. PAGER='less -R')"
    except OSError as exc:
        return f"the pager {argv[0]!r} failed: {exc.strerror or exc}"
    finally:
        _showing[0] = False
    return None
