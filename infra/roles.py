"""Each function's own role: only the actions its code path makes, on the concrete ARNs of its stage.

Two kinds of action have no resource-level permissions in AWS and are granted on `*`, each on purpose:
- `sns:Publish` of an SMS straight to a phone number (SMS has no ARN); the notify worker alone has it, and an
  explicit deny on every topic ARN keeps it from publishing anywhere else;
- X-Ray's PutTraceSegments/PutTelemetryRecords, through AWS's managed AWSXRayDaemonWriteAccess policy.
The S3 bucket is named by its ARN string rather than `GetAtt`: its notification points at the document
checker, so a reference from the roles to it would be a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra import chalice_config
from infra.resources import FEEDBACK, consumer_of, name

if TYPE_CHECKING:
    from infra.functions import Function

TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                 "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
                 "dynamodb:ConditionCheckItem"]
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                  "dynamodb:ListStreams"]
QUEUE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
XRAY = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}

# What each function's code path touches, beyond the table and its own logs.
NEEDS: dict[str, set[str]] = {
    "api_handler": {"documents", "token_secret", "document_secret", "esign_trust", "acquirer_webhook"},
    "outbox_publisher": {"stream", "publish"},
    "notify_worker": {"mail", "sms"},
    "agency_worker": {"documents", "document_secret"},
    "document_checker": {"documents"},
    "outbox_sweeper": {"publish"},
    "password_expiry_reminder": set(),
    "delivery_feedback": set(),  # issue 14: the table (deliveries.record_feedback), its queue, its on-failure queue
}
# -- push (NF-3; docs/push.md): the API registers and removes devices, the notify worker publishes to them and
# deletes the endpoints SNS reports dead --
NEEDS["api_handler"] |= {"push_devices"}
NEEDS["notify_worker"] |= {"push_publish"}
# -- single sign-on (issue 15; docs/sso.md "Signing keys"): the API signs id_tokens and derives pairwise `sub`s;
# the agency worker signs the back-channel logout tokens it sends to relying parties --
NEEDS["api_handler"] |= {"sso_secret"}
NEEDS["agency_worker"] |= {"sso_secret"}


def _allow(sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def statements(stage: str, fn: Function) -> list[dict[str, Any]]:
    from infra.functions import physical_name

    needs = NEEDS[fn.name]
    bucket = f"arn:aws:s3:::{name(stage, 'documents')}"
    log_group = _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
                     f"{physical_name(stage, fn)}:*")
    out = [_allow("OwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group]),
           _allow("Table", TABLE_ACTIONS, [_sub("${MainTable.Arn}"), _sub("${MainTable.Arn}/index/*")])]
    via = ["dynamodb"] + (["secretsmanager"] if needs & {"token_secret", "document_secret", "esign_trust",
                                                          "acquirer_webhook", "sso_secret"} else [])
    out.append(_allow("DataKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                      [{"Fn::GetAtt": ["DataKey", "Arn"]}],
                      {"StringEquals": {"kms:ViaService": [_sub(f"{v}.${{AWS::Region}}.amazonaws.com") for v in via]}}))
    if "stream" in needs:
        out.append(_allow("Stream", STREAM_ACTIONS, [_sub("${MainTable.Arn}/stream/*")]))
    if fn.kind in ("sqs", "feedback"):
        queue = FEEDBACK.queue_logical if fn.kind == "feedback" else consumer_of(fn.name).logical
        out.append(_allow("OwnQueue", QUEUE_ACTIONS, [{"Fn::GetAtt": [queue, "Arn"]}]))
    if fn.failures:
        out.append(_allow("OnFailure", ["sqs:SendMessage"], [{"Fn::GetAtt": [fn.failures, "Arn"]}]))
    if fn.kind in ("sqs", "feedback") or fn.failures:  # queued messages are encrypted with the stage's messages key
        actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if fn.failures else [])
        out.append(_allow("QueuesKey", actions, [{"Fn::GetAtt": ["QueuesKey", "Arn"]}]))
    if "publish" in needs:
        out.append(_allow("EventsTopic", ["sns:Publish"], [{"Ref": "EventsTopic"}]))
    if "documents" in needs:
        out.append(_allow("Documents", ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
                                        "s3:DeleteObjectVersion"], [f"{bucket}/*"]))
        out.append(_allow("DocumentsKey", ["kms:GenerateDataKey", "kms:Decrypt"],
                          [{"Fn::GetAtt": ["DocumentsKey", "Arn"]}]))
    secrets = [logical for need, logical in (("token_secret", "TokenSigningSecret"),
                                             ("document_secret", "DocumentSigningSecret"),
                                             ("esign_trust", "EsignTrustSecret"),
                                             ("acquirer_webhook", "AcquirerWebhookSecret"),
                                             ("sso_secret", "SsoSigningSecret")) if need in needs]
    if secrets:
        out.append(_allow("Secrets", ["secretsmanager:GetSecretValue"], [{"Ref": s} for s in secrets]))

    if "mail" in needs:
        sender = chalice_config.stage_env(stage)["KABINET_SENDER_EMAIL"]
        identities = [f"identity/{sender}", f"identity/{sender.split('@', 1)[1]}"]
        out.append(_allow("Mail", ["ses:SendEmail"], [
            _sub(f"arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:{i}") for i in identities]))
    if "sms" in needs and "push_publish" not in needs:  # the one documented `*`: a phone number has no ARN
        out.append(_allow("SmsToPhoneNumbers", ["sns:Publish"], ["*"]))
        out.append({"Sid": "NoTopics", "Effect": "Deny", "Action": ["sns:Publish"],
                    "Resource": [_sub("arn:${AWS::Partition}:sns:*:*:*")]})
    out += _push_statements(stage, needs)
    return out


# -- push (NF-3; docs/push.md) --
def _push_statements(stage: str, needs: set[str]) -> list[dict[str, Any]]:
    """Devices' endpoints on the stage's two platform applications only. A worker that sends SMS and push cannot
    keep the `NoTopics` deny on `arn:aws:sns:*:*:*`: an explicit deny wins, that pattern covers the endpoints it
    must publish to, and an IAM pattern cannot say "a topic but not an endpoint" (`*` spans the `/`). Its deny
    names the topics it must never publish to instead: this stack's events topic (a forged domain event) and every
    topic of this stage's naming."""
    from infra import push

    apps = [push.app_arn_sub(stage, p) for p in push.PLATFORMS]
    endpoints = [push.endpoints_sub(stage, p) for p in push.PLATFORMS]
    out = []
    if "push_devices" in needs:
        out.append(_allow("PushApplications", ["sns:CreatePlatformEndpoint"], apps))
        out.append(_allow("PushEndpoints", ["sns:DeleteEndpoint", "sns:SetEndpointAttributes",
                                            "sns:GetEndpointAttributes"], endpoints))
    if "push_publish" in needs:
        if "sms" in needs:
            out.append(_allow("SmsToPhoneNumbers", ["sns:Publish"], ["*"]))
            out.append({"Sid": "NoTopics", "Effect": "Deny", "Action": ["sns:Publish"], "Resource": [
                {"Ref": "EventsTopic"},
                _sub(f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{name(stage, '')}*")]})
        out.append(_allow("PushEndpoints", ["sns:Publish", "sns:DeleteEndpoint"], endpoints))
    return out


def role(stage: str, fn: Function) -> dict[str, Any]:
    """The Properties to merge over Chalice's `<Name>Role`: the inline policy replaced, X-Ray attached."""
    return {"Policies": [{"PolicyName": f"{name(stage, fn.physical)}",
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements(stage, fn)}}],
            "ManagedPolicyArns": [XRAY]}
