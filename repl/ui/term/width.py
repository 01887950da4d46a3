"""An IPython kernel this repl started learns the terminal's width, so that pandas and numpy wrap
at it: ``COLUMNS`` and ``LINES`` in its environment, and before each cell pandas'
``display.width`` and numpy's ``linewidth`` follow them (and after it: a cell that imports them), unless the user set their own. Told when
the first cell runs and again when a cell runs after a resize: a silent request queued before the
cell, nothing when the width is unchanged. Kernels attached to (a notebook's, another client's)
are left as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repl import errors

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.kernel import Kernel

# Run silently in the kernel: the names it makes are gone after it. Compiled under a name of its
# own, so that a debugger (justMyCode) does not take its hook for the user's code and stop in it.
SOURCE = """\
def __repl_width():
    import os, sys
    os.environ["COLUMNS"], os.environ["LINES"] = "{columns}", "{lines}"

    def follow(*_):
        width, was = int(os.environ.get("COLUMNS") or 80), getattr(sys, "_repl_width", None)
        pd, np = sys.modules.get("pandas"), sys.modules.get("numpy")
        try:
            if pd is not None and pd.get_option("display.width") in (80, was):
                pd.set_option("display.width", width)
        except Exception:
            pass
        try:
            if np is not None and np.get_printoptions().get("linewidth") in (75, was):
                np.set_printoptions(linewidth=width)
        except Exception:
            pass
        sys._repl_width = width

    if not getattr(sys, "_repl_width_follows", False):
        get_ipython().events.register("pre_run_cell", follow)
        get_ipython().events.register("post_run_cell", follow)  # (pandas imported by a cell: the next follows)
        sys._repl_width_follows = True
    follow()
__repl_width()
"""
CODE = 'exec(compile({source!r}, "<repl: the terminal width>", "exec"), {{"get_ipython": get_ipython}})'


def wants(kernel: Kernel) -> bool:
    info = kernel.session.kernel_info or {}
    return kernel.started_here and kernel.connected and kernel.language_info.get("name") == "python" \
        and info.get("implementation") == "ipython"


async def tell(kernel: Kernel, columns: int, lines: int) -> None:
    """Tell ``kernel`` the width if it wants it and has not been told this one."""
    if kernel.told_width == columns or not wants(kernel):
        return
    kernel.told_width = columns
    try:
        await kernel.execute(CODE.format(source=SOURCE.format(columns=int(columns), lines=int(lines))), silent=True,
                             store_history=False, allow_stdin=False, record=False)
    except errors.ReplError:  # (not connected: the cell after it will say so)
        kernel.told_width = None
