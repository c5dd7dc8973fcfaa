"""Work moto repeats on every call although its answer never changes, done once per process instead.

Unlike coach_local/moto_fixes.py these change no behaviour, only cost (measured on a 100k-member `coach run`,
docs/benchmarks.md):

- moto's Step Functions interpreter parses a JSONPath (`$.campaign.client_id`, a ResultPath) with jsonpath-ng
  every time a state reads or writes one, and jsonpath-ng builds its grammar's parser on each parse: 5% of the
  run's Python time. The parsed expressions are immutable (finding and updating act on the data passed to
  them), so each path is parsed once.
- moto lists a response class's methods with `inspect.getmembers` on every API call, to see whether the action is
  one of them: 1.4%. A class's methods do not change while it serves: listed once per class.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
import moto.core.responses as moto_responses
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

_PATCHED = ((json_path, "parse"), (result_path, "parse"), (moto_responses, "method_names_from_class"))
_original: dict[tuple[Any, str], Any] = {(module, name): getattr(module, name) for module, name in _PATCHED}


@lru_cache(maxsize=4096)
def _parse_extended(path: str) -> Any:
    return jsonpath_ng.ext.parse(path)


@lru_cache(maxsize=4096)
def _parse_plain(path: str) -> Any:
    return jsonpath_ng.parse(path)


@lru_cache(maxsize=1024)
def _method_names(clazz: type) -> tuple[str, ...]:
    return tuple(_original[(moto_responses, "method_names_from_class")](clazz))


def install() -> None:
    for (module, name), cached in zip(_PATCHED, (_parse_extended, _parse_plain, _method_names), strict=True):
        setattr(module, name, cached)


def uninstall() -> None:
    for (module, name), original in _original.items():
        setattr(module, name, original)
