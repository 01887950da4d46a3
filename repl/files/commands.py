"""``/upload`` and ``/download``: which route (the contents API where the server has one, else the
current kernel if it is Python's), which files (globs: local ones here, remote ones on the
server or the kernel's machine), where they land (relative to the kernel's notebook's directory
on Jupyter Server, to the kernel's working directory through the kernel), never over an existing
file without ``-f`` (all are checked before the first byte moves), a progress bar for anything
that takes over a second, and no half-written file on either side when it stops.

Arguments are split as a shell does (quotes for spaces); as with ``cp``, with two or more the
last one is the destination, unless it is a glob (``/upload *.csv *.json`` sends both kinds).
"""

from __future__ import annotations

import contextlib
import glob as localglob
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from repl import errors
from repl.files.routes import ContentsRoute, KernelRoute, Remote, Route
from repl.protocol import transfer

if TYPE_CHECKING:
    from repl.gateway.contents import Contents
    from repl.workspace import Workspace

BAR_AFTER = 1.0  # seconds before a transfer shows its progress bar
BAR_EVERY = 0.1  # seconds between redraws of it
UPLOAD_USAGE = "usage: /upload [-f] LOCAL… [REMOTE] (globs take several files; -f overwrites)"
DOWNLOAD_USAGE = "usage: /download [-f] REMOTE… [LOCAL] (globs take several files; -f overwrites)"


@dataclass
class Bar:
    """The progress of one file: drawn through ``show`` once it has taken BAR_AFTER seconds."""

    name: str
    total: int
    show: Callable[[str | None], None]  # a line to draw in place; None erases it
    width: Callable[[], int]
    done: int = 0
    started: float = 0.0
    drawn_at: float = 0.0
    drawn: bool = False

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self.name = transfer.shown(self.name)

    def tick(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.started >= BAR_AFTER and now - self.drawn_at >= BAR_EVERY:
            self.drawn_at, self.drawn = now, True
            self.show(transfer.progress_bar(self.name, self.done, self.total, now - self.started, self.width()))

    def end(self) -> float:
        if self.drawn:
            self.show(None)
        return time.monotonic() - self.started


def split_args(arg: str, usage: str) -> tuple[list[str], bool]:
    try:
        words = shlex.split(arg)
    except ValueError as exc:
        raise errors.UsageError(f"{exc} in {arg!r}; {usage}") from None
    force = "-f" in words
    words = [w for w in words if w != "-f"]
    if not words:
        raise errors.UsageError(usage)
    return words, force


def sources_and_dest(words: list[str]) -> tuple[list[str], str | None]:
    if len(words) == 1 or transfer.has_magic(words[-1]):
        return words, None
    return words[:-1], words[-1]


def local_files(words: list[str]) -> list[Path]:
    found: list[Path] = []
    for word in words:
        path = os.path.expanduser(word)
        if transfer.has_magic(path):
            matches = sorted(p for p in localglob.glob(path) if os.path.isfile(p))
            if not matches:
                raise errors.UsageError(f"no local file matches {word}")
            found += [Path(p) for p in matches]
        elif os.path.isdir(path):
            raise errors.UsageError(f"{word} is a directory: /upload sends files ({word.rstrip('/')}/* sends its files)")
        elif os.path.exists(path) and not os.path.isfile(path):
            raise errors.UsageError(f"{word} is not a regular file: /upload sends files")
        elif not os.path.isfile(path):
            raise errors.UsageError(f"no local file {word}")
        else:
            found.append(Path(path))
    return found


def summary(verb: str, what: str, size: int, seconds: float) -> str:
    rate = f", {transfer.speed(size, seconds)}" if seconds >= 0.05 else ""
    return f"{verb} {what} ({transfer.human(size)} in {seconds:.1f} s{rate})"


class Files:
    """The two commands. What they say names files: each message is one line (a newline in a
    name shows as ``<U+000A>``), their errors too."""

    def __init__(self, ws: Workspace, say: Callable[[str], None], show: Callable[[str | None], None],
                 width: Callable[[], int]) -> None:
        self.ws = ws
        self.say = lambda text: say(transfer.shown(text))
        self.show = show
        self.width = width
        self._contents: Contents | None = None

    async def route(self) -> Route:
        """The contents API where the server has one; else the current kernel, if it runs Python."""
        if self._contents is None:
            from repl.gateway.contents import Contents

            self._contents = Contents(self.ws.rest)
        kernel = self.ws.current
        if await self._contents.available():
            base = ""
            if kernel is not None:
                sessions = await self.ws.rest.sessions() or []
                mine = next((x for x in sessions if x.kernel_id == kernel.id), None)
                base = transfer.base_dir_of(mine.path if mine is not None else None)
            return ContentsRoute(self._contents, base)
        server = self.ws.rest.display_url
        if kernel is None:
            raise errors.UsageError(f"{server} has no contents API (a Kernel Gateway?): files go through a Python "
                                    "kernel there, and there is no current kernel (/new starts one)")
        language = str(kernel.language_info.get("name", "") or kernel.model.name)
        if language != "python":
            raise errors.UsageError(f"{server} has no contents API, and files go through the kernel only for Python "
                                    f"kernels ({kernel.label} is {language})")
        if kernel.session.state == "busy":
            self.say(f"waiting for {kernel.label}: it is busy (a cell runs), and files go through it; Ctrl-C cancels")
        return KernelRoute(kernel)

    async def upload(self, arg: str) -> None:
        with _one_line():
            await self._upload(arg)

    async def download(self, arg: str) -> None:
        with _one_line():
            await self._download(arg)

    async def _upload(self, arg: str) -> None:
        words, force = split_args(arg, UPLOAD_USAGE)
        sources, dest = sources_and_dest(words)
        files = local_files(sources)
        route = await self.route()
        several = len(files) > 1
        dest_is_dir = dest is not None and (await route.stat(dest)).kind == "dir"
        if dest is not None and not dest_is_dir and (several or dest.endswith("/")):
            raise errors.UsageError(f"no directory {dest} on {route.where}" + (" (several files go into one)" if several else ""))
        plan: list[tuple[Path, Remote]] = []
        for local in files:
            remote = await route.stat(transfer.target(local.name, dest, dest_is_dir, several))
            if remote.kind == "dir":
                raise errors.UsageError(f"{remote.path} is a directory on {route.where}")
            folder = remote.path.rpartition("/")[0]
            if folder and folder != "/" and (await route.stat("/" + folder.lstrip("/"))).kind != "dir":
                raise errors.UsageError(f"no directory {folder} on {route.where}")
            plan.append((local, remote))
        self._refuse([r.path for _, r in plan if r.kind == "file"], force, route.where, "/upload", "sent")
        for local, remote in plan:
            size = local.stat().st_size
            bar = Bar(local.name, size, self.show, self.width)
            try:
                await route.upload(local, remote.path, force, bar.tick)
            finally:
                seconds = bar.end()
            self.say(summary("uploaded", f"{local} to {remote.path}", size, seconds))

    async def _download(self, arg: str) -> None:
        words, force = split_args(arg, DOWNLOAD_USAGE)
        sources, dest = sources_and_dest(words)
        route = await self.route()
        remotes: list[Remote] = []
        for word in sources:
            for path in (await route.glob(word) if transfer.has_magic(word) else [word]):
                remote = await route.stat(path)
                if remote.kind == "none":
                    raise errors.UsageError(f"no file {word} on {route.where}" + _hidden_hint(route, path))
                if remote.kind == "dir":
                    raise errors.UsageError(f"{remote.path} is a directory on {route.where}: /download takes files "
                                            f"({word.rstrip('/')}/* takes its files)")
                remotes.append(remote)
            if not remotes and transfer.has_magic(word):
                raise errors.UsageError(f"no file on {route.where} matches {word}" + _hidden_hint(route, word))
        several = len(remotes) > 1
        where = os.path.expanduser(dest) if dest else None
        dest_is_dir = where is not None and os.path.isdir(where)
        if where is not None and not dest_is_dir and (several or where.endswith("/")):
            raise errors.UsageError(f"no local directory {dest}" + (" (several files go into one)" if several else ""))
        plan = [(r, Path(transfer.target(r.path.rsplit("/", 1)[-1], where, dest_is_dir, several))) for r in remotes]
        for _, local in plan:
            if not local.parent.is_dir():
                raise errors.UsageError(f"no local directory {local.parent}")
        self._refuse([str(p) for _, p in plan if p.exists()], force, "this machine", "/download", "copied")
        for remote, local in plan:
            bar = Bar(local.name, remote.size, self.show, self.width)
            try:
                await self._fetch(route, remote, local, force, bar)
            finally:
                seconds = bar.end()
            self.say(summary("downloaded", f"{remote.path} to {local}", remote.size, seconds))

    @staticmethod
    async def _fetch(route: Route, remote: Remote, local: Path, force: bool, bar: Bar) -> None:
        """Into a part file beside ``local``, renamed to it once whole; removed if it stops."""
        part = Path(transfer.part_name(str(local), os.urandom(4).hex()))
        try:
            with part.open("xb") as out:
                await route.download(remote, out, bar.tick)
            if local.exists() and not force:
                raise errors.UsageError(f"{local} appeared meanwhile: /download -f overwrites it")
            os.replace(part, local)
        except OSError as exc:
            raise errors.UsageError(f"cannot write {local}: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(OSError):
                part.unlink()

    @staticmethod
    def _refuse(existing: list[str], force: bool, where: str, command: str, moved: str) -> None:
        if existing and not force:
            names = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
            verb = "exists" if len(existing) == 1 else "exist"
            raise errors.UsageError(f"{names} {verb} on {where}: {command} -f … overwrites (nothing was {moved})")


def _hidden_hint(route: Route, path: str) -> str:
    return f" ({transfer.HIDDEN_HINT})" if isinstance(route, ContentsRoute) and transfer.is_hidden(path) else ""


@contextlib.contextmanager
def _one_line():
    """An error naming files, on one line as every other (see :func:`transfer.shown`)."""
    try:
        yield
    except errors.ReplError as exc:
        exc.args = (transfer.shown(str(exc)),)
        raise
