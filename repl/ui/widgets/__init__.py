"""Jupyter widgets: drawing a widget model as text (draw), and the displayed widgets redrawn in
place as their models change, with Output widgets' captured output (view).

May import repl.ui.output.view and repl.protocol.
"""
