"""No import cycle between the package's modules, counting imports inside functions too
(a deferred import only hides a cycle until the order of imports changes)."""

import ast
from pathlib import Path

import networkx as nx

from orchestration.settings import PROJECT_ROOT

PACKAGE = "orchestration"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package_dir: Path) -> nx.DiGraph:
    modules = {module_name(path): path for path in package_dir.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` imports that module, not only the package.
                targets = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in modules
                    else node.module
                    for alias in node.names
                ]
            else:
                continue
            graph.add_edges_from((name, target) for target in targets if target in modules)
    return graph


def test_the_import_graph_sees_a_cycle_when_there_is_one(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    assert list(nx.simple_cycles(import_graph(package))) != []


def test_no_module_of_the_package_imports_itself_through_others():
    cycles = [
        " -> ".join(cycle) for cycle in nx.simple_cycles(import_graph(PROJECT_ROOT / PACKAGE))
    ]
    assert cycles == []
