"""The domain package has no import cycles, counting imports inside functions too: a lazy import that hides a
cycle (letters.render ↔ letters.templates once) still ties two modules that should stand one on the other."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "layers" / "domain" / "python"


def _module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, modules: set[str]) -> set[str]:
    """The coach modules a module imports anywhere in its body, except under `if TYPE_CHECKING:`."""
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        pending.extend(ast.iter_child_nodes(node))
    return found & modules


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in (DOMAIN / "coach").rglob("*.py")}
    modules = set(paths)
    return {
        name: _imported(ast.parse(path.read_text(encoding="utf-8")), modules) - {name}
        for name, path in paths.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as the modules along it (first repeated at the end), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph.get(name, ())):
            cycle = visit(target, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_finder_reports_a_cycle_through_a_lazy_import():
    tree = ast.parse("import coach.b\n\ndef f():\n    from coach.a import thing\n")
    graph = {"coach.a": {"coach.b"}, "coach.b": _imported(tree, {"coach.a", "coach.b"})}
    assert find_cycle(graph) == ["coach.a", "coach.b", "coach.a"]


def test_no_module_of_the_domain_imports_one_that_imports_it_back():
    graph = import_graph()
    assert "coach.letters.text" in graph["coach.letters.render"]  # the graph sees real imports
    assert find_cycle(graph) is None


def test_the_pdf_renderer_stands_below_the_template_registry():
    assert "coach.letters.templates" not in import_graph()["coach.letters.render"]


def test_no_domain_module_loads_the_template_authoring_tools():
    # Check, approve and preview are for people editing templates (the CLI), not for a Lambda.
    graph = import_graph()
    importers = sorted(name for name, targets in graph.items() if "coach.letters.authoring" in targets)
    assert importers == []
