"""The shape of the code: no import cycles between modules of repl/ (type-only imports count: a
lower layer that names an upper one's type still depends on its shape), folders that a newcomer
can read, and a prompt loop that stays small. Read from the source, no imports executed."""

from __future__ import annotations

import ast
from pathlib import Path

REPL = Path(__file__).resolve().parent.parent / "repl"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of repl/ it imports (anywhere in it: top level, functions, TYPE_CHECKING)."""
    files = {module_name(p): p for p in REPL.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                deps.add(base)
                deps.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert "repl.protocol.session" in graph["repl.kernel"]
    assert "repl.ui.output.view" in graph["repl.ui.app"]  # (a package's module, imported by name)


def test_no_import_cycles_between_modules_of_repl():
    assert cycles(import_graph()) == []


def test_the_protocol_core_imports_no_upper_layer():
    for name, deps in import_graph().items():
        if name.startswith("repl.protocol"):
            assert all(d.startswith("repl.protocol") or d == "repl" for d in deps), (name, deps)


def test_no_folder_holds_more_than_12_modules():
    for folder in [REPL, *[p for p in REPL.rglob("*") if p.is_dir() and p.name != "__pycache__"]]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        if folder != REPL:  # (the top level holds the layers' own modules)
            assert len(modules) <= 12, (folder, sorted(p.name for p in modules))


def test_the_prompt_loop_stays_small():
    path = REPL / "ui" / "app.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300
    app = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "App")
    attributes = {n.attr for n in ast.walk(app) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                  and isinstance(n.value, ast.Name) and n.value.id == "self"}
    assert len(attributes) <= 12, sorted(attributes)
