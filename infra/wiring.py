"""The packaged template against the app: every function and every event source wired, or the build fails.

    python -m infra.wiring prod build/prod/sam.json   (run by infra/package.py with KABINET_STAGE set)

A function added later (a new `on_sqs_message`, a new schedule) without its wiring in infra/functions.py
shows up here, and so does a Chalice upgrade that renames a logical id our merge relies on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra.functions import Function, functions_of
from infra.monitoring import terminal_queues
from infra.resources import FEEDBACK, SMS_STATUS_LOG_GROUPS, VISIBILITY_PER_TIMEOUT, consumer_of, trigger_of

STAR_ALLOWED = {"SmsToPhoneNumbers", "NoTopics"}  # infra/roles.py says why


def _getatt(logical: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical, attribute]}


def _function_problems(fn: Function, resources: dict[str, Any]) -> list[str]:
    res = resources.get(fn.logical)
    if not res or res.get("Type") != "AWS::Serverless::Function":
        return [f"{fn.name}: no function {fn.logical} in the template"]
    props, out = res["Properties"], []
    if not props.get("FunctionName") or not props.get("AutoPublishAlias"):
        out.append(f"{fn.name}: no FunctionName or alias")
    log_group = resources.get(fn.log_group, {}).get("Properties", {})
    if not log_group.get("RetentionInDays") or not isinstance(log_group.get("LogGroupName"), str) or \
            fn.log_group not in res.get("DependsOn", []):
        out.append(f"{fn.name}: no log group with a retention, created before the function")
    if props.get("Role") != _getatt(fn.role):
        out.append(f"{fn.name}: not running under its own role {fn.role}")
    for policy in resources.get(fn.role, {}).get("Properties", {}).get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in targets and statement.get("Sid") not in STAR_ALLOWED:
                out.append(f"{fn.name}: statement {statement.get('Sid')} grants {statement['Action']} on *")
            if any(isinstance(t, str) and "kabinet-*" in t for t in targets):
                out.append(f"{fn.name}: statement {statement.get('Sid')} spans every stage")
    event = props.get("Events", {}).get(fn.event_key or "", {}).get("Properties", {})
    scaling = event.get("ScalingConfig", {}).get("MaximumConcurrency")
    if not props.get("ReservedConcurrentExecutions") and not scaling:
        out.append(f"{fn.name}: neither reserved concurrency nor a mapping's maximum concurrency")
    polled = fn.kind in ("stream", "sqs", "feedback")
    if polled and "ReportBatchItemFailures" not in event.get("FunctionResponseTypes", []):
        out.append(f"{fn.name}: its mapping does not report batch item failures")
    if fn.failures:
        if resources.get(fn.failures, {}).get("Type") != "AWS::SQS::Queue":
            out.append(f"{fn.name}: no on-failure queue {fn.failures}")
        on_failure = (event if fn.kind == "stream" else props.get("EventInvokeConfig", {})).get(
            "DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if on_failure != _getatt(fn.failures):
            out.append(f"{fn.name}: failures do not go to {fn.failures}")
    if fn.kind == "stream":
        if event.get("Stream") != _getatt("MainTable", "StreamArn"):
            out.append(f"{fn.name}: the mapping does not read this stack's table stream")
        if not event.get("BisectBatchOnFunctionError") or not event.get("MaximumRetryAttempts"):
            out.append(f"{fn.name}: the stream mapping neither bisects nor limits retries")
    if fn.kind == "sqs":
        consumer = consumer_of(fn.name)
        queue = resources.get(consumer.logical, {}).get("Properties", {})
        if event.get("Queue") != {"Fn::Sub": f"${{{consumer.logical}.Arn}}"}:
            out.append(f"{fn.name}: the mapping does not read {consumer.logical} of this stack")
        if queue.get("RedrivePolicy", {}).get("deadLetterTargetArn") != _getatt(f"{consumer.logical}Dlq"):
            out.append(f"{fn.name}: {consumer.logical} has no DLQ")
        if queue.get("VisibilityTimeout", 0) < VISIBILITY_PER_TIMEOUT * props["Timeout"]:
            out.append(f"{fn.name}: {consumer.logical}'s visibility is under {VISIBILITY_PER_TIMEOUT}× the timeout")
    if fn.kind == "s3":
        trigger = trigger_of(fn.name)
        bucket = resources.get(trigger.bucket_logical, {})
        targets = [c.get("Function") for c in bucket.get("Properties", {}).get("NotificationConfiguration", {}).get(
            "LambdaConfigurations", [])]
        if {"Ref": f"{fn.logical}.Alias"} not in targets or f"{fn.logical}S3Permission" not in resources:
            out.append(f"{fn.name}: {trigger.bucket_logical} does not notify it")
    if fn.kind == "feedback":
        out += _feedback_problems(fn, resources, props, event)
    if fn.kind == "api":
        integrations = [op["x-amazon-apigateway-integration"]["uri"]
                        for ops in resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"].values()
                        for op in ops.values() if op.get("x-amazon-apigateway-integration", {}).get("type")
                        == "aws_proxy"]
        if any('{"Ref": "APIHandler.Alias"}' not in json.dumps(uri) for uri in integrations):
            out.append("api_handler: a route invokes the function, not its alias")
    return out


def _feedback_problems(fn: Function, resources: dict[str, Any], props: dict[str, Any], event: dict[str, Any]
                       ) -> list[str]:
    """The delivery feedback (issue 14): its queue, fed by the SES configuration set's topic, and a subscription
    filter with Lambda's permission on each of SNS's SMS delivery-status log groups."""
    from infra.functions import sms_subscription

    f, out = FEEDBACK, []
    queue = resources.get(f.queue_logical, {}).get("Properties", {})
    if event.get("Queue") != {"Fn::Sub": f"${{{f.queue_logical}.Arn}}"}:
        out.append(f"{fn.name}: the mapping does not read {f.queue_logical} of this stack")
    if queue.get("RedrivePolicy", {}).get("deadLetterTargetArn") != _getatt(f"{f.queue_logical}Dlq"):
        out.append(f"{fn.name}: {f.queue_logical} has no DLQ")
    if queue.get("VisibilityTimeout", 0) < VISIBILITY_PER_TIMEOUT * props["Timeout"]:
        out.append(f"{fn.name}: {f.queue_logical}'s visibility is under {VISIBILITY_PER_TIMEOUT}× the timeout")
    subscribed = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::SNS::Subscription"
                  and r["Properties"].get("Endpoint") == _getatt(f.queue_logical)]
    if not any(s.get("TopicArn") == {"Ref": f.topic_logical} for s in subscribed):
        out.append(f"{fn.name}: {f.queue_logical} is not subscribed to {f.topic_logical}")
    destinations = [r["Properties"]["EventDestination"] for r in resources.values()
                    if r.get("Type") == "AWS::SES::ConfigurationSetEventDestination"
                    and r["Properties"].get("ConfigurationSetName") == {"Ref": f.configuration_set_logical}]
    if not any(d.get("Enabled") and d.get("SnsDestination", {}).get("TopicARN") == {"Ref": f.topic_logical}
               for d in destinations):
        out.append(f"{fn.name}: {f.configuration_set_logical} publishes no events to {f.topic_logical}")
    alias = {"Ref": f"{fn.logical}.Alias"}
    for logical in SMS_STATUS_LOG_GROUPS:
        group = resources.get(logical, {}).get("Properties", {})
        subscription = resources.get(sms_subscription(logical), {}).get("Properties", {})
        permissions = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::Lambda::Permission"
                       and r["Properties"].get("Principal") == "logs.amazonaws.com"
                       and r["Properties"].get("SourceArn") == _getatt(logical)]
        if not group.get("RetentionInDays") or not group.get("KmsKeyId"):
            out.append(f"{fn.name}: {logical} has no retention or key")
        if subscription.get("LogGroupName") != {"Ref": logical} or subscription.get("DestinationArn") != alias:
            out.append(f"{fn.name}: {logical} has no subscription filter invoking it")
        if not any(p.get("FunctionName") == alias for p in permissions):
            out.append(f"{fn.name}: CloudWatch Logs may not invoke it for {logical}")
    return out


def problems(stage: str, app: Any, template: dict[str, Any]) -> list[str]:
    resources = template["Resources"]
    found = functions_of(app)
    out = [f"{logical}: merged onto nothing (no Type): a logical id Chalice does not make"
           for logical, res in resources.items() if "Type" not in res]
    known = {fn.logical for fn in found}
    out += [f"{logical}: a function infra/functions.py does not wire" for logical, res in resources.items()
            if res.get("Type") == "AWS::Serverless::Function" and logical not in known]
    for fn in found:
        out += _function_problems(fn, resources)
    for logical in terminal_queues(stage, app):
        if resources.get(f"{logical}DepthAlarm", {}).get("Type") != "AWS::CloudWatch::Alarm":
            out.append(f"{logical}: no alarm on its depth")
    paths = resources.get("RestAPI", {}).get("Properties", {}).get("DefinitionBody", {}).get("paths", {})
    out += [f"{path}: a local-only route in a deployed stage" for path in paths if path.startswith("/dev")]
    return out


def main() -> None:
    import app

    stage, path = sys.argv[1], Path(sys.argv[2])
    found = problems(stage, app.app, json.loads(path.read_text(encoding="utf-8")))
    for problem in found:
        print(f"wiring: {problem}", file=sys.stderr)
    if found:
        raise SystemExit(1)
    print(f"wiring: {len(functions_of(app.app))} functions, every event source wired")


if __name__ == "__main__":
    main()
