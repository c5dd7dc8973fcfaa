"""SES: the sender identity, a configuration set (TLS required, reputation metrics) and a send permission
scoped to that identity and configuration set."""

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct


class Notifications(Construct):
    def __init__(self, scope: Construct, id: str, *, sender_email: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        self.identity = ses.EmailIdentity(
            self,
            "Sender",
            identity=ses.Identity.email(sender_email),
            configuration_set=self.configuration_set,
        )
        domain = sender_email.rsplit("@", 1)[-1]
        self.send_statement = iam.PolicyStatement(
            actions=["ses:SendRawEmail", "ses:SendEmail"],
            resources=[
                # SES authorises a send against the address identity or its domain identity, whichever is verified.
                stack.format_arn(service="ses", resource="identity", resource_name=sender_email),
                stack.format_arn(service="ses", resource="identity", resource_name=domain),
                stack.format_arn(
                    service="ses",
                    resource="configuration-set",
                    resource_name=self.configuration_set.configuration_set_name,
                ),
            ],
        )
