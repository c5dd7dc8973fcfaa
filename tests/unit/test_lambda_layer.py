"""The Lambda dependency layer is exported from uv.lock: what the shipped code imports is in it, nothing local is."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "layers" / "domain" / "python" / "coach", ROOT / "functions"]
FIRST_PARTY = {"coach"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def layer_pins() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("build_deps", ROOT / "layers" / "build_deps.py")
    assert spec is not None and spec.loader is not None
    build_deps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_deps)
    pins = {}
    for line in build_deps.lambda_requirements().splitlines():
        if match := PIN.match(line):
            pins[_normalize(match[1])] = match[2]
    return pins


def _imported_top_levels(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY - {"__future__"}


def test_every_package_the_shipped_code_imports_is_in_the_layer(layer_pins: dict[str, str]) -> None:
    providers = packages_distributions()
    missing = []
    for folder in SHIPPED:
        for path in sorted(folder.rglob("*.py")):
            for module in sorted(_imported_top_levels(path)):
                dists = {_normalize(d) for d in providers.get(module, [module])}
                if not dists & layer_pins.keys():
                    missing.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(dists))})")
    assert not missing, "not in the Lambda layer (add to [project] dependencies):\n" + "\n".join(missing)


def test_the_layer_ships_the_versions_the_tests_run(layer_pins: dict[str, str]) -> None:
    for core in ("aws-lambda-powertools", "boto3", "pydantic", "jinja2", "fpdf2", "pillow"):
        assert core in layer_pins
    drifted = {name: (pin, version(name)) for name, pin in layer_pins.items() if version(name) != pin}
    assert not drifted, f"layer pin != installed version: {drifted}"


def test_the_local_runtime_stays_out_of_the_layer(layer_pins: dict[str, str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    local = {_normalize(re.split(r"[\[=<>]", spec)[0]) for spec in project["optional-dependencies"]["local"]}
    assert {"duckdb", "moto", "numpy", "typer", "faker", "matplotlib"} <= local
    assert not local & layer_pins.keys(), (
        f"local-only packages in the Lambda layer: {local & layer_pins.keys()}"
    )
