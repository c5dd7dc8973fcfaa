#!/usr/bin/env python3
"""CDK app: synthesises offline (no AWS calls); cdk-nag AwsSolutions and HIPAA Security checks run on every synth.

Context (`-c name=value` or cdk.json), all optional:
  sender_email       the SES sender address (default noreply@example.org)
  approval_base_url  the public address of the approval pages (default: the API Gateway stage URL)
  lake_bucket        an existing claims lake bucket (default: a bucket this stack creates)
  lake_prefix        the lake's folder inside that bucket (default: the bucket root)
  lake_key_arn       the KMS key of an existing lake bucket, if it has its own
  alarm_email        subscribed to the alarm topic
  operator_email     receives operator alerts from the workflow (no PHI)
  retention_days     how long campaign data, letters and access logs are kept (default 2190 = 6 years)
  auditRetentionYears  Object Lock (COMPLIANCE) retention of the audit trail, in years (default 6)
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
        deps_layer_dir=deps,
        functions_root=Path(context("functions_root") or ROOT / "functions"),
        lake_bucket=context("lake_bucket") or None,
        lake_prefix=context("lake_prefix") or "",
        lake_key_arn=context("lake_key_arn") or None,
        alarm_email=context("alarm_email") or None,
        operator_email=context("operator_email") or None,
        retention_days=int(context("retention_days") or DEFAULT_RETENTION_DAYS),
        audit_retention_years=int(context("auditRetentionYears") or DEFAULT_AUDIT_RETENTION_YEARS),
        approval_base_url=context("approval_base_url") or None,
        description="Automated pharmacist: market-event campaigns from claims lake to approved member letters",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
