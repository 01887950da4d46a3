"""What the first kernel says before the prompt is there to hear it.

The network begins at process start: the first kernel is looked up, connected to and asked for
its info while the interactive UI (prompt_toolkit and the rest) is still being imported. Its
events, notices and lines of progress are kept here, in order, and handed to the UI once it is
made; from then on this passes everything straight through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from repl.gateway.channel import ChannelState
    from repl.kernel import Kernel, Listener
    from repl.protocol import session as s


class Deferred:
    def __init__(self) -> None:
        self._kept: list[tuple[str, tuple[Any, ...]]] = []
        self._listener: Listener | None = None
        self._line: Callable[[str, str], None] | None = None

    # the kernels' listener
    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None:
        self._pass("kernel_events", kernel, events)

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None:
        self._pass("kernel_state", kernel, state, before)

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None:
        self._pass("kernel_notice", kernel, text)

    # lines of our own (warnings, a hub's progress, the trace)
    def line(self, text: str, stream: str = "out") -> None:
        self._pass("line", text, stream)

    def err(self, text: str) -> None:
        self._pass("line", text, "err")

    def to(self, listener: Listener, line: Callable[[str, str], None]) -> None:
        """The UI is there: what was kept goes to it, in order, and all that comes after."""
        self._listener, self._line = listener, line
        kept, self._kept = self._kept, []
        for name, args in kept:
            self._pass(name, *args)

    def _pass(self, name: str, *args: Any) -> None:
        if self._listener is None or self._line is None:
            self._kept.append((name, args))
        elif name == "line":
            self._line(*args)
        else:
            getattr(self._listener, name)(*args)
