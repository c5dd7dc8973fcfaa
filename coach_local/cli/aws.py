"""`coach` against a deployed stack (your AWS credentials): redrive a failed campaign, put a market event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from coach_local.cli.common import EXIT_FAILED, JsonFlag, console, err, fail_input, print_json
from coach_local.inputs import BadInput, load_event

app = typer.Typer()
event_app = typer.Typer(help="Market events for a deployed stack.", no_args_is_help=True)


@contextmanager
def _aws_call(what: str) -> Iterator[None]:
    """AWS configuration problems are bad input (exit 2, what to set); a refusal by AWS ends the command (exit 1)
    with AWS's error code and message; never a traceback."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except NoRegionError:
        fail_input(f"{what}: no AWS region: pass --region or set AWS_REGION (or a profile's region)")
    except (NoCredentialsError, PartialCredentialsError):
        fail_input(
            f"{what}: no AWS credentials: set AWS_PROFILE (see `aws configure`) or the AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY environment variables"
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.print(
            f"[bold red]error:[/] {what}: AWS refused: {error.get('Code')}: {error.get('Message')}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
    except BotoCoreError as exc:
        err.print(f"[bold red]error:[/] {what}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def redrive(
    campaign_id: Annotated[
        str, typer.Argument(help="The failed campaign (its execution name, from the alert).")
    ],
    state_machine: Annotated[
        str, typer.Option(help="Name or ARN of the deployed campaign state machine.")
    ] = "automated-pharmacist-campaign",
    region: Annotated[str | None, typer.Option(help="AWS region (default: your AWS configuration).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Redrive a failed, timed-out or stopped campaign on AWS: it resumes at the failed stage; nothing sent is sent again."""
    import boto3  # boto3 and the domain load only when an AWS command runs, not with every `coach` command
    from coach.adapters.stepfunctions import execution_arn, state_machine_arn
    from coach.notices import ALERT_STATUSES

    with _aws_call("redrive"):
        sfn = boto3.client("stepfunctions", region_name=region)
        if state_machine.startswith("arn:"):
            machine_arn = state_machine
        else:
            account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
            machine_arn = state_machine_arn(state_machine, region=sfn.meta.region_name, account=account)
        execution = execution_arn(machine_arn, campaign_id)
        try:
            described = sfn.describe_execution(executionArn=execution)
        except sfn.exceptions.ExecutionDoesNotExist:
            fail_input(f"no campaign {campaign_id!r} in {machine_arn}")
        if described["status"] not in ALERT_STATUSES:
            fail_input(
                f"campaign {campaign_id} is {described['status']}: only a failed, timed-out or stopped "
                "campaign can be redriven"
            )
        started = sfn.redrive_execution(executionArn=execution)
    result = {
        "campaign_id": campaign_id,
        "execution_arn": execution,
        "redriven_at": str(started["redriveDate"]),
        "previous_status": described["status"],
    }
    if as_json:
        print_json(result)
    else:
        console.print(
            f"Redriven: {campaign_id} resumes at its failed stage (was {described['status']}).",
            highlight=False,
        )


@event_app.command("put")
def event_put(
    file: Annotated[
        Path, typer.Option("--file", help="Market event JSON (EventBridge envelope or its detail).")
    ],
    bus: Annotated[str, typer.Option(help="Event bus name.")] = "default",
    region: Annotated[str | None, typer.Option(help="AWS region (default: your AWS configuration).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate an event, then send it to the deployed EventBridge bus (uses your AWS credentials)."""
    import boto3
    from coach.intake import campaign_id_for

    try:
        raw = load_event(file)
    except BadInput as exc:
        fail_input(str(exc))
    entry = {
        "Source": raw["source"],
        "DetailType": raw["detail-type"],
        "Detail": json.dumps(raw["detail"]),
        "EventBusName": bus,
    }
    with _aws_call("event put"):
        response = boto3.client("events", region_name=region).put_events(Entries=[entry])
    failed = response.get("FailedEntryCount", 0)
    result = {
        "campaign_id": campaign_id_for(raw["detail"]["event_id"]),
        "sent": not failed,
        "event_id": (response.get("Entries") or [{}])[0].get("EventId"),
        "error": (response.get("Entries") or [{}])[0].get("ErrorMessage"),
    }
    if as_json:
        print_json(result)
    elif failed:
        err.print(f"[bold red]not sent:[/] {result['error']}", highlight=False)
    else:
        console.print(f"Sent. The campaign's execution is named {result['campaign_id']}.", highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)
