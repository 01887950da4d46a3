"""Typing at the prompt: its message and toolbar (parts), key bindings (keys), completion and
questions to the kernel while typing (completion, asking), pastes (fastinput), long lines (elide),
the cell in $EDITOR (editor), history and its search (history, histsearch), the lexer.

May import repl.ui.output.view (for writing lines), repl.ui.term (the terminal's marks and focus
reports), repl.protocol and the kernel's types; never the prompt loop (repl.ui.app) or the routing
of kernel events.
"""
