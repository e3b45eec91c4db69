"""End to end over HTTP on the local cloud (`python -m infra.local`): the seeded МФЦ operator finds the seeded
demo citizen by SNILS, the citizen's identity channels say video verification is not offered, and neither side
can use the other's routes."""

from __future__ import annotations

from tests.test_e2e_documents import DEMO_PASSWORD, DEMO_PHONE
from tests.test_e2e_local import _get, _http, _local_cloud, _post, _two_ports, _wait_ready

OPERATOR = "+79992000000"
DEMO_SNILS = "112-233-445 95"


def test_operator_desk_and_channels_over_http():
    with _local_cloud(*_two_ports()) as cloud:
        _wait_ready(cloud)
        http = _http()
        citizen = _post(http, cloud, "/auth/login", {"login": DEMO_PHONE, "password": DEMO_PASSWORD}).json()
        operator = _post(http, cloud, "/auth/login", {"login": OPERATOR, "password": DEMO_PASSWORD}).json()
        found = _get(http, cloud, f"/operator/people?snils={DEMO_SNILS}", operator["access_token"])
        assert found.status_code == 200, found.text
        person = found.json()
        assert person["last_name"] == "Иванов" and person["tier"] == "confirmed" and not person["can_confirm"]
        again = _post(http, cloud, f"/operator/people/{person['user_id']}/confirm",
                      {"passport_checked": True, "passport_series": "4510", "passport_number": "123456"},
                      operator["access_token"])
        assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_CONFIRMED"
        assert _get(http, cloud, f"/operator/people?snils={DEMO_SNILS}", citizen["access_token"]).status_code == 403
        assert _get(http, cloud, "/operator/people?snils=999-888-777 66", operator["access_token"]).status_code == 404
        channels = _get(http, cloud, "/me/identity/channels", citizen["access_token"]).json()["channels"]
        video = next(c for c in channels if c["channel"] == "video")
        assert not video["available"] and "не предлагается" in video["note"]
        bank = next(c for c in channels if c["channel"] == "bank")
        assert {b["id"] for b in bank["banks"]} == {"severny", "volga"}
        assert _post(http, cloud, "/me/identity/bank", {"bank": "severny"},
                     citizen["access_token"]).status_code == 409  # already confirmed
        page = http.get(f"{cloud.base}/dev/bank/severny/authorize?response_type=token", timeout=10)
        assert page.status_code == 400 and page.json()["error"]["code"] == "VALIDATION_ERROR"
