"""``repl --resume [SERVER]``: which recorded session to come back to.

One session to come back to is taken; several are listed (server, kernels, when left) and the
user picks one by number, or names it beforehand (part of its server's URL, ``local``, or its
number in the list). Runs before the event loop: a plain question on the terminal.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from repl import errors, records
from repl.protocol.record import Record, matches, summary


def pick(server: str, ask=input) -> tuple[Path, Record]:
    if "://" in server:  # (a URL copied from the browser: its token is not part of the name, and never shown)
        from repl.gateway import urls

        server = urls.server_base(server)[0]
    found = records.resumable()
    if not found:
        running = records.open_elsewhere()
        also = f" ({len(running)} still open in a running repl: pid {', '.join(str(r.pid) for r in running)})" \
            if running else ""
        raise errors.UsageError(f"no session to come back to{also}: /detach leaves one (so does a repl that was killed)")
    listed = found
    if server.strip().isdigit() and 1 <= int(server) <= len(found):
        return found[int(server) - 1]
    if server.strip():
        found = [pr for pr in found if matches(pr[1], server)]
        if not found:
            raise errors.UsageError(f"no session to come back to on '{server}'; there are:\n" + _table(listed))
    if len(found) == 1:
        return found[0]
    print(f"repl: {len(found)} sessions to come back to:\n{_table(found)}", file=sys.stderr, flush=True)
    try:
        answer = ask(f"come back to which? [1-{len(found)}] ").strip()
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        raise errors.UsageError("no session chosen; nothing was changed") from None
    if not answer.isdigit() or not 1 <= int(answer) <= len(found):
        raise errors.UsageError(f"'{answer}' is not one of 1-{len(found)}; nothing was changed")
    return found[int(answer) - 1]


def _table(found: list[tuple[Path, Record]]) -> str:
    from repl.ui.output.sanitize import label  # (a URL and aliases are the user's, but shown safely)

    now = time.time()
    return "\n".join(f"  {i}  {label(summary(rec, now))}" for i, (_, rec) in enumerate(found, 1))


def holding(kernel: str) -> str | None:
    """How to come back to the session that holds ``kernel`` (an id, id prefix or alias, as
    ``--attach`` takes it), if one can be come back to: a kernel of a detached session is not
    on the server ``--attach`` looked on when that session had an embedded gateway."""
    found = records.resumable()
    for n, (_, rec) in enumerate(found, 1):
        if any(k.id.startswith(kernel) or k.alias == kernel for k in rec.kernels):
            return f"it is in a detached session on {rec.url}: repl --resume {n}"
    return None
