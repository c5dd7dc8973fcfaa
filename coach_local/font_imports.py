"""Importing this module keeps fontTools from loading what the letters never use.

fpdf2 2.8 imports `fontTools.varLib.instancer` (for variable fonts) and, through its colour-font and subsetting
modules, `fontTools.varLib`, whose package `__init__` loads what builds variable fonts (design spaces, feature
files, OpenType layout and colour builders): 37 modules, 0.1–0.2 s of CPU in every `coach run` and render worker,
for letters set in DejaVu Sans, a static font. Here the package is registered without running its `__init__` (its
submodules still import as usual), and the instancer to load at first use: the first name anything asks of either
runs the real module, so a variable font still works."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType

from coach_local.lean_package import unexecuted_package

LEAN_PACKAGE = "fontTools.varLib"  # its submodules (varStore, models, builder) still load as usual
LAZY_MODULES = ("fontTools.varLib.instancer",)

_lock = threading.Lock()  # the runtime's handlers run in threads: the real `__init__` runs once


def _lean(name: str) -> None:
    created = unexecuted_package(name)
    if created is None:
        return
    package, loader = created  # its __init__ waits for the first name asked of it
    loaded = False

    def __getattr__(attribute: str) -> object:  # PEP 562: a name the package has not defined yet
        nonlocal loaded
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(
                f"{name}.{attribute}"
            )  # a submodule: `from varLib import varStore`
        with _lock:
            if loaded or attribute.startswith("__"):
                raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
            loaded = True
            loader.exec_module(package)
        return getattr(package, attribute)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package


def _lazy(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)  # runs the module at its first attribute access
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    setattr(sys.modules[name.rpartition(".")[0]], name.rpartition(".")[2], module)


_lean(LEAN_PACKAGE)
for _name in LAZY_MODULES:
    _lazy(_name)
