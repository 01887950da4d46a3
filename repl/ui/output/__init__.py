"""Drawing output: where it lands on screen (view), how it is written above or below the prompt
(console), what each event looks like (render, mime), kernel text made safe for the terminal
(sanitize, lineedit), tables for /kernels and /specs, pictures (images, blocks).

Imports nothing of repl.ui outside this package; repl.protocol and repl.cell only.
"""
