"""Input history kept across runs in the user data directory, readable by the user only."""

from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from repl import paths


def open_history() -> History:
    path = paths.data_dir() / "history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    except OSError:
        return InMemoryHistory()  # an unwritable data dir must not stop the REPL
    return FileHistory(str(path))
