"""How each of Chalice's functions is wired on AWS: what the merge template adds to Chalice's own resources.

Chalice generates the functions, their roles, the API and plain event sources; it cannot say which stream
or queue of *this* stack a mapping reads (it knows names, not `GetAtt`s), report partial batch failures,
set on-failure destinations, publish an alias with provisioned concurrency, shift traffic gradually, or
name log groups. Those are merged in here, by Chalice's logical ids (`<Name>`, `<Name>Role`,
`<Name>SqsEventSource`, ...); infra/wiring.py checks after packaging that every piece landed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalice.utils import to_cfn_resource_name

from infra import chalice_config, push, roles
from infra.resources import (
    ENCRYPTED,
    FEEDBACK,
    S3_TRIGGERS,
    SMS_STATUS_LOG_GROUPS,
    consumer_of,
    name,
    sms_log_group_name,
    trigger_of,
)

ALIAS = "live"
STREAM_RETRIES = 5  # the local pump retries a failing stream batch as often
STREAM_MAX_AGE = 6 * 3600  # older records go to the on-failure queue; the outbox sweeper has long published them
ASYNC_RETRIES = 2  # Lambda's own default for asynchronous invocations, said out loud
ASYNC_MAX_AGE = 6 * 3600
FAILURES_RETENTION = 14 * 24 * 3600
SMS_STATUS_RETENTION = 90  # days of SNS's SMS delivery-status lines (they name the destination number)


@dataclass(frozen=True)
class Function:
    """One of the app's functions and how it is invoked: api, stream, sqs, s3, schedule or feedback (the delivery
    feedback: its SQS queue and CloudWatch Logs subscriptions, infra/resources.py FEEDBACK)."""

    name: str
    kind: str
    event_key: str | None = None  # the key of its event under Properties.Events in Chalice's template

    @property
    def logical(self) -> str:
        return "APIHandler" if self.kind == "api" else to_cfn_resource_name(self.name)

    @property
    def role(self) -> str:
        return f"{to_cfn_resource_name(self.name)}Role"

    @property
    def log_group(self) -> str:
        """Chalice's own log group (it makes one when `log_retention_in_days` is set); we name it."""
        return f"{to_cfn_resource_name(self.name)}LogGroup"

    @property
    def physical(self) -> str:
        return self.name.replace("_", "-")

    @property
    def asynchronous(self) -> bool:
        """Invoked by S3, EventBridge or CloudWatch Logs: failures after the retries go to an on-failure queue."""
        return self.kind in ("s3", "schedule", "feedback")

    @property
    def failures(self) -> str | None:
        """The logical id of its on-failure queue (stream and asynchronous functions)."""
        return f"{self.logical}Failures" if self.kind == "stream" or self.asynchronous else None


def functions_of(app: Any) -> list[Function]:
    """Every function Chalice packages for `app`, from its decorators (and S3_TRIGGERS for plain functions)."""
    found = [Function("api_handler", "api")] if app.routes else []
    for source in app.event_sources:
        logical = to_cfn_resource_name(source.name)
        if hasattr(source, "stream_arn"):
            found.append(Function(source.name, "stream", f"{logical}DynamodbEventSource"))
        elif hasattr(source, "queue"):
            found.append(Function(source.name, "sqs", f"{logical}SqsEventSource"))
        elif hasattr(source, "schedule_expression"):
            found.append(Function(source.name, "schedule", f"{logical}Event"))
        else:
            raise ValueError(f"{source.name}: an event source infra/functions.py does not wire")
    triggered = {t.function for t in S3_TRIGGERS}
    found += [Function(f.name, "s3") for f in app.pure_lambda_functions if f.name in triggered]
    # -- delivery feedback (issue 14) --
    found += [Function(f.name, "feedback", f"{to_cfn_resource_name(f.name)}SqsEventSource")
              for f in app.pure_lambda_functions if f.name == FEEDBACK.function]
    return found


def physical_name(stage: str, fn: Function) -> str:
    return name(stage, fn.physical)


def failures_name(stage: str, fn: Function) -> str:
    """The physical name of `fn`'s on-failure queue."""
    return name(stage, f"{fn.physical}-failed")


def _environment(stage: str) -> dict[str, Any]:
    """What every function must know of this stack. The bucket goes by name: its notification refers to the
    document checker, so a `Ref` from the functions to it would be a cycle."""
    return {"KABINET_TABLE": {"Ref": "MainTable"}, "KABINET_EVENTS_TOPIC_ARN": {"Ref": "EventsTopic"},
            "KABINET_DOCUMENTS_BUCKET": name(stage, "documents"),
            "KABINET_SIGNING_SECRET": {"Ref": "TokenSigningSecret"},
            "KABINET_DOCUMENT_SIGNING_SECRET": {"Ref": "DocumentSigningSecret"},
            "KABINET_ESIGN_TRUST_SECRET": {"Ref": "EsignTrustSecret"},
            "KABINET_ACQUIRER_WEBHOOK_SECRET": {"Ref": "AcquirerWebhookSecret"},
            "KABINET_SES_CONFIGURATION_SET": {"Ref": FEEDBACK.configuration_set_logical},  # issue 14
            # -- push (NF-3; docs/push.md): made by `infra.admin push-apps`, named, so no parameter is needed --
            "KABINET_PUSH_APNS_ARN": push.app_arn_sub(stage, "apns"),
            "KABINET_PUSH_FCM_ARN": push.app_arn_sub(stage, "fcm"),
            # -- single sign-on (issue 15): only the roles of infra/roles.py NEEDS "sso_secret" may read it --
            "KABINET_SSO_SECRET": {"Ref": "SsoSigningSecret"}}


def _events(stage: str, fn: Function, settings: dict[str, Any]) -> dict[str, Any]:
    if fn.kind == "stream":
        return {fn.event_key: {"Properties": {
            "Stream": {"Fn::GetAtt": ["MainTable", "StreamArn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": STREAM_RETRIES,
            "MaximumRecordAgeInSeconds": STREAM_MAX_AGE,
            "DestinationConfig": {"OnFailure": {"Type": "SQS",
                                                "Destination": {"Fn::GetAtt": [fn.failures, "Arn"]}}}}}}
    if fn.kind == "sqs":
        consumer = consumer_of(fn.name)
        # Chalice writes the queue as {"Fn::Sub": "<arn by name>"}: merging a `GetAtt` would leave both keys.
        props: dict[str, Any] = {"Queue": {"Fn::Sub": f"${{{consumer.logical}.Arn}}"},
                                 "FunctionResponseTypes": ["ReportBatchItemFailures"]}
        if settings.get("sqs_maximum_concurrency"):
            props["ScalingConfig"] = {"MaximumConcurrency": settings["sqs_maximum_concurrency"]}
        return {fn.event_key: {"Properties": props}}
    if fn.kind == "feedback":  # a plain function: Chalice made no event, so the whole of it is ours
        props = {"Queue": {"Fn::Sub": f"${{{FEEDBACK.queue_logical}.Arn}}"}, "BatchSize": 10,
                 "FunctionResponseTypes": ["ReportBatchItemFailures"]}
        if settings.get("sqs_maximum_concurrency"):
            props["ScalingConfig"] = {"MaximumConcurrency": settings["sqs_maximum_concurrency"]}
        return {fn.event_key: {"Type": "SQS", "Properties": props}}
    return {}


def _function(stage: str, fn: Function, settings: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "FunctionName": physical_name(stage, fn),
        "Environment": {"Variables": _environment(stage)},
        "AutoPublishAlias": ALIAS,
    }
    events = _events(stage, fn, settings)
    if events:
        props["Events"] = events
    if fn.asynchronous:
        props["EventInvokeConfig"] = {
            "MaximumRetryAttempts": ASYNC_RETRIES, "MaximumEventAgeInSeconds": ASYNC_MAX_AGE,
            "DestinationConfig": {"OnFailure": {"Type": "SQS",
                                                "Destination": {"Fn::GetAtt": [fn.failures, "Arn"]}}}}
    provisioned = settings.get("provisioned_concurrency")
    if provisioned:
        props["ProvisionedConcurrencyConfig"] = {"ProvisionedConcurrentExecutions": provisioned["min"]}
    if settings.get("deployment_preference"):
        from infra.monitoring import rollback_alarms

        props["DeploymentPreference"] = {"Type": settings["deployment_preference"],
                                         "Alarms": [{"Ref": a} for a in rollback_alarms(fn)]}
    return {"Properties": props, "DependsOn": [fn.log_group]}


def _autoscaling(stage: str, fn: Function, provisioned: dict[str, Any]) -> dict[str, Any]:
    """Application Auto Scaling keeps the alias's provisioned concurrency near `target` utilisation."""
    return {
        f"{fn.logical}ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget", "DependsOn": [f"{fn.logical}Alias{ALIAS}"],
            "Properties": {
                "ServiceNamespace": "lambda", "ScalableDimension": "lambda:function:ProvisionedConcurrency",
                "ResourceId": f"function:{physical_name(stage, fn)}:{ALIAS}",
                "MinCapacity": provisioned["min"], "MaxCapacity": provisioned["max"]}},
        f"{fn.logical}ScalingPolicy": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
            "PolicyName": f"{physical_name(stage, fn)}-provisioned-utilisation",
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": f"{fn.logical}ScalableTarget"},
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": provisioned["target"],
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"}}}},
    }


def _failures_queue(stage: str, fn: Function) -> dict[str, Any]:
    return {fn.failures: {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": failures_name(stage, fn), "MessageRetentionPeriod": FAILURES_RETENTION,
        **ENCRYPTED}}}


def _s3_trigger(stage: str, fn: Function) -> dict[str, Any]:
    """S3 → Lambda in the template. The permission names the bucket by its ARN string (not `GetAtt`), and the
    bucket waits for it: CloudFormation checks the permission when it sets the notification."""
    trigger = trigger_of(fn.name)
    permission = f"{fn.logical}S3Permission"
    return {
        permission: {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com",
            "FunctionName": {"Ref": f"{fn.logical}.Alias"},
            "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": f"arn:aws:s3:::{trigger.bucket(stage)}"}},
        trigger.bucket_logical: {"DependsOn": [permission], "Properties": {"NotificationConfiguration": {
            "LambdaConfigurations": trigger.lambda_configurations({"Ref": f"{fn.logical}.Alias"})}}},
    }


def sms_subscription(logical: str) -> str:
    """The subscription filter on one of SNS's SMS delivery-status log groups (SMS_STATUS_LOG_GROUPS)."""
    return f"{logical}Subscription"


def _feedback_logs(stage: str, fn: Function) -> dict[str, Any]:
    """SNS's SMS delivery-status log groups (ours: retention and the logs key) and a subscription filter on each
    that invokes the function's alias; CloudWatch Logs may invoke it for exactly those groups."""
    out: dict[str, Any] = {}
    for logical, suffix in SMS_STATUS_LOG_GROUPS.items():
        permission = f"{fn.logical}{logical}Permission"
        out[logical] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": sms_log_group_name(suffix), "RetentionInDays": SMS_STATUS_RETENTION,
            "KmsKeyId": {"Fn::GetAtt": ["LogsKey", "Arn"]}}}
        out[permission] = {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "Principal": "logs.amazonaws.com",
            "FunctionName": {"Ref": f"{fn.logical}.Alias"}, "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::GetAtt": [logical, "Arn"]}}}
        out[sms_subscription(logical)] = {"Type": "AWS::Logs::SubscriptionFilter", "DependsOn": [permission],
                                          "Properties": {
            "FilterName": name(stage, "sms-delivered" if suffix.endswith("PhoneNumber") else "sms-failed"),
            "LogGroupName": {"Ref": logical}, "FilterPattern": "",
            "DestinationArn": {"Ref": f"{fn.logical}.Alias"}}}
    return out


def _api(stage: str, app: Any, fn: Function) -> dict[str, Any]:
    """The API invokes the alias (so provisioned concurrency and traffic shifting apply), traces, and logs."""
    # A list replaces Chalice's Sub string in the merge; SAM resolves `Ref: <Function>.Alias` in its variables
    # (it does not resolve `${APIHandler.Alias}` inside a string).
    uri = {"Fn::Sub": ["arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                       "${Alias}/invocations", {"Alias": {"Ref": "APIHandler.Alias"}}]}
    paths = {path: {method.lower(): {"x-amazon-apigateway-integration": {"uri": uri}} for method in methods}
             for path, methods in app.routes.items()}
    access_format = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                     '"method":"$context.httpMethod","path":"$context.resourcePath","status":"$context.status",'
                     '"latencyMs":"$context.responseLatency","integrationMs":"$context.integration.latency",'
                     '"bytes":"$context.responseLength","at":"$context.requestTimeEpoch"}')
    retention = chalice_config.function(stage, fn.name).get("log_retention_in_days", 90)
    return {
        "RestAPI": {"DependsOn": ["ApiGatewayAccount"], "Properties": {
            "Name": name(stage, "api"), "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]},
                                 "Format": access_format},
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                                "LoggingLevel": "ERROR", "DataTraceEnabled": False}],
            "DefinitionBody": {"paths": paths}}},
        "APIHandlerInvokePermission": {"Properties": {"FunctionName": {"Ref": "APIHandler.Alias"}}},
        # Paths and statuses only, never bodies or headers: access logs carry no personal data beyond the IP,
        # which AU-* keeps for sign-in history anyway.
        "ApiAccessLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": f"/aws/apigateway/{name(stage, 'api')}", "RetentionInDays": retention,
            "KmsKeyId": {"Fn::GetAtt": ["LogsKey", "Arn"]}}},
        # API Gateway writes to CloudWatch Logs with one role per account and region (the setting is
        # account-wide: a second stage in the same account sets the same kind of role).
        "ApiGatewayLoggingRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                            "AmazonAPIGatewayPushToCloudWatchLogs"}]}},
        "ApiGatewayAccount": {"Type": "AWS::ApiGateway::Account", "Properties": {
            "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}}},
    }


def merge(stage: str, app: Any) -> dict[str, Any]:
    """The resources to merge over Chalice's template for `stage`."""
    out: dict[str, Any] = {}
    for fn in functions_of(app):
        settings = chalice_config.function(stage, fn.name)
        out[fn.logical] = _function(stage, fn, settings)
        out[fn.role] = {"Properties": roles.role(stage, fn)}
        out[fn.log_group] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": f"/aws/lambda/{physical_name(stage, fn)}", "KmsKeyId": {"Fn::GetAtt": ["LogsKey", "Arn"]},
            "RetentionInDays": settings.get("log_retention_in_days", 30)}}
        if fn.failures:
            out.update(_failures_queue(stage, fn))
        if fn.kind == "s3":
            out.update(_s3_trigger(stage, fn))
        if fn.kind == "feedback":
            out.update(_feedback_logs(stage, fn))
        if fn.kind == "api":
            out.update(_api(stage, app, fn))
        if settings.get("provisioned_concurrency"):
            out.update(_autoscaling(stage, fn, settings["provisioned_concurrency"]))
    return out
