"""The local readers tell an email's kind from its raw header block, as the email package would."""

from coach.adapters.mail import build_mime
from coach.ports import Email

from coach_local.runtime.mailboxes import email_kind, is_kind


def _raw(kind: str, text: str = "Hello\n") -> bytes:
    message = build_mime(
        Email(
            to=("a@b.example",),
            sender="coach@pbm.example",
            subject="X-Coach-Kind: approval in the subject is not a header",
            text=text,
            html="<p>é</p>",
            idempotency_key="k",
            tags={"kind": kind, "campaign": "c1"},
        )
    )
    return message.as_bytes()


def test_the_kind_is_read_from_the_header_block():
    for kind in ("approval", "approval_digest", "clinical_review", "letter", "notice"):
        assert email_kind(_raw(kind)) == kind
    assert is_kind(_raw("approval"), "approval") and not is_kind(_raw("letter"), "approval")


def test_a_kind_written_in_the_body_is_not_the_emails_kind():
    raw = _raw("letter", text="X-Coach-Kind: approval\n\nX-Coach-Kind: approval\n")
    assert email_kind(raw) == "letter" and not is_kind(raw, "approval")


def test_a_message_without_a_one_line_kind_falls_back_to_the_email_package():
    folded = b"From: a@b.example\r\nX-Coach-Kind:\r\n approval\r\nSubject: s\r\n\r\nbody\r\n"
    assert email_kind(folded) is None
    assert is_kind(folded, "approval")
    assert not is_kind(b"From: a@b.example\r\nSubject: s\r\n\r\nX-Coach-Kind: approval\r\n", "approval")
