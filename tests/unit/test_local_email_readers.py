"""The local approver and pharmacist read an email's routing headers as the SES mailer writes them: a campaign id long
enough to fold the X-Coach-Campaign line (a long event_id) reads back as the id, with no leading space, so an answer
chosen by campaign reaches that campaign."""

from __future__ import annotations

from coach.adapters.mail import build_mime
from coach.intake import campaign_id_for
from coach.ports import Email

from coach_local.approver import read_approval_email
from coach_local.reviewer import read_review_email

CAMPAIGN = campaign_id_for("fault-closereview-lambda-toomanyrequestsexception")


def raw(kind: str, link: str) -> bytes:
    email = Email(
        to=("someone@pbm.example",),
        subject="Please answer",
        text=f"Open {link}\n",
        sender="coach@pbm.example",
        tags={"kind": kind, "campaign": CAMPAIGN, "client": "C1", "role": "account_team"},
    )
    return build_mime(email).as_bytes()


def test_the_header_line_is_folded_here():
    assert b"X-Coach-Campaign:\n " in raw("approval", "x").replace(b"\r\n", b"\n")


def test_a_folded_campaign_header_reads_back_as_the_campaign_id():
    approval = read_approval_email(raw("approval", "http://127.0.0.1:1/a/" + "A" * 24))
    review = read_review_email(raw("clinical_review", "http://127.0.0.1:1/r/" + "B" * 24))
    assert approval is not None and review is not None
    assert (approval.campaign_id, approval.client_id, approval.role) == (CAMPAIGN, "C1", "account_team")
    assert review.campaign_id == CAMPAIGN
