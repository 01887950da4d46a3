"""Where session records live: ``<data dir>/sessions/<id>.jsonl``, mode 0600.

:class:`Journal` is this process's record, written whenever what it says changes (a kernel
attached or left, a cell sent or ended, an alias, the current kernel), before the message that
changed it is sent, so that a REPL killed with SIGKILL can be resumed; removed when the session
ends without /detach. :func:`resumable` lists the records of sessions that were detached or whose
process is gone.

A live repl holds a lock (``flock``) on ``<id>.lock`` for as long as it runs: a record whose lock
is free is one to come back to (the process detached, or was killed: the lock goes with it), and
two repls resuming the same session at once cannot both take it.

Each change appends the whole record as one line, in one ``write``: a reader takes the last line
that parses, so it never sees half a record. Appending costs microseconds where rewriting and
renaming a file costs half a millisecond on ext4 (which flushes a file that replaces another),
and a cell changes the record three times. The file is compacted (rewritten whole, atomically)
once it grows past COMPACT_AT.
"""

from __future__ import annotations

import contextlib
import fcntl
import dataclasses
import os
import time
import secrets
from pathlib import Path
from typing import Callable

from repl import errors, paths, procs
from repl.protocol.record import Record

SUFFIX = ".jsonl"
COMPACT_AT = 256 * 1024


def folder() -> Path:
    return paths.data_dir() / "sessions"


class Journal:
    """With ``back``, the record of the session we come back to, at ``path``: it is left as it is
    (our pid in it, so no other repl takes it) until :meth:`resumed`, and kept if we leave before."""

    def __init__(self, snapshot: Callable[[Record], None], path: Path | None = None, back: Record | None = None) -> None:
        self.id = back.id if back is not None else secrets.token_hex(6)
        self.path = path or folder() / f"{self.id}{SUFFIX}"
        self._fill = snapshot  # fills the record from the workspace, which owns what it says
        self.failed: str | None = None  # why it could not be written (the workspace says it, once)
        self.detached = False
        self.left: float | None = None
        self.back = back
        self._fd: int | None = None
        self._size = 0
        self._broken = False  # a write failed (and was said)
        self._lock = _lock(self.path.with_suffix(".lock"))
        if self._lock is None:
            raise errors.UsageError("that session is being resumed by another repl" if back is not None
                                    else f"the session record {self.path} is in use")
        if back is not None:
            self._write(dataclasses.replace(back, pid=os.getpid(), detached=False))

    def record(self) -> Record:
        rec = Record(id=self.id, pid=os.getpid(), url="", detached=self.detached, left=self.left, written=time.time())
        self._fill(rec)
        return rec

    def resumed(self) -> None:
        """The kernels we came back to are ours now: from here on the record is ours."""
        self.back = None
        self.changed()

    def changed(self) -> None:
        """Write the record now; none is kept for a session with no kernel."""
        if self.back is not None:
            return
        rec = self.record()
        if not rec.kernels:
            self._close()
            forget(self.path)
        else:
            self._write(rec)

    def detach(self) -> None:
        self.detached, self.left = True, time.time()
        self.changed()

    def remove(self) -> None:
        """The session ended (not detached): no record, no lock."""
        if self.back is not None:  # (left before coming back: the record stays, for another try)
            self._write(self.back)
        else:
            self._close()
            forget(self.path)
            forget(self.path.with_suffix(".lock"))
        self.close()

    def close(self) -> None:
        """Let go of the record (this process leaves): another repl may take it from now on."""
        self._close()
        if self._lock is not None and self._lock >= 0:
            with contextlib.suppress(OSError):
                os.close(self._lock)
        self._lock = None

    def _write(self, rec: Record) -> None:
        line = (rec.to_json() + "\n").encode()
        try:
            if self._fd is None or self._size + len(line) > COMPACT_AT:
                self._close()
                paths.write_private(self.path, line.decode())  # (whole, atomically: a fresh file)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
                self._size = len(line)
                return
            os.write(self._fd, line)
            self._size += len(line)
        except OSError as exc:
            self._close()
            if not self._broken:  # (once: a disk that is full stays full)
                self.failed = f"cannot write the session record {self.path}: {exc.strerror or exc}"
            self._broken = True

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _lock(path: Path) -> int | None:
    """An fd holding the lock on ``path`` (made if need be), or None if another process holds it."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return -1  # (an unwritable data dir: no record, no lock; the session goes on)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    os.set_inheritable(fd, False)
    return fd


def _held(path: Path, rec: Record) -> bool:
    """Whether a running repl holds the session (its lock; a record without one: its pid)."""
    lock = path.with_suffix(".lock")
    if not lock.exists():
        return not rec.detached and _alive(rec.pid)
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # (which lets go of a lock we took to look)
    return False


def forget(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _alive(pid: int) -> bool:
    """Whether a repl runs as ``pid`` (a pid reused by another program is not one)."""
    if pid == os.getpid():
        return True
    if not procs.alive(pid):
        return False
    args = procs.cmdline(pid)
    return args is None or any(b"repl" in a for a in args)  # (no /proc: trust that it runs)


def load(path: Path) -> Record | None:
    """The last whole record in the file (a line cut short by a crash is not one)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            return Record.from_json(line)
    return None


def _all(here: Path | None) -> list[tuple[Path, Record]]:
    found = []
    with contextlib.suppress(OSError):
        for path in (here or folder()).glob(f"*{SUFFIX}"):
            rec = load(path)
            if rec is not None:
                found.append((path, rec))
    return found


def open_elsewhere(here: Path | None = None) -> list[Record]:
    """Records of sessions still open in a running repl."""
    return [rec for path, rec in _all(here) if _held(path, rec) and rec.pid != os.getpid()]


def resumable(here: Path | None = None) -> list[tuple[Path, Record]]:
    """Records of sessions one can come back to (detached, or their process is gone), newest first.
    A record of a running REPL is not one; damaged files are left alone."""
    found = [(path, rec) for path, rec in _all(here) if not _held(path, rec)]
    for path, rec in [pr for pr in found if _gateway_gone(pr[1])]:
        forget(path)  # (its kernels went with the embedded gateway: a repl killed with SIGKILL takes it)
        forget(path.with_suffix(".lock"))
        found.remove((path, rec))
    return sorted(found, key=lambda pr: pr[1].since, reverse=True)


def _gateway_gone(rec: Record) -> bool:
    """Whether the record's embedded gateway process is gone (a pid reused by another program too)."""
    pid = (rec.gateway or {}).get("pid")
    if not isinstance(pid, int):
        return False
    args = procs.cmdline(pid)
    return not procs.alive(pid) or (args is not None and b"repl.gateway.launch" not in args)
