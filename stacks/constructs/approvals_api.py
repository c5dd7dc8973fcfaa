"""The HTTPS endpoint of the approval pages: API Gateway REST (regional), Lambda proxy for GET/HEAD/POST
/a/{link_id} (approvals) and /r/{link_id} (clinical review), stage throttling, a WAF rate limit, access logs without paths or query strings (the link id is a
bearer credential) and no data tracing."""

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.constructs.nag import acknowledge

STAGE = "prod"
RATE_PER_IP_5_MIN = 300
# Access log fields: no $context.path, no query string, no request body.
ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "resource": "$context.resourcePath",
    "status": "$context.status",
    "time": "$context.requestTime",
    "latencyMs": "$context.responseLatency",
    "waf": "$context.waf.status",
}


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # No sampled requests: a sample holds the request path, and the path holds the link id.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=False
    )


class ApprovalsApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name="automated-pharmacist-approvals",
            description="Approval pages: GET shows, only a CSRF-checked POST decides",
            cloud_watch_role=True,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # the client's brief is a PDF: a base64 Lambda body reaches the browser as bytes whatever it accepts
            # the specimen letter PDF (coach.letters.specimen) goes out as binary: the function base64-encodes it and
            # sets isBase64Encoded; pages stay text (isBase64Encoded false), form bodies arrive base64 (decoded_body)
            binary_media_types=["*/*"],
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=20,
                throttling_burst_limit=40,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG)),
            ),
        )
        integration = apigw.LambdaIntegration(function)
        validator = self.api.add_request_validator("Validator", validate_request_parameters=True)
        # /a/{link_id}: the approvals; /r/{link_id}: the clinical review of a feed's candidate (coach.review)
        links: dict[str, apigw.IResource] = {}
        for path in ("a", "r"):
            links[path] = self.api.root.add_resource(path).add_resource("{link_id}")
            for method in ("GET", "HEAD", "POST"):
                links[path].add_method(
                    method,
                    integration,
                    request_validator=validator,
                    request_parameters={"method.request.path.link_id": True},
                )
        # a client's one-page brief (PDF) beside its confirmation page: GET only, binary through API Gateway
        links["a"].add_resource("brief.pdf").add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={"method.request.path.link_id": True},
        )
        # /d/{digest_id}: one person's digest page; /d/{digest_id}/{index}: one of its clients (docs/architecture.md)
        digest = self.api.root.add_resource("d").add_resource("{digest_id}")
        row = digest.add_resource("{index}")
        for method in ("GET", "HEAD", "POST"):
            digest.add_method(
                method,
                integration,
                request_validator=validator,
                request_parameters={"method.request.path.digest_id": True},
            )
            row.add_method(
                method,
                integration,
                request_validator=validator,
                request_parameters={"method.request.path.digest_id": True, "method.request.path.index": True},
            )
        # the specimen letters (coach.letters.specimen) the confirmation page links to: GET only
        links["a"].add_resource("specimen").add_resource("{file}").add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={"method.request.path.link_id": True, "method.request.path.file": True},
        )
        # and the same letters a digest's row page links to (coach.approvals.digest_service): GET only
        row.add_resource("specimen").add_resource("{file}").add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={
                "method.request.path.digest_id": True,
                "method.request.path.index": True,
                "method.request.path.file": True,
            },
        )
        acl = wafv2.CfnWebACL(
            self,
            "Waf",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("approvals-waf"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="rate-per-ip",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=RATE_PER_IP_5_MIN, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=_visibility("approvals-rate"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="aws-common",
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                        )
                    ),
                    visibility_config=_visibility("approvals-common"),
                ),
            ],
        )
        acknowledge(
            acl,
            {
                "HIPAA.Security-WAFv2LoggingEnabled": "WAF request logs would hold the request path, and the path "
                "holds the link id (a bearer credential); the rule metrics are kept instead."
            },
        )
        wafv2.CfnWebACLAssociation(
            self, "WafAssociation", resource_arn=self.api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        # Built from the API id and the literal stage name, not api.url (a Ref to the stage): the stage depends
        # on the approval_api function, so a function environment naming the stage would be a cycle.
        self.base_url = (
            f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{STAGE}"
        )
        acknowledge(
            self.api,
            {
                "AwsSolutions-APIG4": "The pages are for people who follow an emailed link: the 256-bit link id is "
                "the credential, checked by the function; GET never decides and POST needs a CSRF token.",
                "AwsSolutions-COG4": "No Cognito: recipients are external contacts without accounts (see APIG4).",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's account-level logging role "
                "(AWS managed policy).",
                "AwsSolutions-APIG2": "The only input is the link id in the path (required by the validator) and a "
                "small form the function validates (size, fields, CSRF).",
                "HIPAA.Security-APIGWCacheEnabledAndEncrypted": "No cache: every page must be fresh "
                "(Cache-Control: no-store).",
                "HIPAA.Security-APIGWSSLEnabled": "Backend is Lambda, not an HTTP endpoint: client certificates do "
                "not apply.",
            },
        )
