"""The layout's rules, checked on the source: the domain knows nothing of boto3 or DuckDB (its adapters do), and
the Lambda handlers build no adapter of their own and read no environment variable (coach.settings does)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "layers" / "domain" / "python" / "coach"
ADAPTERS = DOMAIN / "adapters"
FORBIDDEN_IN_DOMAIN = {"boto3", "botocore", "duckdb", "moto"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a function-level import counts too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_no_domain_module_outside_the_adapters_imports_an_aws_or_local_engine_library():
    offenders = {
        str(path.relative_to(ROOT)): sorted(top_level(imported_modules(path)) & FORBIDDEN_IN_DOMAIN)
        for path in DOMAIN.rglob("*.py")
        if ADAPTERS not in path.parents
    }
    assert {path: libs for path, libs in offenders.items() if libs} == {}


def test_no_domain_module_outside_the_runtime_wiring_imports_an_aws_adapter():
    """Domain code talks to ports; only coach.runtime (the factories) and the adapters themselves name adapters."""
    allowed = {DOMAIN / "runtime.py"}
    offenders = {
        str(path.relative_to(ROOT))
        for path in DOMAIN.rglob("*.py")
        if ADAPTERS not in path.parents
        and path not in allowed
        and any(name.startswith("coach.adapters") for name in imported_modules(path))
    }
    assert offenders == set()


def test_nothing_that_ships_to_lambda_imports_the_local_runtime():
    shipped = [*DOMAIN.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    offenders = {str(p.relative_to(ROOT)) for p in shipped if "coach_local" in top_level(imported_modules(p))}
    assert offenders == set()


def test_handlers_read_the_environment_only_through_settings():
    for handler in (ROOT / "functions").glob("*/handler.py"):
        source = handler.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, handler.parent.name
        assert not top_level(imported_modules(handler)) & {"boto3", "botocore"}, handler.parent.name


def test_the_domain_package_has_no_import_cycle_between_its_modules():
    """Module-level imports inside coach form a DAG (a cycle makes import order matter and breaks cold starts)."""
    graph: dict[str, set[str]] = {}
    for path in DOMAIN.rglob("*.py"):
        parts = path.relative_to(DOMAIN.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps = set()
        for node in tree.body:  # module level only: a function-level import is a deliberate late binding
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coach"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("coach"))
        graph[module] = deps
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done or module not in graph:
            return
        assert module not in visiting, " → ".join([*visiting[visiting.index(module) :], module])
        visiting.append(module)
        for dep in graph[module]:
            visit(dep)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)
