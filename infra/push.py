"""The SNS platform applications of a stage's push notifications (NF-3, docs/push.md): one for APNs, one for FCM.

They are not CloudFormation resources (SNS platform applications have no resource type), and their credentials —
Apple's signing key, Google's service-account key — come from the operator. Locally, infra/bootstrap.py makes
them with dummy credentials (moto does not talk to Apple or Google); on AWS, `python -m infra.admin push-apps`
makes or updates them once per stage. Their ARNs are known from their names (chalicelib/core/config.py), so
the template refers to them without parameters.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.config import push_app

PLATFORMS = ("apns", "fcm")
# Locally moto checks nothing; the shapes are AWS's (an APNs token key, an FCM v1 service-account key).
LOCAL_CREDENTIALS = {"apns": {"PlatformCredential": "local-apns-signing-key", "PlatformPrincipal": "LOCALKEYID"},
                     "fcm": {"PlatformCredential": '{"type": "service_account", "project_id": "kabinet-local"}'}}


def app_arn_sub(stage: str, platform: str) -> dict[str, str]:
    """The application's ARN in a template (this stack's account and region)."""
    sns_platform, name = push_app(stage, platform)
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:app/{sns_platform}/{name}"}


def endpoints_sub(stage: str, platform: str) -> dict[str, str]:
    """Every endpoint of the application: what a device's endpoint ARN looks like."""
    sns_platform, name = push_app(stage, platform)
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:endpoint/{sns_platform}/"
                       f"{name}/*"}


def ensure(sns: Any, stage: str, platform: str, attributes: dict[str, str]) -> str:
    """Create the application, or update its attributes (new credentials) when it exists; its ARN."""
    sns_platform, name = push_app(stage, platform)
    for page in sns.get_paginator("list_platform_applications").paginate():
        for app in page["PlatformApplications"]:
            if app["PlatformApplicationArn"].endswith(f":app/{sns_platform}/{name}"):
                sns.set_platform_application_attributes(PlatformApplicationArn=app["PlatformApplicationArn"],
                                                        Attributes=attributes)
                return str(app["PlatformApplicationArn"])
    return str(sns.create_platform_application(Name=name, Platform=sns_platform,
                                               Attributes=attributes)["PlatformApplicationArn"])
