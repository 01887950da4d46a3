"""Files moved through a Python kernel (Kernel Gateway, Enterprise Gateway: no contents API), as
data: the expression each step asks the kernel to evaluate, and what its answer says. Pure: no I/O.

Each step is one ``execute_request`` with empty code, ``silent``, ``store_history`` off, and one
``user_expressions`` entry: the expression runs our helper in a namespace of its own (the user's
stays untouched), prints nothing, and its value comes back in the ``execute_reply`` as the
``text/plain`` repr of a JSON string. An exception in it comes back as that entry's ``error``.
Uploads write ``NAME.repl-part-TAG`` beside the target in base64 pieces, then the kernel checks
size and sha256 and renames it into place; downloads read pieces at offsets and check the same.
"""

from __future__ import annotations

import ast
import json
from typing import Any

KEY = "repl_files"

HELPER = r'''
import base64, glob as _glob, hashlib, json, os
def _abs(p):
    return os.path.abspath(os.path.expanduser(p))
def _stat(p):
    p = _abs(p)
    kind = "dir" if os.path.isdir(p) else "file" if os.path.isfile(p) else "none"
    return {"path": p, "kind": kind, "size": os.path.getsize(p) if kind == "file" else 0}
def _hash(p):
    h = hashlib.sha256()
    n = 0
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
            n += len(b)
    return {"size": n, "sha256": h.hexdigest()}
def _op(op, a):
    if op == "stat":
        return _stat(a["path"])
    if op == "glob":
        return sorted(_abs(p) for p in _glob.glob(os.path.expanduser(a["pattern"])) if os.path.isfile(p))
    if op == "begin":
        t = _abs(a["target"])
        if os.path.isdir(t):
            raise IsADirectoryError(t + " is a directory")
        if os.path.exists(t) and not a["force"]:
            raise FileExistsError(t + " exists")
        d = os.path.dirname(t)
        if not os.path.isdir(d):
            raise FileNotFoundError("no directory " + d)
        part = t + a["suffix"]
        open(part, "wb").close()
        return {"part": part, "target": t}
    if op == "append":
        with open(a["part"], "ab") as f:
            f.write(base64.b64decode(a["data"]))
            return {"size": f.tell()}
    if op == "finish":
        got = _hash(a["part"])
        if got != {"size": a["size"], "sha256": a["sha256"]}:
            os.unlink(a["part"])
            raise ValueError("the file arrived damaged (size %d, expected %d; or its sha256 differs)" % (got["size"], a["size"]))
        if os.path.exists(a["target"]) and not a["force"]:
            os.unlink(a["part"])
            raise FileExistsError(a["target"] + " exists")
        os.replace(a["part"], a["target"])
        return {"ok": True}
    if op == "abort":
        if os.path.exists(a["part"]):
            os.unlink(a["part"])
        return {"ok": True}
    if op == "read":
        with open(a["path"], "rb") as f:
            f.seek(a["offset"])
            return {"data": base64.b64encode(f.read(a["length"])).decode("ascii")}
    if op == "hash":
        return _hash(_abs(a["path"]))
    raise ValueError("unknown step " + op)
result = json.dumps(_op(op, json.loads(raw)))
'''


def expression(op: str, **args: Any) -> dict[str, str]:
    """The ``user_expressions`` of one step."""
    call = f"(lambda g: exec({HELPER!r}, g) or g['result'])({{'op': {op!r}, 'raw': {json.dumps(args)!r}}})"
    return {KEY: call}


class KernelFileError(Exception):
    """The kernel said no (its exception's type and message), or answered what we cannot read."""


def answer(reply: dict | None) -> Any:
    """The value of a step from its ``execute_reply`` content."""
    if not isinstance(reply, dict):
        raise KernelFileError("the kernel did not answer")
    if reply.get("status") != "ok":
        raise KernelFileError(f"the kernel refused the request ({reply.get('ename', reply.get('status'))}: {reply.get('evalue', '')})")
    entry = (reply.get("user_expressions") or {}).get(KEY)
    if not isinstance(entry, dict):
        raise KernelFileError("the kernel does not evaluate user_expressions (is it a Python kernel?)")
    if entry.get("status") != "ok":
        ename, evalue = str(entry.get("ename", "error")), str(entry.get("evalue", ""))
        raise KernelFileError(f"{ename}: {evalue}" if evalue else ename)
    text = (entry.get("data") or {}).get("text/plain")
    try:
        return json.loads(ast.literal_eval(str(text)))
    except (ValueError, SyntaxError, TypeError) as exc:
        raise KernelFileError(f"the kernel's answer cannot be read ({exc})") from None
