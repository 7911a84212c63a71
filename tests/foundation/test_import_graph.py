"""The import graph of koronto's packages: no circles, and no arrow from `vending` up into `backoffice` or `demo`.

Every import counts, at the top of a module or inside a function (an import moved into a function still ties the
two modules together; it only hides the circle from Python). No module of `vending` imports `backoffice` or
`demo`, and no two modules reach each other by any path.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "vending", "ussd", "backoffice", "demo", "fakes")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list[str]:
    """The project modules one import statement loads (`from a import b` is a.b when that is a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            prefix = ".".join([*base, *([node.module] if node.module else [])])
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix for alias in node.names]
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name].update(_imported(name, path, node, modules))
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each module's strongly connected component (Tarjan, iterative): modules on one circle share a number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
    return component


def circle_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    component = strongly_connected(graph)
    return {(a, b) for a, targets in graph.items() for b in targets if component[a] == component[b]}


def up_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (a, b)
        for a, targets in graph.items()
        for b in targets
        if a.split(".")[0] == "vending" and b.split(".")[0] in ("backoffice", "demo")
    }


def test_no_import_circle():
    assert circle_edges(import_graph()) == set(), "these imports close a circle"


def test_no_import_from_vending_up_into_backoffice_or_demo():
    assert up_edges(import_graph()) == set(), "vending must not import backoffice or demo"


def test_the_checks_see_a_circle_and_an_upward_arrow():
    graph = {
        "vending.a": {"vending.b"},
        "vending.b": {"vending.c"},
        "vending.c": {"vending.a", "demo.x"},
        "demo.x": set(),
        "ussd.y": {"vending.a"},
    }
    assert circle_edges(graph) == {("vending.a", "vending.b"), ("vending.b", "vending.c"), ("vending.c", "vending.a")}
    assert up_edges(graph) == {("vending.c", "demo.x")}


def test_function_level_and_relative_imports_are_edges(tmp_path):
    modules = {"fakes": tmp_path / "__init__.py", "fakes.a": tmp_path / "a.py", "fakes.b": tmp_path / "b.py"}
    tree = ast.parse("def f():\n    from . import b\n    from .b import thing\n    import fakes.b\n")
    found = [
        target
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in _imported("fakes.a", modules["fakes.a"], node, modules)
    ]
    assert found == ["fakes.b", "fakes.b", "fakes.b"]


def test_the_pipeline_is_the_floor_the_services_record_work_on():
    """vending.pipeline (the one module that enqueues) imports no service and nothing that calls one, so every
    service may record work without closing a circle; what runs the tasks sits above (vending.tasks)."""
    above = {
        m
        for m in import_graph()["vending.pipeline"]
        if m.startswith(("vending.services", "vending.tasks", "vending.sweeps", "ussd", "backoffice", "demo"))
    }
    assert above == set()
