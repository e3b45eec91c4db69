"""Push devices (NF-3, issue 14 "Push and staying in sync"): devices register through SNS platform endpoints on the
local cloud (moto server), are idempotent by token, move with their token between accounts, are removed with
their endpoint, are capped, and nobody else reaches them; a disabled endpoint is dead and gets forgotten; the
inbox's read state is one for the web and the mobile app.

moto runs as a server in its own thread: its state is read through `GET /moto-api/data.json`, as
tests/test_events.py does.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest

from chalicelib.adapters import push
from chalicelib.notify import devices
from chalicelib.store import keys, table

APNS = "a1b2c3d4" * 8  # 64 hex digits: the shape of an APNs device token
FCM = "fcm-token:" + "APA91bH" * 20  # an FCM registration token's alphabet and length


def _fcm(n: int) -> str:
    return f"{FCM}{n:04d}"


def _endpoints(moto_server: str) -> list[dict[str, Any]]:
    """The endpoints SNS has now, with what moto recorded of each (its token, owner, messages). moto-api's
    data.json lists every model instance ever made, deleted ones too, so existence comes from SNS itself."""
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    sns = aws.client("sns")
    live = {e["EndpointArn"] for app in (settings().push_apns_arn, settings().push_fcm_arn)
            for e in sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]}
    data = json.loads(urllib.request.urlopen(f"{moto_server}/moto-api/data.json").read())
    return [e for e in data["sns"]["PlatformEndpoint"] if e["arn"] in live]


def _owner(endpoint: dict[str, Any]) -> str:
    """The endpoint's CustomUserData: moto keeps the one given at creation apart from later SetEndpointAttributes."""
    return endpoint["attributes"].get("CustomUserData", endpoint["custom_user_data"])


def _add(api, who: dict[str, Any], platform: str = "apns", token: str = APNS, **extra: Any):
    return api.post("/me/devices", {"platform": platform, "token": token, **extra}, token=who["access_token"])


def _listed(api, who: dict[str, Any]) -> list[dict[str, Any]]:
    resp = api.get("/me/devices", token=who["access_token"])
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def _audit(user_id: str) -> list[dict[str, Any]]:
    return table.query(keys.user_pk(user_id), "AUDIT#", limit=100, newest_first=False).items


@pytest.fixture
def ivan(api) -> dict[str, Any]:
    return api.register("+79161110001", first_name="Иван")


@pytest.fixture
def olga(api) -> dict[str, Any]:
    return api.register("+79161110002", first_name="Ольга")


def test_a_device_gets_an_endpoint_with_its_token_in_the_platforms_application(api, ivan, moto_server):
    resp = _add(api, ivan, name="Мой  iPhone")
    assert resp.status_code == 201, resp.json
    device = resp.json
    assert device["platform"] == "apns" and device["name"] == "Мой iPhone"  # blanks folded as typed names are
    [endpoint] = _endpoints(moto_server)
    assert endpoint["token"] == APNS and endpoint["enabled"] is True
    assert _owner(endpoint) == ivan["user_id"]
    assert "/APNS_SANDBOX/kabinet-local-apns/" in endpoint["arn"]  # a local stage talks to Apple's sandbox
    assert _listed(api, ivan) == [device]
    assert devices.endpoints(ivan["user_id"]) == [(device["id"], endpoint["arn"])]
    fcm = _add(api, ivan, "fcm", _fcm(1))
    assert fcm.status_code == 201 and fcm.json["name"] == "Android"  # no name given: the platform's
    assert any("/GCM/kabinet-local-fcm/" in e["arn"] for e in _endpoints(moto_server))
    assert [a["action"] for a in _audit(ivan["user_id"])].count("device.added") == 2


def test_the_same_token_twice_is_the_same_device(api, ivan, moto_server):
    first = _add(api, ivan)
    again = _add(api, ivan, token=APNS.upper())  # APNs tokens are hex: case does not make another token
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert len(_listed(api, ivan)) == 1 and len(_endpoints(moto_server)) == 1


def test_a_token_moving_to_another_account_leaves_the_old_one(api, ivan, olga, moto_server):
    mine = _add(api, ivan).json
    theirs = _add(api, olga)
    assert theirs.status_code == 201
    assert _listed(api, ivan) == [] and [d["id"] for d in _listed(api, olga)] == [theirs.json["id"]]
    [endpoint] = _endpoints(moto_server)  # one token, one endpoint: it now belongs to Olga
    assert _owner(endpoint) == olga["user_id"] and endpoint["enabled"] is True
    moved = [a for a in _audit(ivan["user_id"]) if a["action"] == "device.removed"]
    assert moved and moved[0]["details"] == {"device_id": mine["id"], "reason": "moved"}
    assert api.call("DELETE", f"/me/devices/{mine['id']}", token=ivan["access_token"]).status_code == 404


def test_removing_a_device_deletes_its_endpoint(api, ivan, moto_server):
    device = _add(api, ivan).json
    resp = api.call("DELETE", f"/me/devices/{device['id']}", token=ivan["access_token"])
    assert resp.status_code == 204
    assert _listed(api, ivan) == [] and _endpoints(moto_server) == []
    assert api.call("DELETE", f"/me/devices/{device['id']}", token=ivan["access_token"]).status_code == 404
    assert "device.removed" in [a["action"] for a in _audit(ivan["user_id"])]
    assert _add(api, ivan).status_code == 201  # the token can come back


def test_send_push_publishes_to_the_endpoint_for_each_platform(api, ivan, moto_server):
    _add(api, ivan)
    [(_, arn)] = devices.endpoints(ivan["user_id"])
    message_id = push.send_push(arn, "Заявление принято", "Заявление 2026-000000001 в работе",
                                {"request_id": "R1", "unread": 3})
    [endpoint] = _endpoints(moto_server)
    sent = json.loads(endpoint["messages"][message_id])
    assert sent["default"] == "Заявление 2026-000000001 в работе"
    apns = json.loads(sent["APNS_SANDBOX"])
    assert apns["aps"]["alert"] == {"title": "Заявление принято", "body": "Заявление 2026-000000001 в работе"}
    assert apns["request_id"] == "R1" and json.loads(sent["APNS"]) == apns
    fcm = json.loads(sent["GCM"])["fcmV1Message"]["message"]
    assert fcm["notification"]["title"] == "Заявление принято"
    assert fcm["data"] == {"request_id": "R1", "unread": "3"}  # FCM v1 data values are strings


def test_a_disabled_endpoint_is_gone_and_the_device_is_forgotten(api, ivan, moto_server):
    from infra import admin

    device = _add(api, ivan).json
    [(_, arn)] = devices.endpoints(ivan["user_id"])
    assert admin.main(["push-disable", arn]) == 0  # what SNS does when Apple refuses the token
    with pytest.raises(push.EndpointGone):
        push.send_push(arn, "t", "x", {})
    assert devices.forget(ivan["user_id"], device["id"]) is True
    assert _listed(api, ivan) == [] and _endpoints(moto_server) == []
    with pytest.raises(push.EndpointGone):  # deleted: NotFound is gone as well
        push.send_push(arn, "t", "x", {})
    assert devices.forget(ivan["user_id"], device["id"]) is False
    forgotten = [a for a in _audit(ivan["user_id"]) if a["action"] == "device.removed"]
    assert forgotten[-1]["actor"] == "system" and forgotten[-1]["details"]["reason"] == "gone"
    assert _add(api, ivan).status_code == 201  # the app registering again later gets a working endpoint


def test_devices_are_capped_at_ten(api, ivan):
    for n in range(10):
        assert _add(api, ivan, "fcm", _fcm(n)).status_code == 201
    refused = _add(api, ivan, "fcm", _fcm(10))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "DEVICE_LIMIT"
    assert _add(api, ivan, "fcm", _fcm(3)).status_code == 200  # a registered one may still say hello
    assert api.get("/me/devices", token=ivan["access_token"]).json["limit"] == 10


def test_another_person_can_neither_list_nor_remove_the_devices(api, ivan, olga):
    device = _add(api, ivan).json
    assert _listed(api, olga) == []
    assert api.call("DELETE", f"/me/devices/{device['id']}", token=olga["access_token"]).status_code == 404
    assert _listed(api, ivan) == [device]
    assert api.get("/me/devices").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"platform": "windows", "token": APNS}, "platform"),
    ({"platform": "apns", "token": "g" * 64}, "token"),  # not hex
    ({"platform": "fcm", "token": "short"}, "token"),
    ({"platform": "fcm", "token": FCM + " "}, "token"),
    ({"platform": "fcm", "token": FCM, "name": "\x07"}, "name"),
    ({"platform": "fcm", "token": FCM, "name": "   "}, "name"),
    ({"platform": "fcm", "token": FCM, "extra": 1}, "extra"),
    ({"platform": "fcm"}, "token"),
])
def test_bad_registrations_get_the_one_error_shape(api, ivan, body, field):
    resp = api.post("/me/devices", body, token=ivan["access_token"])
    assert resp.status_code == 400, resp.json
    assert resp.json["error"]["code"] == "VALIDATION_ERROR" and field in resp.json["error"]["fields"]


def test_a_bad_device_id_is_not_found(api, ivan):
    for bad in ("nope", "0" * 26, "%00"):
        assert api.call("DELETE", f"/me/devices/{bad}", token=ivan["access_token"]).status_code in (400, 404)


def test_the_owner_is_told_a_device_was_added(api, ivan):
    api.no_quiet_hours(ivan["access_token"])
    _add(api, ivan, name="Планшет")
    api.pump.drain()
    inbox = api.get("/me/messages", token=ivan["access_token"]).json
    [notice] = [m for m in inbox["items"] if m["type"] == "device.added"]
    assert notice["title"] == "Подключено устройство для push-уведомлений" and "«Планшет»" in notice["text"]
    assert any("Планшет" in m["text"] for m in api.outbox("+79161110001"))


def test_read_state_is_one_for_the_web_and_the_mobile_app(api, ivan):
    """NF-3: the inbox is the one source of truth. Two sessions of the same person (the browser's and the
    app's) see the same messages, read marks and unread count."""
    web = ivan
    mobile = api.login("+79161110001")
    assert mobile["access_token"] != web["access_token"]
    _add(api, mobile, "fcm", _fcm(1), name="Телефон")  # the app registers itself: a notice arrives
    _add(api, mobile, "apns", APNS, name="Планшет")
    api.pump.drain()

    def inbox(who: dict[str, Any]) -> dict[str, Any]:
        return api.get("/me/messages", token=who["access_token"]).json

    before = inbox(web)
    assert before == inbox(mobile) and before["unread"] >= 2
    phone_notice = next(m for m in before["items"] if "«Телефон»" in m["text"])
    assert api.post(f"/me/messages/{phone_notice['id']}/read", token=mobile["access_token"]).status_code == 204
    after_web, after_mobile = inbox(web), inbox(mobile)
    assert after_web == after_mobile
    assert after_web["unread"] == before["unread"] - 1
    assert next(m for m in after_web["items"] if m["id"] == phone_notice["id"])["read"] is True
    assert api.post(f"/me/messages/{phone_notice['id']}/read", token=web["access_token"]).status_code == 204
    assert inbox(mobile)["unread"] == before["unread"] - 1  # reading it again elsewhere counts once


def test_roles_grant_push_on_the_stages_applications_only():
    from infra import roles
    from infra.functions import Function

    os.environ.setdefault("KABINET_STAGE", "local")

    def statements(name: str, kind: str) -> dict[str, Any]:
        return {s["Sid"]: s for s in roles.statements("prod", Function(name, kind))}

    api_role = statements("api_handler", "api")
    assert api_role["PushApplications"]["Action"] == ["sns:CreatePlatformEndpoint"]
    assert json.dumps(api_role["PushApplications"]["Resource"]).count("app/APNS/kabinet-prod-apns") == 1
    assert "sns:Publish" not in json.dumps(api_role)
    worker = statements("notify_worker", "sqs")
    assert set(worker["PushEndpoints"]["Action"]) == {"sns:Publish", "sns:DeleteEndpoint"}
    assert "endpoint/GCM/kabinet-prod-fcm/*" in json.dumps(worker["PushEndpoints"]["Resource"])
    denied = json.dumps(worker["NoTopics"]["Resource"])
    assert "EventsTopic" in denied and "endpoint" not in denied and "sns:*:*:*" not in denied


def test_the_app_registering_twice_at_once_gets_one_device(api, ivan, moto_server, monkeypatch):
    """Two requests that both read "no such token" before either wrote: the loser answers the winner's device
    and the endpoint they share stays."""
    from chalicelib.core.origin import Origin

    original = table.get
    racer: dict[str, Any] = {}

    def get_with_a_racer(key, consistent=True):
        found = original(key, consistent)
        if key[0].startswith("PUSHTOKEN#") and not racer:  # the racer registers between our read and our write
            racer["started"] = True
            racer["device"] = devices.register(ivan["user_id"], "apns", APNS, "Другой запрос", Origin(None, None))[0]
        return found

    monkeypatch.setattr(table, "get", get_with_a_racer)
    device, created = devices.register(ivan["user_id"], "apns", APNS, None, Origin(None, None))
    monkeypatch.undo()
    assert created is False and device == racer["device"]
    assert _listed(api, ivan) == [device] and len(_endpoints(moto_server)) == 1


def test_platform_applications_are_made_once_and_updated_in_place(cloud, tmp_path):
    """bootstrap makes both applications; `infra.admin push-apps` on an existing one updates its credentials
    instead of making a second (the ARN the functions were given stays right)."""
    from chalicelib.core import aws
    from chalicelib.core.config import settings
    from infra import admin

    sns = aws.client("sns")
    arns = sorted(a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"])
    assert arns == sorted([settings().push_apns_arn, settings().push_fcm_arn])
    key = tmp_path / "firebase.json"
    key.write_text('{"type": "service_account", "project_id": "kabinet-rotated"}', encoding="utf-8")
    assert admin.main(["push-apps", "--stage", "local", "--fcm-service-account", str(key)]) == 0
    after = sns.list_platform_applications()["PlatformApplications"]
    assert sorted(a["PlatformApplicationArn"] for a in after) == arns
    fcm = sns.get_platform_application_attributes(PlatformApplicationArn=settings().push_fcm_arn)["Attributes"]
    assert "kabinet-rotated" in fcm["PlatformCredential"]
    assert admin.main(["push-apps", "--stage", "local"]) == 2  # no credentials given: nothing to do, said so
