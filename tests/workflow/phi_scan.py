"""Looking for PHI canaries in what a local campaign leaves in OUT: every file outside `letters/`, read the way
its reader would read it (an email decoded part by part, JSON with its encoded strings decoded), each email
judged by who receives it."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import gzip
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

# The local runtime's OPERATOR_EMAIL (coach_local/runtime/environment.py): where operator alerts go.
OPERATOR = "operations@pbm.example"
RECIPIENT_HEADERS = ("To", "Cc", "Bcc")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]{16,}")


def canaries_of(member: dict, fields: tuple[str, ...]) -> set[str]:
    """A member's canaries: every PHI field's value, and the local part of the email address (which is as unique,
    and still matches where the address is percent-encoded or split at the @)."""
    values = {str(member[f]) for f in fields if member.get(f)}
    if member.get("email"):
        values.add(str(member["email"]).partition("@")[0])
    return values


def hits(text: str, canaries: set[str]) -> set[str]:
    lowered = text.lower()
    return {c for c in canaries if c.lower() in lowered}


@dataclass
class Directory:
    """Who an address belongs to, from the lake: a member (by id), or a role."""

    members: dict[str, str] = field(default_factory=dict)  # address → member_id
    roles: dict[str, str] = field(
        default_factory=dict
    )  # address → account_team | client | escalation | operator

    @classmethod
    def of(cls, clients: list[dict], members: list[dict]) -> Directory:
        directory = cls(roles={OPERATOR: "operator"})
        for c in clients:
            for address in c["account_team_emails"]:
                directory.roles[address.lower()] = "account_team"
            for address in c["client_contact_emails"]:
                directory.roles[address.lower()] = "client"
            if c.get("escalation_email"):
                directory.roles[c["escalation_email"].lower()] = "escalation"
        for m in members:
            if m.get("email"):
                directory.members[str(m["email"]).lower()] = str(m["member_id"])
        return directory

    def role(self, address: str) -> str:
        address = address.strip().lower()
        if address in self.members:
            return "member"
        return self.roles.get(address, "unknown")


@dataclass
class ScannedEmail:
    path: Path
    kind: str | None  # X-Coach-Kind
    recipients: list[str]
    roles: set[str]
    members: set[str]  # the member ids it is addressed to, when every recipient is a member
    texts: list[tuple[str, str]]  # (where in the email, decoded text)


def email_texts(raw: bytes) -> tuple[EmailMessage, list[tuple[str, str]]]:
    """The raw bytes, and what a mail client shows: every header decoded (RFC 2047), every part's content decoded
    (quoted-printable, base64) and every attachment's filename."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    texts = [("raw", raw.decode("utf-8", errors="replace"))]
    for number, part in enumerate(message.walk()):
        for name, value in part.items():
            texts.append((f"part {number} header {name}", str(value)))
        if (filename := part.get_filename()) is not None:
            texts.append((f"part {number} filename", filename))
        if part.is_multipart():
            continue
        content = part.get_content()
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        elif not isinstance(content, str):  # message/rfc822 and the like
            content = str(content)
        texts.append((f"part {number} {part.get_content_type()}", content))
    return message, texts


def scan_email(path: Path, directory: Directory) -> ScannedEmail:
    message, texts = email_texts(path.read_bytes())
    recipients = [
        address
        for _, address in getaddresses([str(v) for h in RECIPIENT_HEADERS for v in message.get_all(h) or []])
    ]
    roles = {directory.role(a) for a in recipients} or {"unknown"}
    members = {directory.members[a.lower()] for a in recipients} if roles == {"member"} else set()
    return ScannedEmail(path, message.get("X-Coach-Kind"), recipients, roles, members, texts)


def decodings(text: str) -> Iterator[str]:
    """What an encoded string says: percent-encoded (form bodies, URLs), base64 (Lambda and API Gateway bodies),
    gzip inside base64."""
    if "%" in text or "+" in text:
        yield urllib.parse.unquote_plus(text)
    if BASE64.fullmatch(text.strip()):
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            return
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                return
        yield data.decode("utf-8", errors="replace")


def json_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON document, nested JSON documents in strings (task payloads) included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)
    elif isinstance(value, str):
        yield value
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(stripped) > 1:
            try:
                nested = json.loads(stripped)
            except ValueError:
                return
            yield from json_strings(nested)


def json_texts(document: Any) -> list[tuple[str, str]]:
    """A JSON document as text, and every string in it decoded where it is encoded."""
    texts = [("text", json.dumps(document, default=str))]
    for string in json_strings(document):
        texts.extend(("decoded string", decoded) for decoded in decodings(string))
    return texts


def file_texts(path: Path) -> list[tuple[str, str]]:
    """A file that is not an email: its text, and for JSON every string in it, decoded where it is encoded."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".json":
        return [("text", text), *json_texts(json.loads(text))[1:]]
    return [("text", text)]
