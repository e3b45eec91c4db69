"""Provision infra/resources.py's template on whatever endpoint boto3 points at (moto locally).

moto's own CloudFormation leaves out subscriptions, secrets and TTL, so this applies the template's
resources one by one with the matching API calls. It is idempotent: existing resources are kept.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from typing import Any

import boto3

from infra.resources import template
from infra.secrets import ensure


@functools.lru_cache(maxsize=64)
def _client(service: str, region: str, endpoint: str) -> Any:
    """One client per service, region and endpoint: making one costs ~15 ms, and tests provision a fresh moto
    account for every test (37 clients each time)."""
    return boto3.client(service, region_name=region)


class _Stack:
    def __init__(self, region: str, resources: dict[str, Any]) -> None:
        self.region = region
        self.resources = resources
        account = self.client("sts").get_caller_identity()["Account"]
        self.refs: dict[str, str] = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
        self.attrs: dict[tuple[str, str], str] = {}

    def client(self, service: str) -> Any:
        return _client(service, self.region, os.environ.get("AWS_ENDPOINT_URL", ""))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                return self.refs[value["Ref"]]
            if set(value) == {"Fn::GetAtt"}:
                logical, attr = value["Fn::GetAtt"]
                return self.attrs[(logical, attr)]
            if set(value) == {"Fn::Sub"}:
                return re.sub(r"\$\{([\w:]+)(?:\.(\w+))?\}", lambda m: self.attrs[(m[1], m[2])] if m[2]
                              else self.refs[m[1]], value["Fn::Sub"])
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
        attributes = {k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
                      for k, v in self.resolve(props).items() if k != "QueueName"}
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        self.refs[logical] = url
        self.attrs[(logical, "Arn")] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.attrs[(logical, "QueueName")] = props["QueueName"]

    def subscription(self, logical: str, props: dict[str, Any]) -> None:
        p = self.resolve(props)
        attributes = {"RawMessageDelivery": str(p.get("RawMessageDelivery", False)).lower()}
        if p.get("FilterPolicy"):
            attributes["FilterPolicy"] = json.dumps(p["FilterPolicy"])
        sub = self.client("sns").subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], ReturnSubscriptionArn=True,
            Attributes=attributes)
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


    def kms_key(self, logical: str, props: dict[str, Any]) -> None:
        kms = self.client("kms")
        alias = next((r["Properties"]["AliasName"] for r in self.resources.values()
                      if r["Type"] == "AWS::KMS::Alias" and r["Properties"]["TargetKeyId"] == {"Ref": logical}), None)
        try:  # the key has no name of its own: an existing alias of it means it is already there
            meta = kms.describe_key(KeyId=alias)["KeyMetadata"] if alias else None
        except kms.exceptions.NotFoundException:
            meta = None
        if meta is None:
            meta = kms.create_key(Description=props.get("Description", ""),
                                  Policy=json.dumps(self.resolve(props["KeyPolicy"])))["KeyMetadata"]
            if props.get("EnableKeyRotation"):
                kms.enable_key_rotation(KeyId=meta["KeyId"])
        self.refs[logical] = meta["KeyId"]
        self.attrs[(logical, "Arn")] = meta["Arn"]

    def kms_alias(self, logical: str, props: dict[str, Any]) -> None:
        kms = self.client("kms")
        p = self.resolve(props)
        if not any(a["AliasName"] == p["AliasName"] for a in kms.list_aliases()["Aliases"]):
            kms.create_alias(AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
        self.refs[logical] = p["AliasName"]

    def bucket(self, logical: str, props: dict[str, Any]) -> None:
        s3 = self.client("s3")
        p = self.resolve(props)
        name = p["BucketName"]
        try:
            s3.head_bucket(Bucket=name)
        except s3.exceptions.ClientError:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
        rules = [{"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                  "BucketKeyEnabled": r.get("BucketKeyEnabled", False)}
                 for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"])
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
        cors = [{**{k: v for k, v in r.items() if k != "MaxAge"}, "MaxAgeSeconds": r["MaxAge"]}
                for r in p["CorsConfiguration"]["CorsRules"]]  # CloudFormation's MaxAge is the API's MaxAgeSeconds
        if os.environ.get("KABINET_PUBLIC_URL"):  # the local cloud's own address: its port is chosen at start
            cors = [{**r, "AllowedOrigins": [os.environ["KABINET_PUBLIC_URL"]]} for r in cors]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": cors})
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
            {"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")},
             "AbortIncompleteMultipartUpload": r["AbortIncompleteMultipartUpload"]}
            for r in p["LifecycleConfiguration"]["Rules"]]})
        self.refs[logical] = name
        self.attrs[(logical, "Arn")] = f"arn:aws:s3:::{name}"

    def bucket_policy(self, logical: str, props: dict[str, Any]) -> None:
        p = self.resolve(props)
        self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))

    # -- delivery feedback (issue 14; docs/delivery-feedback.md) --
    def topic_policy(self, logical: str, props: dict[str, Any]) -> None:
        p = self.resolve(props)
        for arn in p["Topics"]:
            self.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                                    AttributeValue=json.dumps(p["PolicyDocument"]))

    def configuration_set(self, logical: str, props: dict[str, Any]) -> None:
        ses = self.client("ses")
        name = props["Name"]
        with contextlib.suppress(ses.exceptions.ConfigurationSetAlreadyExistsException):
            ses.create_configuration_set(ConfigurationSet={"Name": name})
        self.refs[logical] = name

    def event_destination(self, logical: str, props: dict[str, Any]) -> None:
        """moto keeps the destination but publishes nothing: infra/delivery_simulator.py plays SES's part."""
        p = self.resolve(props)
        d = p["EventDestination"]
        ses = self.client("ses")
        with contextlib.suppress(ses.exceptions.EventDestinationAlreadyExistsException):
            ses.create_configuration_set_event_destination(
                ConfigurationSetName=p["ConfigurationSetName"], EventDestination={
                    "Name": d["Name"], "Enabled": d["Enabled"], "MatchingEventTypes": d["MatchingEventTypes"],
                    "SNSDestination": {"TopicARN": d["SnsDestination"]["TopicARN"]}})
        self.refs[logical] = d["Name"]

    def role(self, logical: str, props: dict[str, Any]) -> None:
        iam = self.client("iam")
        p = self.resolve(props)
        role_name = p.get("RoleName") or f"local-{logical}"
        try:
            arn = iam.create_role(RoleName=role_name,
                                  AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]))["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
        for policy in p.get("Policies", []):
            iam.put_role_policy(RoleName=role_name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        self.refs[logical] = role_name
        self.attrs[(logical, "Arn")] = arn


_HANDLERS = {
    "AWS::DynamoDB::Table": _Stack.table,
    "AWS::SNS::Topic": _Stack.topic,
    "AWS::SQS::Queue": _Stack.queue,
    "AWS::SNS::Subscription": _Stack.subscription,
    "AWS::SQS::QueuePolicy": _Stack.queue_policy,
    "AWS::SecretsManager::Secret": _Stack.secret,
    "AWS::KMS::Key": _Stack.kms_key,
    "AWS::KMS::Alias": _Stack.kms_alias,
    "AWS::S3::Bucket": _Stack.bucket,
    "AWS::S3::BucketPolicy": _Stack.bucket_policy,
    # -- delivery feedback (issue 14) --
    "AWS::SNS::TopicPolicy": _Stack.topic_policy,
    "AWS::SES::ConfigurationSet": _Stack.configuration_set,
    "AWS::SES::ConfigurationSetEventDestination": _Stack.event_destination,
    "AWS::IAM::Role": _Stack.role,
}


def _order(resources: dict[str, Any]) -> list[str]:
    """Dependencies first: a resource comes after every resource it refers to."""
    def deps(value: Any) -> set[str]:
        if isinstance(value, dict):
            if "Ref" in value:
                return {value["Ref"]}
            if "Fn::GetAtt" in value:
                return {value["Fn::GetAtt"][0]}
            if "Fn::Sub" in value:  # ${Logical} or ${Logical.Attr}; pseudo parameters (AWS::...) need nothing
                return {m for m in re.findall(r"\$\{([\w:]+)", value["Fn::Sub"]) if "::" not in m}
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
    signing keys for tokens and documents when their secrets have none, the test e-signature CA and the trusted
    CA list naming it (stage local), and a verified SES sender."""
    tpl = template(stage)
    stack = _Stack(region, tpl["Resources"])
    for logical in _order(tpl["Resources"]):
        resource = tpl["Resources"][logical]
        _HANDLERS[resource["Type"]](stack, logical, resource["Properties"])
    outputs = {k: stack.resolve(v["Value"]) for k, v in tpl["Outputs"].items()}
    from chalicelib.adapters.acquirer import new_webhook_secret
    from chalicelib.adapters.signer import new_identity
    from chalicelib.core.tokens import new_signing_secret

    sm = stack.client("secretsmanager")
    ensure(sm, stack.refs["TokenSigningSecret"], new_signing_secret)
    ensure(sm, stack.refs["DocumentSigningSecret"], lambda: new_identity(stage))
    ensure(sm, stack.refs["AcquirerWebhookSecret"], new_webhook_secret)  # the simulator signs, the API verifies
    # -- single sign-on (issue 15): made once; `ensure` never overwrites it (its pairwise secret must not change)
    from chalicelib.sso.signing import new_sso_secret

    ensure(sm, stack.refs["SsoSigningSecret"], new_sso_secret)
    if stage == "local":  # the test accredited CA and a trusted list naming it (infra/esign_ca.py, docs/esign.md)
        from infra import esign_ca

        ca = esign_ca.ensure_local_ca(sm, stage)
        ensure(sm, stack.refs["EsignTrustSecret"], lambda: esign_ca.trust_value(ca))
    stack.client("ses").verify_email_identity(EmailAddress=sender_email)
    # -- push (NF-3; docs/push.md): the SNS platform applications are no CloudFormation resources --
    from infra import push

    for platform in push.PLATFORMS:
        outputs[f"Push{platform.capitalize()}AppArn"] = push.ensure(stack.client("sns"), stage, platform,
                                                                    push.LOCAL_CREDENTIALS[platform])
    return outputs


def environment(stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """The Lambda environment these resources imply (what chalice config sets when deployed)."""
    return {"KABINET_STAGE": stage, "KABINET_TABLE": outputs["TableName"],
            "KABINET_STREAM_ARN": outputs["TableStreamArn"], "KABINET_EVENTS_TOPIC_ARN": outputs["EventsTopicArn"],
            "KABINET_DOCUMENTS_BUCKET": outputs["DocumentsBucketName"],
            # -- push (NF-3) --
            "KABINET_PUSH_APNS_ARN": outputs["PushApnsAppArn"], "KABINET_PUSH_FCM_ARN": outputs["PushFcmAppArn"]}
