"""The one boto3 client factory of every AWS adapter: created lazily and cached, never at import time (so any
module imports without credentials or a region), with adaptive retries."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})


@cache
def client(service: str, region: str | None = None) -> Any:
    return boto3.client(service, region_name=region, config=_RETRIES)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (the local runtime calls this when it starts a fresh mock)."""
    client.cache_clear()
