#!/usr/bin/env python3
"""CDK app: synthesises offline (no AWS calls); cdk-nag AwsSolutions and HIPAA Security checks run on every synth.

Context (`-c name=value` or cdk.json), all optional:
  sender_email       the SES sender address (default noreply@example.org)
  sender_domain      verify this whole domain with Easy DKIM instead of the one address (production); the
                     outputs DkimRecord1..3 are the DNS records to publish
  approval_base_url  the public address of the approval pages (default: the API Gateway stage URL)
  lake_bucket        an existing claims lake bucket (default: a bucket this stack creates)
  lake_prefix        the lake's folder inside that bucket (default: the bucket root)
  lake_key_arn       the KMS key of an existing lake bucket, if it has its own
  alarm_email        subscribed to the alarm topic
  operator_email     receives operator alerts from the workflow (no PHI)
  clinical_reviewer_emails    the clinical pharmacists who review a feed's candidate (comma-separated)
  clinical_escalation_emails  who is asked when no clinical pharmacist reviewed it in time (comma-separated)
  retention_days     how long campaign data, letters and access logs are kept (default 2190 = 6 years)
  audit_retention_years  Object Lock (COMPLIANCE) retention of the audit trail, in years (default 6; the older
                     spelling auditRetentionYears is still read)
  letters_batch_size members per letters batch, one Distributed Map item (default 2000; 100-20000)
  letters_max_concurrency  letter batches rendered at once per client, the Letters map's MaxConcurrency
                     (default 50; 1-1000)
  openfda_api_key_secret_arn  a Secrets Manager secret holding an openFDA API key for the recalls feed (default:
                     none, openFDA's lower anonymous rate limit)
  deps_layer_dir     a built dependency layer folder (default build/layers/deps; `make synth` builds it)
  functions_root     the folder of function folders (default functions/; tests point it at stubs)
  stack_name         default AutomatedPharmacist
"""

import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from stacks.pharmacist_stack import AutomatedPharmacistStack

ROOT = Path(__file__).resolve().parent
DEFAULT_SENDER = "noreply@example.org"
DEFAULT_RETENTION_DAYS = 2190
DEFAULT_AUDIT_RETENTION_YEARS = 6
DEFAULT_LETTERS_BATCH_SIZE = 2000
DEFAULT_LETTERS_MAX_CONCURRENCY = 50


def _int_context(app: cdk.App, name: str, default: int, low: int, high: int, *aliases: str) -> int:
    """An integer context value in [low, high]; the error names the context key and the range."""
    raw = next(
        (v for v in (app.node.try_get_context(n) for n in (name, *aliases)) if v not in (None, "")), default
    )
    try:
        value = int(raw)
    except (TypeError, ValueError):
        sys.exit(f"-c {name}={raw!r}: expected a whole number between {low} and {high}")
    if not low <= value <= high:
        sys.exit(f"-c {name}={value}: expected a whole number between {low} and {high}")
    return value


def build(app: cdk.App) -> AutomatedPharmacistStack:
    context = app.node.try_get_context
    deps = Path(context("deps_layer_dir") or ROOT / "build" / "layers" / "deps")
    if not (deps / "python").is_dir():
        sys.exit(
            f"The dependency layer is not built ({deps}/python is missing): run `make synth`, which builds it "
            "with pip --platform (no Docker), or pass -c deps_layer_dir=<a built layer folder>."
        )
    stack = AutomatedPharmacistStack(
        app,
        context("stack_name") or "AutomatedPharmacist",
        sender_email=context("sender_email") or DEFAULT_SENDER,
        sender_domain=context("sender_domain") or None,
        deps_layer_dir=deps,
        functions_root=Path(context("functions_root") or ROOT / "functions"),
        lake_bucket=context("lake_bucket") or None,
        lake_prefix=context("lake_prefix") or "",
        lake_key_arn=context("lake_key_arn") or None,
        alarm_email=context("alarm_email") or None,
        operator_email=context("operator_email") or None,
        retention_days=int(context("retention_days") or DEFAULT_RETENTION_DAYS),
        audit_retention_years=int(
            context("audit_retention_years")
            or context("auditRetentionYears")
            or DEFAULT_AUDIT_RETENTION_YEARS
        ),
        letters_batch_size=_int_context(app, "letters_batch_size", DEFAULT_LETTERS_BATCH_SIZE, 100, 20_000),
        letters_max_concurrency=_int_context(
            app, "letters_max_concurrency", DEFAULT_LETTERS_MAX_CONCURRENCY, 1, 1_000
        ),
        approval_base_url=context("approval_base_url") or None,
        openfda_api_key_secret_arn=context("openfda_api_key_secret_arn") or None,
        clinical_reviewer_emails=context("clinical_reviewer_emails") or None,
        clinical_escalation_emails=context("clinical_escalation_emails") or None,
        description="Automated pharmacist: market-event campaigns from claims lake to approved member letters",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
