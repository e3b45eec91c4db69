"""The system's stateful AWS resources as one CloudFormation template: the single source of truth.

The local cloud provisions this template on moto (infra/bootstrap.py). A deployment merges it, together with
the wiring of Chalice's functions (infra/functions.py, infra/monitoring.py), into Chalice's own template
(infra/package.py, docs/deploy.md). Whatever holds data is kept when the stack goes: Retain policies and
deletion protection.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from infra import chalice_config

MAX_RECEIVES = 5  # deliveries of one message before SQS moves it to the queue's DLQ
VISIBILITY_PER_TIMEOUT = 6  # AWS's guidance for Lambda consumers: visibility ≥ 6 × the function's timeout
KEEP = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
RETENTION_14_DAYS = 1209600
ENCRYPTED = {"KmsMasterKeyId": {"Ref": "QueuesKey"}, "KmsDataKeyReusePeriodSeconds": 3600}


def name(stage: str, resource: str) -> str:
    return f"kabinet-{stage}-{resource}"  # chalicelib.core.config.Settings.name says the same


@dataclass(frozen=True)
class Consumer:
    """A queue subscribed to the events topic and the function that drains it (app.py's `on_sqs_message`)."""

    logical: str
    queue: str
    function: str
    topic: str  # the catalog's queue name: the event types it gets (chalicelib.events.catalog.types_for)


CONSUMERS = (Consumer("NotifyQueue", "notify", "notify_worker", "notify"),
             Consumer("AgencyQueue", "agency", "agency_worker", "agency"))


@dataclass(frozen=True)
class S3Trigger:
    """A function that S3 invokes for new objects: the template's notification on AWS, the pump's locally."""

    function: str
    bucket_logical: str
    bucket_resource: str
    prefix: str
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)

    def bucket(self, stage: str) -> str:
        return name(stage, self.bucket_resource)

    def notification(self) -> dict[str, Any]:
        """The filter in the S3 API's shape (PutBucketNotificationConfiguration)."""
        return {"Events": list(self.events), "Filter": {"Key": {"FilterRules": [
            {"Name": "prefix", "Value": self.prefix}]}}}

    def lambda_configurations(self, function_arn: Any) -> list[dict[str, Any]]:
        """The same filter in CloudFormation's shape, one configuration per event."""
        return [{"Event": event, "Function": function_arn,
                 "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": self.prefix}]}}} for event in self.events]


S3_TRIGGERS = (S3Trigger("document_checker", "DocumentsBucket", "documents", prefix="u/"),)


def consumer_of(function: str) -> Consumer:
    return next(c for c in CONSUMERS if c.function == function)


def trigger_of(function: str) -> S3Trigger:
    return next(t for t in S3_TRIGGERS if t.function == function)


def _queue_with_dlq(stage: str, consumer: Consumer) -> dict[str, Any]:
    from chalicelib.events import catalog as events

    logical = consumer.logical
    timeout = chalice_config.function(stage, consumer.function)["lambda_timeout"]
    return {
        f"{logical}Dlq": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name(stage, f"{consumer.queue}-dlq"), "MessageRetentionPeriod": RETENTION_14_DAYS,
            **ENCRYPTED}},
        logical: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name(stage, consumer.queue), "VisibilityTimeout": VISIBILITY_PER_TIMEOUT * timeout,
            **ENCRYPTED,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"{logical}Dlq", "Arn"]},
                              "maxReceiveCount": MAX_RECEIVES}}},
        f"{logical}Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "EventsTopic"}, "Protocol": "sqs", "RawMessageDelivery": True,
            "Endpoint": {"Fn::GetAtt": [logical, "Arn"]},
            "FilterPolicy": {"type": events.types_for(consumer.topic)}}},
        f"{logical}Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": logical}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": [logical, "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}}}]}}},
    }


def _attr(attribute: str) -> dict[str, str]:
    return {"AttributeName": attribute, "AttributeType": "S"}


def _index(index: str, hash_key: str, range_key: str | None = None) -> dict[str, Any]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": index, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}


def _key(stage: str, purpose: str, alias: str, *grants: dict[str, Any]) -> dict[str, Any]:
    """A customer managed key: the account administers it through IAM; `grants` let AWS services use it."""
    return {
        f"{alias}Key": {"Type": "AWS::KMS::Key", **KEEP, "Properties": {
            "Description": f"Kabinet {stage}: {purpose}", "EnableKeyRotation": True,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
                "Sid": "AccountAdministers", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}},
                *grants]}}},
        f"{alias}KeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/{name(stage, alias.lower())}", "TargetKeyId": {"Ref": f"{alias}Key"}}},
    }


def _service_grant(sid: str, service: Any, actions: list[str], condition: dict[str, Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": service}, "Action": actions, "Resource": "*",
            "Condition": condition}


def _keys(stage: str) -> dict[str, Any]:
    """Data (table, secrets), messages (every queue: SNS delivers into them) and logs each have their own key."""
    messages = _service_grant("EventsTopicDelivers", "sns.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"],
                              {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}})
    logs = _service_grant(
        "CloudWatchLogsEncrypts", {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"},
        ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}}})
    return {**_key(stage, "table and secrets", "Data"),
            **_key(stage, "queued messages", "Queues", messages, *_feedback_grants(stage)),  # + delivery feedback
            **_key(stage, "logs", "Logs", logs)}


def _documents(stage: str) -> dict[str, Any]:
    """DC-6: the documents bucket, versioned, encrypted with its own KMS key, never public, TLS only.

    Browsers POST uploads and GET downloads straight to S3 with presigned requests, so CORS lets exactly the
    web client's origin (the stage's KABINET_PUBLIC_URL) do that.
    """
    resources = _key(stage, "documents at rest", "Documents")
    origin = chalice_config.stage_env(stage).get("KABINET_PUBLIC_URL", "http://127.0.0.1:8000")
    resources["DocumentsBucket"] = {"Type": "AWS::S3::Bucket", **KEEP, "Properties": {
        "BucketName": name(stage, "documents"),
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                              "KMSMasterKeyID": {"Fn::GetAtt": ["DocumentsKey", "Arn"]}},
            "BucketKeyEnabled": True}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET", "POST"], "AllowedOrigins": [origin],
                                             "AllowedHeaders": ["*"], "MaxAge": 3600}]},
        "LifecycleConfiguration": {"Rules": [{"Id": "abort-incomplete-uploads", "Status": "Enabled",
                                              "Prefix": "",
                                              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}}}
    if stage != "local":  # the local cloud speaks plain HTTP on loopback (and moto enforces bucket policies)
        resources["DocumentsBucketPolicy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "DocumentsBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": ["DocumentsBucket", "Arn"]},
                             {"Fn::Sub": "${DocumentsBucket.Arn}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
    return resources


def _secret(stage: str, resource: str, description: str) -> dict[str, Any]:
    """Empty on creation: `make secrets STAGE=…` (infra/secrets.py) puts the generated value in, once."""
    return {"Type": "AWS::SecretsManager::Secret", **KEEP, "Properties": {
        "Name": name(stage, resource), "Description": description, "KmsKeyId": {"Ref": "DataKey"}}}


# -- delivery feedback (issue 14; docs/delivery-feedback.md) ------------------------------------------------------

@dataclass(frozen=True)
class FeedbackSource:
    """The providers' delivery feedback and the one function that takes it (app.py's `delivery_feedback`): SES
    events through a configuration set → SNS topic → SQS queue, and SNS's SMS delivery-status log groups."""

    function: str = "delivery_feedback"
    queue_logical: str = "FeedbackQueue"
    queue: str = "feedback"
    topic_logical: str = "DeliveryFeedbackTopic"
    topic: str = "delivery-feedback"
    configuration_set_logical: str = "MailConfigurationSet"
    configuration_set: str = "mail"  # kabinet-<stage>-mail: KABINET_SES_CONFIGURATION_SET

    def configuration_set_name(self, stage: str) -> str:
        return name(stage, self.configuration_set)


FEEDBACK = FeedbackSource()
ACCOUNT = {"Fn::Sub": "${AWS::AccountId}"}  # not a `Ref`: infra/bootstrap.py orders resources by their Refs
# What SES publishes: what happened to the delivery. Send (accepted: the sender knows) and engagement are left out.
SES_EVENT_TYPES = ["delivery", "bounce", "complaint", "reject", "deliveryDelay", "renderingFailure"]
# SNS's SMS delivery-status log groups (one pair per account and region, named by SNS): logical id → suffix.
SMS_STATUS_LOG_GROUPS = {"SmsDeliveredLogs": "DirectPublishToPhoneNumber",
                         "SmsFailedLogs": "DirectPublishToPhoneNumber/Failure"}


def sms_log_group_name(suffix: str) -> dict[str, str]:
    return {"Fn::Sub": f"sns/${{AWS::Region}}/${{AWS::AccountId}}/{suffix}"}


def _delivery_feedback(stage: str) -> dict[str, Any]:
    """SES configuration set → topic → queue (with its DLQ), and the role SNS logs SMS delivery status with."""
    f = FEEDBACK
    timeout = chalice_config.function(stage, f.function)["lambda_timeout"]
    config_set_arn = {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/"
                                 f"{f.configuration_set_name(stage)}"}
    log_groups = [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:sns/"
                              f"${{AWS::Region}}/${{AWS::AccountId}}/{suffix}:*"}
                  for suffix in SMS_STATUS_LOG_GROUPS.values()]
    return {
        f.configuration_set_logical: {"Type": "AWS::SES::ConfigurationSet", "Properties": {
            "Name": f.configuration_set_name(stage), "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
            "ReputationOptions": {"ReputationMetricsEnabled": True}, "SendingOptions": {"SendingEnabled": True}}},
        "MailEventDestination": {"Type": "AWS::SES::ConfigurationSetEventDestination",
                                 "DependsOn": [f"{f.topic_logical}Policy"], "Properties": {
            "ConfigurationSetName": {"Ref": f.configuration_set_logical},
            "EventDestination": {"Name": name(stage, f.topic), "Enabled": True, "MatchingEventTypes": SES_EVENT_TYPES,
                                 "SnsDestination": {"TopicARN": {"Ref": f.topic_logical}}}}},
        # The messages key, not SNS's AWS managed one: SES must be granted its use (infra/resources.py _keys).
        f.topic_logical: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": name(stage, f.topic), "KmsMasterKeyId": {"Ref": "QueuesKey"}}},
        f"{f.topic_logical}Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": f.topic_logical}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "SesPublishes", "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
                "Action": "sns:Publish", "Resource": {"Ref": f.topic_logical},
                "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                              "ArnLike": {"AWS:SourceArn": config_set_arn}}}]}}},
        f"{f.queue_logical}Dlq": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name(stage, f"{f.queue}-dlq"), "MessageRetentionPeriod": RETENTION_14_DAYS, **ENCRYPTED}},
        f.queue_logical: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name(stage, f.queue), "VisibilityTimeout": VISIBILITY_PER_TIMEOUT * timeout, **ENCRYPTED,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"{f.queue_logical}Dlq", "Arn"]},
                              "maxReceiveCount": MAX_RECEIVES}}},
        # Not raw: the body is SNS's envelope, whose Message is the SES event (what the function parses).
        f"{f.queue_logical}Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": f.topic_logical}, "Protocol": "sqs", "RawMessageDelivery": False,
            "Endpoint": {"Fn::GetAtt": [f.queue_logical, "Arn"]}}},
        f"{f.queue_logical}Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": f.queue_logical}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": [f.queue_logical, "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": f.topic_logical}}}}]}}},
        # SNS writes SMS delivery status to CloudWatch Logs with this role once the account's SMS attributes name
        # it (DeliveryStatusIAMRole: `make sms-delivery-status`, infra/sms_delivery_status.py): only its two groups.
        "SmsDeliveryStatusRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]},
            "Policies": [{"PolicyName": name(stage, "sms-delivery-status"), "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{
                    "Sid": "SmsDeliveryStatusLogs", "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": log_groups}]}}]}},
    }


def _feedback_grants(stage: str) -> list[dict[str, Any]]:
    """The messages key for the feedback topic: SES encrypts what it publishes, SNS decrypts it and encrypts
    it again into the feedback queue. The topic is named by its ARN string: it refers to this key itself."""
    topic = {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
                        f"{name(stage, FEEDBACK.topic)}"}
    ses = _service_grant("SesPublishesFeedback", "ses.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"],
                         {"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    sns = _service_grant("FeedbackTopicDelivers", "sns.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"],
                         {"ArnEquals": {"aws:SourceArn": topic}})
    return [ses, sns]


def template(stage: str) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "MainTable": {"Type": "AWS::DynamoDB::Table", **KEEP, "Properties": {
            "TableName": name(stage, "main"), "BillingMode": "PAY_PER_REQUEST",
            "DeletionProtectionEnabled": stage != "local",
            "AttributeDefinitions": [_attr(a) for a in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "phone",
                                                        "email", "snils")],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [_index("GSI1", "gsi1pk", "gsi1sk"), _index("GSI2", "gsi2pk", "gsi2sk"),
                                       _index("ByPhone", "phone"),
                                       _index("ByEmail", "email"), _index("BySnils", "snils")],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}},
        "EventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": name(stage, "events"), "KmsMasterKeyId": "alias/aws/sns"}},
        "TokenSigningSecret": _secret(stage, "token-signing",
                                      "Ed25519 keys for access tokens: {active_kid, keys: {kid: pem}}"),
        "DocumentSigningSecret": _secret(
            stage, "document-signing",
            "PAdES signing identity for issued PDFs: {key, cert, chain: [pem], trust: [pem]}"),
        "EsignTrustSecret": _secret(
            stage, "esign-trust",
            "Trusted CA list for qualified e-signatures (AU-5, DC-5): {roots: [pem], intermediates: [pem]}"),
        "AcquirerWebhookSecret": _secret(
            stage, "acquirer-webhook",
            "HMAC key of the card acquirer's webhooks (PY-3, docs/acquirer.md): {current: hex, previous: hex|null}"),
        # -- single sign-on (issue 15; chalicelib/sso/signing.py) --
        "SsoSigningSecret": _secret(
            stage, "sso-signing",
            "SSO id_token keys and pairwise-sub secret: {active: {RS256, EdDSA: kid}, keys: {kid: pem}, "
            "pairwise_secret: b64} (pairwise_secret never changes)"),
    }
    resources.update(_keys(stage))
    resources.update(_documents(stage))
    for consumer in CONSUMERS:
        resources.update(_queue_with_dlq(stage, consumer))
    resources.update(_delivery_feedback(stage))  # issue 14: the providers' delivery feedback
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
            # -- delivery feedback (issue 14) --
            "DeliveryFeedbackTopicArn": {"Value": {"Ref": FEEDBACK.topic_logical}},
            "FeedbackQueueUrl": {"Value": {"Ref": FEEDBACK.queue_logical}},
            "MailConfigurationSetName": {"Value": {"Ref": FEEDBACK.configuration_set_logical}},
            "SmsDeliveryStatusRoleArn": {"Value": {"Fn::GetAtt": ["SmsDeliveryStatusRole", "Arn"]}},
        },
    }


if __name__ == "__main__":  # python -m infra.resources prod: the stateful part alone
    json.dump(template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
