"""cfn-lint on the synthesised template: no errors, and no warnings but the two CDK itself emits."""

import pytest
from cfnlint.api import lint_file

from tests.infra.synth import synthesized

# Emitted by CDK's own output, not by this stack's choices:
CDK_WARNINGS = {
    "W3045",  # the access-log bucket's AccessControl (CDK sets LogDeliveryWrite for server access logging)
    "W3005",  # CDK adds DependsOn from a function to its role's default policy, beside the GetAtt
}


@pytest.fixture(scope="module")
def matches():
    return lint_file(synthesized().template_path)


def test_cfn_lint_finds_no_errors(matches):
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_cfn_lint_warns_only_about_what_cdk_generates(matches):
    warnings = [str(m) for m in matches if m.rule.id.startswith("W") and m.rule.id not in CDK_WARNINGS]
    assert warnings == []
