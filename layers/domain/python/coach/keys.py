"""Deterministic S3 keys (docs/architecture.md): a retry or redrive overwrites, never duplicates."""

from __future__ import annotations


def campaign_prefix(campaign_id: str) -> str:
    return f"campaigns/{campaign_id}"


def clients_key(campaign_id: str) -> str:
    return f"{campaign_prefix(campaign_id)}/audience/clients.json"


def client_audience_prefix(campaign_id: str, client_id: str) -> str:
    return f"{campaign_prefix(campaign_id)}/audience/{client_id}"


def outcome_key(campaign_id: str, client_id: str) -> str:
    return f"{campaign_prefix(campaign_id)}/outcomes/{client_id}.json"


def report_key(campaign_id: str) -> str:
    return f"{campaign_prefix(campaign_id)}/report.json"


def letters_prefix(campaign_id: str, client_id: str) -> str:
    return f"{campaign_prefix(campaign_id)}/{client_id}"


def quarantine_key(received_on: str, digest: str) -> str:
    return f"quarantine/{received_on}/{digest}.json"
