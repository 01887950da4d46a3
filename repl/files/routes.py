"""The two ways a file travels: Jupyter Server's contents API (:class:`ContentsRoute`), or through
a Python kernel's own code (:class:`KernelRoute`, for Kernel Gateway and Enterprise Gateway).

Both write the remote side to ``NAME.repl-part-TAG`` beside the target and rename it into place
only once the whole file is there (the kernel route checks its size and sha256 first); anything
that stops a transfer (an error, Ctrl-C) deletes that part file. ``tick(n)`` hears of every
``n`` bytes moved.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import posixpath
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Protocol

from repl import errors
from repl.protocol import kernelfiles, transfer

if TYPE_CHECKING:
    from repl.gateway.contents import Contents
    from repl.kernel import Kernel

Tick = Callable[[int], None]
PUT_SETTLES = 30.0  # seconds a stopped upload waits for its chunk on the way before the delete


@dataclass(frozen=True)
class Remote:
    path: str  # the route's own path: the server's (contents API) or the kernel machine's
    kind: str  # file, dir, none
    size: int = 0


class Route(Protocol):
    where: str  # in messages: "the server" / "the kernel's machine"

    async def stat(self, path: str) -> Remote: ...
    async def glob(self, pattern: str) -> list[str]: ...
    def join(self, folder: str, name: str) -> str: ...
    async def upload(self, local: Path, target: str, force: bool, tick: Tick) -> None: ...
    async def download(self, remote: Remote, out: BinaryIO, tick: Tick) -> None: ...


def _tag() -> str:
    return secrets.token_hex(4)


async def _cleanup(step) -> None:
    """Undo after a stop: shielded from a second Ctrl-C, errors of its own swallowed."""
    with contextlib.suppress(errors.ReplError, asyncio.CancelledError, kernelfiles.KernelFileError):
        await asyncio.shield(step())


class ContentsRoute:
    where = "the server"

    def __init__(self, contents: Contents, base_dir: str) -> None:
        self.contents = contents
        self.base_dir = base_dir  # the kernel's notebook's directory ("" : the root)

    def _resolve(self, path: str) -> str:
        try:
            return transfer.resolve(path, self.base_dir)
        except ValueError as exc:
            raise errors.UsageError(str(exc)) from None

    async def stat(self, path: str) -> Remote:
        p = self._resolve(path)
        e = await self.contents.stat(p)
        if e is None:
            return Remote(p, "none")
        return Remote(e.path, "dir" if e.kind == "directory" else "file", e.size or 0)

    async def glob(self, pattern: str) -> list[str]:
        try:
            folder, name = transfer.glob_split(pattern)
        except ValueError as exc:
            raise errors.UsageError(str(exc)) from None
        here = self._resolve(folder or ("/" if pattern.startswith("/") else "."))
        # (from the root: stat resolves them again)
        files = {posixpath.basename(e.path): "/" + e.path for e in await self.contents.listdir(here) if e.kind != "directory"}
        return [files[n] for n in transfer.glob_match(name, list(files))]

    def join(self, folder: str, name: str) -> str:
        return posixpath.join(folder, name) if folder else name

    async def upload(self, local: Path, target: str, force: bool, tick: Tick) -> None:
        part = transfer.part_name(target, _tag())
        put: asyncio.Future[None] | None = None
        try:
            with local.open("rb") as f:
                for chunk in transfer.chunk_plan(local.stat().st_size):
                    data = f.read(chunk.length)
                    put = asyncio.ensure_future(self.contents.put(part, data, chunk.number))
                    await asyncio.shield(put)
                    tick(len(data))
            if force and (await self.contents.stat(target)) is not None:
                await self.contents.delete(target)
            await self.contents.rename(part, target)
        except BaseException as exc:
            await _cleanup(lambda: self._delete_after(put, part))
            if isinstance(exc, errors.ServerError):  # (the part file's name is ours, not the user's)
                if transfer.is_hidden(target) and "HTTP 400" in str(exc):
                    raise errors.UsageError(f"the server refuses {target}: {transfer.HIDDEN_HINT}") from None
                raise errors.ServerError(str(exc).replace(part, target)) from None
            raise

    async def _delete_after(self, put: asyncio.Future[None] | None, part: str) -> None:
        """The part file deleted once the chunk on its way has been answered: a chunk cut off
        by Ctrl-C may already sit whole in a proxy's buffers (or the kernel's), and would land
        after the delete, writing the part file again."""
        if put is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(put), PUT_SETTLES)
        await self.contents.delete(part)

    async def download(self, remote: Remote, out: BinaryIO, tick: Tick) -> None:
        got = 0
        async for piece in self.contents.read(remote.path, remote.size):
            out.write(piece)
            got += len(piece)
            tick(len(piece))
        if got != remote.size:
            raise errors.ServerError(f"{remote.path}: {got} bytes arrived of {remote.size} (did it change meanwhile?)")


class KernelRoute:
    where = "the kernel's machine"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def _step(self, op: str, **args) -> dict | list:
        cell = await self.kernel.execute("", silent=True, store_history=False, allow_stdin=False, record=False,
                                         user_expressions=kernelfiles.expression(op, **args))
        await cell.done
        try:
            return kernelfiles.answer(cell.request.reply)
        except kernelfiles.KernelFileError as exc:
            raise errors.UsageError(f"{self.kernel.label}: {exc}") from None

    async def stat(self, path: str) -> Remote:
        d = await self._step("stat", path=path)
        assert isinstance(d, dict)
        return Remote(str(d.get("path", path)), str(d.get("kind", "none")), int(d.get("size", 0) or 0))

    async def glob(self, pattern: str) -> list[str]:
        found = await self._step("glob", pattern=pattern)
        return [str(p) for p in found] if isinstance(found, list) else []

    def join(self, folder: str, name: str) -> str:
        return posixpath.join(folder, name)

    async def upload(self, local: Path, target: str, force: bool, tick: Tick) -> None:
        begun = await self._step("begin", target=target, force=force, suffix=transfer.PART + _tag())
        assert isinstance(begun, dict)
        part, final = str(begun["part"]), str(begun["target"])
        digest, size = hashlib.sha256(), 0
        try:
            with local.open("rb") as f:
                while data := f.read(transfer.KERNEL_PIECE):
                    digest.update(data)
                    size += len(data)
                    await self._step("append", part=part, data=base64.b64encode(data).decode("ascii"))
                    tick(len(data))
            await self._step("finish", part=part, target=final, size=size, sha256=digest.hexdigest(), force=force)
        except BaseException:
            await _cleanup(lambda: self._step("abort", part=part))
            raise

    async def download(self, remote: Remote, out: BinaryIO, tick: Tick) -> None:
        digest, offset = hashlib.sha256(), 0
        while offset < remote.size:
            got = await self._step("read", path=remote.path, offset=offset, length=transfer.KERNEL_PIECE)
            assert isinstance(got, dict)
            data = base64.b64decode(str(got.get("data", "")))
            if not data:
                raise errors.UsageError(f"{remote.path} became shorter while it was read ({offset} of {remote.size} bytes)")
            out.write(data)
            digest.update(data)
            offset += len(data)
            tick(len(data))
        check = await self._step("hash", path=remote.path)
        assert isinstance(check, dict)
        if check.get("size") != offset or check.get("sha256") != digest.hexdigest():
            raise errors.UsageError(f"{remote.path} changed while it was read (its size or sha256 differs): try again")
