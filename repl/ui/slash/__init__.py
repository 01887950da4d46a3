"""The /commands: their names, help text, parsing and completion (commands, pure), and what each
does (actions).

May import repl.ui.output.view, repl.ui.prompt's editor, repl.ui.debugger's words and the workspace.
"""
