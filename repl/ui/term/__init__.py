"""Taking part in what the terminal offers: shell-integration marks (OSC 133), the window title,
notifications, the clipboard (OSC 52), hyperlinks (OSC 8), focus reporting, the pager.

``osc`` builds the sequences (pure), ``caps`` says which of them this terminal takes, ``shell``
writes them at the right moments, ``pager`` hands text to ``$PAGER``. These are our own sequences:
they never pass through the sanitizer, but every word in them from a kernel or a server does.

Imports nothing of repl.ui outside this package but repl.ui.output.sanitize and render (for the
sanitizer); never the prompt loop.
"""
