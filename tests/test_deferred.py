"""The first kernel's events and lines before the UI is made (repl.deferred), and output above
the prompt that waits for a key, for the prompt's drawing and for the rest of its line
(repl.ui.output.console)."""

import asyncio
import io
import os

from repl.deferred import Deferred
from repl.ui.output import console as console_module
from repl.ui.output.console import Console


class Listener:
    def __init__(self, log):
        self.log = log

    def kernel_events(self, kernel, events):
        self.log.append(("events", kernel, tuple(events)))

    def kernel_state(self, kernel, state, before):
        self.log.append(("state", kernel, state, before))

    def kernel_notice(self, kernel, text):
        self.log.append(("notice", kernel, text))


def test_what_comes_before_the_ui_is_handed_to_it_in_order_then_passed_through():
    d = Deferred()
    log: list = []
    d.kernel_state("k", 1, 0)
    d.line("hub: spawning")
    d.kernel_events("k", ["e1"])
    d.err("repl: warning")
    d.kernel_notice("k", "note")
    assert log == []
    d.to(Listener(log), lambda text, stream: log.append(("line", text, stream)))
    assert log == [("state", "k", 1, 0), ("line", "hub: spawning", "out"), ("events", "k", ("e1",)),
                   ("line", "repl: warning", "err"), ("notice", "k", "note")]
    d.kernel_events("k", ["e2"])
    assert log[-1] == ("events", "k", ("e2",))


class FakeRenderer:
    def __init__(self):
        self._min_available_height = 5
        self.erased = 0

    def erase(self, leave_alternate_screen=False):
        self.erased += 1


class FakeInput:
    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd


class FakeApp:
    """What the console asks of a running prompt: is it running, where is it, its keyboard."""

    def __init__(self, fd):
        self.is_running, self.is_done, self._running_in_terminal = True, False, False
        self.renderer, self.input = FakeRenderer(), FakeInput(fd)
        self.after_render = []
        self.invalidated = False  # a drawing is on its way (prompt_toolkit's Application.invalidated)

    def __iadd__(self, other):
        return self

    def invalidate(self):
        self.invalidated = True


def _console(fd):
    out = io.StringIO()
    c = Console(out=out, err=out, batch_delay=0.001)
    app = FakeApp(fd)
    c._app = app  # (the setter hooks prompt_toolkit's render event: not needed here)
    return c, out, app


async def _until(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.002)


def with_console(go) -> None:
    """Run ``go(console, what it wrote, its prompt, the keyboard's write end)``: the keyboard is a pipe."""
    r, w = os.pipe()
    try:
        asyncio.run(go(*_console(r), w))
    finally:
        os.close(r)
        os.close(w)


def test_output_above_the_prompt_waits_while_a_key_is_waiting_to_be_read():
    async def go(c, out, app, w):
        os.write(w, b"x")  # a keystroke the prompt has not read yet
        c.write("out", "flood\n")
        await asyncio.sleep(0.05)
        assert out.getvalue() == "" and app.renderer.erased == 0  # the key is read (and echoed) first
        os.read(app.input.fd, 1)
        await _until(lambda: out.getvalue())
        assert out.getvalue() == "flood\n" and app.renderer.erased == 1

    with_console(go)


def test_an_unfinished_line_above_the_prompt_waits_for_its_end_then_for_no_longer_than_hold():
    async def go(c, out, app, w):
        c.write("out", "beat")
        await asyncio.sleep(0.05)
        assert out.getvalue() == ""  # waits for the rest of its line
        c.write("out", " 7\n")
        await _until(lambda: out.getvalue(), timeout=0.5)
        assert out.getvalue() == "beat 7\n"  # one line, at once (not after the hold)
        c.write("out", "half")
        await asyncio.sleep(console_module.HOLD + 0.2)
        assert out.getvalue() == "beat 7\nhalf\n"  # a line that never ends is shown after the hold, ended

    with_console(go)


def test_a_drawing_on_its_way_goes_before_output_above_the_prompt(monkeypatch):
    monkeypatch.setattr(console_module, "DRAW_WAIT", 30.0)  # (the drawing is what it waits for, not time)
    async def go(c, out, app, w):
        app.invalidated = True  # a key was read: its echo is to be drawn
        c.write("out", "flood\n")
        await asyncio.sleep(0.05)
        assert out.getvalue() == "" and app.renderer.erased == 0
        app.invalidated = False
        c._rendered(app)  # the echo is on screen
        await _until(lambda: out.getvalue() == "flood\n")

    with_console(go)


def test_a_flood_above_the_prompt_goes_a_burst_between_two_drawings(monkeypatch):
    monkeypatch.setattr(console_module, "DRAW_WAIT", 30.0)
    monkeypatch.setattr(console_module, "BURST", 0.0)  # a burst of one piece
    line = "x" * 99 + "\n"
    flood = line * (3 * console_module.PIECE // len(line) + 5)  # four pieces

    async def go(c, out, app, w):
        c.write("out", flood)
        await _until(lambda: out.getvalue())
        await asyncio.sleep(0.05)
        drawn = 0
        while len(out.getvalue()) < len(flood):
            assert len(out.getvalue()) <= (drawn + 1) * console_module.PIECE  # no more until it is drawn
            assert app.invalidated  # (it asked for the drawing)
            app.invalidated = False
            c._rendered(app)
            drawn += 1
            shown = min(drawn * console_module.PIECE, len(flood) - 1)
            await _until(lambda shown=shown: len(out.getvalue()) > shown)
        assert out.getvalue() == flood and drawn == 3 and app.renderer.erased == 4

    with_console(go)


def test_output_above_a_prompt_that_is_not_drawn_goes_anyway(monkeypatch):
    monkeypatch.setattr(console_module, "DRAW_WAIT", 0.02)
    monkeypatch.setattr(console_module, "BURST", 0.0)
    flood = ("y" * 63 + "\n") * (2 * console_module.PIECE // 64 + 1)

    async def go(c, out, app, w):
        app.invalidated = True  # and it never draws
        c.write("out", flood)
        await _until(lambda: out.getvalue() == flood)

    with_console(go)
