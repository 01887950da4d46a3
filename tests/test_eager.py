"""eager.start runs a coroutine's first step in the caller and the rest as a task would."""

from __future__ import annotations

import asyncio

import pytest

from repl import eager


def run(main):
    return asyncio.run(main())


def test_a_coroutine_that_never_waits_is_done_when_start_returns():
    steps: list[str] = []

    async def work() -> int:
        steps.append("ran")
        return 7

    async def main() -> None:
        fut = eager.start(work())
        assert steps == ["ran"] and fut.done() and fut.result() == 7

    run(main)


def test_its_first_step_runs_before_start_returns_and_before_anything_queued():
    order: list[str] = []

    async def work() -> str:
        order.append("first step")
        await asyncio.sleep(0)
        order.append("second step")
        return "done"

    async def main() -> None:
        asyncio.get_running_loop().call_soon(order.append, "queued before")
        fut = eager.start(work())
        order.append("start returned")
        assert await fut == "done"
        assert order == ["first step", "start returned", "queued before", "second step"]
        plain = asyncio.ensure_future(work())  # (a task: its first step waits for the loop)
        order.clear()
        order.append("ensure_future returned")
        await plain
        assert order[:2] == ["ensure_future returned", "first step"]

    run(main)


def test_errors_before_and_after_a_wait_reach_whoever_awaits():
    async def early() -> None:
        raise ValueError("at once")

    async def late(gate: asyncio.Future) -> None:
        await gate
        raise KeyError("later")

    async def main() -> None:
        with pytest.raises(ValueError, match="at once"):
            await eager.start(early())
        gate = asyncio.get_running_loop().create_future()
        fut = eager.start(late(gate))
        gate.set_result(None)
        with pytest.raises(KeyError):
            await fut

    run(main)


def test_a_waited_futures_result_and_error_come_back_into_the_coroutine():
    async def work(a: asyncio.Future, b: asyncio.Future) -> tuple:
        first = await a
        try:
            await b
        except RuntimeError as exc:
            return first, str(exc)
        return first, None

    async def main() -> None:
        loop = asyncio.get_running_loop()
        a, b = loop.create_future(), loop.create_future()
        fut = eager.start(work(a, b))
        loop.call_soon(a.set_result, 1)
        loop.call_later(0.01, b.set_exception, RuntimeError("b failed"))
        assert await fut == (1, "b failed")

    run(main)


def test_a_cancel_reaches_the_wait_the_coroutine_is_in_and_it_may_go_on():
    seen: list[str] = []

    async def work(gate: asyncio.Future) -> str:
        try:
            await gate
        except asyncio.CancelledError:
            seen.append("cancelled at its wait")
            await asyncio.sleep(0)
            return "cleaned up"
        return "not cancelled"

    async def waits_forever() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        gate = asyncio.get_running_loop().create_future()
        fut = eager.start(work(gate))
        await asyncio.sleep(0)
        fut.cancel()
        assert await fut == "cleaned up" and gate.cancelled() and seen == ["cancelled at its wait"]
        other = eager.start(waits_forever())
        await asyncio.sleep(0)
        other.cancel()
        with pytest.raises(asyncio.CancelledError):
            await other

    run(main)
