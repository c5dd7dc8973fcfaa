"""Why a link cannot be used (or why a decision was not taken). `coach.approvals.pages.page_for` turns each one
into the page a person sees; nothing else maps errors to HTTP."""

from __future__ import annotations

from coach.approvals.records import DecisionRecord


class ApprovalProblem(Exception):
    """Base of every refusal; never carries a link id, a token or form text."""


class LinkNotFound(ApprovalProblem):
    """No link has this id (mistyped, forged, or purged after its retention)."""


class LinkExpired(ApprovalProblem):
    """The deadline (plus grace) has passed without a decision."""


class LinkSuperseded(ApprovalProblem):
    """A reminder or escalation replaced this link with a newer one."""


class CsrfMismatch(ApprovalProblem):
    """The POST did not come from this link's confirmation page."""


class InvalidForm(ApprovalProblem):
    """The form is not a choice we understand (no decision, or a comment too long)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FormTooLarge(ApprovalProblem):
    """The POST body is larger than our form can produce (a comment far too long, or not our form)."""


class UnreadableForm(ApprovalProblem):
    """Not base64, not UTF-8, or more fields than our form has: the POST did not come from our page."""


class AlreadyDecided(ApprovalProblem):
    """Someone in the group (perhaps this person, a moment ago) already decided."""

    def __init__(self, decision: DecisionRecord) -> None:
        super().__init__(decision.decision)
        self.decision = decision


class TaskNoLongerWaiting(ApprovalProblem):
    """The workflow stopped waiting (TaskTimedOut / TaskDoesNotExist / InvalidToken)."""

    def __init__(self, decision: DecisionRecord | None = None) -> None:
        super().__init__("task closed")
        self.decision = decision


class DeliveryFailed(ApprovalProblem):
    """The decision is recorded but the workflow could not be told yet; a later POST tells it again."""

    def __init__(self, decision: DecisionRecord) -> None:
        super().__init__(decision.decision)
        self.decision = decision
