"""RedriveExecution, which moto lacks, emulated: a failed campaign runs again as NAME--redrive-N."""

from __future__ import annotations

from typing import Any

from coach.adapters.stepfunctions import execution_arn
from coach.notices import ALERT_STATUSES

from coach_local.status import REDRIVE_SUFFIX


class Attempts:
    """Each campaign's executions: the first (named after the campaign), then its emulated redrives."""

    def __init__(self) -> None:
        self._names: dict[str, list[str]] = {}

    def latest_arn(self, state_machine_arn: str, campaign_id: str) -> str:
        names = self._names.get(campaign_id)
        return execution_arn(state_machine_arn, names[-1] if names else campaign_id)

    def redrives(self, campaign_id: str) -> int:
        return len(self._names.get(campaign_id, [campaign_id])) - 1

    def redrive(self, sfn: Any, state_machine_arn: str, campaign_id: str) -> str:
        """Run the failed campaign again with the same input.

        AWS resumes at the failed state and re-runs only the failed child executions. Here every stage runs again,
        which is a stricter test of what a redrive relies on: audience files and letters land on the same keys,
        letter batches already complete are skipped, an approval already given is reused without asking again,
        and every email goes through the idempotency ledger, so nothing is sent twice."""
        previous = sfn.describe_execution(executionArn=self.latest_arn(state_machine_arn, campaign_id))
        if previous["status"] not in ALERT_STATUSES:
            raise RuntimeError(
                f"{campaign_id} is {previous['status']}: only a failed, timed-out or stopped "
                "campaign can be redriven"
            )
        names = self._names.setdefault(campaign_id, [campaign_id])
        name = f"{campaign_id[:68]}{REDRIVE_SUFFIX}{len(names)}"
        sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=previous["input"])
        names.append(name)
        return name
