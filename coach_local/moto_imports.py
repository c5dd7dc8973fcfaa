"""Importing this module keeps moto from loading what the local runtime never uses.

moto 5.2.5: the Step Functions interpreter imports `moto.batch.utils` (an enum, for its AWS Batch integration),
and the `moto.batch` package's own `__init__` imports every Batch and EC2 model: about a second of CPU in every
`coach run`, the EC2 API model read three times, for an integration the campaign's ASL never calls. Here the
package is registered without running its `__init__`; what that `__init__` exported (`batch_backends`) still
loads, with the models, the first time anything asks for it."""

from __future__ import annotations

import importlib
import sys

from coach_local.lean_package import unexecuted_package

LEAN_PACKAGES = ("moto.batch",)


def _lean(name: str) -> None:
    created = unexecuted_package(name)
    if created is None:
        return
    package, _ = created  # its submodules import from it; its __init__ never runs

    def __getattr__(attribute: str) -> object:  # PEP 562: the package's names, loaded when asked for
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(f"{name}.models"), attribute)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package


for _name in LEAN_PACKAGES:
    _lean(_name)
