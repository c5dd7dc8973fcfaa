"""SES: the sender identity, a configuration set (TLS required, reputation metrics) and a send permission
scoped to that identity and configuration set."""

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct


class Notifications(Construct):
    def __init__(
        self, scope: Construct, id: str, *, sender_email: str, sender_domain: str | None = None
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        domain = sender_email.rsplit("@", 1)[-1]
        if sender_domain and domain.lower() != sender_domain.lower():
            raise ValueError(
                f"sender_email {sender_email} is not in sender_domain {sender_domain}: SES sends only from a "
                "verified identity"
            )
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        if sender_domain:
            # Production: the whole domain with Easy DKIM (2048-bit). Publish the three CNAME records of the
            # outputs DkimRecord1..3 in the domain's DNS; SES verifies the domain when it sees them.
            self.identity = ses.EmailIdentity(
                self,
                "SenderDomain",
                identity=ses.Identity.domain(sender_domain),
                configuration_set=self.configuration_set,
                dkim_signing=True,
                dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            )
            for index, record in enumerate(self.identity.dkim_records, start=1):
                CfnOutput(
                    stack,
                    f"DkimRecord{index}",
                    value=Fn.join(" CNAME ", [record.name, record.value]),
                    description=f"DNS record {index} of 3 that verifies {sender_domain} for SES (Easy DKIM)",
                )
        else:
            # Rehearsals: one address, verified by the email SES sends it.
            self.identity = ses.EmailIdentity(
                self,
                "Sender",
                identity=ses.Identity.email(sender_email),
                configuration_set=self.configuration_set,
            )
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
