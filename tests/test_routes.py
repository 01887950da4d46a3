"""ContentsRoute's order of steps when an upload is stopped, against a contents API that
answers when the test lets it (the e2e tests see the same through a slow proxy, under load)."""

from __future__ import annotations

import asyncio
import contextlib

from repl.files.routes import ContentsRoute


class HeldContents:
    """Records each call; a PUT is answered only when ``answer`` is set (a chunk on its way)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.answer = asyncio.Event()
        self.put_begun = asyncio.Event()

    async def put(self, path: str, data: bytes, chunk: int | None) -> None:
        self.put_begun.set()
        await self.answer.wait()
        self.calls.append(("put answered", path))

    async def delete(self, path: str) -> None:
        self.calls.append(("delete", path))


def test_a_stopped_upload_deletes_its_part_only_after_the_chunk_on_its_way_is_answered(tmp_path):
    async def main() -> list[tuple[str, str]]:
        contents = HeldContents()
        local = tmp_path / "x.bin"
        local.write_bytes(b"x" * 3000)
        route = ContentsRoute(contents, "")  # type: ignore[arg-type]
        upload = asyncio.ensure_future(route.upload(local, "x.bin", False, lambda n: None))
        await contents.put_begun.wait()
        upload.cancel()  # Ctrl-C
        await asyncio.sleep(0)
        assert contents.calls == []  # not deleted while the chunk may still land
        contents.answer.set()
        with contextlib.suppress(asyncio.CancelledError):
            await upload
        return contents.calls

    calls = asyncio.run(main())
    assert [c for c, _ in calls] == ["put answered", "delete"]
    assert calls[0][1] == calls[1][1] and ".repl-part-" in calls[1][1]
