"""Kernels as people know them on Jupyter Server: by their notebook. The real `repl` in a pty."""

import httpx
import pytest

from repl.workspace import path_matches


def test_path_matching():
    assert path_matches("proj/analysis.ipynb", "analysis.ipynb")
    assert path_matches("proj/analysis.ipynb", "proj/analysis")
    assert path_matches("proj/analysis.ipynb", "analysis")
    assert path_matches("proj/analysis.ipynb", "/proj/analysis.ipynb/")
    assert not path_matches("proj/analysis.ipynb", "lysis.ipynb")  # a tail starts at a directory
    assert not path_matches("proj/analysis.ipynb", "proj")
    assert not path_matches("proj/analysis.ipynb", "")


def make_session(server, path):
    r = httpx.post(f"{server.url}/api/sessions", headers={"Authorization": f"token {server.token}"}, timeout=60,
                   json={"path": path, "type": "notebook", "name": path.rsplit("/", 1)[-1], "kernel": {"name": "python3"}})
    assert r.status_code == 201, r.text
    return r.json()["kernel"]["id"]


def sessions(server):
    r = httpx.get(f"{server.url}/api/sessions", headers={"Authorization": f"token {server.token}"})
    return {s["path"]: s["kernel"]["id"] for s in r.json()}


@pytest.fixture
def notebooks(jupyter_server):
    kids = [make_session(jupyter_server, p) for p in ("proj/analysis.ipynb", "other/analysis.ipynb")]
    yield kids
    for kid in kids:
        httpx.delete(f"{jupyter_server.url}/api/kernels/{kid}", headers={"Authorization": f"token {jupyter_server.token}"})


def test_kernels_by_notebook_on_jupyter_server(term, jupyter_server, notebooks):
    proj, other = notebooks
    t = term("--attach", "proj/analysis", gw=jupyter_server)
    t.wait_for(f"attached to python3 kernel {proj[:8]}")
    t.wait_prompt(1)
    t.enter("/kernels")
    t.wait_for("proj/analysis.ipynb (notebook)")
    assert "other/analysis.ipynb (notebook)" in t.text()
    assert next(line for line in t.text().splitlines() if "last activity" in line).endswith("session")
    t.enter("/use analysis.ipynb")
    t.wait_for("'analysis.ipynb' names 2 notebooks: other/analysis.ipynb")
    t.enter("/use other/analysis.ipynb")
    t.wait_for(f"(python3 {other[:8]})")
    t.enter("/new python3 --path scratch.ipynb")
    t.wait_for("for scratch.ipynb; it is now current")
    assert "scratch.ipynb" in sessions(jupyter_server)
    scratch = sessions(jupyter_server)["scratch.ipynb"]
    t.ctrl("d")
    assert t.wait_exit() == 0
    kernels = {k["id"] for k in httpx.get(f"{jupyter_server.url}/api/kernels",
                                          headers={"Authorization": f"token {jupyter_server.token}"}).json()}
    assert scratch not in kernels and proj in kernels  # the one it started is shut down, the others stay


def test_a_gateway_without_sessions_has_no_session_column(term):
    t = term()
    t.wait_prompt(1)
    t.enter("/kernels")
    t.wait_for(lambda t: "last activity" in t.plain())  # (the session's gateway may list more kernels than a screen)
    header = next(line for line in t.plain().splitlines() if "last activity" in line)
    assert header.rstrip().endswith("last activity")  # no session column
