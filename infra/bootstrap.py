"""Provision infra/resources.py's template on whatever endpoint boto3 points at (moto locally).

moto's own CloudFormation leaves out subscriptions, secrets and TTL, so this applies the template's
resources one by one with the matching API calls. It is idempotent: existing resources are kept.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.resources import template


class _Stack:
    def __init__(self, region: str) -> None:
        self.region = region
        self.refs: dict[str, str] = {}
        self.attrs: dict[tuple[str, str], str] = {}

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                return self.refs[value["Ref"]]
            if set(value) == {"Fn::GetAtt"}:
                logical, attr = value["Fn::GetAtt"]
                return self.attrs[(logical, attr)]
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def table(self, logical: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        name = props["TableName"]
        try:
            desc = ddb.describe_table(TableName=name)["Table"]
        except ddb.exceptions.ResourceNotFoundException:
            desc = ddb.create_table(
                TableName=name, BillingMode=props["BillingMode"], KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
                StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
                SSESpecification={"Enabled": props["SSESpecification"]["SSEEnabled"]})["TableDescription"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.refs[logical] = name
        self.attrs[(logical, "Arn")] = desc["TableArn"]
        self.attrs[(logical, "StreamArn")] = desc["LatestStreamArn"]

    def topic(self, logical: str, props: dict[str, Any]) -> None:
        arn = self.client("sns").create_topic(Name=props["TopicName"])["TopicArn"]
        self.refs[logical] = arn
        self.attrs[(logical, "TopicArn")] = arn

    def queue(self, logical: str, props: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        attributes = {k: json.dumps(self.resolve(v)) if isinstance(v, dict) else str(v).lower()
                      if isinstance(v, bool) else str(v)
                      for k, v in props.items() if k != "QueueName"}
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        self.refs[logical] = url
        self.attrs[(logical, "Arn")] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.attrs[(logical, "QueueName")] = props["QueueName"]

    def subscription(self, logical: str, props: dict[str, Any]) -> None:
        p = self.resolve(props)
        sub = self.client("sns").subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], ReturnSubscriptionArn=True,
            Attributes={"RawMessageDelivery": str(p.get("RawMessageDelivery", False)).lower()})
        self.refs[logical] = sub["SubscriptionArn"]

    def queue_policy(self, logical: str, props: dict[str, Any]) -> None:
        p = self.resolve(props)
        for url in p["Queues"]:
            policy = json.dumps(p["PolicyDocument"])
            self.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})

    def secret(self, logical: str, props: dict[str, Any]) -> None:
        sm = self.client("secretsmanager")
        try:
            arn = sm.describe_secret(SecretId=props["Name"])["ARN"]
        except sm.exceptions.ResourceNotFoundException:
            arn = sm.create_secret(Name=props["Name"], Description=props.get("Description", ""))["ARN"]
        self.refs[logical] = arn


_HANDLERS = {
    "AWS::DynamoDB::Table": _Stack.table,
    "AWS::SNS::Topic": _Stack.topic,
    "AWS::SQS::Queue": _Stack.queue,
    "AWS::SNS::Subscription": _Stack.subscription,
    "AWS::SQS::QueuePolicy": _Stack.queue_policy,
    "AWS::SecretsManager::Secret": _Stack.secret,
}


def _order(resources: dict[str, Any]) -> list[str]:
    """Dependencies first: a resource comes after every resource it refers to."""
    def deps(value: Any) -> set[str]:
        if isinstance(value, dict):
            if "Ref" in value:
                return {value["Ref"]}
            if "Fn::GetAtt" in value:
                return {value["Fn::GetAtt"][0]}
            return set().union(*(deps(v) for v in value.values())) if value else set()
        if isinstance(value, list):
            return set().union(*(deps(v) for v in value)) if value else set()
        return set()

    done: list[str] = []
    pending = dict(resources)
    while pending:
        ready = [k for k, v in pending.items() if deps(v.get("Properties", {})) <= set(done)]
        if not ready:
            raise ValueError(f"cyclic or unknown references among {sorted(pending)}")
        for k in sorted(ready):
            done.append(k)
            del pending[k]
    return done


def provision(stage: str, region: str, sender_email: str) -> dict[str, str]:
    """Create the stage's resources and return the template's outputs, plus local-only set-up:
    a token signing key when the secret has none, and a verified SES sender."""
    tpl = template(stage)
    stack = _Stack(region)
    for logical in _order(tpl["Resources"]):
        resource = tpl["Resources"][logical]
        _HANDLERS[resource["Type"]](stack, logical, resource["Properties"])
    outputs = {k: stack.resolve(v["Value"]) for k, v in tpl["Outputs"].items()}
    _ensure_signing_key(stack.client("secretsmanager"), stack.refs["TokenSigningSecret"])
    stack.client("ses").verify_email_identity(EmailAddress=sender_email)
    return outputs


def _ensure_signing_key(sm: Any, secret_id: str) -> None:
    from chalicelib.core.tokens import new_signing_secret

    try:
        sm.get_secret_value(SecretId=secret_id)
    except sm.exceptions.ResourceNotFoundException:
        sm.put_secret_value(SecretId=secret_id, SecretString=new_signing_secret())


def environment(stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """The Lambda environment these resources imply (what chalice config sets when deployed)."""
    return {"KABINET_STAGE": stage, "KABINET_TABLE": outputs["TableName"],
            "KABINET_STREAM_ARN": outputs["TableStreamArn"], "KABINET_EVENTS_TOPIC_ARN": outputs["EventsTopicArn"]}
