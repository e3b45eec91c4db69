"""The system's AWS resources as one CloudFormation template: the single source of truth.

Deployment merges it into Chalice's own template (`chalice package --merge-template`, see
docs/deploy.md); the local cloud provisions the same template on moto (infra/bootstrap.py).
"""

from __future__ import annotations

import json
import sys
from typing import Any

NOTIFY_MAX_RECEIVES = 5


def _name(stage: str, resource: str) -> str:
    return f"kabinet-{stage}-{resource}"  # chalicelib.core.config.Settings.name says the same


def _queue_with_dlq(stage: str, logical: str, name: str, visibility: int) -> dict[str, Any]:
    return {
        f"{logical}Dlq": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": _name(stage, f"{name}-dlq"), "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True}},
        logical: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": _name(stage, name), "VisibilityTimeout": visibility, "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"{logical}Dlq", "Arn"]},
                              "maxReceiveCount": NOTIFY_MAX_RECEIVES}}},
        f"{logical}Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "EventsTopic"}, "Protocol": "sqs", "RawMessageDelivery": True,
            "Endpoint": {"Fn::GetAtt": [logical, "Arn"]}}},
        f"{logical}Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": logical}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": [logical, "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}}}]}}},
    }


def _attr(name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": "S"}


def _index(name: str, hash_key: str, range_key: str | None = None) -> dict[str, Any]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}


def template(stage: str) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "MainTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": _name(stage, "main"), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [_attr(a) for a in ("pk", "sk", "gsi1pk", "gsi1sk", "phone", "email")],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [_index("GSI1", "gsi1pk", "gsi1sk"), _index("ByPhone", "phone"),
                                       _index("ByEmail", "email")],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}},
        "EventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": _name(stage, "events")}},
        "TokenSigningSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": _name(stage, "token-signing"),
            "Description": "Ed25519 keys for access tokens: {active_kid, keys: {kid: pem}}"}},
    }
    resources.update(_queue_with_dlq(stage, "NotifyQueue", "notify", visibility=60))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Kabinet resources, stage {stage}",
        "Resources": resources,
        "Outputs": {
            "TableName": {"Value": {"Ref": "MainTable"}},
            "TableStreamArn": {"Value": {"Fn::GetAtt": ["MainTable", "StreamArn"]}},
            "EventsTopicArn": {"Value": {"Ref": "EventsTopic"}},
            "NotifyQueueUrl": {"Value": {"Ref": "NotifyQueue"}},
        },
    }


if __name__ == "__main__":  # python -m infra.resources prod > infra/build/resources-prod.json
    json.dump(template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
