"""The prompt's lexer: built in a thread just after the prompt that wants it is drawn."""

import asyncio
import types

from prompt_toolkit.lexers import PygmentsLexer, SimpleLexer

from repl.ui.output import render
from repl.ui.prompt.parts import PromptParts


def test_the_first_prompt_of_a_kernel_is_drawn_plain_and_coloured_once_its_lexer_is_built():
    kernel = types.SimpleNamespace(id="k1", language_info={"name": "python", "pygments_lexer": "ipython3"})
    parts = PromptParts(types.SimpleNamespace(current=kernel), render.Style(color=True), shell=None)
    invalidated = []
    app = types.SimpleNamespace(invalidate=lambda: invalidated.append(1), current_buffer=types.SimpleNamespace(text=""))
    session = types.SimpleNamespace(app=app, lexer=None)
    parts._session = session

    async def go():
        first = parts.lexer()
        assert isinstance(first, SimpleLexer)  # (finding and compiling pygments' rules waits for the prompt to be drawn)
        assert parts.lexer() is first  # (built once)
        for _ in range(500):
            if isinstance(parts.lexer(), PygmentsLexer):
                break
            await asyncio.sleep(0.01)
        lexer = parts.lexer()
        assert isinstance(lexer, PygmentsLexer) and lexer.pygments_lexer.name == "Python"
        assert invalidated == [1]  # the prompt is drawn again, coloured,
        assert session.lexer is not None and session.lexer.get_lexer() is lexer  # by a new lexer object (lines lexed by the old one are kept by it)

    asyncio.run(go())
