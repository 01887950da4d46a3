"""The kernel debugger's prompt: the (dbg) prompt while execution is stopped (prompt) and its
words, /break's and /unbreak's arguments (words).

May import repl.ui.output.view, repl.ui.prompt's lexer, repl.ui.slash's command parsing, and repl.protocol.
"""
