#!/usr/bin/env python3
"""CDK app: synthesises offline (no AWS calls); cdk-nag AwsSolutions and HIPAA Security checks run on every synth."""

import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from stacks.pharmacist_stack import AutomatedPharmacistStack

ROOT = Path(__file__).resolve().parent


def build(app: cdk.App) -> AutomatedPharmacistStack:
    context = app.node.try_get_context
    deps = Path(context("deps_layer_dir") or ROOT / "build" / "layers" / "deps")
    if not (deps / "python").is_dir():
        sys.exit(f"The dependency layer is not built ({deps}/python is missing): run `make synth`, which builds it "
                 "with pip --platform (no Docker).")
    functions_root = Path(context("functions_root") or ROOT / "functions")
    stack = AutomatedPharmacistStack(
        app, context("stack_name") or "AutomatedPharmacist",
        sender_email=context("sender_email") or "noreply@example.org", deps_layer_dir=deps,
        functions_root=functions_root, lake_bucket=context("lake_bucket") or None,
        lake_prefix=context("lake_prefix") or "", alarm_email=context("alarm_email") or None,
        operator_email=context("operator_email") or None, retention_days=int(context("retention_days") or 2190),
        approval_base_url=context("approval_base_url") or None,
        description="Automated pharmacist: market-event campaigns from claims lake to approved member letters")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
