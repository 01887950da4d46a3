"""A coroutine begun at once, in the caller, up to its first real wait; the rest as a task.

On Python 3.11 a task's first step waits for the loop's next turn: after the rest of the current
callback and everything already queued. Python 3.12's eager tasks (``asyncio.eager_task_factory``)
start the step at once; :func:`start` does the same for one coroutine. Enter's cell goes this way
from inside the key handler: its request is on the wire before prompt_toolkit has finished with
the key (its accept, the buffer's reset, the rest of the key processor, the loop's turn), which
was ~0.3 ms of every cell's round trip here.

What the coroutine sees is what a task gives it: each wait's outcome, its own errors raised to
whoever awaits the result, and a cancel of the returned future cancelling the wait it is in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def start(coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Run ``coro`` now until it waits; a future of its result (a task, if it had to wait)."""
    loop = asyncio.get_running_loop()
    try:
        waiting = coro.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(stop.value)
        return done
    except (KeyboardInterrupt, SystemExit):
        raise  # (as a task's step re-raises them)
    except BaseException as exc:
        failed: asyncio.Future[T] = loop.create_future()
        if isinstance(exc, asyncio.CancelledError):
            failed.cancel()
        else:
            failed.set_exception(exc)
        return failed
    return asyncio.ensure_future(_rest(coro, waiting))


async def _rest(coro: Coroutine[Any, Any, T], waiting: Any) -> T:
    """The coroutine's next steps, each once the future it yielded is done (None: one loop turn)."""
    while True:
        cancelled: asyncio.CancelledError | None = None
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False  # (as a task's step takes it over; else it refuses a second await)
                await waiting  # (a cancel of this task cancels it, as a task cancels its waiter)
        except asyncio.CancelledError as exc:
            if waiting is None or not waiting.done():
                cancelled = exc  # this task was cancelled between two waits
        except BaseException:
            if waiting is None or not waiting.done():
                raise
            # (the future's own error: the coroutine reads it below)
        try:
            waiting = coro.throw(cancelled) if cancelled is not None else coro.send(None)
        except StopIteration as stop:
            return stop.value
