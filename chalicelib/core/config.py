"""Settings read from the environment once per container (Lambda env vars, chalice config stages)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table: str
    events_topic_arn: str
    signing_secret_id: str
    document_signing_secret_id: str
    esign_trust_secret_id: str
    acquirer_webhook_secret_id: str
    acquirer_origin: str  # the acquirer's pages (https://pay.example): payment forms redirect there (CSP form-action)
    documents_bucket: str
    sender_email: str
    public_url: str
    stream_arn: str
    # -- delivery feedback (issue 14, docs/delivery-feedback.md) --
    ses_configuration_set: str = ""  # SES's configuration set: every e-mail names it, so its events reach us
    # -- push (NF-3; docs/push.md): the SNS platform applications, one per platform. Not CloudFormation resources:
    # infra/bootstrap.py makes them locally, `python -m infra.admin push-apps` on AWS.
    push_apns_arn: str = ""
    push_fcm_arn: str = ""
    # -- single sign-on (issue 15; docs/sso.md "Signing keys"): the id_token keys and the pairwise-`sub` secret
    sso_secret_id: str = ""

    def name(self, resource: str) -> str:
        """Physical name of a resource of this stage, as infra/resources.py names it."""
        return f"kabinet-{self.stage}-{resource}"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


@cache
def settings() -> Settings:
    stage = os.environ.get("KABINET_STAGE", "local")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"),
        table=os.environ.get("KABINET_TABLE", f"kabinet-{stage}-main"),
        events_topic_arn=os.environ.get("KABINET_EVENTS_TOPIC_ARN", ""),
        signing_secret_id=os.environ.get("KABINET_SIGNING_SECRET", f"kabinet-{stage}-token-signing"),
        document_signing_secret_id=os.environ.get("KABINET_DOCUMENT_SIGNING_SECRET",
                                                  f"kabinet-{stage}-document-signing"),
        esign_trust_secret_id=os.environ.get("KABINET_ESIGN_TRUST_SECRET", f"kabinet-{stage}-esign-trust"),
        acquirer_webhook_secret_id=os.environ.get("KABINET_ACQUIRER_WEBHOOK_SECRET",
                                                  f"kabinet-{stage}-acquirer-webhook"),
        acquirer_origin=os.environ.get("KABINET_ACQUIRER_ORIGIN", ""),
        documents_bucket=os.environ.get("KABINET_DOCUMENTS_BUCKET", f"kabinet-{stage}-documents"),
        sender_email=os.environ.get("KABINET_SENDER_EMAIL", "noreply@gosuslugi.example"),
        public_url=os.environ.get("KABINET_PUBLIC_URL", "http://127.0.0.1:8000"),
        # Known once the table exists; deployment passes it in (docs/deploy.md), the local pump reads it itself.
        stream_arn=os.environ.get("KABINET_STREAM_ARN",
                                  f"arn:aws:dynamodb:eu-central-1:000000000000:table/kabinet-{stage}/stream/latest"),
        # -- delivery feedback (issue 14) --
        ses_configuration_set=os.environ.get("KABINET_SES_CONFIGURATION_SET", f"kabinet-{stage}-mail"),
        # -- push (NF-3): by default in the events topic's account and region, under push_app()'s names.
        push_apns_arn=os.environ.get("KABINET_PUSH_APNS_ARN", _app_arn(stage, "apns")),
        push_fcm_arn=os.environ.get("KABINET_PUSH_FCM_ARN", _app_arn(stage, "fcm")),
        # -- single sign-on (issue 15) --
        sso_secret_id=os.environ.get("KABINET_SSO_SECRET", f"kabinet-{stage}-sso-signing"),
    )


def push_app(stage: str, platform: str) -> tuple[str, str]:
    """The SNS platform and the name of the platform application for `platform` ("apns" | "fcm"). Only prod
    talks to Apple's production gateway; the other stages' iOS builds are development builds (the sandbox)."""
    sns_platform = {"apns": "APNS" if stage == "prod" else "APNS_SANDBOX", "fcm": "GCM"}[platform]
    return sns_platform, f"kabinet-{stage}-{platform}"


def _app_arn(stage: str, platform: str) -> str:
    """SNS names a platform application `app/<platform>/<name>`, so its ARN is known without asking AWS: the
    events topic's (`arn:aws:sns:<region>:<account>:<topic>`) with that resource."""
    parts = os.environ.get("KABINET_EVENTS_TOPIC_ARN", "").split(":")
    sns_platform, name = push_app(stage, platform)
    return ":".join([*parts[:5], f"app/{sns_platform}/{name}"]) if len(parts) == 6 else ""
