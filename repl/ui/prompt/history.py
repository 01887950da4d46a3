"""Input history kept across runs in the user data directory, readable by the user only.

A cell larger than LARGEST (from the editor, a paste) is not kept: written line by line it cost
seconds, and read back at every start, and searched as you type, it would slow every prompt.
"""

from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from repl import paths


LARGEST = 256 * 1024  # characters


class _Bounded(FileHistory):
    def store_string(self, string: str) -> None:
        if len(string) <= LARGEST:
            super().store_string(string)


def open_history() -> History:
    path = paths.data_dir() / "history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    except OSError:
        return InMemoryHistory()  # an unwritable data dir must not stop the REPL
    return _Bounded(str(path))
