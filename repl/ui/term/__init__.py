"""Taking part in what the terminal offers: shell-integration marks (OSC 133), the window title,
notifications, the clipboard (OSC 52), hyperlinks (OSC 8), focus reporting, the pager.

``osc`` builds the sequences (pure), ``caps`` says which of them this terminal takes, ``shell``
writes them at the right moments, ``focus`` takes the focus reports out of the keys, ``pager``
hands text to ``$PAGER``, ``width`` tells a kernel the terminal's width. These are our own
sequences: they never pass through the sanitizer, but every word in them from a kernel or a
server does.

Imports of repl.ui only repl.ui.output (the sanitizer) and repl.ui.keymode; never the prompt loop,
the prompt or the routing of kernel events.
"""
