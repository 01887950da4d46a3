"""Jupyter Server's contents API (``api/contents``) and its ``files/`` handler, over the REST client.

Paths are the server's (relative to its root, no leading slash; see
:func:`repl.protocol.transfer.resolve`). An upload is saved in chunks (``"chunk": 1 … -1``, base64)
to a temporary name beside the target and renamed into place (PATCH) at the end; a download
streams ``GET files/PATH`` (the token in the header: the handler takes it, like the API), so
neither side holds a whole large file in memory. Kernel Gateway and Enterprise Gateway have no
contents API: :meth:`Contents.available` says so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator
from urllib.parse import quote

from repl import errors
from repl.protocol import transfer

if TYPE_CHECKING:
    from repl.gateway.rest import RestClient


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str  # file, directory, notebook
    size: int | None

    @classmethod
    def from_json(cls, data: Any) -> "Entry | None":
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            return None
        size = data.get("size")
        return cls(data["path"], str(data.get("type", "")), size if isinstance(size, int) else None)


def _url(path: str) -> str:
    return quote(path, safe="/")


class Contents:
    def __init__(self, rest: RestClient) -> None:
        self.rest = rest
        self._available: bool | None = None

    async def available(self) -> bool:
        """Whether the server has a contents API (asked once)."""
        if self._available is None:
            r = await self.rest.request("GET", "api/contents?content=0")
            if r.status_code in (401, 403):
                self.rest.check(r, "reading the server's files")  # (raises: the token)
            self._available = r.status_code == 200
        return self._available

    async def stat(self, path: str) -> Entry | None:
        """The file or directory at ``path``, or None if there is none."""
        r = await self.rest.request("GET", f"api/contents/{_url(path)}?content=0")
        if r.status_code == 404:
            return None
        return Entry.from_json(self.rest.check(r, f"reading {path or '/'}"))

    async def listdir(self, path: str) -> list[Entry]:
        r = await self.rest.request("GET", f"api/contents/{_url(path)}?content=1&type=directory")
        if r.status_code == 404:
            raise errors.UsageError(f"no directory {path or '/'} on the server")
        data = self.rest.check(r, f"listing {path or '/'}")
        content = data.get("content") if isinstance(data, dict) else None
        return [e for e in (Entry.from_json(d) for d in content or []) if e is not None]

    async def put(self, path: str, data: bytes, chunk: int | None) -> None:
        """One piece of an upload (``chunk`` None: the whole file in one save)."""
        body: dict[str, Any] = {"type": "file", "format": "base64", "content": base64.b64encode(data).decode("ascii")}
        if chunk is not None:
            body["chunk"] = chunk
        r = await self.rest.request("PUT", f"api/contents/{_url(path)}", json=body)
        self.rest.check(r, f"writing {path}")

    async def rename(self, old: str, new: str) -> None:
        r = await self.rest.request("PATCH", f"api/contents/{_url(old)}", json={"path": new})
        if r.status_code == 409:
            raise errors.UsageError(f"{new} exists on the server: -f overwrites it")
        self.rest.check(r, f"renaming {old} to {new}")

    async def delete(self, path: str) -> None:
        r = await self.rest.request("DELETE", f"api/contents/{_url(path)}")
        if r.status_code != 404:
            self.rest.check(r, f"deleting {path}")

    async def read(self, path: str, size: int | None) -> AsyncIterator[bytes]:
        """The file's bytes, as they come (``files/PATH``; where that handler is missing, the
        contents API's base64 model: the whole file in one answer)."""
        import httpx

        try:
            async with self.rest.stream(f"files/{_url(path)}", read_timeout=60.0) as r:
                if r.status_code == 200:
                    async for piece in r.aiter_bytes(transfer.CHUNK):
                        yield piece
                    return
                await r.aread()
                if r.status_code == 404 and size is None:
                    raise errors.UsageError(f"no file {path} on the server")
                if r.status_code == 403:  # (not the token: the contents API has just answered with it)
                    why = self.rest.scrub(transfer.page_reason(r.text))
                    raise errors.UsageError(f"the server refuses {path} (HTTP 403: {why})" if why else
                                            f"the server refuses {path} ({self.rest.reason(r)})")
                if r.status_code == 401:
                    self.rest.check(r, f"reading {path}")
        except httpx.HTTPError as exc:
            raise errors.ServerUnreachable(f"reading {path} from {self.rest.display_url} failed: "
                                           f"{self.rest.scrub(str(exc)) or type(exc).__name__}") from exc
        r2 = await self.rest.request("GET", f"api/contents/{_url(path)}?content=1&format=base64&type=file")
        if r2.status_code == 404:
            raise errors.UsageError(f"no file {path} on the server")
        data = self.rest.check(r2, f"reading {path}")
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str):
            raise errors.ServerError(f"the server sent no content for {path}")
        yield base64.b64decode(content)
