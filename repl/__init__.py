"""repl: a terminal REPL for remote Jupyter kernels."""

__version__ = "0.1.0"
