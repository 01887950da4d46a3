"""Where session records live: ``<data dir>/sessions/<id>.json``, mode 0600, written atomically.

:class:`Journal` is this process's record: rewritten whenever what it says changes (a kernel
attached or left, a cell sent or ended, an alias, the current kernel), so that a REPL killed
with SIGKILL can be resumed; removed when the session ends without /detach. :func:`resumable`
lists the records of sessions that were detached or whose process is gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from pathlib import Path
from typing import Callable

from repl import paths
from repl.protocol.record import Record


def folder() -> Path:
    return paths.data_dir() / "sessions"


class Journal:
    """With ``back``, the record of the session we come back to, at ``path``: it is left as it is
    (our pid in it, so no other repl takes it) until :meth:`resumed`, and kept if we leave before."""

    def __init__(self, snapshot: Callable[[Record], None], path: Path | None = None, back: Record | None = None) -> None:
        self.id = back.id if back is not None else uuid.uuid4().hex[:12]
        self.path = path or folder() / f"{self.id}.json"
        self._fill = snapshot  # fills the record from the workspace, which owns what it says
        self.failed: str | None = None  # why it could not be written
        self.detached = False
        self.left: float | None = None
        self.back = back
        if back is not None:
            self._write(dataclasses.replace(back, pid=os.getpid(), detached=False))

    def resumed(self) -> None:
        """The kernels we came back to are ours now: from here on the record is ours."""
        self.back = None
        self.changed()

    def record(self) -> Record:
        rec = Record(id=self.id, pid=os.getpid(), url="", detached=self.detached, left=self.left, written=time.time())
        self._fill(rec)
        return rec

    def changed(self) -> None:
        """Write the record now (before the message that changed it is sent); none is kept for a
        session with no kernel."""
        if self.back is not None:
            return
        rec = self.record()
        if not rec.kernels:
            self.remove()
        else:
            self._write(rec)

    def _write(self, rec: Record) -> None:
        try:
            paths.write_private(self.path, rec.to_json())
        except OSError as exc:
            self.failed = f"cannot write the session record {self.path}: {exc.strerror or exc}"

    def detach(self) -> None:
        self.detached, self.left = True, time.time()
        self.changed()

    def remove(self) -> None:
        if self.back is not None:  # (left before coming back: the record stays, for another try)
            self._write(self.back)
            return
        forget(self.path)


def forget(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _alive(pid: int) -> bool:
    """Whether a repl runs as ``pid`` (a pid reused by another program is not one)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"repl" in f.read()
    except OSError:
        return True  # (no /proc: trust the signal)


def load(path: Path) -> Record | None:
    try:
        return Record.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def open_elsewhere(here: Path | None = None) -> list[Record]:
    """Records of sessions still open in a running repl."""
    found = []
    with contextlib.suppress(OSError):
        for path in (here or folder()).glob("*.json"):
            rec = load(path)
            if rec is not None and not rec.detached and _alive(rec.pid) and rec.pid != os.getpid():
                found.append(rec)
    return found


def resumable(here: Path | None = None) -> list[tuple[Path, Record]]:
    """Records of sessions one can come back to (detached, or their process is gone), newest first.
    A record of a running REPL is not one; damaged files are left alone."""
    found = []
    with contextlib.suppress(OSError):
        for path in (here or folder()).glob("*.json"):
            rec = load(path)
            if rec is not None and (rec.detached or not _alive(rec.pid)):
                found.append((path, rec))
    return sorted(found, key=lambda pr: pr[1].since, reverse=True)

