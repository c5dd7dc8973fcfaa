"""A package registered in `sys.modules` without running its `__init__` (coach_local.font_imports and
coach_local.moto_imports): its submodules import as usual; what its `__init__` defines is theirs to provide."""

from __future__ import annotations

import importlib.util
import sys
from importlib.abc import Loader
from types import ModuleType


def unexecuted_package(name: str) -> tuple[ModuleType, Loader] | None:
    """The package `name`, created but not run, with the loader that would run it; None if it is already
    imported or not installed. The caller gives it a module `__getattr__`, then registers it."""
    if name in sys.modules:
        return None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return None
    return importlib.util.module_from_spec(spec), spec.loader  # __path__ is set: its submodules import
