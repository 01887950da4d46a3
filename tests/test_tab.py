"""Tab on code asks the kernel at once and opens prompt_toolkit's completion with the answer;
an answer for a text no longer there is dropped. The kernel is a queue of questions answered by
the test."""

from __future__ import annotations

import asyncio

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document

from repl.ui.prompt.completion import ReplCompleter

ANSWER = {"status": "ok", "matches": ["getcwd", "getcwdb"], "cursor_start": 3, "cursor_end": 7, "metadata": {}}


class Kernel:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []
        self.answers: list[asyncio.Future] = []

    async def ask(self, code: str, cursor: int) -> dict | None:
        self.asked.append((code, cursor))
        fut = asyncio.get_running_loop().create_future()
        self.answers.append(fut)
        return await fut


def setup(text: str) -> tuple[Kernel, ReplCompleter, Buffer]:
    kernel = Kernel()
    completer = ReplCompleter(lambda name: [], kernel.ask)
    buffer = Buffer(completer=completer, multiline=True)
    buffer.document = Document(text, len(text))
    return kernel, completer, buffer


async def settle() -> None:
    for _ in range(20):  # (prompt_toolkit's completion runs as a task of its own)
        await asyncio.sleep(0)


def test_tab_asks_at_once_and_opens_the_menu_with_the_answer():
    async def run():
        kernel, completer, buffer = setup("os.getc")
        assert completer.tab(buffer) is True
        assert kernel.asked == [("os.getc", 7)]  # sent inside the key's handler, before any loop turn
        assert completer.tab(buffer) is True  # a second Tab before the answer asks nothing more
        assert len(kernel.asked) == 1
        kernel.answers[0].set_result(ANSWER)
        await settle()
        assert buffer.text == "os.getcwd"  # the common part, as prompt_toolkit's Tab inserts it
        assert buffer.complete_state is not None
        assert [c.display_text for c in buffer.complete_state.completions] == ["getcwd", "getcwdb"]
        assert len(kernel.asked) == 1  # the completion used the answer already there
        assert completer.tab(buffer) is False  # with the menu open, Tab is prompt_toolkit's (the next one)
    asyncio.run(run())


def test_an_answer_for_a_text_no_longer_there_is_dropped():
    async def run():
        kernel, completer, buffer = setup("os.getc")
        completer.tab(buffer)
        buffer.insert_text("w")  # typed on before the kernel answered
        kernel.answers[0].set_result(ANSWER)
        await settle()
        assert buffer.text == "os.getcw" and buffer.complete_state is None
        assert completer.tab(buffer) is True and kernel.asked[-1] == ("os.getcw", 8)  # the next Tab asks again
    asyncio.run(run())


def test_no_answer_opens_no_menu():
    async def run():
        kernel, completer, buffer = setup("nothing_like_it")
        completer.tab(buffer)
        kernel.answers[0].set_result(None)  # (the kernel is gone or slow: no completions)
        await settle()
        assert buffer.text == "nothing_like_it" and buffer.complete_state is None
    asyncio.run(run())


def test_commands_and_blank_lines_keep_prompt_toolkits_tab():
    async def run():
        for text in ("/ne", "   ", ""):
            kernel, completer, buffer = setup(text)
            assert completer.tab(buffer) is False and kernel.asked == []
    asyncio.run(run())
