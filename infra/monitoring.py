"""Alarms and the dashboard (NF-1: the portal runs 24/7, and someone hears of it first when it does not).

Every alarm notifies the stage's alarm topic (ops subscribe their pager to it). The thresholds are ours, not the
sources' (which give none): docs/deploy.md lists them and why.
"""

from __future__ import annotations

import json
from typing import Any

from infra.functions import ALIAS, Function, failures_name, functions_of, physical_name
from infra.resources import CONSUMERS, FEEDBACK, name

API_5XX_RATE = 0.01  # more than 1 % of requests answered 5xx over two minutes in a row
API_P99_MS = 3000  # p99 latency above 3 s for three minutes
ITERATOR_AGE_MS = 60_000  # the outbox publisher a minute behind the table's stream


def _alarm(description: str, namespace: str, metric: str, dimensions: dict[str, Any], threshold: float, *,
           statistic: str = "Sum", periods: int = 1, period: int = 60) -> dict[str, Any]:
    props: dict[str, Any] = {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Period": period, "EvaluationPeriods": periods, "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}]}
    if statistic.startswith("p"):
        props["ExtendedStatistic"] = statistic
    else:
        props["Statistic"] = statistic
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def terminal_queues(stage: str, app: Any) -> dict[str, str]:
    """Queues nobody consumes: a message there is a failure someone must look at (logical id → name)."""
    queues = {f"{c.logical}Dlq": name(stage, f"{c.queue}-dlq") for c in CONSUMERS}
    queues[f"{FEEDBACK.queue_logical}Dlq"] = name(stage, f"{FEEDBACK.queue}-dlq")  # issue 14: delivery feedback
    queues.update({fn.failures: failures_name(stage, fn) for fn in functions_of(app) if fn.failures})
    return queues


def rollback_alarms(fn: Function) -> list[str]:
    """The alarms that stop a gradual deployment of `fn` and roll its alias back."""
    extra = ["Api5xxAlarm", "ApiLatencyAlarm"] if fn.kind == "api" else []
    return [f"{fn.logical}ErrorsAlarm", f"{fn.logical}ThrottlesAlarm", *extra]


def alarms(stage: str, app: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": name(stage, "alarms"), "KmsMasterKeyId": "alias/aws/sns"}}}
    for logical, queue in terminal_queues(stage, app).items():
        out[f"{logical}DepthAlarm"] = _alarm(
            f"{queue}: messages that failed for good; see docs/runbook.md", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, 0, statistic="Maximum")
    api = {"ApiName": name(stage, "api"), "Stage": "api"}
    for fn in functions_of(app):
        function = physical_name(stage, fn)
        out[f"{fn.logical}ErrorsAlarm"] = _alarm(
            f"{function}: invocations failed", "AWS/Lambda", "Errors",
            {"FunctionName": function, "Resource": f"{function}:{ALIAS}"}, 0)
        out[f"{fn.logical}ThrottlesAlarm"] = _alarm(
            f"{function}: invocations throttled (concurrency limit)", "AWS/Lambda", "Throttles",
            {"FunctionName": function}, 0)
        if fn.kind == "stream":
            out[f"{fn.logical}IteratorAgeAlarm"] = _alarm(
                f"{function}: behind the table's stream; events are late", "AWS/Lambda", "IteratorAge",
                {"FunctionName": function}, ITERATOR_AGE_MS, statistic="Maximum", periods=3)
    out["Api5xxAlarm"] = _alarm("API: share of 5xx answers above 1 %", "AWS/ApiGateway", "5XXError", api,
                                API_5XX_RATE, statistic="Average", periods=2)
    out["ApiLatencyAlarm"] = _alarm("API: p99 latency above 3 s", "AWS/ApiGateway", "Latency", api, API_P99_MS,
                                    statistic="p99", periods=3)
    out["Dashboard"] = _dashboard(stage, app, api)
    return out


def _dashboard(stage: str, app: Any, api: dict[str, str]) -> dict[str, Any]:
    region = "${AWS::Region}"
    fns = [physical_name(stage, fn) for fn in functions_of(app)]

    def widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
        return {"type": "metric", "width": 12, "height": 6, "properties": {
            "title": title, "region": region, "stat": stat, "period": 60, "view": "timeSeries", "metrics": metrics}}

    api_dims = ["ApiName", api["ApiName"], "Stage", api["Stage"]]
    body = {"widgets": [
        widget("API requests and errors", [["AWS/ApiGateway", m, *api_dims] for m in ("Count", "4XXError",
                                                                                   "5XXError")]),
        widget("API latency p99 (ms)", [["AWS/ApiGateway", "Latency", *api_dims]], stat="p99"),
        widget("Function errors", [["AWS/Lambda", "Errors", "FunctionName", f] for f in fns]),
        widget("Function throttles", [["AWS/Lambda", "Throttles", "FunctionName", f] for f in fns]),
        widget("Function duration p99 (ms)", [["AWS/Lambda", "Duration", "FunctionName", f] for f in fns],
               stat="p99"),
        widget("Failed for good (DLQ and on-failure queues)",
               [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]
                for q in terminal_queues(stage, app).values()], stat="Maximum"),
        widget("Stream iterator age (ms)", [["AWS/Lambda", "IteratorAge", "FunctionName", physical_name(stage, fn)]
                                            for fn in functions_of(app) if fn.kind == "stream"], stat="Maximum"),
        widget("Provisioned concurrency utilisation",
               [["AWS/Lambda", "ProvisionedConcurrencyUtilization", "FunctionName", physical_name(stage, fn),
                 "Resource", f"{physical_name(stage, fn)}:{ALIAS}"] for fn in functions_of(app) if fn.kind == "api"],
               stat="Maximum"),
    ]}
    return {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": name(stage, "overview"), "DashboardBody": {"Fn::Sub": json.dumps(body)}}}
