"""Secrets Manager: an API key kept as a secret (the value itself, or a JSON object with an `api_key` field)."""

from __future__ import annotations

import json

from coach.adapters.aws import client


def api_key(secret_id: str) -> str:
    value = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"].strip()
    if value.startswith("{"):
        try:
            value = str(json.loads(value)["api_key"]).strip()
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"secret {secret_id}: a JSON secret needs an api_key field") from None
    if not value:
        raise ValueError(f"secret {secret_id} is empty")
    return value
