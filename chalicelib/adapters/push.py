"""Push notifications (NF-3) through SNS mobile push: one platform endpoint per device token, published to with
`TargetArn`. The platform applications (APNS, FCM) are made outside CloudFormation (docs/push.md); their ARNs
come from settings.

SNS disables an endpoint when Apple or Google say its token is no longer valid (the app was removed, the token
rotated); publishing to it then fails with `EndpointDisabled`, and to a deleted one with `NotFound`. Both are
`EndpointGone`: the caller forgets the device (notify/devices.py `forget`). moto behaves the same way, so the
path is tested for real (`python -m infra.admin push-disable <arn>` disables one locally).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.config import settings

log = logging.getLogger("kabinet.push")
PLATFORMS = ("apns", "fcm")
GONE_CODES = {"EndpointDisabled", "NotFound"}
# SNS's answer to a token that already has an endpoint with other attributes names that endpoint.
_EXISTING = re.compile(r"Endpoint (arn:[^\s]+) already exists")
USER_DATA_LIMIT = 2048  # SNS: CustomUserData is at most 2 KB


class EndpointGone(Exception):
    """SNS disabled the endpoint (the platform refused its token) or it no longer exists."""


def _app_arn(platform: str) -> str:
    arn = settings().push_apns_arn if platform == "apns" else settings().push_fcm_arn
    if platform not in PLATFORMS or not arn:
        raise ValueError(f"no SNS platform application for {platform!r}")
    return arn


def create_endpoint(platform: str, token: str, user_data: str) -> str:
    """The endpoint of `token` in the platform's application, enabled and carrying `user_data` (the owner).

    SNS's CreatePlatformEndpoint is idempotent only for identical attributes; a token whose endpoint exists with
    other ones (another owner, or disabled by SNS before the app re-registered) is refused with that endpoint's
    ARN, and AWS's documented remedy is to update that endpoint: the same token keeps one endpoint."""
    sns = client("sns")
    try:
        return str(sns.create_platform_endpoint(PlatformApplicationArn=_app_arn(platform), Token=token,
                                                CustomUserData=user_data[:USER_DATA_LIMIT])["EndpointArn"])
    except sns.exceptions.InvalidParameterException as exc:
        found = _EXISTING.search(exc.response.get("Error", {}).get("Message", ""))
        if not found:
            raise
        arn = found.group(1)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={
        "Token": token, "Enabled": "true", "CustomUserData": user_data[:USER_DATA_LIMIT]})
    return arn


def delete_endpoint(arn: str) -> None:
    """Delete the endpoint; deleting one that is already gone is fine (SNS's DeleteEndpoint is idempotent)."""
    client("sns").delete_endpoint(EndpointArn=arn)


def payload(title: str, text: str, data: dict[str, Any]) -> str:
    """The MessageStructure=json body: SNS hands each platform its own key (APNS, APNS_SANDBOX, GCM) and falls
    back to `default`. FCM gets the HTTP v1 shape (`fcmV1Message`; the legacy API is closed), whose `data`
    values must be strings; APNS gets `aps.alert` with our data beside `aps`."""
    strings = {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in data.items()}
    apns = json.dumps({"aps": {"alert": {"title": title, "body": text}, "sound": "default"}, **data},
                      ensure_ascii=False)
    fcm = json.dumps({"fcmV1Message": {"message": {"notification": {"title": title, "body": text},
                                                   "data": strings, "android": {"priority": "high"}}}},
                     ensure_ascii=False)
    return json.dumps({"default": text, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}, ensure_ascii=False)


def send_push(endpoint_arn: str, title: str, text: str, data: dict[str, Any]) -> str:
    """Publish one notification to one device; its SNS message id. EndpointGone when the device is dead."""
    sns = client("sns")
    try:
        resp = sns.publish(TargetArn=endpoint_arn, Message=payload(title, text, data), MessageStructure="json")
    except sns.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in GONE_CODES:
            log.info("push endpoint gone (%s)", code)
            raise EndpointGone(code) from None
        raise
    return str(resp["MessageId"])


def disable_endpoint(arn: str) -> None:
    """What SNS does itself when the platform refuses a token; the local cloud's way to make a dead device
    (`python -m infra.admin push-disable <arn>`)."""
    client("sns").set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
