"""Work moto repeats on every call although its answer never changes, done once per process instead.

Unlike coach_local/moto_fixes.py these change no behaviour, only cost (measured on a 100k-member `coach run`,
docs/benchmarks.md):

- moto's Step Functions interpreter parses a JSONPath (`$.campaign.client_id`, a ResultPath) with jsonpath-ng
  every time a state reads or writes one, and jsonpath-ng builds its grammar's parser on each parse: 5% of the
  run's Python time. The parsed expressions are immutable (finding and updating act on the data passed to
  them), so each path is parsed once.
- moto's request router rebuilds a service's URL table for every request, and for S3 re-executes (`reload`) its
  `urls` module to see whether the custom-endpoint setting changed: twice per S3 request, a compile of that file
  each time. The runtime's settings do not change while it runs: the table is built once per backend class
  (S3's module loaded once when installed).
- moto serialises a DynamoDB answer by walking the operation's output shape value by value (29% of a GetItem), although
  for an item read or write the answer is already the wire JSON: those answers are dumped as they are when they
  hold only JSON values and no binary attribute (which the walk would base64-encode); anything else is moto's.
- moto takes its global lock and scans its list of live backends on every backend lookup (several per API call),
  to register an account's backend the first time. A lookup of an account already registered (moto's reset
  empties a backend's accounts with its registration) returns it straight away.
- botocore sanitises every user-agent component character by character on every request (about 90 a request),
  although the components are the same few strings: each distinct one is sanitised once.
- moto lists a response class's methods with `inspect.getmembers` on every API call, to see whether the action is
  one of them: 1.4%. A class's methods do not change while it serves: listed once per class.
"""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from typing import Any

import botocore.useragent
import jsonpath_ng
import jsonpath_ng.ext
import moto.core.responses as moto_responses
import moto.s3.urls
from moto.core.base_backend import BackendDict, BaseBackend
from moto.dynamodb.responses import DynamoResult
from moto.s3.models import S3Backend
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

_PATCHED = (
    (json_path, "parse"),
    (result_path, "parse"),
    (moto_responses, "method_names_from_class"),
    (botocore.useragent, "sanitize_user_agent_string_component"),
)
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


_original_urls = BaseBackend.__dict__["urls"]
_original_s3_url_module = S3Backend.__dict__["_url_module"]
_urls: dict[type, dict] = {}


def _urls_once(self: BaseBackend) -> dict:
    table = _urls.get(type(self))
    if table is None:
        table = _urls[type(self)] = _original_urls.fget(self)
    return table


def _s3_urls_module(self: S3Backend) -> Any:
    return moto.s3.urls


ITEM_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"}
)
DYNAMODB_JSON = {"Content-Type": "application/x-amz-json-1.0"}
_BINARY = frozenset({"B", "BS"})


def _wire_ready(value: Any) -> bool:
    """JSON values only (no None, which the walk leaves out), and no binary attribute value anywhere."""
    if isinstance(value, dict):
        return not (_BINARY & value.keys()) and all(_wire_ready(v) for v in value.values())
    if isinstance(value, list):
        return all(_wire_ready(v) for v in value)
    return isinstance(value, str | int | float | bool)


def _dynamodb_result(self: DynamoResult, context: Any) -> Any:
    result = self.result
    if context.operation_model.name in ITEM_OPERATIONS and isinstance(result, dict) and _wire_ready(result):
        return 200, dict(DYNAMODB_JSON), json.dumps(result)
    return _original_execute_result(self, context)


_original_execute_result = DynamoResult.execute_result


_original_getitem = BackendDict.__getitem__


def _registered_first(self: BackendDict, account_id: str) -> Any:
    if dict.__contains__(self, account_id):
        return dict.__getitem__(self, account_id)
    return _original_getitem(self, account_id)


@lru_cache(maxsize=4096)
def _sanitised(raw: str, allow_hash: bool) -> str:
    return str(_original[(botocore.useragent, "sanitize_user_agent_string_component")](raw, allow_hash))


def install() -> None:
    cached = (_parse_extended, _parse_plain, _method_names, _sanitised)
    for (module, name), cached_one in zip(_PATCHED, cached, strict=True):
        setattr(module, name, cached_one)
    _urls.clear()
    importlib.reload(moto.s3.urls)  # once: the settings as they are when the runtime starts
    BaseBackend.urls = property(_urls_once)  # type: ignore[method-assign,assignment]
    S3Backend._url_module = property(_s3_urls_module)  # type: ignore[method-assign,assignment]
    BackendDict.__getitem__ = _registered_first  # type: ignore[method-assign]
    setattr(DynamoResult, "execute_result", _dynamodb_result)  # noqa: B010  (its own method, over the inherited one)


def install_botocore() -> None:
    """Only the botocore half (a function worker's process has no moto to speed up)."""
    module, name = botocore.useragent, "sanitize_user_agent_string_component"
    setattr(module, name, _sanitised)


def uninstall() -> None:
    for (module, name), original in _original.items():
        setattr(module, name, original)
    BaseBackend.urls = _original_urls  # type: ignore[method-assign]
    S3Backend._url_module = _original_s3_url_module  # type: ignore[method-assign]
    BackendDict.__getitem__ = _original_getitem  # type: ignore[method-assign]
    if "execute_result" in DynamoResult.__dict__:
        delattr(DynamoResult, "execute_result")  # inherits moto's again
