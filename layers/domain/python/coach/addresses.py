"""Every value that reaches an email header, a subject, a page or a PDF (docs/security.md, "Values that reach a
header"): the one rule that splits a contact cell into addresses, the one check that an address can be delivered
to (email-validator, syntax only: no DNS), and the one test for characters no header or page may hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from email_validator import EmailNotValidError, validate_email

# Cc (C0 and C1 controls: NUL, CR, LF, TAB, ESC, U+0085 …), Zl and Zp (U+2028, U+2029: line and paragraph
# separators), and the bidirectional controls (U+202E turns "invoice_fdp.exe" around on screen).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
BIDI = re.compile(f"[{BIDI_CONTROLS}]")
SEPARATORS = re.compile(r"[,;]")
CONTACT_COLUMNS = ("account_team_emails", "client_contact_emails", "escalation_email")


def has_unsafe_characters(text: str) -> bool:
    """True when `text` holds a control character, a line break or a bidirectional control."""
    return UNSAFE.search(text) is not None


def neutralised(text: str) -> str:
    """`text` made safe for one line (a subject, a report cell): controls become a space, bidi controls vanish."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(" ", BIDI.sub("", text))


def split_addresses(cell: object) -> list[str]:
    """THE rule for a contact cell (account_team_emails, client_contact_emails, escalation_email): the cell is a list
    of items (a Parquet or JSON list, or one text); every item is split at commas and semicolons; blanks are dropped.
    So `["a@x.example, b@y.example"]` is two addresses, each gets its own link, and nobody shares one."""
    if cell is None:
        return []
    items: Iterable[object] = [cell] if isinstance(cell, str) else cell  # type: ignore[assignment]
    return [part.strip() for item in items for part in SEPARATORS.split(str(item)) if part.strip()]


def deliverable(address: str) -> str | None:
    """The address, normalised and lower-cased, when it is one mailbox a message can be sent to; else None."""
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def why_undeliverable(address: str) -> str:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return "deliverable"


def recipients_of(cell: object) -> list[str]:
    """The deliverable addresses of a contact cell, normalised, duplicates dropped, in order."""
    seen: dict[str, None] = {}
    for address in split_addresses(cell):
        if (normal := deliverable(address)) is not None:
            seen.setdefault(normal, None)
    return list(seen)


def contact_problems(name: str, contacts: Mapping[str, object]) -> list[str]:
    """Why a client's name or contact columns cannot be used (empty when they can). Each problem names the column and
    the address's position in it, never the value."""
    problems = []
    if has_unsafe_characters(name):
        problems.append("name: holds a control character, line break or bidirectional override")
    for column in CONTACT_COLUMNS:
        for position, address in enumerate(split_addresses(contacts.get(column)), start=1):
            if deliverable(address) is None:
                problems.append(f"{column}: address {position} is not a deliverable email address")
    return problems
