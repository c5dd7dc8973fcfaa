"""Why someone declined: a fixed choice plus free text (length-limited; the page asks for no personal details).

The choice is what the report counts; the text is kept in the audit record beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from coach.approvals.errors import InvalidForm

MAX_COMMENT = 1000
# code → what the page shows (codes are what the decision, the audit record and the report keep)
DECLINE_REASONS: dict[str, str] = {
    "not_relevant": "Not relevant for this client's members",
    "client_communicates": "The client tells its members itself",
    "timing": "Bad timing (open enrolment, plan change, another mailing)",
    "content": "The letter's content needs changes",
    "other": "Another reason (please explain below)",
}


def reason_label(code: str) -> str:
    return DECLINE_REASONS.get(code, code.replace("_", " "))


def read_choice(
    form: Mapping[str, str], *, prefix: str = ""
) -> tuple[Literal["approved", "declined"], str, str]:
    """(approved|declined, comment, reason code) from a form's fields `<prefix>decision`, `<prefix>reason` and
    `<prefix>comment`. A decline needs a reason; "other" also needs a few words."""
    choice = form.get(f"{prefix}decision", "")
    if choice not in ("approve", "decline"):
        raise InvalidForm("Use the Approve or Decline button on the page.")
    comment = form.get(f"{prefix}comment", "").replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidForm(f"The comment is longer than {MAX_COMMENT} characters.")
    if choice == "approve":
        return "approved", comment, ""
    reason = form.get(f"{prefix}reason", "")
    if reason not in DECLINE_REASONS:
        raise InvalidForm("Please choose why you decline from the list on the page.")
    if reason == "other" and not comment:
        raise InvalidForm("Please say in a few words why you decline (no member names or personal details).")
    return "declined", comment, reason
