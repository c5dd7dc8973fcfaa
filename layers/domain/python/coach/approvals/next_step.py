"""What happens after a decision, said truthfully on the thank-you page (never "the letters will go ahead" while
someone else still has to agree)."""

from __future__ import annotations

from coach.approvals.records import LinkRecord
from coach.audience.privacy import client_facing_count, exact_count


def next_step(link: LinkRecord, decision: str) -> str:
    counted = exact_count if link.audience == "internal" else client_facing_count
    reachable = counted(link.reachable)
    name = link.client_name
    if decision != "approved":
        if link.role == "account_team":
            return f"No letter will be sent to {name}'s members for this event, and the client is not asked."
        return f"No letter will be sent to {name}'s members for this event."
    letters = (
        f"Letters for the members we can reach ({reachable}) are generated now, as the campaign's next step, "
        "and sent by mail or email."
    )
    if link.role == "client":
        return letters
    if link.election == "always":
        return (
            f"{name} has a standing election to receive these letters, so the client is not asked. {letters}"
        )
    if link.ask_client is False:
        return f"This kind of event needs no client approval. {letters}"
    if link.ask_client is True:
        return (
            f"{name}'s benefits contact is asked next. Nothing has been sent yet: letters go out only if the "
            "client approves too."
        )
    return (
        "Nothing has been sent yet: the client may still be asked, and letters go out only once every approval "
        "this event needs is in."
    )
