"""History search (Ctrl-R, Ctrl-S; vi's / and ?) at every prompt: the line's own keys stay out
of it, and no prompt starts inside a search that is no longer shown.

While the search field has the keys, prompt_toolkit's search bindings own them: Enter accepts
the match into the prompt's line, as in IPython, with the cursor at its end so that the next
Enter runs it (in a multi-line cell an Enter inside opens a line); Escape accepts it with the
cursor where the match is, to edit there; Ctrl-G gives it up. The
prompt's own bindings (run or continue the cell, Alt-Enter, inspect, the editor) apply to the
line only (``at_the_line``): run on the search field they ran its text as a cell or put a newline
in it, hiding it, and the next keys went into a field nobody could see.

A prompt that ends while searching (Ctrl-C, a kernel's question it steps aside for) leaves the
search: prompt_toolkit forgets the search when the prompt runs again but keeps its field focused,
so that prompt read into a hidden field and Ctrl-D (which needs the line focused) did nothing.
"""

from __future__ import annotations

from prompt_toolkit import PromptSession, search
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import has_focus, is_searching
from prompt_toolkit.key_binding import KeyBindings

at_the_line = has_focus(DEFAULT_BUFFER)


def bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=is_searching)
    def _(event) -> None:
        search.accept_search()
        buf = event.app.current_buffer  # the line again
        buf.cursor_position = len(buf.text)

    return kb


def start_at_the_line(session: PromptSession) -> PromptSession:
    """Make every run of ``session`` start with its line focused and no search text; returns it."""

    def reset(app) -> None:
        session.search_buffer.reset()
        app.layout.focus(session.default_buffer)

    session.app.on_reset += reset
    return session
