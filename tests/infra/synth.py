"""One offline synth of the app per test process, shared by the infra tests (no conftest: imported directly).

The functions root is a temporary folder of stub handlers and the dependency layer an empty python/ folder, so
the tests depend on neither the real handlers nor a built layer; the real ASL file and domain layer are used."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk.assertions import Template
from coach.catalog import FUNCTION_NAMES

from app import build

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = {
    "sender_email": "pharmacist@pbm.example",
    "alarm_email": "ops@pbm.example",
    "operator_email": "operator@pbm.example",
}
# A production-like deploy: a PBM's existing lake (its own bucket, folder and key), its own address for the
# approval pages, its verified sending domain and its own letters batching.
EXTERNAL_LAKE = {
    "lake_bucket": "pbm-claims-lake",
    "lake_prefix": "extracts/v1",
    "lake_key_arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "approval_base_url": "https://approvals.pbm.example",
    "sender_domain": "pbm.example",
    "letters_batch_size": "5000",
    "letters_max_concurrency": "20",
    "clinical_reviewer_emails": "rph.review@pbm.example, rph.lead@pbm.example",
    "clinical_escalation_emails": "chief.rph@pbm.example",
    "openfda_api_key_secret_arn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:openfda-api-key-AbCdEf",
}
STUB_HANDLER = "def handler(event, context):\n    return {}\n"


@dataclass(frozen=True)
class Synthesized:
    template: Template
    report: dict  # cdk.out/validation-report.json: the cdk-nag verdicts
    template_path: Path
    resources: dict  # the template's Resources, as plain JSON

    def of_type(self, kind: str) -> dict[str, dict]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}


def stub_functions_root(base: Path) -> Path:
    root = base / "functions"
    for name in FUNCTION_NAMES:
        (root / name).mkdir(parents=True)
        (root / name / "handler.py").write_text(STUB_HANDLER)
    return root


def stub_app(base: Path, **context: object) -> cdk.App:
    """An app over stub handlers and an empty dependency layer in `base`, with `context`: for tests that build
    (and expect a build to refuse) one configuration of their own rather than the shared synth."""
    (base / "deps" / "python").mkdir(parents=True, exist_ok=True)
    return cdk.App(
        outdir=str(base / "out"),
        context={
            "deps_layer_dir": str(base / "deps"),
            "functions_root": str(stub_functions_root(base)),
            **context,
        },
    )


@cache
def synthesized(external_lake: bool = False, audit_retention_years: int | None = None) -> Synthesized:
    base = Path(tempfile.mkdtemp(prefix="pharmacist-cdk-"))
    atexit.register(shutil.rmtree, base, True)
    (base / "deps" / "python").mkdir(parents=True)
    context = {
        **CONTEXT,
        **(EXTERNAL_LAKE if external_lake else {}),
        **({"auditRetentionYears": audit_retention_years} if audit_retention_years else {}),
        "deps_layer_dir": str(base / "deps"),
        "functions_root": str(stub_functions_root(base)),
    }
    app = cdk.App(outdir=str(base / "out"), context=context)
    stack = build(app)
    app.synth()
    template_path = base / "out" / f"{stack.stack_name}.template.json"
    return Synthesized(
        template=Template.from_stack(stack),
        report=json.loads((base / "out" / "validation-report.json").read_text()),
        template_path=template_path,
        resources=json.loads(template_path.read_text())["Resources"],
    )
