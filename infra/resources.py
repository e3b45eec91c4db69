"""The system's AWS resources as one CloudFormation template: the single source of truth.

Deployment merges it into Chalice's own template (`chalice package --merge-template`, see
docs/deploy.md); the local cloud provisions the same template on moto (infra/bootstrap.py).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.events import agency_worker, notify_worker
from chalicelib.events import catalog as events

NOTIFY_MAX_RECEIVES = 5


def _name(stage: str, resource: str) -> str:
    return f"kabinet-{stage}-{resource}"  # chalicelib.core.config.Settings.name says the same


def _queue_with_dlq(stage: str, logical: str, name: str, visibility: int,
                    event_types: list[str] | None = None) -> dict[str, Any]:
    """A consumer queue subscribed to the events topic (only `event_types`, when given), with its DLQ."""
    subscription: dict[str, Any] = {
        "TopicArn": {"Ref": "EventsTopic"}, "Protocol": "sqs", "RawMessageDelivery": True,
        "Endpoint": {"Fn::GetAtt": [logical, "Arn"]}}
    if event_types:
        subscription["FilterPolicy"] = {"type": event_types}
    return {
        f"{logical}Dlq": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": _name(stage, f"{name}-dlq"), "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True}},
        logical: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": _name(stage, name), "VisibilityTimeout": visibility, "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"{logical}Dlq", "Arn"]},
                              "maxReceiveCount": NOTIFY_MAX_RECEIVES}}},
        f"{logical}Subscription": {"Type": "AWS::SNS::Subscription", "Properties": subscription},
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


def _documents(stage: str) -> dict[str, Any]:
    """DC-6: the documents bucket, versioned, encrypted with its own KMS key, never public, TLS only.

    Object-created events reach the `document_checker` Lambda through the notification that Chalice's
    `on_s3_event` sets up on deployment (the local pump wires an SQS queue instead).
    """
    bucket = _name(stage, "documents")
    resources: dict[str, Any] = {
        "DocumentsKey": {"Type": "AWS::KMS::Key", "Properties": {
            "Description": f"Kabinet {stage}: documents at rest", "EnableKeyRotation": True,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
                "Sid": "AccountAdministers", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}}]}}},
        "DocumentsKeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/{bucket}", "TargetKeyId": {"Ref": "DocumentsKey"}}},
        "DocumentsBucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": bucket,
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                  "KMSMasterKeyID": {"Fn::GetAtt": ["DocumentsKey", "Arn"]}},
                "BucketKeyEnabled": True}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            # Browsers POST uploads and GET downloads straight to S3 with presigned requests.
            "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET", "POST"], "AllowedOrigins": ["*"],
                                                 "AllowedHeaders": ["*"], "MaxAge": 3600}]},
            "LifecycleConfiguration": {"Rules": [{"Id": "abort-incomplete-uploads", "Status": "Enabled",
                                                  "Prefix": "",
                                                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}}},
    }
    if stage != "local":  # the local cloud speaks plain HTTP on loopback (and moto enforces bucket policies)
        resources["DocumentsBucketPolicy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "DocumentsBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": ["DocumentsBucket", "Arn"]},
                             {"Fn::Sub": "${DocumentsBucket.Arn}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
    return resources


def template(stage: str) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "MainTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": _name(stage, "main"), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [_attr(a) for a in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "phone",
                                                        "email")],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [_index("GSI1", "gsi1pk", "gsi1sk"), _index("GSI2", "gsi2pk", "gsi2sk"),
                                       _index("ByPhone", "phone"),
                                       _index("ByEmail", "email")],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}},
        "EventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": _name(stage, "events")}},
        "TokenSigningSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": _name(stage, "token-signing"),
            "Description": "Ed25519 keys for access tokens: {active_kid, keys: {kid: pem}}"}},
        "DocumentSigningSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": _name(stage, "document-signing"),
            "Description": "PAdES signing identity for issued PDFs: {key, cert, chain: [pem], trust: [pem]}"}},
    }
    resources.update(_documents(stage))
    resources.update(_queue_with_dlq(stage, "NotifyQueue", "notify", visibility=notify_worker.LEASE,
                                     event_types=events.types_for(events.NOTIFY)))
    resources.update(_queue_with_dlq(stage, "AgencyQueue", "agency", visibility=agency_worker.LEASE,
                                     event_types=events.types_for(events.AGENCY)))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Kabinet resources, stage {stage}",
        "Resources": resources,
        "Outputs": {
            "TableName": {"Value": {"Ref": "MainTable"}},
            "TableStreamArn": {"Value": {"Fn::GetAtt": ["MainTable", "StreamArn"]}},
            "EventsTopicArn": {"Value": {"Ref": "EventsTopic"}},
            "NotifyQueueUrl": {"Value": {"Ref": "NotifyQueue"}},
            "AgencyQueueUrl": {"Value": {"Ref": "AgencyQueue"}},
            "DocumentsBucketName": {"Value": {"Ref": "DocumentsBucket"}},
            "DocumentsKeyArn": {"Value": {"Fn::GetAtt": ["DocumentsKey", "Arn"]}},
        },
    }


if __name__ == "__main__":  # python -m infra.resources prod > infra/build/resources-prod.json
    json.dump(template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
